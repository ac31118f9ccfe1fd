//! The binary's contract: exit codes, one-line usage errors, infrastructure
//! errors that name the URL, and a managed server that does not outlive us.

mod common;

use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("NO_COLOR")
        .timeout(Duration::from_secs(120));
    cmd
}

#[test]
fn default_run_compares_broken_and_watch_and_exits_0() {
    let out = blackfriday().args(["run", "--quiet"]).assert().code(0);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for needle in [
        "│ broken",
        "│ watch",
        "p99.9",
        "no oversell",
        "verdict: every expectation held",
        "seed ",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // The managed redis-server is gone once the process has exited.
    let pid: u32 = stdout
        .split("(pid ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no managed pid in:\n{stdout}"));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "managed redis-server {pid} still running"
    );
}

#[test]
fn a_safe_strategy_that_misses_its_expectation_exits_1() {
    blackfriday()
        .args(["run", "-q", "-s", "watch", "--expect", "watch=oversell"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expectation failed for watch"));
}

#[test]
fn bad_usage_exits_2_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--buyers", "-5"], "--buyers"),
        (&["run", "--buyers", "0"], "--buyers"),
        (&["run", "--stock", "abc"], "--stock"),
        (&["run", "--strategy", "yolo"], "unknown strategy 'yolo'"),
        (&["run", "--qty", "3..1"], "--qty"),
        (&["run", "--redis", "rediss://127.0.0.1:6380"], "TLS"),
        (&["run", "--expect", "decr=clean"], "--expect decr=clean"),
        (&["run", "--frobnicate"], "--frobnicate"),
    ];
    for (args, needle) in cases {
        let out = blackfriday().args(*args).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines.len(),
            1,
            "{args:?} should give one line, got:\n{stderr}"
        );
        assert!(
            lines[0].contains(needle),
            "{args:?}: {:?} lacks {needle:?}",
            lines[0]
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn unreachable_redis_exits_3_fast_naming_the_url_with_the_password_masked() {
    let started = Instant::now();
    blackfriday()
        .args(["run", "--redis", "redis://shopper:hunter2@127.0.0.1:1"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("redis://shopper:***@127.0.0.1:1"))
        .stderr(predicate::str::contains("fix:"))
        .stderr(predicate::str::contains("hunter2").not());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn missing_redis_server_exits_3_with_install_instructions() {
    blackfriday()
        .env("BLACKFRIDAY_REDIS_SERVER", "/nonexistent/redis-server")
        .args(["run", "-q"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("apt-get install redis-server"))
        .stderr(predicate::str::contains("brew install redis"))
        .stderr(predicate::str::contains("docker compose up -d"));
}

#[test]
fn refused_credentials_exit_3_and_say_so() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(common::redis_server());
    let c = rt.block_on(common::client(&server.url()));
    rt.block_on(async {
        use fred::prelude::*;
        let _: () = c
            .custom(
                fred::cmd!("CONFIG"),
                vec!["SET", "requirepass", "right-one"],
            )
            .await
            .unwrap();
    });
    let url = server.url().replace("redis://", "redis://:wrong-one@");
    blackfriday()
        .args(["run", "--redis", &url])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("refused the credentials"))
        .stderr(predicate::str::contains("wrong-one").not());
}

#[test]
fn help_defines_the_figures() {
    blackfriday()
        .args(["run", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("oversold"))
        .stdout(predicate::str::contains("retries/purchase"));
}
