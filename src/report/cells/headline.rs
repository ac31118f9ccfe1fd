//! The words a room reads: one headline per strategy, the key figures, and
//! the closing verdict that names what happened. Every number is one the
//! findings hold; the server's where the server knows it.

use crate::audit::CheckId;
use crate::error::ExitStatus;
use crate::findings::{Report, StrategyReport};
use crate::outcome::Expect;

/// `1234567` as `1,234,567`: big counts are read aloud, not decoded.
pub(in crate::report) fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A latency as a room says it: `850µs`, `3.2ms`, `32ms`, `1.25s`.
pub(in crate::report) fn short_micros(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=9_999 => format!("{:.1}ms", us as f64 / 1e3),
        10_000..=999_999 => format!("{:.0}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

fn titles(ids: &[CheckId]) -> String {
    ids.iter().map(|c| c.title()).collect::<Vec<_>>().join(", ")
}

fn sold_of(s: &StrategyReport) -> String {
    format!(
        "sold {} of {}",
        grouped(s.server.sold),
        grouped(s.server.initial)
    )
}

fn speed(s: &StrategyReport) -> String {
    format!(
        "{} purchases/s · p99 {}",
        grouped(s.figures.purchases_per_s.round() as i64),
        short_micros(s.latency.p99)
    )
}

fn lost_teeth(s: &StrategyReport) -> bool {
    let v = &s.verdict;
    v.expect.tooth().is_some_and(|t| v.failed.contains(&t))
}

/// What happened to the stock, in words, after the strategy's name.
pub(in crate::report) fn headline(s: &StrategyReport) -> String {
    let v = &s.verdict;
    let over = s.server.oversold();
    if over > 0 {
        let expected = match (v.expect, v.held) {
            (Expect::Oversell, _) => "expected: the control group".to_string(),
            (e, _) => format!("expected {e}: FAILED"),
        };
        return format!(
            "OVERSOLD {} units — {} ({expected})",
            grouped(over),
            sold_of(s)
        );
    }
    if lost_teeth(s) {
        return format!(
            "FAILED: did not {} — {} (expected to: the test lost its teeth)",
            v.expect,
            sold_of(s)
        );
    }
    if !v.held {
        return format!(
            "FAILED {} — {}, {} left · {} buyers failed, {} told sold out",
            titles(&v.failed),
            sold_of(s),
            grouped(s.server.stock),
            grouped((s.figures.gave_up + s.figures.errors) as i64),
            grouped(s.figures.sold_out as i64),
        );
    }
    let sold = if s.server.sold == s.server.initial {
        format!(
            "sold exactly {} of {}",
            grouped(s.server.sold),
            grouped(s.server.initial)
        )
    } else {
        sold_of(s)
    };
    let mut line = format!("{sold} · 0 oversold · {}", speed(s));
    if matches!(v.expect, Expect::Unprovoked | Expect::Starved) {
        // Why a control group is held clean, or why buyers gave up.
        line = format!("{line} ({})", v.expect.title());
    }
    if v.expect == Expect::DoubleRestock {
        let twice = s.server.holds.as_ref().map_or(0, |h| h.restocked_twice);
        line = format!("restocked {twice} holds twice (expected: the control group) · {line}");
    }
    if !v.tolerated.is_empty() {
        line.push_str(&format!(" · known weakness: {}", titles(&v.tolerated)));
    }
    line
}

/// The key figures, one row per strategy; the details tables hold the rest.
pub(in crate::report) const KEY_HEADER: [&str; 8] = [
    "strategy",
    "sold",
    "oversold",
    "stock left",
    "sold out",
    "failed buyers",
    "purchases per s",
    "p99 latency",
];

pub(in crate::report) fn key_row(s: &StrategyReport) -> Vec<String> {
    let f = &s.figures;
    vec![
        s.strategy.name().to_string(),
        grouped(s.server.sold),
        grouped(s.server.oversold()),
        grouped(s.server.stock),
        grouped(f.sold_out as i64),
        grouped((f.gave_up + f.errors) as i64),
        grouped(f.purchases_per_s.round() as i64),
        short_micros(s.latency.p99),
    ]
}

/// What held, strategy by strategy: the control groups' damage, then the
/// clean ones together.
fn held_parts(r: &Report) -> Vec<String> {
    let mut parts = Vec::new();
    let mut clean = Vec::new();
    for s in &r.strategies {
        let name = s.strategy.name();
        match s.expect() {
            Expect::Oversell => parts.push(format!(
                "{name} oversold {} units (as expected)",
                grouped(s.server.oversold())
            )),
            Expect::DoubleRestock => parts.push(format!("{name} restocked twice (as expected)")),
            Expect::Clean if !s.verdict.tolerated.is_empty() => parts.push(format!(
                "{name} clean but for {} (known weakness)",
                titles(&s.verdict.tolerated)
            )),
            Expect::Starved => parts.push(format!(
                "{name} starved (safe, {} gave up with stock left, as expected)",
                grouped(s.figures.gave_up as i64)
            )),
            Expect::Clean | Expect::Unprovoked => clean.push(name),
        }
    }
    if !clean.is_empty() {
        parts.push(format!("{} clean", clean.join(", ")));
    }
    parts
}

/// What failed: each strategy that did not behave as expected, and how.
fn failed_parts(r: &Report) -> Vec<String> {
    r.failed()
        .map(|s| {
            let name = s.strategy.name();
            let over = s.server.oversold();
            if lost_teeth(s) {
                format!(
                    "{name} did not {}, expected to (lost its teeth)",
                    s.expect()
                )
            } else if over > 0 {
                format!(
                    "{name} oversold {} units, expected {}",
                    grouped(over),
                    s.expect()
                )
            } else {
                format!("{name} failed: {}", titles(&s.verdict.failed))
            }
        })
        .collect()
}

/// Lines printed just above the verdict: what did not run, and why the
/// report may be partial.
pub(in crate::report) fn verdict_notes(r: &Report) -> Vec<String> {
    let mut lines: Vec<String> = r
        .unavailable
        .iter()
        .map(|u| format!("not run: {}: {}", u.strategy, u.reason))
        .collect();
    if !r.finished {
        lines.push(format!(
            "note: partial report, {} of {} strategies have run",
            r.strategies.len(),
            r.meta.strategies.len()
        ));
    }
    if r.interrupted {
        lines.push(
            "note: interrupted with Ctrl-C: buyers still retrying stopped and count as gave up; \
             the checks describe what ran"
                .to_string(),
        );
    }
    lines
}

/// The last line of the report: what happened, and the exit status.
pub(in crate::report) fn verdict(r: &Report) -> String {
    let status = r.status();
    let code = status as u8;
    if let Some(a) = &r.aborted {
        // No verdict can be claimed for a run that stopped early.
        let what = match a.strategy {
            Some(k) => format!("while {k} ran"),
            None => "before any strategy ran".to_string(),
        };
        let why = match status {
            ExitStatus::Interrupted => "interrupted".to_string(),
            _ => a.message.lines().next().unwrap_or_default().to_string(),
        };
        return format!("verdict: none — the run was stopped {what}: {why} (exit {code})");
    }
    let (word, parts) = match status {
        ExitStatus::Held => ("held", held_parts(r)),
        ExitStatus::ExpectationFailed => ("FAILED", failed_parts(r)),
        ExitStatus::ThresholdsMissed => {
            let missed: Vec<&str> = r.failed_strategies().iter().map(|k| k.name()).collect();
            return format!(
                "verdict: correctness held; performance thresholds missed for {} (exit {code})",
                missed.join(", ")
            );
        }
        ExitStatus::Interrupted => ("interrupted", vec!["stopped with Ctrl-C".to_string()]),
        _ => {
            let names: Vec<&str> = r.unavailable.iter().map(|u| u.strategy.name()).collect();
            ("incomplete", vec![format!("{} not run", names.join(", "))])
        }
    };
    format!("verdict: {word} — {} (exit {code})", parts.join("; "))
}
