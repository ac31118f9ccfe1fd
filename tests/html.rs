//! The reports people look at, from a real run against a real redis-server:
//! the self-contained HTML page (its SVG plots parse, hold the series point
//! for point, load nothing), the CSV, and the `.hgrm` files against the JSON.

mod common;

use std::path::Path;

use assert_cmd::Command;
use blackfriday::report::export::csv::COLUMNS;
use blackfriday::report::export::hdr;
use serde_json::Value;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Every `<svg>…</svg>` of the page, each checked to parse as XML.
fn svgs(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("every <svg> is closed") + start + 6;
        let svg = &rest[start..end];
        if let Err(e) = roxmltree::Document::parse(svg) {
            panic!("an SVG does not parse: {e}\n{}", &svg[..svg.len().min(400)]);
        }
        found.push(svg);
        rest = &rest[end..];
    }
    found
}

/// How many points each `<polyline>` of an SVG has.
fn polyline_lengths(svg: &str) -> Vec<usize> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .collect()
}

fn run_reports(dir: &Path, url: &str) -> Value {
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    Command::cargo_bin("blackfriday")
        .unwrap()
        .args(["run", "--redis", url, "--buyers", "2000", "--stock", "200"])
        .args(["-s", "broken,watch", "--seed", "7", "-q"])
        .args(["--html", &p("r.html"), "--csv", &p("r.csv")])
        .args(["--hdr", &p("hdr"), "--json", &p("r.json")])
        .assert()
        .code(0);
    let json = std::fs::read(dir.join("r.json")).unwrap();
    serde_json::from_slice(&json).unwrap()
}

fn series_len(s: &Value, path: &[&str]) -> usize {
    let mut v = s;
    for k in path {
        v = &v[k];
    }
    v.as_array().expect("an array").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_csv_and_hgrm_files_show_the_run_as_the_json_has_it() {
    let server = common::redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    let doc = run_reports(dir.path(), &server.url());
    let strategies = doc["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 2);

    // Stock over time, from the server: broken dives below zero, watch
    // stops at 0, and each series ends where the audit found the server.
    for s in strategies {
        let series = s["stock_series"].as_array().unwrap();
        assert!(series.len() >= 2, "{} samples", series.len());
        let last = series.last().unwrap();
        assert_eq!(last["stock"], s["server"]["stock"]);
        assert_eq!(last["sold"], s["server"]["sold"]);
        let lowest = series.iter().map(|p| p["stock"].as_i64().unwrap()).min();
        match s["strategy"].as_str().unwrap() {
            "broken" => assert!(lowest.unwrap() < 0, "broken oversold: {lowest:?}"),
            _ => assert_eq!(lowest, Some(0), "watch never went below zero"),
        }
    }

    html_holds_the_series(
        &std::fs::read_to_string(dir.path().join("r.html")).unwrap(),
        &doc,
    );
    csv_has_a_row_per_strategy(&std::fs::read_to_string(dir.path().join("r.csv")).unwrap());
    for s in strategies {
        hgrm_matches_the_json(dir.path(), s);
    }
}

fn html_holds_the_series(html: &str, doc: &Value) {
    let strategies = doc["strategies"].as_array().unwrap();
    assert!(
        html.find("verdict") < html.find("<svg"),
        "the verdict comes first"
    );
    // Nothing loaded from anywhere: the only URL is the SVG namespace.
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(
        urls,
        html.matches(SVG_NS).count(),
        "a network URL in the page"
    );
    for banned in ["<script", "<link", "<img", "@import", "url("] {
        assert!(!html.contains(banned), "{banned} in a self-contained page");
    }
    let svgs = svgs(html);
    // Stock, throughput, and one latency spectrum per strategy.
    assert_eq!(svgs.len(), 2 + strategies.len());
    let stock = polyline_lengths(svgs[0]);
    let throughput = polyline_lengths(svgs[1]);
    for s in strategies {
        let n = series_len(s, &["stock_series"]);
        assert!(
            stock.contains(&n),
            "a stock line of {n} points in {stock:?}"
        );
        let n = series_len(s, &["throughput", "purchases"]);
        assert!(throughput.contains(&n), "{n} seconds in {throughput:?}");
        let name = s["strategy"].as_str().unwrap();
        assert!(html.contains(&format!("id=\"spectrum-{name}\"")));
    }
}

fn csv_has_a_row_per_strategy(csv: &str) {
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], COLUMNS.join(","));
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(",broken,oversell,true,2000,200,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",watch,clean,true,2000,200,"),
        "{}",
        lines[2]
    );
}

/// The `.hgrm` of purchases brackets each percentile the JSON states
/// between its neighbouring rows, within the histogram's precision (3
/// significant digits), and counts every purchase. (The quantile iterator
/// and `value_at_quantile` may land a few recorded values apart at a tick.)
fn hgrm_matches_the_json(dir: &Path, s: &Value) {
    let name = s["strategy"].as_str().unwrap();
    let text = std::fs::read_to_string(dir.join(format!("hdr/{name}-purchased.hgrm"))).unwrap();
    let rows = hdr::parse(&text);
    let want = &s["latency_by_outcome_us"]["purchased"];
    assert_eq!(rows.last().unwrap().2, want["count"].as_u64().unwrap());
    assert_eq!(rows.last().unwrap().1, 1.0);
    for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        let json_ms = want[key].as_f64().unwrap() / 1_000.0;
        let slack = json_ms * 1e-3 + 0.001;
        let below = rows
            .iter()
            .filter(|r| r.1 < q)
            .map(|r| r.0)
            .fold(0.0, f64::max);
        let above = rows.iter().find(|r| r.1 >= q).unwrap().0;
        assert!(
            below <= json_ms + slack && json_ms <= above + slack,
            "{name} {key}: {json_ms} ms outside the .hgrm's {below}..{above}"
        );
    }
    assert!(dir.join(format!("hdr/{name}-all.hgrm")).exists());
    assert!(dir.join(format!("hdr/{name}-service.hgrm")).exists());
}
