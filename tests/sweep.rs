//! `blackfriday sweep` against a real redis-server: every point a full,
//! audited run whose numbers are in the JSON and the CSV as the server held
//! them; a point failing its expectation exits 1 naming it and its seed;
//! usage mistakes exit 2 naming the flags.

mod common;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use blackfriday::report::sweep::csv::COLUMNS;
use predicates::prelude::*;
use serde_json::Value;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS")
        .timeout(Duration::from_secs(300));
    cmd
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The committed schema accepts the sweep document.
fn assert_schema(doc: &Value) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/sweep-v1.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

const STOCK: i64 = 20;

/// Checks one point's audit against the server's own keys (kept with
/// --keep) and against what each strategy must do.
async fn check_point(c: &fred::prelude::Client, point: &Value) {
    let demand = int(&point["demand"]);
    assert!(demand > STOCK, "every point's demand exceeds the stock");
    let run_id = point["run_id"].as_str().unwrap();
    let rows = point["strategies"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{point}");
    for row in rows {
        let name = row["strategy"].as_str().unwrap();
        let server = &row["server"];
        let truth = common::state(c, run_id, name).await;
        assert_eq!(int(&server["sold"]), truth.sold, "{name}: {row}");
        assert_eq!(int(&server["stock_left"]), truth.stock, "{name}: {row}");
        assert_eq!(row["held"], true, "{name}: {row}");
        match name {
            "watch" => {
                assert_eq!(truth.sold, STOCK, "watch sells exactly the stock");
                assert_eq!(truth.stock, 0);
                assert_eq!(int(&server["oversold"]), 0);
                assert_eq!(int(&row["purchased"]), STOCK);
                assert_eq!(truth.orders, STOCK);
            }
            "broken" => {
                assert!(truth.sold > STOCK, "broken oversells: {row}");
                assert_eq!(int(&server["oversold"]), truth.sold - STOCK);
                assert_eq!(truth.stock, STOCK - truth.sold);
            }
            other => panic!("unexpected strategy {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_points_by_two_strategies_each_audited_on_the_server() {
    let server = common::redis_server().await;
    let c = common::client(&server.url()).await;
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let out = blackfriday()
        .args(["sweep", "--redis", &server.url(), "--buyers", "60,120,240"])
        .args([
            "--stock",
            "20",
            "-s",
            "broken,watch",
            "--seed",
            "11",
            "--keep",
        ])
        .args([
            "--json",
            &p("s.json"),
            "--csv",
            &p("s.csv"),
            "--html",
            &p("s.html"),
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("sweep: held at all 3 points"));
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "wider than the view: {line}");
    }

    let doc = read_json(&dir.path().join("s.json"));
    assert_schema(&doc);
    assert_eq!(doc["finished"], true);
    assert_eq!(doc["verdict"]["status"], 0);
    assert_eq!(doc["sweep"]["parameter"], "buyers");
    let points = doc["points"].as_array().unwrap();
    let buyers: Vec<i64> = points.iter().map(|p| int(&p["buyers"])).collect();
    assert_eq!(buyers, vec![60, 120, 240]);
    for point in points {
        assert_eq!(point["seed"], "11", "every point on the same seed");
        assert_eq!(int(&point["stock"]), STOCK);
        check_point(&c, point).await;
    }

    // The CSV: the header, then a row per point and strategy with the
    // same audit numbers as the JSON.
    let csv = std::fs::read_to_string(dir.path().join("s.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    let col = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
    for (i, row) in rows.iter().enumerate() {
        let json_row = &points[i / 2]["strategies"][i % 2];
        assert_eq!(row[col("parameter")], "buyers");
        assert_eq!(row[col("value")], buyers[i / 2].to_string());
        assert_eq!(row[col("strategy")], json_row["strategy"].as_str().unwrap());
        assert_eq!(row[col("sold")], json_row["server"]["sold"].to_string());
        assert_eq!(
            row[col("oversold")],
            json_row["server"]["oversold"].to_string()
        );
    }

    // The page: three curves, a line per strategy with a point per point,
    // and nothing loaded from anywhere.
    let html = std::fs::read_to_string(dir.path().join("s.html")).unwrap();
    for id in ["throughput", "p99", "retries"] {
        assert!(html.contains(&format!("<figure id=\"{id}\">")), "{id}");
    }
    let svgs = html.matches("<svg").count();
    assert_eq!(svgs, 3);
    let three_point_lines = html.matches("<polyline").count();
    assert!(three_point_lines >= 6, "{three_point_lines} polylines");
    for url in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(url), "the page loads {url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_failing_its_expectation_exits_1_naming_the_point_and_seed() {
    let server = common::redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("f.json");
    blackfriday()
        .args(["sweep", "-q", "--redis", &server.url(), "--stock", "5,20"])
        .args(["--buyers", "80", "-s", "broken", "--expect", "broken=clean"])
        .args(["--seed", "23", "--json"])
        .arg(&json)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("--stock 5 (seed 23"))
        .stdout(predicate::str::contains("sweep: FAILED at 2 of 2 points"));
    let doc = read_json(&json);
    assert_schema(&doc);
    assert_eq!(doc["verdict"]["status"], 1);
    let failed = doc["verdict"]["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    for (f, stock) in failed.iter().zip([5, 20]) {
        assert_eq!(f["seed"], "23");
        assert_eq!(f["value"], stock);
        let point = &doc["points"].as_array().unwrap()[if stock == 5 { 0 } else { 1 }];
        let oversold = int(&point["strategies"][0]["server"]["oversold"]);
        assert!(oversold > 0, "broken oversold at --stock {stock}: {point}");
    }
}

#[test]
fn usage_mistakes_exit_2_naming_the_flags() {
    let cases: [(&[&str], &str); 6] = [
        (&["--buyers", "100"], "one flag with two or more values"),
        (
            &["--buyers", "1,2", "--stock", "3,4"],
            "--buyers and --stock",
        ),
        (
            &["--buyers", "1,2", "--junit", "x.xml"],
            "--junit is not available",
        ),
        (&["--buyers", "0,5"], "--buyers"),
        (&["--buyers", "100..10:3"], "0 < FROM < TO"),
        (
            &["--buyers", "5", "--connections", "1,5000"],
            "--connections",
        ),
    ];
    for (args, needle) in cases {
        blackfriday()
            .arg("sweep")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
}

#[test]
fn an_unreachable_redis_exits_3_naming_it() {
    blackfriday()
        .args([
            "sweep",
            "-q",
            "--redis",
            "redis://:hunter2@127.0.0.1:1",
            "--buyers",
            "5,6",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("127.0.0.1:1"))
        .stderr(predicate::str::contains("hunter2").not());
}
