//! The `failover` fault on a local cluster with a replica per primary
//! (`--topology cluster:1x1`): a replica is promoted mid-sale with `CLUSTER
//! FAILOVER`, which first lets it catch up, so no acknowledged order may be
//! lost and no safe strategy may oversell. Every figure asserted is read
//! back from the servers by the audit.

use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(240));
    cmd
}

fn check<'a>(s: &'a Value, id: &str) -> &'a Value {
    let checks = s["checks"].as_array().expect("checks");
    checks
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{} has no {id} check: {checks:?}", s["strategy"]))
}

#[test]
fn a_promoted_replica_loses_no_acknowledged_order_and_nothing_oversells() {
    let a = blackfriday()
        .args(["run", "-q", "--topology", "cluster:1x1", "-s", "lua,watch"])
        .args(["--rate", "500/s", "--duration", "3s", "--stock", "100000"])
        .args(["--seed", "5", "--fault", "failover@1s", "--json", "-"])
        .assert()
        .success();
    let r: Value = serde_json::from_slice(&a.get_output().stdout).expect("a JSON report");
    assert_eq!(r["run"]["redis"]["topology"]["replicas"], 1);
    assert_eq!(r["run"]["faults"][0]["kind"], "failover");
    for s in r["strategies"].as_array().unwrap() {
        let name = s["strategy"].as_str().unwrap();
        let f = &s["faults"][0];
        assert_eq!(f["kind"], "failover", "{name}");
        let (began, ended) = (f["began_us"].as_u64(), f["ended_us"].as_u64());
        assert!(
            began.is_some() && ended >= began,
            "{name}: the failover ran: {f}"
        );
        let server = &s["server"];
        assert_eq!(server["oversold"], 0, "{name}: {server}");
        assert_eq!(server["acked_lost"], 0, "{name}: {server}");
        assert_eq!(check(s, "no_ack_lost")["passed"], true, "{name}");
        assert_eq!(f["acked_lost"], 0, "{name}: {f}");
        // Conservation across the promotion: stock plus sold is the stock
        // it started with, on the new primary.
        let (stock, sold) = (server["stock"].as_i64(), server["sold"].as_i64());
        assert_eq!(stock.zip(sold).map(|(a, b)| a + b), Some(100_000), "{name}");
        assert!(sold.unwrap() > 0, "{name} sold nothing: {server}");
        assert_eq!(s["verdict"]["held"], true, "{name}: {}", s["verdict"]);
    }
}

#[test]
fn a_failover_needs_a_replica_to_promote() {
    for args in [
        vec!["--fault", "failover@1s"],
        vec!["--topology", "cluster:3", "--fault", "failover@1s"],
    ] {
        blackfriday()
            .args(["run", "-q"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--fault failover@1s"))
            .stderr(predicate::str::contains("promotes a replica"));
    }
    // The single server's faults stay refused on a cluster.
    blackfriday()
        .args([
            "run",
            "-q",
            "--topology",
            "cluster:1x1",
            "--fault",
            "kill@1s",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--fault kill@1s"));
}
