//! The gate tells the truth about what a run could show: a control group
//! that cannot oversell, a lock paused exactly its lease, a fenced lock that
//! is safe but starved, a script that fails at run time, an order written
//! but never listed. Each against a real redis-server started by the test.

mod common;

use std::path::Path;
use std::process::{Command as Std, Output};
use std::time::Duration;

use fred::prelude::*;
use serde_json::Value;

use common::{bf_keys, client, redis_server};

fn run(args: &[&str]) -> Output {
    Std::new(assert_cmd::cargo::cargo_bin("blackfriday"))
        .env_remove("REDIS_URL")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("blackfriday runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn strategy<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["strategy"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc}"))
}

fn check<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {s}"))
}

/// `blackfriday run ARGS --json FILE` against `url`: the exit and the report.
fn run_json(url: &str, dir: &Path, args: &[&str]) -> (Output, Value) {
    let out = dir.join("out.json");
    let mut all = vec!["run", "--redis", url, "--quiet", "--json"];
    all.push(out.to_str().unwrap());
    all.extend_from_slice(args);
    let o = run(&all);
    let doc = json(&out);
    (o, doc)
}

#[tokio::test]
async fn a_control_group_that_cannot_oversell_is_reported_as_such() {
    let server = redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    // No stock at all, then stock below every buyer's quantity.
    for args in [
        &["-s", "broken", "--stock", "0"][..],
        &["-s", "broken", "--stock", "2", "--qty", "3..5"][..],
    ] {
        let (o, doc) = run_json(&server.url(), dir.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let broken = strategy(&doc, "broken");
        assert_eq!(broken["expect"], "unprovoked", "{args:?}");
        assert_eq!(broken["verdict"]["held"], true, "{args:?}");
        assert_eq!(broken["server"]["oversold"], 0, "{args:?}");
        assert_eq!(broken["server"]["sold"], 0, "{args:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("no demand can oversell"), "{text}");
    }
}

#[tokio::test]
async fn a_lease_set_with_px_ttl_is_gone_after_the_holder_sleeps_ttl() {
    let server = redis_server().await;
    let c = client(&server.url()).await;
    let ttl = Duration::from_millis(50);
    let set: Option<String> = c
        .set(
            "bf:leasetest:lock",
            "holder",
            Some(Expiration::PX(ttl.as_millis() as i64)),
            Some(SetOptions::NX),
            false,
        )
        .await
        .unwrap();
    assert!(set.is_some());
    // The holder reads first, then pauses exactly the TTL, as `lock` does.
    let _: Option<String> = c.get("bf:leasetest:lock").await.unwrap();
    tokio::time::sleep(ttl).await;
    let left: Option<String> = c.get("bf:leasetest:lock").await.unwrap();
    assert_eq!(left, None, "the lease outlived a pause equal to its TTL");
    let again: Option<String> = c
        .set(
            "bf:leasetest:lock",
            "next",
            Some(Expiration::PX(50)),
            Some(SetOptions::NX),
            false,
        )
        .await
        .unwrap();
    assert!(again.is_some(), "a second holder gets in");
}

#[tokio::test]
async fn a_pause_equal_to_the_ttl_expects_lock_to_oversell_and_fenced_to_starve() {
    let server = redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (o, doc) = run_json(
        &server.url(),
        dir.path(),
        &[
            "-s",
            "lock,lock-fenced",
            "--hold-pause",
            "20ms",
            "--lock-ttl",
            "20ms",
        ],
    );
    // Whether this run's overlap fell on the last units is a race; what
    // each strategy is held to is not.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let lock = strategy(&doc, "lock");
    assert_eq!(lock["expect"], "oversell");
    assert_eq!(check(lock, "no_oversell")["wanted"], "fail");
    let fenced = strategy(&doc, "lock-fenced");
    assert_eq!(fenced["expect"], "starved");
    assert_eq!(fenced["server"]["oversold"], 0);
}

#[tokio::test]
async fn a_fenced_lock_paused_past_its_lease_is_safe_but_starved() {
    let server = redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (o, doc) = run_json(
        &server.url(),
        dir.path(),
        &[
            "-s",
            "lock-fenced",
            "--buyers",
            "300",
            "--stock",
            "30",
            "--hold-pause",
            "50ms",
            "--lock-ttl",
            "20ms",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fenced = strategy(&doc, "lock-fenced");
    assert_eq!(fenced["expect"], "starved");
    assert_eq!(fenced["verdict"]["held"], true);
    assert_eq!(fenced["server"]["oversold"], 0);
    assert_eq!(check(fenced, "conservation")["passed"], true);
    assert_eq!(check(fenced, "orders_match")["passed"], true);
    // Starved: buyers gave up while stock remained, shown, not hidden.
    let sold = fenced["server"]["sold"].as_i64().unwrap();
    assert!(sold < 30, "sold {sold} of 30");
    assert_eq!(check(fenced, "no_undersell")["passed"], false);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("starved"), "{text}");
}

async fn script_run(lua: &str, name: &str) -> (Output, Vec<String>) {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, lua).unwrap();
    let o = run(&[
        "run",
        "--redis",
        &server.url(),
        "-s",
        "script",
        "--script",
        file.to_str().unwrap(),
        "--buyers",
        "200",
        "--quiet",
    ]);
    (o, bf_keys(&admin).await)
}

#[tokio::test]
async fn a_script_failing_at_run_time_stops_the_run_naming_its_line() {
    for (name, line3) in [
        ("boom.lua", "error('boom')"),
        ("nosuch.lua", "redis.call('NOSUCHCMD')"),
    ] {
        let lua = format!("local qty = tonumber(ARGV[1])\nlocal s = 0\n{line3}\nreturn 1\n");
        let (o, keys) = script_run(&lua, name).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{name}: {err}");
        assert!(err.contains(name) && err.contains("line 3"), "{err}");
        assert!(!err.contains("failed its expectation"), "{err}");
        assert!(keys.is_empty(), "{name}: left {keys:?}");
    }
}

#[tokio::test]
async fn an_order_hash_left_off_the_orders_list_fails_orders_match() {
    let server = redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    // Records every sale correctly, and writes an order hash for a buyer it
    // turns away without listing it: only the orphan is wrong.
    let lua = "local qty = tonumber(ARGV[1])\n\
               local stock = tonumber(redis.call('GET', KEYS[1]) or '0')\n\
               if stock < qty then\n\
                 redis.call('HSET', KEYS[4], 'buyer', ARGV[3], 'qty', qty)\n\
                 return 0\n\
               end\n\
               redis.call('DECRBY', KEYS[1], qty)\n\
               redis.call('HSET', KEYS[4], 'buyer', ARGV[3], 'qty', qty, 'at_us', ARGV[4])\n\
               redis.call('RPUSH', KEYS[3], ARGV[2])\n\
               redis.call('INCRBY', KEYS[2], qty)\n\
               return 1\n";
    let file = dir.path().join("orphans.lua");
    std::fs::write(&file, lua).unwrap();
    let (o, doc) = run_json(
        &server.url(),
        dir.path(),
        &[
            "-s",
            "script",
            "--script",
            file.to_str().unwrap(),
            "--buyers",
            "150",
            "--stock",
            "100",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let s = strategy(&doc, "script");
    assert_eq!(s["server"]["oversold"], 0);
    let turned_away = s["figures"]["sold_out"].as_u64().unwrap();
    assert!(turned_away > 0, "{}", s["figures"]);
    assert_eq!(s["server"]["orphan_orders"], turned_away);
    let orders = check(s, "orders_match");
    assert_eq!(orders["passed"], false, "{orders}");
    assert!(
        orders["detail"]
            .as_str()
            .unwrap()
            .contains("not on the orders list"),
        "{orders}"
    );
}

/// A run without `--keep` deletes each page of order hashes as soon as the
/// audit has read it; the audit must come out exactly as a kept run's, the
/// wrong orders included, and leave no key behind.
#[tokio::test]
async fn orders_deleted_as_they_are_read_are_audited_as_when_kept() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    let dir = tempfile::tempdir().unwrap();
    // Everyone buys (stock outlasts the crowd), so both runs sell to the
    // same buyers: every 5th is listed twice, every 7th has no order hash,
    // every 9th also writes a hash under a name no list holds.
    let lua = "local qty = tonumber(ARGV[1])\n\
               local id = tonumber(ARGV[2])\n\
               redis.call('DECRBY', KEYS[1], qty)\n\
               redis.call('INCRBY', KEYS[2], qty)\n\
               if id % 7 ~= 0 then\n\
                 redis.call('HSET', KEYS[4], 'buyer', ARGV[3], 'qty', qty)\n\
               end\n\
               if id % 9 == 0 then\n\
                 redis.call('HSET', KEYS[4] .. 'x', 'buyer', ARGV[3], 'qty', qty)\n\
               end\n\
               redis.call('RPUSH', KEYS[3], ARGV[2])\n\
               if id % 5 == 0 then redis.call('RPUSH', KEYS[3], ARGV[2]) end\n\
               return 1\n";
    let file = dir.path().join("twice.lua");
    std::fs::write(&file, lua).unwrap();
    let script = file.to_str().unwrap();
    // Pages of 10,000 order ids: 25,000 buyers read over three pages.
    let args = ["-s", "script", "--script", script, "--buyers", "25000"];
    let args = [&args[..], &["--stock", "30000"]].concat();
    let (o, deleted) = run_json(&server.url(), dir.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let left = bf_keys(&admin).await;
    assert!(
        left.is_empty(),
        "left {} keys: {:?}",
        left.len(),
        &left[..3]
    );
    let (o, kept) = run_json(
        &server.url(),
        dir.path(),
        &[&args[..], &["--keep"]].concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let (deleted, kept) = (
        &strategy(&deleted, "script")["server"],
        &strategy(&kept, "script")["server"],
    );
    assert_eq!(deleted, kept);
    assert_eq!(deleted["orphan_orders"], (0..25_000).step_by(9).count());
    assert_eq!(
        deleted["orders_without_hash"],
        (0..25_000).step_by(7).count()
    );
    // A listed order without a hash names no buyer to count twice.
    let twice = (0..25_000).filter(|id| id % 5 == 0 && id % 7 != 0).count();
    assert_eq!(deleted["duplicate_orders"], twice);
    assert!(
        bf_keys(&admin).await.len() > 20_000,
        "--keep keeps the orders"
    );
}

/// The audit reads a page of orders with one SORT; a user the ACL denies
/// SORT is audited the other way (LRANGE, HMGET per order), to the same
/// figures.
#[tokio::test]
async fn an_audit_denied_sort_reads_the_orders_one_by_one() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    let acl: Vec<&str> = vec!["SETUSER", "shop", "on", ">pw", "~*", "&*", "+@all", "-sort"];
    let _: String = admin.custom(fred::cmd!("ACL"), acl).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("redis://shop:pw@127.0.0.1:{}", server.port());
    let args = [
        "-s", "lua", "--buyers", "12000", "--stock", "11000", "--seed", "3",
    ];
    let (o, doc) = run_json(&url, dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = strategy(&doc, "lua");
    assert_eq!(s["server"]["orders"], 11_000);
    assert_eq!(s["server"]["order_units"], 11_000);
    assert_eq!(check(s, "orders_match")["passed"], true);
    let stats: String = admin
        .info(Some(fred::types::InfoKind::CommandStats))
        .await
        .unwrap();
    let line = |cmd: &str| {
        let prefix = format!("cmdstat_{cmd}:");
        stats
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("sort").contains("rejected_calls=1"), "{stats}");
    assert!(line("hmget").contains("calls=11000,"), "{stats}");
    assert!(bf_keys(&admin).await.is_empty());
}
