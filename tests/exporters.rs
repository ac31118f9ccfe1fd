//! The machine-readable reports: JSON checked against the committed schema
//! (for the hand-built report and for a real run), JUnit parsed back, and the
//! Markdown snapshotted.

mod common;

use std::collections::BTreeSet;

use blackfriday::gate::Expect;
use blackfriday::report::json::Json;
use blackfriday::report::junit::Junit;
use blackfriday::report::markdown::Markdown;
use blackfriday::report::{Exporter, Progress, Report};
use blackfriday::session::Session;
use blackfriday::strategy::StrategyKind;
use common::fixture::{self, crowd, facts, report};
use fred::prelude::*;
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report-v1.schema.json");
    let text = std::fs::read_to_string(path).expect("schema file is committed");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema")
}

/// Render `report` as JSON, fail with every schema violation, return it parsed.
fn valid_json(report: &Report) -> Value {
    let bytes = Json.render(report).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).expect("output is JSON");
    let errors: Vec<String> = schema()
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
    doc
}

#[test]
fn json_of_the_hand_built_report_matches_the_schema_and_round_trips() {
    let r = report();
    let doc = valid_json(&r);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["run"]["seed"], "7");
    assert_eq!(
        doc["run"]["redis"]["url"],
        "redis://shop:***@127.0.0.1:6379/2"
    );
    assert_eq!(doc["strategies"].as_array().unwrap().len(), 3);
    let broken = &doc["strategies"][0];
    assert_eq!(broken["strategy"], "broken");
    assert_eq!(broken["server"]["sold"], r.strategies[0].server.sold);
    assert_eq!(broken["server"]["oversold"], 380);
    assert_eq!(broken["checks"][0]["id"], "no_oversell");
    assert_eq!(broken["checks"][0]["passed"], false);
    assert_eq!(broken["checks"][0]["wanted"], "fail");
    assert_eq!(broken["checks"][0]["held"], true);
    assert_eq!(broken["latency_us"]["p99"], r.strategies[0].latency.p99);
    let undersold = &doc["strategies"][2];
    assert_eq!(undersold["verdict"]["held"], false);
    assert_eq!(
        undersold["verdict"]["failed"],
        serde_json::json!(["no_lost_sales", "no_undersell"])
    );
    assert_eq!(undersold["figures"]["errors_by_class"]["timeout"], 10);
    assert_eq!(undersold["latency_by_outcome_us"]["error"]["count"], 10);
    assert_eq!(undersold["cpu"]["generator_bound"], true);
    assert_eq!(broken["cpu"]["server_at_ceiling"], true);
    assert_eq!(doc["run"]["load"]["think"]["max_s"], 0.0);
    assert_eq!(doc["verdict"]["held"], false);
    assert_eq!(doc["verdict"]["exit_status"], 1);
    assert_eq!(
        doc["verdict"]["failed_strategies"],
        serde_json::json!(["watch"])
    );
    assert_eq!(doc["finished"], true);
}

#[test]
fn the_schema_has_teeth() {
    let doc = valid_json(&report());
    let v = schema();
    let mut extra = doc.clone();
    extra["strategies"][0]["server"]["surprise"] = 1.into();
    assert!(!v.is_valid(&extra), "unknown fields are refused");
    let mut missing = doc.clone();
    missing["strategies"][1]["checks"][0]
        .as_object_mut()
        .unwrap()
        .remove("detail");
    assert!(!v.is_valid(&missing), "required fields are required");
    let mut retyped = doc.clone();
    retyped["run"]["seed"] = 7.into();
    assert!(!v.is_valid(&retyped), "the seed is a string");
    let mut bucket = doc.clone();
    bucket["strategies"][0]["throughput"]["bucket_s"] = 2.into();
    assert!(!v.is_valid(&bucket), "buckets are one second");
    let mut model = doc;
    model["run"]["load"]["model"] = "stampede".into();
    assert!(!v.is_valid(&model), "the load model is burst or open");
}

#[test]
fn a_partial_report_says_it_is_partial_in_every_format() {
    let mut r = report();
    r.strategies.truncate(1);
    r.finished = false;
    let doc = valid_json(&r);
    assert_eq!(doc["finished"], false);
    assert_eq!(
        doc["run"]["strategies"],
        serde_json::json!(["broken", "watch"])
    );
    assert_eq!(doc["strategies"].as_array().unwrap().len(), 1);
    let md = String::from_utf8(Markdown.render(&r).unwrap()).unwrap();
    assert!(
        md.contains("partial report, 1 of 2 strategies have run"),
        "{md}"
    );
    let xml = String::from_utf8(Junit::default().render(&r).unwrap()).unwrap();
    let parsed = roxmltree::Document::parse(&xml).unwrap();
    let partial = parsed
        .descendants()
        .find(|n| n.attribute("name") == Some("partial"))
        .expect("a 'partial' property");
    assert_eq!(
        partial.attribute("value"),
        Some("1 of 2 strategies have run")
    );
}

/// (classname, name) of every testcase, and of those carrying `<failure>`.
type Cases = (Vec<(String, String)>, BTreeSet<(String, String)>);

fn junit_cases(xml: &str) -> Cases {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1, "one testsuite per run");
    let mut all = Vec::new();
    let mut failing = BTreeSet::new();
    for case in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
        let key = (
            case.attribute("classname").unwrap().to_string(),
            case.attribute("name").unwrap().to_string(),
        );
        if case.children().any(|c| c.has_tag_name("failure")) {
            failing.insert(key.clone());
        }
        all.push(key);
    }
    (all, failing)
}

fn pair(class: &str, name: &str) -> (String, String) {
    (class.to_string(), name.to_string())
}

#[test]
fn junit_has_a_testcase_per_strategy_and_check_failing_only_the_unwanted_results() {
    let r = report();
    let xml = String::from_utf8(Junit::default().render(&r).unwrap()).unwrap();
    let (all, failing) = junit_cases(&xml);
    let checks: usize = r.strategies.iter().map(|s| s.checks.len()).sum();
    assert_eq!(all.len(), checks);
    assert_eq!(all.len(), 3 * 7);
    assert!(all.contains(&pair("broken", "no oversell")));
    // broken oversold as it must: not a failure. The undersold watch is.
    assert_eq!(
        failing,
        BTreeSet::from([
            pair("watch", "no lost sales"),
            pair("watch", "no undersell")
        ])
    );
    assert!(
        xml.contains(r#"<testsuite name="blackfriday 0badcafe""#),
        "{xml}"
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let messages: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .filter_map(|n| n.attribute("message"))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("expected pass, failed")
            && m.contains("400 of 400 sold-out answers while stock 10 remained")),
        "{messages:?}"
    );
}

#[test]
fn junit_fails_an_unsafe_strategy_that_did_not_oversell() {
    let mut r = report();
    // Enough stock for the sold units: broken sold cleanly, yet must oversell.
    r.strategies = vec![fixture::strategy(
        StrategyKind::Broken,
        Expect::Oversell,
        &crowd(100, 400, 0),
        facts(0, 100),
    )];
    let junit = Junit::named("flash-sale");
    let xml = String::from_utf8(junit.render(&r).unwrap()).unwrap();
    let (all, failing) = junit_cases(&xml);
    assert_eq!(all.len(), 7);
    assert_eq!(failing, BTreeSet::from([pair("broken", "no oversell")]));
    assert!(xml.contains(r#"<testsuite name="flash-sale""#), "{xml}");
    assert!(
        xml.contains("expected fail, passed: sold 100 of 100"),
        "{xml}"
    );
}

#[test]
fn markdown_snapshot() {
    let md = String::from_utf8(Markdown.render(&report()).unwrap()).unwrap();
    insta::assert_snapshot!(md);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_of_a_real_run_matches_the_schema_and_the_server() {
    let server = common::redis_server().await;
    let url = server.url();
    let config = common::config(&[
        "--redis",
        &url,
        "-s",
        "broken,watch",
        "--buyers",
        "300",
        "--stock",
        "60",
        "--keep",
    ]);
    let mut snapshots = Vec::new();
    let report = Session::open(&config)
        .await
        .unwrap()
        .run(&config, Progress::hidden(), &mut |partial| {
            // Each snapshot must be a valid document on its own: it is what
            // a crash leaves behind.
            valid_json(partial);
            snapshots.push((partial.strategies.len(), partial.finished));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(snapshots, vec![(0, false), (1, false), (2, false)]);
    assert!(report.finished);
    let doc = valid_json(&report);
    let redis = common::client(&url).await;
    for (i, name) in ["broken", "watch"].into_iter().enumerate() {
        let truth = common::state(&redis, &report.meta.run_id, name).await;
        let s = &doc["strategies"][i];
        assert_eq!(s["strategy"], name);
        assert_eq!(s["server"]["sold"], truth.sold, "{name}: sold");
        assert_eq!(s["server"]["stock"], truth.stock, "{name}: stock");
        assert_eq!(s["server"]["sold"], report.strategies[i].server.sold);
        assert_eq!(s["checks"].as_array().unwrap().len(), 7);
        // The measurements: per outcome, service time, over time, CPU.
        let purchased = s["figures"]["purchased"].as_u64().unwrap();
        let sum = |v: &Value| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .sum::<u64>()
        };
        assert_eq!(s["latency_by_outcome_us"]["purchased"]["count"], purchased);
        assert_eq!(s["service_time_us"]["count"], 300);
        assert_eq!(s["retries_per_purchase"]["count"], purchased);
        assert_eq!(sum(&s["throughput"]["purchases"]), purchased);
        assert_eq!(sum(&s["throughput"]["attempts"]), s["figures"]["attempts"]);
        assert!(s["cpu"]["server_s"].as_f64().is_some(), "{}", s["cpu"]);
        assert!(s["cpu"]["generator_s"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(doc["run"]["load"]["model"], "burst");
    assert_eq!(doc["run"]["redis"]["url"], url.as_str());
    assert_eq!(doc["run"]["seed"], config.seed.to_string());
    assert_eq!(doc["verdict"]["exit_status"], report.status() as u8);
}

/// Carts and reservations add products, holds and the reaper's figures:
/// the document of such a run still matches the schema, and its hold counts
/// are the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_of_a_cart_reservation_run_matches_the_schema() {
    let server = common::redis_server().await;
    let url = server.url();
    let config = common::config(&[
        "--redis",
        &url,
        "-s",
        "lua,reserve-naive",
        "--reserve",
        "--buyers",
        "400",
        "--stock",
        "a=30,b=20",
        "--hold-ttl",
        "100ms",
        "--keep",
    ]);
    let report = blackfriday::run(&config).await.unwrap();
    let doc = valid_json(&report);
    assert_eq!(doc["run"]["products"][1]["name"], "b");
    assert_eq!(doc["run"]["reserve"]["reapers"], 2);
    let redis = common::client(&url).await;
    for (i, name) in ["lua", "reserve-naive"].into_iter().enumerate() {
        let s = &doc["strategies"][i];
        let placed: Option<u64> = redis
            .get(format!("bf:{}:{{{name}}}:placed", report.meta.run_id))
            .await
            .unwrap();
        assert_eq!(
            s["server"]["holds"]["placed"],
            placed.unwrap_or(0),
            "{name}"
        );
        assert_eq!(s["server"]["products"].as_array().unwrap().len(), 2);
        assert!(s["holds"]["restock_lag_us"]["count"].as_u64().is_some());
        assert_eq!(
            s["checks"].as_array().unwrap().len(),
            11,
            "{name}: 7 + whole carts + 3 hold checks"
        );
    }
}
