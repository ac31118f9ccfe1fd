//! `--repeat N`: each strategy's key figures as median and min–max over
//! the repetitions, and the seed to reproduce a failed one.

use comfy_table::Table;

use crate::findings::repeat::{failed_seeds, spread, Spread};
use crate::findings::{Report, StrategyReport};

type Read = fn(&StrategyReport) -> f64;

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

/// The table and the failed seeds; empty for a single run.
pub fn repeat_table(report: &Report) -> String {
    let n = report.repetitions.len();
    if n == 0 {
        return String::new();
    }
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    let mut header = vec!["strategy".to_string()];
    header.extend(COLUMNS.iter().map(|(name, _, _)| name.to_string()));
    t.set_header(header);
    for s in &report.strategies {
        let mut row = vec![s.strategy.to_string()];
        for (_, time, read) in COLUMNS {
            row.push(spread(report, s.strategy, read).map_or("-".into(), |v| cell(v, *time)));
        }
        t.add_row(row);
    }
    let first = report.repetitions[0].meta.seed;
    let mut out = format!(
        "Repetitions: {n} on seeds {first}..={}, median (min–max)\n{t}\n",
        first + n as u64 - 1
    );
    for (i, seed) in failed_seeds(report) {
        out.push_str(&format!(
            "❌ repetition {i} of {n} failed correctness: reproduce with --seed {seed}\n"
        ));
    }
    out
}
