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
        .env_remove("GITHUB_STEP_SUMMARY")
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
        "p99",
        "no oversell",
        "verdict: held — broken oversold",
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
    // /proc tells on Linux; elsewhere this check would pass without looking.
    #[cfg(target_os = "linux")]
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "managed redis-server {pid} still running"
    );
    #[cfg(not(target_os = "linux"))]
    let _ = pid;
}

#[test]
fn a_safe_strategy_that_misses_its_expectation_exits_1() {
    blackfriday()
        .args(["run", "-q", "-s", "watch", "--expect", "watch=oversell"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "verdict: FAILED — watch did not oversell",
        ));
}

#[test]
fn bad_usage_exits_2_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--buyers", "-5"], "--buyers"),
        (&["run", "--buyers", "0"], "--buyers"),
        (&["run", "--stock", "abc"], "--stock"),
        (&["run", "--strategy", "yolo"], "unknown strategy 'yolo'"),
        (&["run", "--qty", "3..1"], "--qty"),
        (
            &["run", "--redis", "redis://127.0.0.1:6380", "--tls-insecure"],
            "TLS",
        ),
        (&["run", "--expect", "decr=clean"], "--expect decr=clean"),
        (&["run", "--frobnicate"], "--frobnicate"),
        (&["run", "--rate", "fast"], "--rate"),
        (&["run", "--rate", "0/s"], "--rate"),
        (&["run", "--rate", "5/s", "--ramp", "0..9/s:1s"], "--ramp"),
        (&["run", "--ramp", "0..1000/s"], "FROM..TO/s:OVER"),
        (
            &["run", "--duration", "2s"],
            "--duration shapes the open model",
        ),
        (
            &["run", "--rate", "5/s", "--duration", "2s", "--buyers", "9"],
            "--duration",
        ),
        (
            &["run", "--rate", "5/s", "--arrivals", "sometimes"],
            "--arrivals",
        ),
        (&["run", "--think", "5ms..1ms"], "--think"),
        (&["run", "--rate", "1e9/s", "--duration", "1h"], "at most"),
        (&["run", "--cart", "1..3"], "--cart needs several products"),
        (&["run", "--products", "3", "--cart", "1..4"], "--cart 1..4"),
        (
            &["run", "--products", "3", "-s", "function"],
            "no version for carts",
        ),
        (
            &["run", "--stock", "a=1,b=2", "--products", "3"],
            "--products 3",
        ),
        (&["run", "--stock", "a=1,a=2"], "appears twice"),
        (&["run", "-s", "reserve-naive"], "add --reserve"),
        (
            &["run", "--reserve", "-s", "watch"],
            "no version for --reserve",
        ),
        (
            &[
                "run",
                "--reserve",
                "--confirm-rate",
                "0.9",
                "--cancel-rate",
                "30%",
            ],
            "more than everyone",
        ),
        (
            &["run", "--reserve", "--confirm-rate", "120%"],
            "--confirm-rate",
        ),
        (&["run", "--rebuy"], "--rebuy works with --reserve"),
        (&["run", "--products", "2", "--skew", "-1"], "--skew"),
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
        .stdout(predicate::str::contains("conflicts per purchase"));
}

#[test]
fn report_files_are_written_and_parse() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    blackfriday()
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["run", "-q", "-s", "watch", "--json", "out.json"])
        .args(["--junit", "out.xml", "--markdown", "out.md"])
        .assert()
        .code(0);
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&read("out.json")).expect("valid JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["finished"], true);
    assert_eq!(json["strategies"][0]["strategy"], "watch");
    assert_eq!(json["strategies"][0]["server"]["oversold"], 0);
    let xml = read("out.xml");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, 7, "one testcase per check of watch");
    assert!(!xml.contains("<failure"), "{xml}");
    let md = read("out.md");
    assert!(
        md.contains("### Validation") && md.contains("| watch |"),
        "{md}"
    );
    let summary = read("summary.md");
    assert!(
        summary.starts_with("earlier step\n") && summary.ends_with(&format!("{md}\n")),
        "the step summary is appended to:\n{summary}"
    );
    // Atomic writes leave no temporary files behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["out.json", "out.md", "out.xml", "summary.md"]);
}

#[test]
fn json_on_stdout_moves_the_tables_to_stderr() {
    let out = blackfriday()
        .args(["run", "-q", "-s", "watch", "--json", "-"])
        .assert()
        .code(0);
    let output = out.get_output();
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is nothing but JSON");
    assert_eq!(json["verdict"]["exit_status"], 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("verdict: held — watch clean (exit 0)"),
        "{stderr}"
    );
}

#[test]
fn unwritable_report_paths_exit_2_naming_the_flag_before_any_redis_work() {
    let dir = tempfile::tempdir().unwrap();
    let a_dir = dir.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--json", "/nonexistent-dir/x.json"],
            "--json /nonexistent-dir/x.json",
        ),
        (&["--junit", a_dir], "--junit"),
        (
            &["--markdown", "r.md", "--json", "r.md"],
            "--markdown r.md: --json",
        ),
    ];
    for (args, needle) in cases {
        // No redis-server either: reaching Redis work would exit 3 instead.
        let out = blackfriday()
            .current_dir(dir.path())
            .env("BLACKFRIDAY_REDIS_SERVER", "/nonexistent/redis-server")
            .arg("run")
            .args(*args)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr:?} lacks {needle:?}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_the_run_audits_what_ran_and_exits_130() {
    use std::process::{Command as Std, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("blackfriday");
    // A lock-based checkout under a stampede runs for many seconds.
    let child = Std::new(bin)
        .args([
            "run", "-q", "-s", "lock", "--buyers", "20000", "--stock", "1000",
        ])
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?} to stop",
        started.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(130),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("interrupted with Ctrl-C") && stdout.contains("│ lock"),
        "{stdout}"
    );
    let pid = stdout
        .split("(pid ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "managed redis-server survived"
    );
}

/// The server dies mid-run: the watchdog stops the buyers in flight instead
/// of letting each wait out its timeout, and the run exits 3 naming the URL.
#[cfg(target_os = "linux")]
#[test]
fn a_server_that_dies_mid_run_exits_3_promptly() {
    use std::process::{Command as Std, Stdio};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(common::redis_server());
    let url = server.url();
    let child = Std::new(assert_cmd::cargo::cargo_bin("blackfriday"))
        .args([
            "run", "-q", "-s", "watch", "--buyers", "20000", "--stock", "1000", "--redis", &url,
        ])
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    // SAFETY: killing the redis-server this test started.
    unsafe { libc::kill(server.pid() as i32, libc::SIGKILL) };
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // Usually mid-drive ("stopped answering"); on a slow start, during setup.
    assert!(
        stderr.contains(&url)
            && (stderr.contains("stopped answering") || stderr.contains("failed while")),
        "{stderr}"
    );
}
