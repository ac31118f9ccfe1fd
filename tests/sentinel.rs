//! A run through Sentinel: a primary, a replica and three sentinels watching
//! them, all real `redis-server` processes this test starts on free ports
//! (the sentinels with `--sentinel`). blackfriday is given only the
//! sentinels' addresses and the service name; the audit's figures, read
//! back from the primary the sentinels name, must balance.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use fred::prelude::*;
use serde_json::Value;

/// A redis-server this test started; killed when the test ends, even on a
/// failed assertion.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    listener.local_addr().unwrap().port()
}

fn spawn(dir: &Path, args: &[String]) -> Node {
    let log = std::fs::File::create(dir.join("log")).unwrap();
    let child = Process::new(blackfriday::redis::default_binary())
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs redis-server (with --sentinel): {e}"));
    Node(child)
}

fn server(dir: &Path, port: u16, extra: &[&str]) -> Node {
    let mut args: Vec<String> = ["--port", &port.to_string(), "--bind", "127.0.0.1"]
        .iter()
        .chain(&["--save", "", "--appendonly", "no"])
        // A replica's first sync starts at once rather than after 5 s.
        .chain(&["--repl-diskless-sync-delay", "0"])
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    args.extend(["--dir".into(), dir.display().to_string()]);
    spawn(dir, &args)
}

/// A sentinel rewrites its configuration file, so each gets its own.
fn sentinel(dir: &Path, port: u16, primary: u16) -> Node {
    let conf = dir.join("sentinel.conf");
    let text = format!(
        "port {port}\nbind 127.0.0.1\ndir {}\n\
         sentinel monitor shop 127.0.0.1 {primary} 1\n\
         sentinel auth-pass shop s3cret\n\
         sentinel down-after-milliseconds shop 5000\n",
        dir.display()
    );
    std::fs::write(&conf, text).unwrap();
    spawn(dir, &[conf.display().to_string(), "--sentinel".into()])
}

async fn connect(url: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let client = Builder::from_config(Config::from_url(url).unwrap())
            .build()
            .unwrap();
        if client.init().await.is_ok() {
            return client;
        }
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until `sentinel` names the primary and sees the replica.
async fn ready(sentinel: &Client, primary: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let addr: Vec<String> = sentinel
            .custom(
                fred::cmd!("SENTINEL"),
                vec!["get-master-addr-by-name", "shop"],
            )
            .await
            .unwrap_or_default();
        let replicas: fred::types::Value = sentinel
            .custom(fred::cmd!("SENTINEL"), vec!["replicas", "shop"])
            .await
            .unwrap_or(fred::types::Value::Null);
        let replicas = replicas.array_len().unwrap_or(0);
        if addr == ["127.0.0.1".to_string(), primary.to_string()] && replicas > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the sentinel never named 127.0.0.1:{primary} with a replica: {addr:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A primary and its replica (both wanting a password) and three sentinels
/// (wanting none) watching them as `shop`; every process and directory
/// goes when this is dropped.
struct Deployment {
    primary: u16,
    replica: u16,
    sentinels: [u16; 3],
    _nodes: Vec<Node>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Deployment {
    async fn start() -> Deployment {
        let dirs: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
        let ports: Vec<u16> = (0..5).map(|_| free_port()).collect();
        let (primary, replica) = (ports[0], ports[1]);
        let auth = ["--requirepass", "s3cret", "--masterauth", "s3cret"];
        let replicaof = format!("127.0.0.1 {primary}");
        let mut replica_args = auth.to_vec();
        replica_args.extend(["--replicaof", &replicaof]);
        let nodes = vec![
            server(dirs[0].path(), primary, &auth),
            server(dirs[1].path(), replica, &replica_args),
            sentinel(dirs[2].path(), ports[2], primary),
            sentinel(dirs[3].path(), ports[3], primary),
            sentinel(dirs[4].path(), ports[4], primary),
        ];
        for port in &ports[2..] {
            ready(
                &connect(&format!("redis://127.0.0.1:{port}")).await,
                primary,
            )
            .await;
        }
        in_sync(&connect(&format!("redis://:s3cret@127.0.0.1:{replica}")).await).await;
        Deployment {
            primary,
            replica,
            sentinels: [ports[2], ports[3], ports[4]],
            _nodes: nodes,
            _dirs: dirs,
        }
    }

    fn url(&self, service: &str) -> String {
        let [a, b, c] = self.sentinels;
        format!("redis-sentinel://:s3cret@127.0.0.1:{a},127.0.0.1:{b},127.0.0.1:{c}/{service}")
    }

    async fn node(&self, port: u16) -> Client {
        connect(&format!("redis://:s3cret@127.0.0.1:{port}")).await
    }
}

/// Wait until the replica has its primary's data: a replica promoted
/// before its first sync would come up empty.
async fn in_sync(replica: &Client) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = replica
            .custom(fred::cmd!("INFO"), vec!["replication"])
            .await
            .unwrap_or_default();
        if info.contains("master_link_status:up") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never synced: {info}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_through_sentinel_reaches_the_named_primary_and_balances() {
    let d = Deployment::start().await;
    let primary_client = d.node(d.primary).await;
    let url = d.url("shop");
    let out = Command::cargo_bin("blackfriday")
        .unwrap()
        .env_remove("REDIS_URL")
        .timeout(Duration::from_secs(120))
        .args(["run", "-q", "--redis", &url, "-s", "broken,lua,watch"])
        .args(["--buyers", "2000", "--stock", "500", "--seed", "3"])
        .args(["--json", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let topology = &r["run"]["redis"]["topology"];
    assert_eq!(topology["kind"], "sentinel", "{topology}");
    assert_eq!(topology["service"], "shop", "{topology}");
    for s in r["strategies"].as_array().unwrap() {
        let name = s["strategy"].as_str().unwrap();
        let server = &s["server"];
        let sold = server["sold"].as_i64().unwrap();
        let stock = server["stock"].as_i64().unwrap();
        // Conservation holds for every strategy, oversold or not.
        assert_eq!(sold + stock, 500, "{name}: {server}");
        if name == "broken" {
            assert!(server["oversold"].as_i64() > Some(0), "{server}");
        } else {
            assert_eq!(sold, 500, "{name} sells out exactly: {server}");
            assert_eq!(server["oversold"], 0, "{name}: {server}");
        }
        assert_eq!(s["verdict"]["held"], true, "{name}: {}", s["verdict"]);
    }
    // The run wrote to the primary the sentinels named, and cleaned it.
    assert!(common::bf_keys(&primary_client).await.is_empty());
    let info: String = primary_client
        .custom(fred::cmd!("INFO"), vec!["commandstats"])
        .await
        .unwrap();
    assert!(
        info.contains("cmdstat_eval"),
        "lua ran on the primary: {info}"
    );

    // A service the sentinels do not watch is the URL's fault, named.
    let wrong = d.url("nosuch");
    let out = Command::cargo_bin("blackfriday")
        .unwrap()
        .env_remove("REDIS_URL")
        .timeout(Duration::from_secs(60))
        .args(["run", "-q", "--redis", &wrong, "--buyers", "10"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&wrong.replace("s3cret", "***")), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert!(stderr.contains("get-master-addr-by-name"), "{stderr}");
}

/// `SENTINEL FAILOVER` mid-sale: the sentinels name the replica, and the
/// old primary ends as its replica. Sentinel does not let the replica catch
/// up and does not tell clients, so acknowledged orders may be lost: they
/// are counted, and excused; nothing may oversell on the new primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_moves_the_sale_to_the_replica_and_counts_what_it_lost() {
    let d = Deployment::start().await;
    let out = Command::cargo_bin("blackfriday")
        .unwrap()
        .env_remove("REDIS_URL")
        .timeout(Duration::from_secs(120))
        .args(["run", "-q", "--redis", &d.url("shop"), "-s", "lua"])
        .args(["--rate", "300/s", "--duration", "3s", "--stock", "100000"])
        .args(["--seed", "4", "--fault", "failover@1s", "--json", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let s = &r["strategies"][0];
    let f = &s["faults"][0];
    assert_eq!(f["kind"], "failover", "{f}");
    let (began, ended) = (f["began_us"].as_u64(), f["ended_us"].as_u64());
    assert!(began.is_some() && ended > began, "the failover ran: {f}");
    let server = &s["server"];
    assert_eq!(server["oversold"], 0, "{server}");
    let (stock, sold) = (server["stock"].as_i64(), server["sold"].as_i64());
    assert_eq!(
        stock.zip(sold).map(|(a, b)| a + b),
        Some(100_000),
        "{server}"
    );
    assert!(sold > Some(0), "{server}");
    // Every acknowledged order is on the new primary or counted as lost.
    let lost = server["acked_lost"].as_u64().expect("acked_lost counted");
    assert_eq!(f["acked_lost"].as_u64(), Some(lost), "{f}");
    assert_eq!(s["verdict"]["held"], true, "{}", s["verdict"]);
    // The sentinels moved the service, and the old primary follows it.
    let sentinel = connect(&format!("redis://127.0.0.1:{}", d.sentinels[0])).await;
    let named: Vec<String> = sentinel
        .custom(
            fred::cmd!("SENTINEL"),
            vec!["get-master-addr-by-name", "shop"],
        )
        .await
        .unwrap();
    assert_eq!(named, ["127.0.0.1".to_string(), d.replica.to_string()]);
    let role: fred::types::Value = d
        .node(d.primary)
        .await
        .custom(fred::cmd!("ROLE"), Vec::<String>::new())
        .await
        .unwrap();
    let role = role
        .into_array()
        .into_iter()
        .next()
        .and_then(|v| v.as_string());
    assert_eq!(role.as_deref(), Some("slave"));
    assert!(common::bf_keys(&d.node(d.replica).await).await.is_empty());
}
