//! Every exit tells the truth: the report files left on disk carry the
//! process's real exit status on every path (an abort, a signal, a server
//! that never answered), and report destinations that are not regular files
//! are written through, never replaced.

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Std, Output, Stdio};
use std::time::{Duration, Instant};

use fred::prelude::*;
use serde_json::Value;

use common::{bf_keys, client, redis_server};

fn bin() -> Std {
    let mut cmd = Std::new(assert_cmd::cargo::cargo_bin("blackfriday"));
    cmd.env_remove("REDIS_URL")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1");
    cmd
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_at(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the JSON report was written");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The JUnit file's `<error>` and `<skipped>` testcases, by classname.
fn junit_at(path: &Path) -> (Vec<String>, Vec<String>) {
    let xml = std::fs::read_to_string(path).expect("the JUnit report was written");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let with = |tag: &str| -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter(|n| n.children().any(|c| c.has_tag_name(tag)))
            .map(|n| n.attribute("classname").unwrap_or("").to_string())
            .collect()
    };
    (with("error"), with("skipped"))
}

struct Files {
    _dir: tempfile::TempDir,
    json: PathBuf,
    junit: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    Files {
        json: dir.path().join("report.json"),
        junit: dir.path().join("report.xml"),
        _dir: dir,
    }
}

/// Start `watch,lua,lock` against `url`, busy for a long while, and wait
/// until `watch` is selling.
#[allow(clippy::zombie_processes)] // the caller waits for the child
async fn busy_run(url: &str, admin: &Client, f: &Files) -> Child {
    let mut child = bin()
        .args(["run", "--redis", url, "-s", "watch,lua,lock", "--quiet"])
        .args(["--buyers", "200000", "--stock", "100000"])
        .arg("--json")
        .arg(&f.json)
        .arg("--junit")
        .arg(&f.junit)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("blackfriday starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run never started selling");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let keys: Vec<String> = admin
            .custom(fred::cmd!("KEYS"), vec!["bf:*:{watch}:orders"])
            .await
            .unwrap_or_default();
        let Some(orders) = keys.first() else { continue };
        if admin.llen::<i64, _>(orders.as_str()).await.unwrap_or(0) > 100 {
            return child;
        }
    }
}

/// Both files say the run stopped while `watch` ran, with `status`: not
/// held, one `<error>` (watch), the strategies that never ran skipped.
fn assert_stopped_in_watch(f: &Files, status: u64) {
    let doc = json_at(&f.json);
    assert_eq!(doc["verdict"]["exit_status"], status, "{doc:#}");
    assert_eq!(doc["verdict"]["held"], false, "{doc:#}");
    assert_eq!(doc["aborted"]["status"], status, "{doc:#}");
    assert_eq!(doc["aborted"]["strategy"], "watch", "{doc:#}");
    assert!(!doc["aborted"]["message"].as_str().unwrap().is_empty());
    assert_eq!(doc["not_run"], serde_json::json!(["lua", "lock"]));
    let (errors, skipped) = junit_at(&f.junit);
    assert_eq!(errors, ["watch"]);
    assert_eq!(skipped, ["lua", "lock"]);
}

#[tokio::test]
async fn a_server_killed_mid_run_leaves_reports_that_say_exit_3() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    let f = files();
    let child = busy_run(&server.url(), &admin, &f).await;
    Std::new("kill")
        .args(["-9", &server.pid().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_stopped_in_watch(&f, 3);
    let message = json_at(&f.json)["aborted"]["message"].clone();
    assert!(
        message.as_str().unwrap().contains("stopped answering"),
        "{message}"
    );
}

#[tokio::test]
async fn sigterm_leaves_reports_that_say_exit_130() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    let f = files();
    let child = busy_run(&server.url(), &admin, &f).await;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_stopped_in_watch(&f, 130);
    assert!(bf_keys(&admin).await.is_empty(), "the namespace is deleted");
}

#[test]
fn an_unreachable_server_replaces_a_stale_report_with_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = files();
    // What an earlier, green run left there.
    std::fs::write(&f.json, r#"{"verdict":{"held":true,"exit_status":0}}"#).unwrap();
    let o = bin()
        .args(["run", "--redis", &format!("redis://127.0.0.1:{port}")])
        .args(["-s", "lua,watch", "--quiet", "--json"])
        .arg(&f.json)
        .arg("--junit")
        .arg(&f.junit)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let doc = json_at(&f.json);
    assert_eq!(doc["verdict"]["exit_status"], 3, "{doc:#}");
    assert_eq!(doc["verdict"]["held"], false, "{doc:#}");
    assert_eq!(doc["aborted"]["strategy"], Value::Null, "{doc:#}");
    assert_eq!(doc["not_run"], serde_json::json!(["lua", "watch"]));
    let (errors, skipped) = junit_at(&f.junit);
    assert_eq!(errors, ["blackfriday"]);
    assert_eq!(skipped, ["lua", "watch"]);
}

/// A small, quick run writing `--json` to `target`.
fn quick_run(target: &Path) -> Output {
    bin()
        .args(["run", "-s", "lua", "--buyers", "200", "--stock", "50", "-q"])
        .arg("--json")
        .arg(target)
        .output()
        .unwrap()
}

#[test]
fn a_device_node_as_the_report_target_is_written_through_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("null");
    // The null device's numbers, in a temp dir: never the real /dev/null.
    let made = Std::new("mknod").arg(&node).args(["c", "1", "3"]).status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "this test needs `mknod` to make a character device (it runs as root in CI)"
    );
    let o = quick_run(&node);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let kind = std::fs::symlink_metadata(&node).unwrap().file_type();
    assert!(kind.is_char_device(), "the node was replaced: {kind:?}");
    assert_eq!(leftovers(dir.path()), ["null"]);
}

#[test]
fn a_fifo_as_the_report_target_gets_one_complete_document() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = Std::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    let reading = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read_to_string(reading).unwrap());
    let o = quick_run(&fifo);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = reader.join().unwrap();
    // One document: serde_json refuses trailing data.
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(doc["verdict"]["exit_status"], 0);
    assert_eq!(doc["finished"], true);
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
}

#[test]
fn two_flags_naming_one_file_through_a_symlink_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    std::fs::write(&real, "").unwrap();
    let link = dir.path().join("link.xml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = bin()
        .args(["run", "-s", "lua", "--json"])
        .arg(&real)
        .arg("--junit")
        .arg(&link)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--json already writes there"),
        "{}",
        stderr(&o)
    );
    // A refused path leaves no probe file behind (issue #16).
    assert_eq!(leftovers(dir.path()), ["link.xml", "real.json"]);
}

fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn sigterm_during_the_drain_of_long_holds_exits_130_at_once() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    let f = files();
    let child = bin()
        .args(["run", "--redis", &server.url(), "-s", "lua", "--reserve"])
        .args(["--hold-ttl", "60s", "--confirm-rate", "50%", "--quiet"])
        .args(["--buyers", "2000", "--stock", "500", "--json"])
        .arg(&f.json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for the crowd to be done and the drain under way.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let sent = Instant::now();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(took < Duration::from_secs(5), "SIGTERM to exit: {took:?}");
    assert!(bf_keys(&admin).await.is_empty(), "the namespace is deleted");
    let doc = json_at(&f.json);
    assert_eq!(doc["verdict"]["exit_status"], 130, "{doc:#}");
    println!("SIGTERM during the drain to exit 130: {took:?}");
}
