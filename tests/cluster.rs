//! Redis Cluster against real redis-servers: a 3-primary cluster the tool
//! starts itself (`--topology cluster:3`), and one the test starts and hands
//! over as a `redis-cluster://` URL. Every figure asserted is read back from
//! the servers; afterwards no key is left on any node and no node outlives
//! the run.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use assert_cmd::Command;
use blackfriday::redis::{default_binary, slot_of, ClusterShape, ManagedCluster};
use fred::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

const SINGLE: &str = "broken,decr,watch,lua,function,compensate,lock,lock-fenced,app-lock";

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(240));
    cmd
}

/// The JSON report on stdout, checked against the committed schema.
fn report(a: &assert_cmd::assert::Assert) -> Value {
    let doc: Value =
        serde_json::from_slice(&a.get_output().stdout).expect("a JSON report on stdout");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report-v1.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
    doc
}

/// A cluster of the test's own. A test that cannot get one fails loudly.
async fn cluster(primaries: u16) -> ManagedCluster {
    let shape = ClusterShape {
        primaries,
        replicas: 0,
    };
    match ManagedCluster::start(&default_binary(), shape).await {
        Ok(c) => c,
        Err(e) => panic!("this test needs redis-server to form a local cluster:\n{e}"),
    }
}

/// The primaries' `host:port`s from a `redis-cluster://` URL.
fn seeds(url: &str) -> Vec<(String, u16)> {
    let hosts = url.strip_prefix("redis-cluster://").unwrap();
    hosts
        .split(',')
        .map(|h| {
            let (host, port) = h.rsplit_once(':').unwrap();
            (host.to_string(), port.parse().unwrap())
        })
        .collect()
}

/// A client on one node, reading only what that node holds.
async fn node(host: &str, port: u16) -> Client {
    common::client(&format!("redis://{host}:{port}")).await
}

/// Every key of `run_id` on each primary, node by node.
async fn keys_per_node(url: &str, run_id: &str) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for (host, port) in seeds(url) {
        let c = node(&host, port).await;
        let keys: Vec<String> = c
            .custom(fred::cmd!("KEYS"), vec![format!("bf:{run_id}:*")])
            .await
            .unwrap();
        let _ = c.quit().await;
        all.push(keys);
    }
    all
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn managed_cluster_every_single_product_strategy_and_no_node_outlives_it() {
    let a = blackfriday()
        .args(["run", "-q", "--topology", "cluster:3", "-s", SINGLE])
        .args(["--buyers", "300", "--stock", "100", "--seed", "11"])
        .args(["--json", "-", "--details"])
        .assert()
        .success();
    let r = report(&a);
    let redis = &r["run"]["redis"];
    assert_eq!(redis["topology"]["kind"], "cluster");
    assert_eq!(redis["topology"]["primaries"], 3);
    assert!(redis["url"]
        .as_str()
        .unwrap()
        .starts_with("redis-cluster://"));
    let pids: Vec<u32> = redis["managed_pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(pids.len(), 3, "{redis}");
    for s in r["strategies"].as_array().unwrap() {
        let name = s["strategy"].as_str().unwrap();
        let server = &s["server"];
        assert_eq!(s["verdict"]["held"], true, "{name}: {}", s["verdict"]);
        // Server CPU summed over the primaries, each one listed.
        assert_eq!(s["cpu"]["server_nodes"].as_array().unwrap().len(), 3);
        let sold = server["sold"].as_i64().unwrap();
        if ["broken", "decr", "lock"].contains(&name) || name == "app-lock" {
            continue;
        }
        // The clean strategies sold exactly the stock, as read back.
        assert_eq!(sold, 100, "{name}: {server}");
        assert_eq!(server["oversold"], 0, "{name}");
        assert_eq!(server["stock"], 0, "{name}");
        assert_eq!(server["distinct_orders"], 100, "{name}");
    }
    // The control group kept its teeth on a cluster too.
    let broken = &r["strategies"][0]["server"];
    assert!(broken["oversold"].as_i64().unwrap() > 0, "{broken}");
    for pid in pids {
        assert!(!alive(pid), "cluster node pid {pid} outlived the run");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_url_watch_never_oversells_and_nothing_is_left() {
    let c = cluster(3).await;
    let url = c.url();
    let a = blackfriday()
        .args(["run", "-q", "--redis", &url, "-s", "watch,lua,function"])
        .args(["--buyers", "600", "--stock", "150", "--connections", "8"])
        .args(["--json", "-"])
        .assert()
        .success();
    let r = report(&a);
    for s in r["strategies"].as_array().unwrap() {
        assert_eq!(s["server"]["sold"], 150, "{}", s["strategy"]);
        assert_eq!(s["server"]["oversold"], 0, "{}", s["strategy"]);
    }
    let run_id = r["run"]["run_id"].as_str().unwrap();
    let left = keys_per_node(&url, run_id).await;
    assert!(left.iter().all(Vec::is_empty), "keys left: {left:?}");
    // No library left on any primary either.
    for (host, port) in seeds(&url) {
        let n = node(&host, port).await;
        let libs: fred::types::Value = n
            .custom(fred::cmd!("FUNCTION"), vec!["LIST"])
            .await
            .unwrap();
        assert!(libs.into_array().is_empty(), "a library left on {port}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn spread_products_land_on_several_primaries_and_clean_removes_them() {
    let c = cluster(3).await;
    let url = c.url();
    let a = blackfriday()
        .args(["run", "-q", "--redis", &url, "-s", "lua,watch"])
        .args(["--products", "6", "--cart", "1", "--spread", "--keep"])
        // Enough buyers that even the least wanted product sells out.
        .args([
            "--buyers", "1500", "--stock", "50", "--seed", "3", "--json", "-",
        ])
        .assert()
        .success();
    let r = report(&a);
    for s in r["strategies"].as_array().unwrap() {
        let server = &s["server"];
        // 6 products of 50, each sold out exactly, per product.
        assert_eq!(server["sold"], 300, "{}", s["strategy"]);
        assert_eq!(server["oversold"], 0);
        for p in server["products"].as_array().unwrap() {
            assert_eq!(
                (&p["sold"], &p["stock"]),
                (&Value::from(50), &Value::from(0))
            );
            assert_eq!(p["order_units"], 50);
        }
    }
    let run_id = r["run"]["run_id"].as_str().unwrap();
    let kept = keys_per_node(&url, run_id).await;
    let holding = kept.iter().filter(|k| !k.is_empty()).count();
    assert!(holding >= 2, "spread keys on {holding} node(s): {kept:?}");
    let tags: BTreeSet<u16> = (0..6)
        .map(|p| slot_of(&format!("bf:{run_id}:{{lua:p{p}}}:stock")))
        .collect();
    assert_eq!(tags.len(), 6, "each product its own slot");
    blackfriday()
        .args(["clean", "--redis", &url, "--run", run_id])
        .assert()
        .success();
    let left = keys_per_node(&url, run_id).await;
    assert!(left.iter().all(Vec::is_empty), "keys left: {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn carts_in_one_tag_and_the_planner_refuses_spread_carts() {
    let c = cluster(3).await;
    let url = c.url();
    let a = blackfriday()
        .args(["run", "-q", "--redis", &url, "-s", "broken,watch,lua"])
        .args(["--products", "4", "--cart", "2..3", "--buyers", "400"])
        .args(["--stock", "40", "--json", "-"])
        .assert()
        .success();
    let r = report(&a);
    for s in &r["strategies"].as_array().unwrap()[1..] {
        assert_eq!(s["server"]["partial_orders"], 0, "{}", s["strategy"]);
        assert_eq!(s["server"]["oversold"], 0, "{}", s["strategy"]);
    }
    for strategy in ["watch", "lua"] {
        blackfriday()
            .args(["run", "-q", "--redis", &url, "-s", strategy])
            .args(["--products", "4", "--cart", "2", "--spread"])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("slot")
                    .and(predicate::str::contains("node 127.0.0.1:"))
                    .and(predicate::str::contains("drop --spread"))
                    .and(predicate::str::contains("saga")),
            );
    }
    // Refused before anything was written.
    let c0 = seeds(&url);
    for (host, port) in c0 {
        let n = node(&host, port).await;
        let keys: Vec<String> = n.custom(fred::cmd!("KEYS"), vec!["bf:*"]).await.unwrap();
        assert!(keys.is_empty(), "{port}: {keys:?}");
    }
}

/// `saga` over products spread on three primaries: each line is taken on
/// its own node, a sold-out line undoes the lines before it, and the audit
/// reads every product from the node that owns it.
#[tokio::test(flavor = "multi_thread")]
async fn saga_buys_carts_across_nodes_and_ends_with_no_partial_cart() {
    let c = cluster(3).await;
    let url = c.url();
    let a = blackfriday()
        .args([
            "run",
            "-q",
            "--redis",
            &url,
            "-s",
            "broken,saga",
            "--spread",
        ])
        .args(["--products", "6", "--cart", "1..3", "--buyers", "2000"])
        .args(["--stock", "100", "--seed", "3", "--keep", "--json", "-"])
        .assert()
        .success();
    let r = report(&a);
    let run_id = r["run"]["run_id"].as_str().unwrap();
    let saga = &r["strategies"][1];
    assert_eq!(saga["strategy"], "saga");
    let server = &saga["server"];
    assert_eq!(server["oversold"], 0, "{server}");
    assert_eq!(server["partial_orders"], 0, "{server}");
    for check in ["no_oversell", "whole_carts", "orders_match", "conservation"] {
        let c = saga["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == check);
        assert_eq!(c.map(|c| &c["passed"]), Some(&Value::Bool(true)), "{check}");
    }
    // Every product's stock and sold, as the audit read them from their
    // nodes, add up to what was seeded.
    for p in server["products"].as_array().unwrap() {
        assert_eq!(
            p["stock"].as_i64().unwrap() + p["sold"].as_i64().unwrap(),
            100,
            "{p}"
        );
    }
    let undone = &saga["figures"]["undone"];
    assert!(
        undone["lines"].as_u64() >= undone["carts"].as_u64(),
        "{undone}"
    );
    assert_eq!(saga["verdict"]["held"], true, "{}", saga["verdict"]);
    // The saga's keys sit on more than one primary.
    let kept = keys_per_node(&url, run_id).await;
    let saga_keys = |keys: &Vec<String>| keys.iter().any(|k| k.contains("{saga:"));
    assert!(
        kept.iter().filter(|k| saga_keys(k)).count() >= 2,
        "{kept:?}"
    );
}

#[test]
fn topology_usage_errors() {
    for (args, says) in [
        (
            vec!["--topology", "cluster:3", "--redis", "redis://127.0.0.1:1"],
            "--topology",
        ),
        (vec!["--topology", "cluster:0"], "at least one primary"),
        (vec!["--topology", "ring"], "cluster:NxR"),
        (vec!["--topology", "cluster:3", "--unix"], "--unix"),
    ] {
        blackfriday()
            .args(["run", "-q"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    blackfriday()
        .args([
            "run",
            "-q",
            "--redis",
            "redis-cluster://u:s3cret@127.0.0.1:1",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "redis-cluster://u:***@127.0.0.1:1",
        ))
        .stderr(predicate::str::contains("s3cret").not());
}
