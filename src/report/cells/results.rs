//! The results table, the error lines, the validation table and the verdict
//! line, as text.

use std::fmt::Write;

use crate::audit::{Check, CheckId};
use crate::findings::{Aborted, Report, StrategyReport};
use crate::outcome::Expect;

pub(in crate::report) const RESULTS_HEADER: [&str; 14] = [
    "strategy",
    "purchased",
    "sold out",
    "false sold-outs",
    "gave up",
    "errors",
    "final stock",
    "oversold",
    "duration",
    "last sale",
    "purchases/s",
    "attempts/s",
    "conflicts per purchase",
    "round trips per purchase",
];
/// Column of [`RESULTS_HEADER`] coloured by whether it is 0.
pub(in crate::report) const OVERSOLD_COLUMN: usize = 7;

/// One row of the results table as text, shared with the Markdown report.
pub(in crate::report) fn results_row(s: &StrategyReport) -> Vec<String> {
    let f = &s.figures;
    vec![
        s.strategy.name().to_string(),
        f.purchased.to_string(),
        f.sold_out.to_string(),
        f.false_sold_outs.to_string(),
        f.gave_up.to_string(),
        f.errors.to_string(),
        s.server.stock.to_string(),
        s.server.oversold().to_string(),
        format!("{:.3}s", f.duration_s),
        format!("{:.3}s", f.last_sale_s),
        format!("{:.0}", f.purchases_per_s),
        format!("{:.0}", f.attempts_per_s),
        format!("{:.2}", f.retries_per_purchase),
        format!("{:.2}", f.round_trips_per_purchase),
    ]
}

/// One line per strategy and error class, with the first message seen.
pub(in crate::report) fn error_lines(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    for s in &r.strategies {
        for (class, n) in &s.figures.errors_by_class {
            let sample = s
                .figures
                .error_samples
                .get(class)
                .map_or("", String::as_str);
            lines.push(format!(
                "errors: {} {n} × {} (first: {sample})",
                s.strategy,
                class.name()
            ));
        }
        // --retry-unknown hides unknown outcomes from the errors column
        // when the retry went through: say how many there were.
        let retried = s.figures.unknown.saturating_sub(s.figures.errors);
        if retried > 0 {
            lines.push(format!(
                "unknown: {} {} attempts had an unknown outcome; {retried} were tried again \
                 (--retry-unknown)",
                s.strategy, s.figures.unknown
            ));
        }
        if let Some(u) = s.figures.undone.filter(|u| u.carts > 0) {
            lines.push(format!(
                "undone: {} took {} carts in part, found a later line sold out and gave \
                 back {} lines",
                s.strategy, u.carts, u.lines
            ));
        }
    }
    lines
}

pub(in crate::report) const VALIDATION_HEADER: [&str; 5] = [
    "strategy",
    "expected",
    "check",
    "result",
    "evidence (from Redis)",
];

/// The result column: what the check did, and whether that was wanted.
pub(in crate::report) fn check_mark(s: &StrategyReport, c: &Check) -> &'static str {
    match (c.passed, s.expect().wants(c.id)) {
        (true, true) => "✅ pass",
        (false, false) => "❌ fail, as expected",
        (true, false) => "✅ pass, expected to fail",
        (false, true) if s.verdict.tolerated.contains(&c.id) => "⚠️ fail, tolerated",
        (false, true) => "❌ fail",
    }
}

pub(in crate::report) fn expectation(s: &StrategyReport) -> String {
    match s.expect() {
        Expect::Clean => "clean: every check passes".into(),
        Expect::Oversell => "oversell: must oversell, all else passes".into(),
        Expect::DoubleRestock => "double-restock: some hold's units must go back twice".into(),
        Expect::Unprovoked => "clean: no demand can oversell".into(),
        Expect::Starved => "starved: safe, all but undersell passes".into(),
    }
}

pub(in crate::report) fn verdict_reason(s: &StrategyReport) -> String {
    let v = &s.verdict;
    if v.held && !v.tolerated.is_empty() {
        let tolerated: Vec<&str> = v.tolerated.iter().map(|c| c.title()).collect();
        return format!(
            "as expected ({}); known weakness shown: {}",
            v.expect,
            tolerated.join(", ")
        );
    }
    if v.held {
        return format!("behaved as expected ({})", v.expect);
    }
    let failed: Vec<&str> = v.failed.iter().map(|c| c.title()).collect();
    match v.expect {
        e if e.tooth().is_some_and(|t| v.failed.contains(&t)) => format!(
            "expected to fail '{}' and did not: the test has lost its teeth ({})",
            e.tooth().map_or("", CheckId::title),
            failed.join(", ")
        ),
        _ => format!("unexpected result on: {}", failed.join(", ")),
    }
}

/// No verdict can be claimed for a run that stopped early: say where it
/// stopped, why, and what never ran.
fn stopped_line(r: &Report, a: &Aborted, failed: &[&str], status: u8) -> String {
    let what = match a.strategy {
        Some(k) => format!("while {k} ran"),
        None => "before any strategy ran".to_string(),
    };
    let mut l = format!("verdict: none, the run was stopped {what} (exit {status})");
    if !failed.is_empty() {
        let _ = write!(l, "; expectation failed for {}", failed.join(", "));
    }
    if a.status != crate::error::ExitStatus::Interrupted {
        let _ = write!(l, "\nstopped: {}", a.message.lines().next().unwrap_or(""));
    }
    let never: Vec<&str> = r.never_ran().map(|k| k.name()).collect();
    if !never.is_empty() {
        let _ = write!(l, "\nnot run: {}", never.join(", "));
    }
    l
}

pub(in crate::report) fn verdict_line(r: &Report) -> String {
    let failed: Vec<&str> = r.failed().map(|s| s.strategy.name()).collect();
    let status = r.status() as u8;
    let missed: Vec<&str> = r.failed_strategies().iter().map(|k| k.name()).collect();
    let mut line = if let Some(a) = &r.aborted {
        stopped_line(r, a, &failed, status)
    } else if failed.is_empty() && missed.is_empty() {
        format!("verdict: every expectation held (exit {status})")
    } else if !r.correctness_failed() && status == 4 {
        format!(
            "verdict: correctness held; performance thresholds missed for {} (exit 4)",
            missed.join(", ")
        )
    } else if failed.is_empty() {
        format!(
            "verdict: performance thresholds missed for {} (exit {status})",
            missed.join(", ")
        )
    } else {
        format!(
            "verdict: expectation failed for {} (exit {status})",
            failed.join(", ")
        )
    };
    let warned = r.warnings().count();
    if warned > 0 {
        let _ = write!(
            line,
            "\nwarning: {warned} warn-only threshold(s) missed (they never fail the run)"
        );
    }
    for u in &r.unavailable {
        let _ = write!(line, "\nnot run: {}: {} (exit 3)", u.strategy, u.reason);
    }
    if !r.finished {
        let _ = write!(
            line,
            "\nnote: partial report, {} of {} strategies have run",
            r.strategies.len(),
            r.meta.strategies.len()
        );
    }
    if r.interrupted {
        line.push_str(
            "\nnote: interrupted with Ctrl-C: buyers still retrying stopped and count as gave up; \
             the checks describe what ran, the exit status is 130",
        );
    }
    line
}

/// The validation table as text cells, shared by the exporters: every
/// check of every strategy, then its verdict row. `strong` marks up the
/// verdict's label and result (Markdown's `**`); identity for plain text.
pub(in crate::report) fn validation_rows(
    r: &Report,
    strong: impl Fn(&str) -> String,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for s in &r.strategies {
        for (i, c) in s.checks.iter().enumerate() {
            let first = i == 0;
            let (name, expect) = if first {
                (s.strategy.name().to_string(), expectation(s))
            } else {
                (String::new(), String::new())
            };
            rows.push(vec![
                name,
                expect,
                c.id.title().into(),
                check_mark(s, c).into(),
                c.detail.clone(),
            ]);
        }
        let verdict = if s.verdict.held { "held" } else { "FAILED" };
        rows.push(vec![
            String::new(),
            String::new(),
            strong("verdict"),
            strong(verdict),
            verdict_reason(s),
        ]);
    }
    rows
}
