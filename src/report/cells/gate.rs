//! The gate's own lines: threshold results, the headline, and the CI
//! annotations that name each failed check.

use crate::findings::{Report, ThresholdResult};

/// One line per threshold result, pass or miss.
pub(in crate::report) fn threshold_lines(r: &Report) -> Vec<String> {
    r.thresholds.iter().map(threshold_line).collect()
}

fn threshold_line(t: &ThresholdResult) -> String {
    let mark = match (t.passed, t.warn) {
        (true, _) => "✅ threshold",
        (false, true) => "⚠️ warn-only threshold missed",
        (false, false) => "❌ threshold missed",
    };
    format!("{mark}: {} ({})", t.expr, t.detail)
}

/// Every failure worth an annotation, as (`error` or `warning`, title,
/// message): each check whose result was not the one wanted, each missed
/// threshold, and each warn-only threshold missed.
pub(in crate::report) fn annotations(r: &Report) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for s in &r.strategies {
        for c in s.checks.iter().filter(|c| s.verdict.failed.contains(&c.id)) {
            let kind = if c.id.is_threshold() {
                "threshold"
            } else {
                "correctness"
            };
            let wanted = if s.expect().wants(c.id) {
                "to pass"
            } else {
                "to fail"
            };
            out.push((
                "error",
                format!("blackfriday {kind}: {} {}", s.strategy, c.id.title()),
                format!("expected {wanted} (expect {}): {}", s.expect(), c.detail),
            ));
        }
    }
    for t in r.thresholds.iter().filter(|t| !t.passed) {
        let level = if t.warn { "warning" } else { "error" };
        out.push((
            level,
            format!("blackfriday threshold: {}", t.expr),
            t.detail.clone(),
        ));
    }
    out
}

/// The one line a CI page shows first: the verdict, the exit status, and
/// what it hangs on.
pub(in crate::report) fn headline(r: &Report) -> String {
    let status = r.status() as u8;
    match status {
        0 => {
            let held = r.thresholds.iter().filter(|t| t.passed).count();
            let thresholds = match held {
                0 => String::new(),
                n => format!(", {n} threshold(s) held"),
            };
            format!(
                "✅ held (exit 0): {} strategies behaved as expected{thresholds}",
                r.strategies.len()
            )
        }
        1 => format!("❌ correctness failed (exit 1): {}", what_failed(r)),
        4 => format!(
            "⚠️ correctness held, performance missed (exit 4): {}",
            what_failed(r)
        ),
        3 => "❌ incomplete: a strategy could not run (exit 3)".to_string(),
        _ => format!("⏹ interrupted (exit {status})"),
    }
}

/// `watch (no lost sales; watch.p99 <= 5ms)`, per failed strategy.
fn what_failed(r: &Report) -> String {
    let mut parts = Vec::new();
    for s in &r.strategies {
        let mut what: Vec<String> = s
            .verdict
            .failed
            .iter()
            .map(|c| c.title().to_string())
            .collect();
        what.extend(
            r.thresholds_missed()
                .filter(|t| t.strategy == s.strategy)
                .map(|t| t.expr.clone()),
        );
        if !what.is_empty() {
            parts.push(format!("{} ({})", s.strategy, what.join("; ")));
        }
    }
    parts.join(", ")
}

/// GitHub Actions workflow commands, one line per failure: `%`, CR and LF
/// escaped as the runner wants, `:` and `,` too in the title property.
pub(in crate::report) fn github_commands(r: &Report) -> String {
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    annotations(r)
        .into_iter()
        .map(|(level, title, message)| {
            let title = esc(&title).replace(':', "%3A").replace(',', "%2C");
            format!("::{level} title={title}::{}\n", esc(&message))
        })
        .collect()
}
