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
