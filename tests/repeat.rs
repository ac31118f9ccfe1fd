//! `--repeat` and `--baseline`, through the binary and real redis-servers.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS")
        .timeout(Duration::from_secs(180));
    cmd
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The committed schema accepts the report with its repetitions.
fn assert_schema(doc: &Value) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report-v1.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

const SMALL: &[&str] = &["run", "-q", "--buyers", "60", "--stock", "20"];

#[test]
fn three_repetitions_hold_on_consecutive_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    blackfriday()
        .args(SMALL)
        .args(["--seed", "40", "--repeat", "3", "--json"])
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Repetitions: 3"));
    let doc = json(&out);
    let seeds: Vec<u64> = doc["repetitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"]["seed"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(seeds, vec![40, 41, 42]);
    assert_schema(&doc);
    for r in doc["repetitions"].as_array().unwrap() {
        for s in r["strategies"].as_array().unwrap() {
            // Read back from Redis after every repetition: the fix sold
            // every unit and never more.
            if s["strategy"] == "watch" {
                assert_eq!(s["server"]["sold"], 20, "{s}");
            }
        }
    }
}

#[test]
fn a_correctness_failure_in_any_repetition_exits_1_naming_the_seed() {
    blackfriday()
        .args(SMALL)
        .args(["-s", "broken", "--expect", "broken=clean"])
        .args(["--gap", "2ms", "--seed", "9", "--repeat", "3"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("reproduce with --seed 9"));
}

#[test]
fn a_baseline_regression_exits_4_and_itself_passes() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let args = ["-s", "lua", "--seed", "3"];
    blackfriday()
        .args(SMALL)
        .args(args)
        .arg("--json")
        .arg(&base)
        .assert()
        .code(0);
    blackfriday()
        .args(SMALL)
        .args(args)
        .arg("--baseline")
        .arg(&base)
        .args(["--max-regression", "10000"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "lua.purchases_per_s within 10000% of --baseline",
        ));

    let mut doc = json(&base);
    let pps = &mut doc["strategies"][0]["figures"]["purchases_per_s"];
    *pps = Value::from(pps.as_f64().unwrap() * 10.0);
    let doctored = dir.path().join("doctored.json");
    std::fs::write(&doctored, doc.to_string()).unwrap();
    blackfriday()
        .args(SMALL)
        .args(args)
        .arg("--baseline")
        .arg(&doctored)
        .args(["--max-regression", "0"])
        .assert()
        .code(4);
}

#[test]
fn a_missing_baseline_is_exit_2_naming_the_flag() {
    blackfriday()
        .args(SMALL)
        .args(["--baseline", "/nonexistent/base.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--baseline"));
}

/// A scenario whose `[[threshold]]` tables allow one figure its own
/// regression; the rest of the figures only show.
fn scenario_with_limit(dir: &Path, limit: f64) -> std::path::PathBuf {
    let path = dir.join(format!("limit-{limit}.toml"));
    let text = format!(
        "name = \"limits\"\nseed = 3\nbuyers = 60\nstock = 20\nstrategies = [\"lua\"]\n\n\
         [[threshold]]\nfigure = \"lua.purchases_per_s\"\nmax_regression = {limit}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_per_figure_regression_limit_in_the_scenario_decides_that_figure() {
    let dir = tempfile::tempdir().unwrap();
    let lenient = scenario_with_limit(dir.path(), 10000.0);
    let strict = scenario_with_limit(dir.path(), 0.0);
    let base = dir.path().join("base.json");
    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&lenient)
        .arg("--json")
        .arg(&base)
        .assert()
        .code(0);
    // Ten times the purchases per second: any real run regressed.
    let mut doc = json(&base);
    let pps = &mut doc["strategies"][0]["figures"]["purchases_per_s"];
    *pps = Value::from(pps.as_f64().unwrap() * 10.0);
    let doctored = dir.path().join("doctored.json");
    std::fs::write(&doctored, doc.to_string()).unwrap();

    let out = dir.path().join("strict.json");
    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&strict)
        .arg("--baseline")
        .arg(&doctored)
        .arg("--json")
        .arg(&out)
        .assert()
        .code(4);
    let results = json(&out)["thresholds"].as_array().unwrap().clone();
    let pps: Vec<&Value> = results
        .iter()
        .filter(|t| t["expr"] == "lua.purchases_per_s within 0% of --baseline")
        .collect();
    assert_eq!(pps.len(), 1, "{results:?}");
    assert_eq!(pps[0]["passed"], false);
    assert_eq!(pps[0]["warn"], false);
    // Figures without a limit of their own, and no --max-regression: shown only.
    let p99 = results.iter().find(|t| t["figure"] == "p99").unwrap();
    assert_eq!(p99["warn"], true, "{p99}");

    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&lenient)
        .arg("--baseline")
        .arg(&doctored)
        .assert()
        .code(0);
}

#[test]
fn a_bad_regression_limit_is_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\nstrategies = [\"lua\"]\n[[threshold]]\nfigure = \"lua.p98\"\nmax_regression = 5\n",
    )
    .unwrap();
    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("threshold[0].figure"))
        .stderr(predicate::str::contains("p99_9"));
    blackfriday()
        .args(SMALL)
        .args(["--baseline", "x.json", "--max-regression", "-5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max-regression"));
}
