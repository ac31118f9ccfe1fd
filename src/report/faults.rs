//! The Faults table and header line: each planned fault, when it actually
//! happened, and what buyers got meanwhile. Text only, shared by the
//! terminal tables and the Markdown export.

use crate::fault::FaultRecord;
use crate::findings::{RunMeta, StrategyReport};

pub const HEADER: [&str; 10] = [
    "strategy",
    "fault",
    "planned",
    "began",
    "took",
    "unknown",
    "bought",
    "acked lost",
    "recovered",
    "loss window",
];

/// One row per fault of one strategy; none in a run without faults.
pub fn rows(s: &StrategyReport) -> Vec<Vec<String>> {
    s.faults
        .iter()
        .enumerate()
        .map(|(i, f)| row(if i == 0 { s.strategy.name() } else { "" }, f))
        .collect()
}

fn row(strategy: &str, f: &FaultRecord) -> Vec<String> {
    let took = match (f.began_us, f.ended_us) {
        (Some(b), Some(e)) => seconds(e.saturating_sub(b)),
        _ => "-".into(),
    };
    vec![
        strategy.to_string(),
        f.step.kind.to_string(),
        seconds(u64::try_from(f.step.at.as_micros()).unwrap_or(u64::MAX)),
        f.began_us.map_or_else(|| "not run".into(), seconds),
        took,
        f.errors.to_string(),
        f.purchased.to_string(),
        f.acked_lost.map_or_else(|| "-".into(), |n| n.to_string()),
        recovered(f),
        f.loss_window_us.map_or_else(|| "-".into(), seconds),
    ]
}

fn recovered(f: &FaultRecord) -> String {
    match (f.pre_fault_per_s, f.recovery_us) {
        (Some(_), Some(us)) => seconds(us),
        (Some(_), None) => "never".into(),
        _ => "-".into(),
    }
}

/// What the unknown and bought columns count, under the table.
pub const NOTE: &str = "unknown: attempts left unknown (also those retried); bought: purchases;\n\
     both from the fault's start to 1 s after its end (or the next fault)\n\
     acked lost: acknowledged purchases missing from the server\n\
     recovered: from the fault's end until purchases/s were back to half\n\
     the second before it\n\
     loss window: from the earliest lost acknowledgement to the\n\
     restart (or failover), or to the last lost one when later";

fn seconds(us: u64) -> String {
    format!("{:.2}s", us as f64 / 1e6)
}

/// The header's line about faults and persistence; empty without either.
pub fn header_lines(m: &RunMeta) -> String {
    let mut parts = Vec::new();
    if !m.faults.is_empty() {
        let steps: Vec<String> = m.faults.iter().map(ToString::to_string).collect();
        parts.push(steps.join(", "));
    }
    if let Some(f) = m.appendfsync {
        parts.push(format!("AOF on, appendfsync {f}"));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("faults: {}\n", parts.join(" · "))
}
