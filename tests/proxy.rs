//! Network faults through the local proxy, against a real managed
//! redis-server: latency shows in the service time, a blackhole and a drop
//! leave unknown outcomes and the run recovers, and a safe strategy never
//! oversells through any of them. Every run is an open model of a few
//! seconds; the proxy's own unit tests are in `src/redis/proxy.rs`.

mod common;

use blackfriday::audit::CheckId;
use blackfriday::fault::FaultRecord;
use blackfriday::findings::StrategyReport;
use common::config;
use serde_json::Value;

async fn run(args: &[&str]) -> blackfriday::Report {
    let config = config(args);
    match blackfriday::run(&config).await {
        Ok(report) => report,
        Err(e) => panic!("the run failed (it needs a real redis-server):\n{e}"),
    }
}

fn passed(s: &StrategyReport, id: CheckId) -> bool {
    let c = s.checks.iter().find(|c| c.id == id);
    c.unwrap_or_else(|| panic!("{} has no {id:?} check", s.strategy))
        .passed
}

fn fault<'a>(s: &'a StrategyReport, name: &str) -> &'a FaultRecord {
    let f = s.faults.iter().find(|f| f.step.kind.name() == name);
    let f = f.unwrap_or_else(|| panic!("{}: no {name} fault in {:?}", s.strategy, s.faults));
    assert!(f.began_us.is_some() && f.ended_us.is_some(), "{f:?} ran");
    f
}

/// Safe strategies: no oversell, the server's orders within what the
/// buyers were told plus the unknowns, and a verdict that held.
fn clean(s: &StrategyReport) {
    assert_eq!(s.server.oversold(), 0, "{}", s.strategy);
    assert!(passed(s, CheckId::NoOversell), "{}", s.strategy);
    assert!(passed(s, CheckId::ClientAgrees), "{}", s.strategy);
    assert_eq!(s.server.distinct_orders, s.server.sold as u64);
    assert!(s.verdict.held, "{}: {:?}", s.strategy, s.verdict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_through_the_proxy_shows_in_the_service_time() {
    let r = run(&[
        "-s",
        "lua",
        "--rate",
        "200/s",
        "--duration",
        "1500ms",
        "--stock",
        "100000",
        "--seed",
        "4",
        "--fault",
        "latency:5ms@0s",
        "--quiet",
    ])
    .await;
    let json = serde_json::to_value(&r).expect("the report serializes");
    let lua = &json["strategies"][0];
    let p50 = lua["service"]["p50"].as_u64().expect("service.p50 in µs");
    // Every reply is held 5 ms: a lower bound, whatever the machine's speed.
    assert!(
        p50 >= 5_000,
        "p50 service time {p50} µs under a 5 ms latency"
    );
    let f = &lua["faults"][0];
    assert_eq!(f["kind"], "latency");
    assert_eq!(f["delay_us"], serde_json::json!([5_000, 5_000]));
    // A latency without a length lasts until the crowd is done.
    assert!(f["ended_us"].as_u64() >= f["began_us"].as_u64());
    assert_eq!(f["recovery_us"], Value::Null);
    assert_eq!(r.strategies[0].figures.errors, 0);
    clean(&r.strategies[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackhole_leaves_unknown_outcomes_and_the_run_recovers() {
    let r = run(&[
        "-s",
        "lua,watch",
        "--rate",
        "300/s",
        "--duration",
        "3s",
        "--stock",
        "800",
        "--seed",
        "9",
        "--timeout",
        "300ms",
        "--fault",
        "blackhole:1s@1s",
        "--quiet",
    ])
    .await;
    for s in &r.strategies {
        let hole = fault(s, "blackhole");
        let silent = hole.ended_us.unwrap() - hole.began_us.unwrap();
        assert!(silent >= 1_000_000, "the blackhole lasted {silent} µs");
        assert!(
            hole.errors > 0,
            "{}: no unknown outcome in {hole:?}",
            s.strategy
        );
        // Purchases came back after it: the recovery was measured.
        assert!(hole.pre_fault_per_s.is_some_and(|r| r > 0), "{hole:?}");
        assert!(
            hole.recovery_us.is_some(),
            "{}: never recovered",
            s.strategy
        );
        clean(s);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_leave_unknown_outcomes_and_no_oversell() {
    // Replies held 10 ms keep purchases in flight when the drop comes.
    // (lua only: watch's three round trips an attempt under that latency
    // make a contested run last tens of seconds.)
    let r = run(&[
        "-s",
        "lua",
        "--rate",
        "400/s",
        "--duration",
        "2s",
        "--stock",
        "600",
        "--seed",
        "21",
        "--fault",
        "latency:10ms@0s",
        "--fault",
        "drop@1s",
        "--quiet",
    ])
    .await;
    for s in &r.strategies {
        let drop = fault(s, "drop");
        assert!(
            drop.errors > 0,
            "{}: the drop cost nothing: {drop:?}",
            s.strategy
        );
        assert!(s.figures.errors >= drop.errors);
        clean(s);
    }
}

#[test]
fn network_faults_refuse_what_the_proxy_cannot_stand_in_for() {
    use blackfriday::cli::{Cli, Command};
    use clap::Parser;
    let resolve = |args: &[&str]| {
        let cli = Cli::try_parse_from(["blackfriday", "run"].iter().chain(args)).unwrap();
        let Command::Run(a) = cli.command else {
            panic!("not a run")
        };
        let e = blackfriday::RunConfig::from_args(a).err();
        e.map(|e| (e.status(), e.to_string()))
    };
    let refused: [&[&str]; 3] = [
        &["--redis", "rediss://127.0.0.1:6390", "--fault", "drop@1s"],
        &["--redis", "unix:///tmp/r.sock", "--fault", "latency:5ms@1s"],
        &["--unix", "--fault", "blackhole:1s@1s"],
    ];
    for args in refused {
        let (status, e) = resolve(args).unwrap_or_else(|| panic!("{args:?} was accepted"));
        assert_eq!(status, blackfriday::ExitStatus::Usage, "{args:?}: {e}");
        assert!(
            e.contains("--fault") && e.contains("proxy"),
            "{args:?}: {e}"
        );
    }
    let backwards = ["blackfriday", "run", "--fault", "latency:5ms..2ms@1s"];
    let e = Cli::try_parse_from(backwards).expect_err("refused");
    assert!(e.to_string().contains("MIN..MAX"), "{e}");
}
