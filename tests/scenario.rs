//! A scenario file describes everything a command line can: the open model
//! in a `[load]` table, `keep`, `quiet` and the report paths, validated by
//! `check` and run against a real redis-server.

mod common;

use std::time::Duration;

use assert_cmd::Command;
use common::{client, redis_server, state};
use serde_json::Value;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(120));
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_model_scenario_is_checked_then_runs_with_its_keys() {
    let server = redis_server().await;
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("open.json");
    let file = dir.path().join("open.toml");
    let text = format!(
        r#"name = "open-doors"
description = "500 shoppers arriving at 2000/s for 50 units"
seed = 5
stock = 50
strategies = ["watch", "lua"]
keep = true
quiet = true

[load]
model = "open"
rate = "2000/s"
duration = "250ms"
arrivals = "constant"

[report]
json = "{}"
"#,
        report.display()
    );
    std::fs::write(&file, text).unwrap();
    blackfriday().arg("check").arg(&file).assert().code(0);

    blackfriday()
        .args(["run", "--redis", &url, "--scenario"])
        .arg(&file)
        .assert()
        .code(0);
    let doc: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let run = &doc["run"];
    assert_eq!(run["load"]["model"], "open", "{run}");
    assert_eq!(run["load"]["arrivals"], "constant", "{run}");
    // 2000/s, evenly spaced, for 250ms: exactly 500 arrivals.
    assert_eq!(run["buyers"], 500, "{run}");
    // `keep = true` left the namespaces: read the truth back from Redis.
    let c = client(&url).await;
    let run_id = run["run_id"].as_str().unwrap();
    for strategy in ["watch", "lua"] {
        let s = state(&c, run_id, strategy).await;
        assert_eq!((s.stock, s.sold, s.orders), (0, 50, 50), "{strategy}");
    }
}

#[test]
fn load_keys_are_checked_and_unknown_ones_refused_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("[load]\nmodel = \"open\"\nrat = \"5/s\"\n", "x.toml:4:1"),
        ("[load]\nmodel = \"open\"\n", "load.model"),
        (
            "[load]\nmodel = \"burst\"\nrate = \"5/s\"\n",
            "model = \"open\"",
        ),
        ("[load]\nrate = \"fast\"\n", "load.rate"),
        ("[load]\nrate = \"5/s\"\nramp = \"0..5/s:1s\"\n", "not both"),
        (
            "buyers = 9\n[load]\nrate = \"5/s\"\nduration = \"1s\"\n",
            "both size the crowd",
        ),
        ("[load]\nduration = \"1s\"\n", "shapes the open model"),
        ("[load]\nmodel = \"trickle\"\n", "x.toml:3:9"),
    ];
    for (body, needle) in cases {
        let file = dir.path().join("x.toml");
        std::fs::write(&file, format!("name = \"x\"\n{body}")).unwrap();
        let out = blackfriday().arg("check").arg(&file).assert().code(2);
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(
            stdout.contains(needle),
            "{body:?}: {stdout:?} lacks {needle:?}"
        );
    }
}
