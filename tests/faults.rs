//! Faults as data, against a real managed redis-server: a kill with AOF
//! `always` loses no acknowledged order, dropped connections and a frozen
//! server never make a safe strategy oversell, and a script flush is
//! recovered from. Every run is an open model of a few seconds.

mod common;

use blackfriday::audit::CheckId;
use blackfriday::fault::FaultKind;
use blackfriday::findings::StrategyReport;
use blackfriday::strategy::StrategyKind;
use common::config;

async fn run(args: &[&str]) -> blackfriday::Report {
    let config = config(args);
    match blackfriday::run(&config).await {
        Ok(report) => report,
        Err(e) => panic!("the run failed (it needs a real redis-server):\n{e}"),
    }
}

fn check(s: &StrategyReport, id: CheckId) -> bool {
    let c = s.checks.iter().find(|c| c.id == id);
    c.unwrap_or_else(|| panic!("{} has no {id:?} check", s.strategy))
        .passed
}

/// Every fault of `s` ran, in the order planned.
fn all_ran(s: &StrategyReport, kinds: &[&str]) {
    let ran: Vec<&str> = s.faults.iter().map(|f| f.step.kind.name()).collect();
    assert_eq!(ran, kinds, "{}", s.strategy);
    for f in &s.faults {
        let (began, ended) = (f.began_us.expect("began"), f.ended_us.expect("ended"));
        assert!(began <= ended, "{f:?}");
        let planned = u64::try_from(f.step.at.as_micros()).unwrap();
        assert!(began + 1_000 >= planned, "{f:?} began before its time");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_with_fsync_always_loses_no_acknowledged_order() {
    let r = run(&[
        "-s",
        "lua,watch",
        "--rate",
        "400/s",
        "--duration",
        "3s",
        "--stock",
        "100000",
        "--seed",
        "12",
        "--fault",
        "kill@1s",
        "--appendfsync",
        "always",
        "--quiet",
    ])
    .await;
    assert_eq!(r.meta.appendfsync.map(|f| f.name()), Some("always"));
    for s in &r.strategies {
        all_ran(s, &["kill"]);
        let kill = &s.faults[0];
        assert_eq!(kill.step.kind, FaultKind::Kill);
        assert_eq!(s.server.acked_lost, Some(0), "{}", s.strategy);
        assert_eq!(kill.acked_lost, Some(0));
        assert!(check(s, CheckId::NoAckLost) && check(s, CheckId::NoOversell));
        assert!(
            s.figures.purchased > 400,
            "{} sold on after the kill",
            s.strategy
        );
        assert_eq!(s.server.distinct_orders, s.server.sold as u64);
        assert!(s.verdict.held, "{}: {:?}", s.strategy, s.verdict);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_and_a_frozen_server_never_oversell() {
    let r = run(&[
        "-s",
        "lua,watch",
        "--rate",
        "400/s",
        "--duration",
        "3s",
        "--stock",
        "600",
        "--seed",
        "5",
        "--fault",
        "client-kill@500ms",
        "--fault",
        "client-kill@1200ms",
        "--fault",
        "pause:300ms@2s",
        "--quiet",
    ])
    .await;
    for s in &r.strategies {
        all_ran(s, &["client-kill", "client-kill", "pause"]);
        let pause = &s.faults[2];
        let stalled = pause.ended_us.unwrap() - pause.began_us.unwrap();
        assert!(stalled >= 300_000, "the pause lasted {stalled} µs");
        assert_eq!(s.server.oversold(), 0, "{}", s.strategy);
        assert!(check(s, CheckId::NoOversell) && check(s, CheckId::ClientAgrees));
        assert!(check(s, CheckId::NoAckLost), "{}", s.strategy);
        assert!(s.verdict.held, "{}: {:?}", s.strategy, s.verdict);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lua_reloads_its_script_after_a_flush_and_stays_clean() {
    let r = run(&[
        "-s",
        "lua",
        "--rate",
        "300/s",
        "--duration",
        "2s",
        "--stock",
        "100000",
        "--seed",
        "3",
        "--fault",
        "script-flush@700ms",
        "--quiet",
    ])
    .await;
    let s = r.strategy(StrategyKind::Lua).expect("lua ran");
    all_ran(s, &["script-flush"]);
    assert_eq!(s.figures.errors, 0, "NOSCRIPT was reloaded, not an error");
    assert_eq!(s.figures.purchased, r.meta.buyers as u64);
    assert!(s.verdict.held, "{:?}", s.verdict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_with_fsync_everysec_counts_its_losses_and_never_oversells() {
    let r = run(&[
        "-s",
        "lua,watch",
        "--rate",
        "400/s",
        "--duration",
        "3s",
        "--stock",
        "100000",
        "--seed",
        "13",
        "--fault",
        "kill@1s",
        "--appendfsync",
        "everysec",
        "--quiet",
    ])
    .await;
    assert_eq!(r.meta.appendfsync.map(|f| f.name()), Some("everysec"));
    for s in &r.strategies {
        all_ran(s, &["kill"]);
        let kill = &s.faults[0];
        // Counted, whatever the count: everysec may lose up to a second.
        let lost = s.server.acked_lost.expect("the durability check ran");
        assert_eq!(kill.acked_lost, Some(lost), "{}", s.strategy);
        assert_eq!(kill.loss_window_us.is_some(), lost > 0, "{kill:?}");
        assert!(check(s, CheckId::NoOversell), "{}", s.strategy);
        assert_eq!(s.server.oversold(), 0);
        // Tolerated: the verdict holds with losses.
        assert!(s.verdict.held, "{}: {:?}", s.strategy, s.verdict);
        assert!(kill.pre_fault_per_s.is_some(), "{kill:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_writes_and_a_clean_restart_lose_nothing() {
    let r = run(&[
        "-s",
        "lua,watch",
        "--rate",
        "300/s",
        "--duration",
        "2500ms",
        "--stock",
        "100000",
        "--seed",
        "17",
        "--fault",
        "client-pause:300ms@500ms",
        "--fault",
        "restart@1500ms",
        "--appendfsync",
        "always",
        "--quiet",
    ])
    .await;
    for s in &r.strategies {
        all_ran(s, &["client-pause", "restart"]);
        let pause = &s.faults[0];
        let held = pause.ended_us.unwrap() - pause.began_us.unwrap();
        assert!(held >= 300_000, "writes were paused {held} µs");
        assert_eq!(s.faults[1].acked_lost, Some(0), "{}", s.strategy);
        assert_eq!(s.server.acked_lost, Some(0));
        assert!(check(s, CheckId::NoAckLost) && check(s, CheckId::NoOversell));
        assert!(s.verdict.held, "{}: {:?}", s.strategy, s.verdict);
    }
}

/// A managed server that does not come back after a planned restart: its
/// binary (a wrapper around redis-server) refuses to start a second time.
#[test]
fn a_server_that_does_not_come_back_after_a_restart_is_exit_3() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (mark, wrapper) = (dir.path().join("started"), dir.path().join("redis"));
    let real = blackfriday::redis::default_binary();
    let script = format!(
        "#!/bin/sh\nif [ -e '{m}' ]; then echo 'refusing to start again' >&2; exit 1; fi\n\
         touch '{m}'\nexec '{r}' \"$@\"\n",
        m = mark.display(),
        r = real.to_string_lossy()
    );
    std::fs::write(&wrapper, script).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("blackfriday"))
        .env_remove("REDIS_URL")
        .env("NO_COLOR", "1")
        .env("BLACKFRIDAY_REDIS_SERVER", &wrapper)
        .args(["run", "-s", "lua", "--rate", "200/s", "--duration", "2s"])
        .args(["--stock", "10000", "--seed", "2", "--quiet"])
        .args(["--fault", "restart@500ms", "--appendfsync", "always"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        mark.exists(),
        "the wrapper never started redis-server: {err}"
    );
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("did not come back"), "{err}");
}
