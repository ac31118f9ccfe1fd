//! The CI gate: scenario files, thresholds, machine reports and the user's
//! own checkout script, through the binary and a real redis-server.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use blackfriday::scenario::Scenario;
use predicates::prelude::*;
use serde_json::Value;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(180));
    cmd
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A scenario written next to a copy of the shipped scripts, so `script`
/// paths inside it resolve the way they do in the repository.
fn scenario(dir: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    for s in ["checkout.lua", "broken-checkout.lua"] {
        std::fs::copy(
            repo(&format!("scenarios/scripts/{s}")),
            dir.join("scripts").join(s),
        )
        .unwrap();
    }
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn check<'a>(doc: &'a Value, strategy: &str, id: &str) -> &'a Value {
    let s = doc["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["strategy"] == strategy)
        .unwrap();
    s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} on {strategy}"))
}

#[test]
fn every_shipped_scenario_parses_and_resolves() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let s = Scenario::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!s.description.is_empty(), "{}", f.display());
    }
    blackfriday().arg("check").args(&files).assert().code(0);
    blackfriday()
        .arg("scenarios")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ci-gate"));
}

#[test]
fn a_typo_exits_2_naming_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "name = \"t\"\nbuyers = 10\n\n[expect.watch]\nmax_p99ms = 3\n",
    );
    // `run` reports it as an error on stderr, `check` as a finding on stdout.
    let run = blackfriday()
        .args(["run", "--scenario"])
        .arg(&path)
        .assert()
        .code(2);
    let text = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(
        text.contains("s.toml:5:1") && text.contains("max_p99ms"),
        "{text}"
    );
    let out = blackfriday().arg("check").arg(&path).assert().code(2);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("s.toml:5:1") && text.contains("max_p99ms"),
        "{text}"
    );
}

#[test]
fn a_passing_scenario_exits_0_and_a_failed_threshold_exits_4_with_exactly_that_failure() {
    let dir = tempfile::tempdir().unwrap();
    blackfriday()
        .args(["run", "-q", "--scenario", "ps5-midnight"])
        .assert()
        .code(0);

    let path = scenario(
        dir.path(),
        "name = \"too-greedy\"\nbuyers = 300\nstock = 50\nstrategies = [\"lua\"]\n\n\
         [expect.lua]\noversell = \"none\"\nsold_out = true\nmax_errors = 0\nmin_purchases_per_s = 1e12\n",
    );
    let junit = dir.path().join("out.xml");
    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&path)
        .arg("--junit")
        .arg(&junit)
        .assert()
        .code(4);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("too-greedy"));
    let failed: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && n.children().any(|c| c.has_tag_name("failure")))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(failed, vec!["purchases/s at least"], "{xml}");
}

/// Nothing was purchased (no stock): the throughput floor is still checked
/// and fails, and "at most 0 errors" is checked on a count of zero and holds.
#[test]
fn thresholds_on_metrics_that_recorded_nothing_are_still_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "name = \"empty-shelf\"\nbuyers = 50\nstock = 0\nstrategies = [\"watch\"]\n\n\
         [expect.watch]\nmin_purchases_per_s = 1\nmax_errors = 0\nmax_false_sold_out = 0\n",
    );
    let out = dir.path().join("out.json");
    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&path)
        .arg("--json")
        .arg(&out)
        .assert()
        .code(4);
    let doc = json(&out);
    let floor = check(&doc, "watch", "min_purchases_per_s");
    assert_eq!(floor["passed"], false, "{floor}");
    assert!(
        floor["detail"]
            .as_str()
            .unwrap()
            .starts_with("0 purchases/s"),
        "{floor}"
    );
    assert_eq!(check(&doc, "watch", "max_errors")["passed"], true);
    assert_eq!(check(&doc, "watch", "max_false_sold_out")["passed"], true);
    assert_eq!(doc["strategies"][0]["server"]["sold"], 0);
}

#[test]
fn the_gate_passes_a_correct_checkout_script_and_fails_a_broken_one_on_oversell() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    blackfriday()
        .args([
            "run",
            "-q",
            "--scenario",
            "ci-gate",
            "-s",
            "script",
            "--script",
        ])
        .arg(repo("scenarios/scripts/checkout.lua"))
        .arg("--json")
        .arg(&good)
        .assert()
        .code(0);
    assert_eq!(check(&json(&good), "script", "no_oversell")["passed"], true);

    let bad = dir.path().join("bad.json");
    blackfriday()
        .args(["run", "-q", "--scenario", "ci-gate", "--script"])
        .arg(repo("scenarios/scripts/broken-checkout.lua"))
        .arg("--json")
        .arg(&bad)
        .assert()
        .code(1);
    let doc = json(&bad);
    assert_eq!(check(&doc, "script", "no_oversell")["passed"], false);
    assert_eq!(
        doc["verdict"]["failed_strategies"],
        serde_json::json!(["script"])
    );
    let server = &doc["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["strategy"] == "script")
        .unwrap()["server"];
    assert!(server["sold"].as_i64().unwrap() > 200, "{server}");
}
