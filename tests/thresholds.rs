//! Threshold expressions and the exit code they own: through the binary and
//! a managed redis-server, asserting on figures read back from Redis.

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

fn schema_errors(doc: &Value) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report-v1.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(doc).map(|e| e.to_string()).collect()
}

const SMALL: [&str; 8] = [
    "run", "-q", "--buyers", "300", "--stock", "50", "--seed", "7",
];

/// A speed miss alone is exit 4; the relative threshold reads the other
/// strategy's figure; every result is in the JSON, which the schema takes.
#[test]
fn a_missed_latency_threshold_alone_exits_4_and_relative_thresholds_compare_strategies() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    blackfriday()
        .args(SMALL)
        .args(["-s", "lua,watch", "--json"])
        .arg(&out)
        .args([
            "--threshold",
            "*.p99 <= 1us",
            "--threshold",
            "watch.purchases_per_s >= 0.000001 * lua.purchases_per_s",
            "--threshold",
            "*.oversold == 0",
        ])
        .assert()
        .code(4)
        .stdout(predicate::str::contains(
            "correctness held; performance thresholds missed for lua, watch (exit 4)",
        ));
    let doc = json(&out);
    assert!(schema_errors(&doc).is_empty(), "{:?}", schema_errors(&doc));
    assert_eq!(doc["verdict"]["exit_status"], 4);
    let t = doc["thresholds"].as_array().unwrap();
    assert_eq!(t.len(), 5, "{t:?}");
    let p99: Vec<&Value> = t.iter().filter(|t| t["figure"] == "p99").collect();
    assert!(p99
        .iter()
        .all(|t| t["passed"] == false && t["limit"] == 1.0));
    let relative = t.iter().find(|t| t["figure"] == "purchases_per_s").unwrap();
    let lua = doc["strategies"][0]["figures"]["purchases_per_s"]
        .as_f64()
        .unwrap();
    assert_eq!(relative["limit"].as_f64().unwrap(), 0.000001 * lua);
    assert_eq!(relative["passed"], true);
    // `oversold` is the server's figure: zero, and zero is a value.
    for s in doc["strategies"].as_array().unwrap() {
        assert_eq!(s["server"]["oversold"], 0);
        assert_eq!(s["server"]["sold"], 50);
    }
    assert!(t
        .iter()
        .filter(|t| t["figure"] == "oversold")
        .all(|t| t["passed"] == true && t["value"] == 0.0));
}

/// An oversell outranks a speed miss: exit 1, and warn-only never fails.
#[test]
fn correctness_failures_exit_1_and_warn_only_thresholds_never_fail() {
    blackfriday()
        .args(SMALL)
        .args(["-s", "broken", "--expect", "broken=clean"])
        .args(["--threshold", "broken.p99 <= 1us"])
        .assert()
        .code(1);
    blackfriday()
        .args(SMALL)
        .args(["-s", "lua", "--threshold", "warn: lua.p99 <= 1us"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warn-only threshold missed"));
}

/// A figure that recorded nothing is still compared: no purchases is 0/s.
#[test]
fn a_scenario_threshold_on_a_figure_with_no_samples_is_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "name = \"empty\"\nbuyers = 20\nstock = 0\nstrategies = [\"lua\"]\n\n\
         [[threshold]]\nexpr = \"lua.purchases_per_s >= 1\"\n\n\
         [[threshold]]\nexpr = \"lua.errors == 0\"\nwarn = true\n",
    )
    .unwrap();
    let out = dir.path().join("r.json");
    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&path)
        .arg("--json")
        .arg(&out)
        .assert()
        .code(4);
    let doc = json(&out);
    let t = doc["thresholds"].as_array().unwrap();
    assert_eq!(t[0]["value"], 0.0);
    assert_eq!(t[0]["passed"], false);
    assert_eq!(
        (t[1]["warn"].clone(), t[1]["passed"].clone()),
        (true.into(), true.into())
    );
    assert_eq!(doc["strategies"][0]["server"]["sold"], 0);
}

#[test]
fn a_bad_expression_is_exit_2_naming_it_and_what_is_known() {
    for (expr, says) in [
        (
            "watch.p98 <= 5ms",
            "unknown figure 'p98' (known: p50, p90, p99, p99_9",
        ),
        ("wach.p99 <= 5ms", "unknown strategy 'wach'"),
        ("watch.p99 <= 5", "give it a unit"),
        (
            "lua.p99 <= 5ms",
            "lua is not among this run's strategies (broken, watch)",
        ),
    ] {
        blackfriday()
            .args(["run", "-q", "--threshold", expr])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("--threshold '{expr}'")))
            .stderr(predicate::str::contains(says));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "name = \"x\"\n[[threshold]]\nexpr = \"watch.p99 < soon\"\n",
    )
    .unwrap();
    blackfriday().args(["check"]).arg(&path).assert().code(2);
    blackfriday()
        .args(["run", "-q", "--scenario"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(threshold[0].expr)"));
}

/// With GITHUB_ACTIONS=true: one `::error` per failed check or missed
/// threshold, one `::warning` per warn-only miss, on stderr.
#[test]
fn github_actions_gets_one_annotation_per_failure() {
    let out = blackfriday()
        .env("GITHUB_ACTIONS", "true")
        .args(SMALL)
        .args(["-s", "lua", "--expect", "lua=oversell"])
        .args(["--threshold", "lua.p99 <= 1us"])
        .args(["--threshold", "warn: lua.max <= 1us"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].contains("correctness%3A lua no oversell"),
        "{stderr}"
    );
    assert!(errors[1].contains("lua.p99 <= 1us"), "{stderr}");
    assert_eq!(warnings.len(), 1, "{stderr}");
}

type Node<'a, 'b> = roxmltree::Node<'a, 'b>;

/// Attributes an element may carry, and those it must.
fn attrs(bad: &mut Vec<String>, n: Node, allowed: &[&str], required: &[&str]) {
    let tag = n.tag_name().name();
    for a in n.attributes().filter(|a| !allowed.contains(&a.name())) {
        bad.push(format!("<{tag}> may not carry '{}'", a.name()));
    }
    for r in required.iter().filter(|r| n.attribute(**r).is_none()) {
        bad.push(format!("<{tag}> lacks '{r}'"));
    }
}

/// Child elements only from `order`, in that order.
fn children(bad: &mut Vec<String>, n: Node, order: &[&str]) {
    let names: Vec<&str> = n
        .children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name())
        .collect();
    let ranks: Vec<Option<usize>> = names
        .iter()
        .map(|t| order.iter().position(|o| o == t))
        .collect();
    if ranks.contains(&None) || !ranks.windows(2).all(|w| w[0] <= w[1]) {
        bad.push(format!("<{}> children: {names:?}", n.tag_name().name()));
    }
}

const SUITE_ATTRS: [&str; 15] = [
    "name",
    "tests",
    "failures",
    "errors",
    "time",
    "disabled",
    "skipped",
    "timestamp",
    "hostname",
    "id",
    "package",
    "file",
    "log",
    "url",
    "version",
];
const CASE_ATTRS: [&str; 11] = [
    "name",
    "assertions",
    "time",
    "classname",
    "status",
    "class",
    "file",
    "line",
    "log",
    "group",
    "url",
];

/// The rules of Jenkins' junit-10.xsd, the schema most JUnit consumers
/// follow, that a structural walk can check: which attributes each element
/// may carry, which it must, and which children in which order. Plus ours:
/// a `time` on the root, the suite and every testcase, a suite timestamp.
fn junit_xsd_violations(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let mut bad = Vec::new();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let root_attrs = ["name", "time", "tests", "failures", "disabled", "errors"];
    attrs(&mut bad, root, &root_attrs, &["time"]);
    children(&mut bad, root, &["testsuite"]);
    for n in doc.descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "testsuite" => {
                attrs(
                    &mut bad,
                    n,
                    &SUITE_ATTRS,
                    &["name", "tests", "time", "timestamp"],
                );
                children(
                    &mut bad,
                    n,
                    &["properties", "testcase", "system-out", "system-err"],
                );
            }
            "testcase" => {
                attrs(&mut bad, n, &CASE_ATTRS, &["name", "time"]);
                let order = ["skipped", "error", "failure", "system-out", "system-err"];
                children(&mut bad, n, &order);
            }
            "failure" | "error" => attrs(&mut bad, n, &["type", "message"], &["type"]),
            "property" => attrs(&mut bad, n, &["name", "value"], &["name", "value"]),
            _ => {}
        }
        if let Some(t) = n.attribute("time") {
            if !t.parse::<f64>().is_ok_and(|v| v >= 0.0) {
                bad.push(format!("time '{t}' is not a number of seconds"));
            }
        }
    }
    bad
}

#[test]
fn junit_follows_the_common_xsd_with_times_and_the_kind_of_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("r.xml");
    blackfriday()
        .args(SMALL)
        .args(["-s", "broken,lua", "--expect", "broken=clean", "--junit"])
        .arg(&xml)
        .args(["--threshold", "lua.p99 <= 1us"])
        .assert()
        .code(1);
    let xml = std::fs::read_to_string(&xml).unwrap();
    let bad = junit_xsd_violations(&xml);
    assert!(bad.is_empty(), "{bad:#?}\n{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let kinds: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .map(|f| {
            let case = f.parent().unwrap();
            (
                case.attribute("classname").unwrap(),
                f.attribute("type").unwrap(),
            )
        })
        .collect();
    assert!(kinds.contains(&("broken", "correctness")), "{kinds:?}");
    assert!(kinds.contains(&("lua", "threshold")), "{kinds:?}");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    let cases: f64 = ["broken", "lua"]
        .iter()
        .map(|s| {
            doc.descendants()
                .find(|n| n.attribute("classname") == Some(s))
                .and_then(|n| n.attribute("time"))
                .unwrap()
                .parse::<f64>()
                .unwrap()
        })
        .sum();
    let total: f64 = suite.attribute("time").unwrap().parse().unwrap();
    assert!(
        (total - cases).abs() < 0.002,
        "suite {total} vs strategies {cases}"
    );
}
