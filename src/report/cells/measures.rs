//! Cell texts of the measurement tables (latency, retries, throughput over
//! time, CPU) and the notes under them, shared by the terminal and the
//! Markdown report so the two cannot drift apart.

use super::micros;
use crate::cpu::SERVER_CEILING;
use crate::findings::{Report, StrategyReport};
use crate::metrics::Percentiles;

pub(in crate::report) const LATENCY_HEADER: [&str; 8] = [
    "strategy", "measured", "buyers", "p50", "p90", "p99", "p99.9", "max",
];

pub(in crate::report) fn latency_title(r: &Report) -> &'static str {
    if r.meta.load.is_open() {
        "Latency (open model: from each buyer's intended arrival) and service time"
    } else {
        "Latency (closed burst: from the release) and service time"
    }
}

fn percentile_cells(p: &Percentiles) -> [String; 6] {
    [
        p.count.to_string(),
        micros(p.p50),
        micros(p.p90),
        micros(p.p99),
        micros(p.p999),
        micros(p.max),
    ]
}

fn row(strategy: &str, measured: &str, p: &Percentiles) -> Vec<String> {
    let mut cells = vec![strategy.to_string(), measured.to_string()];
    cells.extend(percentile_cells(p));
    cells
}

/// All buyers, then each outcome that occurred, then the service time.
pub(in crate::report) fn latency_rows(r: &Report, s: &StrategyReport) -> Vec<Vec<String>> {
    let all = match (r.meta.load.is_open(), r.meta.reserve.is_some()) {
        (false, false) => "latency from release, all buyers",
        (true, false) => "latency, all buyers",
        // Up to the hold or the sold-out answer; the think time is the
        // shopper's, and the confirm and cancel calls have rows of their own.
        (false, true) => "reserve latency from release, all buyers",
        (true, true) => "reserve latency, all buyers",
    };
    let mut rows = vec![row(s.strategy.name(), all, &s.latency)];
    for (outcome, p) in s.latency_by_outcome.labelled() {
        if p.count > 0 {
            rows.push(row("", &format!("  latency, {outcome}"), p));
        }
    }
    rows.push(row("", "service time, all buyers", &s.service));
    if let Some(h) = &s.holds {
        for (op, p) in [
            ("confirm call", &h.confirm_us),
            ("cancel call", &h.cancel_us),
        ] {
            if p.count > 0 {
                rows.push(row("", op, p));
            }
        }
    }
    rows
}

/// What a gap between the two measures means.
pub(in crate::report) fn latency_note(r: &Report) -> &'static str {
    if r.meta.load.is_open() {
        "latency runs from a buyer's intended arrival, service time from its first send. \
         A large gap is time buyers waited before their first send: the generator fell behind \
         its schedule or --concurrency held them back, so service time alone hides the queue. \
         (The generator's timers tick every millisecond: up to about 1ms of it is wake-up delay.)"
    } else {
        "latency runs from the release, service time from a buyer's first send. A large gap is \
         time buyers queued behind the crowd (--concurrency) before they could send anything."
    }
}

pub(in crate::report) const RETRIES_HEADER: [&str; 7] =
    ["strategy", "purchases", "p50", "p90", "p99", "max", "mean"];

/// The retries table counts each purchaser's own retries; the results
/// table's conflicts per purchase counts every buyer's conflicts. Said
/// under the table so that the two figures are not read as one.
pub(in crate::report) const RETRIES_NOTE: &str =
    "retries: conflicts a buyer who purchased met before its yes. Conflicts per purchase \
     (Results) counts the conflicts of every buyer, also those later told sold out or who \
     gave up, divided by the purchases: it is the contention each sale cost.";

pub(in crate::report) fn retries_row(s: &StrategyReport) -> Vec<String> {
    let p = &s.retries;
    vec![
        s.strategy.name().to_string(),
        p.count.to_string(),
        p.p50.to_string(),
        p.p90.to_string(),
        p.p99.to_string(),
        p.max.to_string(),
        format!("{:.2}", p.mean),
    ]
}

/// Seconds shown per row; every bucket is in the JSON.
const BUCKETS_SHOWN: usize = 20;

pub(in crate::report) const THROUGHPUT_HEADER: [&str; 3] =
    ["strategy", "series", "per second: 0s, 1s, 2s…"];

fn buckets(v: &[u64]) -> String {
    let mut text: Vec<String> = v.iter().take(BUCKETS_SHOWN).map(u64::to_string).collect();
    if v.len() > BUCKETS_SHOWN {
        text.push(format!("… +{}s in the JSON", v.len() - BUCKETS_SHOWN));
    }
    text.join(" ")
}

pub(in crate::report) fn throughput_rows(s: &StrategyReport) -> Vec<Vec<String>> {
    let t = &s.timeline;
    vec![
        vec![
            s.strategy.name().to_string(),
            "purchases".into(),
            buckets(&t.purchases),
        ],
        vec![String::new(), "attempts".into(), buckets(&t.attempts)],
    ]
}

pub(in crate::report) const CPU_HEADER: [&str; 8] = [
    "strategy",
    "wall",
    "server CPU",
    "server cores",
    "generator CPU",
    "generator cores",
    "server µs/purchase",
    "generator µs/purchase",
];

fn opt(v: Option<f64>, fmt: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "n/a".to_string(), fmt)
}

pub(in crate::report) fn cpu_row(s: &StrategyReport) -> Vec<String> {
    let c = &s.cpu;
    let secs = |v: f64| format!("{v:.3}s");
    let cores = |v: f64| format!("{v:.2}");
    let us = |v: f64| format!("{v:.1}");
    vec![
        s.strategy.name().to_string(),
        secs(c.wall_s),
        opt(c.server_s, secs),
        opt(c.cores(c.server_s), cores),
        opt(c.generator_s, secs),
        opt(c.cores(c.generator_s), cores),
        opt(c.server_us_per_purchase, us),
        opt(c.generator_us_per_purchase, us),
    ]
}

/// On a cluster, each primary's share of the server CPU, one line per
/// strategy: `lua: 127.0.0.1:7001 0.412s (0.41 cores) · …`. Empty for one
/// server.
pub(in crate::report) fn cpu_node_lines(r: &Report) -> Vec<String> {
    r.strategies
        .iter()
        .filter(|s| !s.cpu.server_nodes.is_empty())
        .map(|s| {
            let nodes: Vec<String> = s
                .cpu
                .server_nodes
                .iter()
                .map(|n| {
                    let cores = opt(s.cpu.cores(Some(n.server_s)), |v| format!("{v:.2}"));
                    format!("{} {:.3}s ({cores} cores)", n.node, n.server_s)
                })
                .collect();
            format!(
                "server CPU by primary, {}: {}",
                s.strategy.name(),
                nodes.join(" · ")
            )
        })
        .collect()
}

/// A closed burst in which the load generator, not the server, set the
/// pace: it kept at least a full core busy, spent more CPU per purchase
/// than the server, and the server was not itself saturated. In an open
/// model the arrivals set the rate, so the generator's cost limits nothing.
fn generator_limited(r: &Report, s: &StrategyReport) -> bool {
    let c = &s.cpu;
    !r.meta.load.is_open()
        && c.generator_bound
        && !c.server_at_ceiling
        && c.cores(c.generator_s).is_some_and(|g| g >= 1.0)
}

/// The strategies `pick` names, each once, in run order.
fn names(r: &Report, pick: impl Fn(&StrategyReport) -> bool) -> String {
    let mut names: Vec<&str> = Vec::new();
    for s in r.strategies.iter().filter(|s| pick(s)) {
        if !names.contains(&s.strategy.name()) {
            names.push(s.strategy.name());
        }
    }
    names.join(", ")
}

/// Warnings about what limited the throughput figures: each at most once
/// per run, naming the strategies it concerns.
pub(in crate::report) fn cpu_warnings(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let limited = names(r, |s| generator_limited(r, s));
    if !limited.is_empty() {
        lines.push(format!(
            "warning: the load generator, not the server, limited the throughput of {limited}: \
             it kept a full core busy and spent more CPU per purchase than the server, so \
             purchases/s understate the strategy"
        ));
    }
    let ceiling = names(r, |s| s.cpu.server_at_ceiling);
    if !ceiling.is_empty() {
        lines.push(format!(
            "warning: the server used at least {:.0}% of one core while {ceiling} ran: \
             purchases/s is this machine's ceiling, not the strategy's",
            SERVER_CEILING * 100.0
        ));
    }
    lines
}

/// Open model: buyers that could not start on time, per strategy that had
/// any. (In a burst every buyer but the first few starts "late" by design.)
pub(in crate::report) fn late_start_lines(r: &Report) -> Vec<String> {
    if !r.meta.load.is_open() {
        return Vec::new();
    }
    r.strategies
        .iter()
        .filter(|s| s.figures.late_starts > 0)
        .map(|s| {
            format!(
                "late starts: {} {} of {} buyers started more than 2ms after their intended arrival \
                 (the {} in-flight slots of --concurrency were all busy, or the generator fell behind); \
                 their latency still counts from the intended arrival",
                s.strategy, s.figures.late_starts, s.latency.count, r.meta.concurrency
            )
        })
        .collect()
}
