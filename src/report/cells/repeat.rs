//! `--repeat N`: each strategy's key figures as median and min–max over
//! the repetitions, and the seed to reproduce a failed one.

use crate::findings::repeat::{failed_seeds, spread, Spread};
use crate::findings::{Report, StrategyReport};

type Read = fn(&StrategyReport) -> f64;

/// Each column's figure: whether it is a latency (µs), and how it is read.
const COLUMNS: &[(&str, bool, Read)] = &[
    ("purchases/s", false, |s| s.figures.purchases_per_s),
    ("p50", true, |s| s.latency.p50 as f64),
    ("p99", true, |s| s.latency.p99 as f64),
];

fn cell(s: Spread, time: bool) -> String {
    let show = |v: f64| {
        if time {
            format!("{:.1}ms", v / 1000.0)
        } else {
            format!("{v:.0}")
        }
    };
    format!("{} ({}–{})", show(s.median), show(s.min), show(s.max))
}

pub const REPEAT_HEADER: [&str; 4] = ["strategy", "purchases/s", "p50", "p99"];

/// One row per strategy: median (min–max) of each column's figure.
pub fn repeat_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for s in &report.strategies {
        let mut row = vec![s.strategy.to_string()];
        for (_, time, read) in COLUMNS {
            row.push(spread(report, s.strategy, read).map_or("-".into(), |v| cell(v, *time)));
        }
        rows.push(row);
    }
    rows
}

/// The title above the table, and one line per failed repetition naming
/// the seed that reproduces it; None for a single run.
pub fn repeat_notes(report: &Report) -> Option<(String, Vec<String>)> {
    let n = report.repetitions.len();
    let first = report.repetitions.first()?.meta.seed;
    let last = first.wrapping_add(n as u64 - 1);
    let title = format!("Repetitions: {n} on seeds {first}..={last}, median (min–max)");
    let failed = failed_seeds(report)
        .into_iter()
        .map(|(i, seed)| {
            format!("❌ repetition {i} of {n} failed correctness: reproduce with --seed {seed}")
        })
        .collect();
    Some((title, failed))
}
