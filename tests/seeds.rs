//! An expectation must hold on every seed: the README's examples with
//! `broken` and `app-lock`, and the shipped scenarios that run them, give the
//! same exit code on 20 seeds. Crowds are scaled down to keep this to about
//! a minute; the race they must show is the same.

mod common;

use blackfriday::ExitStatus;
use common::*;

const SEEDS: u64 = 20;

/// Each example or scenario, with the flags that scale it down.
const RUNS: &[(&str, &[&str])] = &[
    // Quick start: broken vs watch.
    ("quick start", &["--buyers", "500", "--stock", "100"]),
    (
        "every strategy side by side",
        &[
            "--buyers",
            "200",
            "--stock",
            "40",
            "--strategy",
            "broken,decr,watch,lua,function,compensate,lock,lock-fenced,app-lock",
        ],
    ),
    ("ps5-midnight", &["--scenario", "ps5-midnight"]),
    ("ci-gate", &["--scenario", "ci-gate", "--buyers", "600"]),
    (
        "cart-checkout",
        &["--scenario", "cart-checkout", "--buyers", "800"],
    ),
    (
        "flash-sale-10k",
        &[
            "--scenario",
            "flash-sale-10k",
            "--buyers",
            "200",
            "--stock",
            "40",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_and_scenarios_give_the_same_exit_code_on_every_seed() {
    let server = redis_server().await;
    let url = server.url();
    let mut flipped = Vec::new();
    for (name, flags) in RUNS {
        for seed in 1..=SEEDS {
            let seed = seed.to_string();
            let mut args = vec!["--redis", &url, "--seed", &seed];
            args.extend_from_slice(flags);
            let report = blackfriday::run(&config(&args)).await.unwrap();
            if report.status() != ExitStatus::Held {
                let failed: Vec<String> = report
                    .failed()
                    .map(|s| format!("{} {:?}", s.strategy, s.verdict.failed))
                    .collect();
                flipped.push(format!("{name} --seed {seed}: {failed:?}"));
            }
        }
    }
    assert!(
        flipped.is_empty(),
        "not every seed held:\n{}",
        flipped.join("\n")
    );
}
