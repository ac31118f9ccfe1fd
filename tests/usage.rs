//! Usage errors from issue #11: each is exit 2 before any Redis work, on
//! one line that names the flag, key or argument the user must fix.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(60));
    cmd
}

/// `args` exit 2 with one line on stderr holding every needle.
fn refused(args: &[&str], needles: &[&str]) {
    let out = blackfriday().args(args).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?} should give one line:\n{stderr}");
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{args:?}: {stderr:?} lacks {needle:?}"
        );
    }
}

/// A scenario file in `dir`; `check` reports on stdout, `run` on stderr.
fn scenario(dir: &Path, body: &str) -> String {
    let path = dir.join("s.toml");
    std::fs::write(&path, format!("name = \"s\"\n{body}")).unwrap();
    path.display().to_string()
}

#[test]
fn an_empty_run_is_a_usage_error_not_a_green_gate() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "strategies = []\n");
    refused(
        &["run", "--scenario", &file],
        &["(strategies)", "names no strategy"],
    );
    let out = blackfriday().args(["check", &file]).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("names no strategy"));
}

#[test]
fn mode_specific_flags_outside_their_mode_name_both_flags() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["run", "--script", "x.lua"], &["--script", "-s script"]),
        (&["run", "--hold-ttl", "1s"], &["--hold-ttl", "--reserve"]),
        (
            &["run", "--confirm-rate", "10%"],
            &["--confirm-rate", "--reserve"],
        ),
        (
            &["run", "--cancel-rate", "10%"],
            &["--cancel-rate", "--reserve"],
        ),
        (
            &["run", "--hold-think", "1ms"],
            &["--hold-think", "--reserve"],
        ),
        (&["run", "--reapers", "3"], &["--reapers", "--reserve"]),
        (&["run", "--lock-ttl", "1s"], &["--lock-ttl", "-s lock"]),
        (&["run", "-s", "saga"], &["saga", "--products"]),
        (
            &["run", "-s", "watch", "--hold-pause", "1ms"],
            &["--hold-pause", "-s lock-fenced"],
        ),
        (
            &["run", "-s", "lock", "--app-servers", "2"],
            &["--app-servers", "-s app-lock"],
        ),
        (
            &["run", "--app-work", "2ms"],
            &["--app-work", "-s app-lock"],
        ),
        (
            &["run", "-s", "watch,lua", "--gap", "1ms..5ms"],
            &["--gap", "-s broken or -s app-lock"],
        ),
        (
            &["run", "-s", "app-lock", "--gap", "5ms", "--app-work", "2ms"],
            &["--gap", "--app-work", "give one"],
        ),
        (&["run", "--gap", "5ms..1ms"], &["--gap", "empty"]),
    ];
    for (args, needles) in cases {
        refused(args, needles);
    }
}

#[test]
fn mode_specific_scenario_keys_outside_their_mode_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (body, key) in [
        ("script = \"x.lua\"\n", "(script)"),
        ("lock_ttl = \"1s\"\n", "(lock_ttl)"),
        ("app_servers = 2\n", "(app_servers)"),
        ("strategies = [\"lua\"]\ngap = \"5ms\"\n", "(gap)"),
        ("hold_ttl = \"1s\"\n", "(hold_ttl)"),
        ("strategies = [\"lua\"]\nreapers = 3\n", "(reapers)"),
    ] {
        let file = scenario(dir.path(), body);
        refused(&["run", "--scenario", &file], &[key, "works only with"]);
    }
    // Strategies chosen with -s override the file's: its lock tuning is
    // moot, not refused (the run goes on to the unreachable server: exit 3).
    let file = scenario(dir.path(), "lock_ttl = \"1s\"\n");
    blackfriday()
        .args([
            "run",
            "-q",
            "--redis",
            "redis://127.0.0.1:1",
            "-s",
            "lua",
            "--scenario",
            &file,
        ])
        .assert()
        .code(3);
}

#[test]
fn a_database_in_the_query_string_is_refused_not_ignored() {
    refused(
        &["run", "--redis", "redis://u:secret@127.0.0.1:6379/?db=2"],
        &["db", "redis://host:6379/2", "u:***@"],
    );
    let out = blackfriday()
        .args(["run", "--redis", "redis://u:secret@127.0.0.1:6379/?db=2"])
        .assert()
        .code(2);
    assert!(!String::from_utf8_lossy(&out.get_output().stderr).contains("secret"));
}

#[test]
fn negative_values_name_their_flag() {
    refused(&["run", "--rate", "-5"], &["--rate"]);
    refused(&["run", "--rate", "-5/s"], &["--rate"]);
    refused(&["run", "--duration", "-5s"], &["--duration"]);
    refused(&["run", "--seed", "-5"], &["--seed"]);
}

#[test]
fn check_without_a_file_names_the_argument_and_its_help() {
    refused(&["check"], &["FILE", "check --help"]);
}

#[test]
fn a_negative_stock_in_a_scenario_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "stock = -5\n");
    refused(&["run", "--scenario", &file], &["(stock)", "-5"]);
    let out = blackfriday().args(["check", &file]).assert().code(2);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("(stock)") && !stdout.contains("untagged"),
        "{stdout}"
    );
}

#[test]
fn a_shipped_scenario_finds_its_script_from_any_directory() {
    let elsewhere = tempfile::tempdir().unwrap();
    blackfriday()
        .current_dir(elsewhere.path())
        .args(["check", "ci-gate"])
        .assert()
        .code(0);
    // The embedded checkout runs, audited clean, away from the repository.
    blackfriday()
        .current_dir(elsewhere.path())
        .args(["run", "-q", "--scenario", "ci-gate", "-s", "script"])
        .args(["--buyers", "200", "--stock", "20"])
        .assert()
        .code(0);
}

#[test]
fn values_the_server_would_reject_are_caught_at_resolution() {
    refused(
        &["run", "--stock", "9223372036854775807"],
        &["--stock", "2^53"],
    );
    refused(&["run", "--timeout", "1ns"], &["--timeout", "1ms"]);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "timeout = \"500us\"\n");
    refused(&["run", "--scenario", &file], &["--timeout"]);
}
