//! `--junit`: one `<testsuite>` per run, one `<testcase>` per strategy ×
//! audit check (classname = strategy, name = check title). A testcase fails
//! when the check's result differs from what the strategy's expectation
//! wants, as the gate judged it, so `broken` overselling as expected passes.
//! A failure's `type` says its kind: `correctness` (exit 1) or `threshold`
//! (exit 4). Threshold expressions are testcases of their strategy too.
//!
//! A run that did not reach its verdict says so too: the strategy running
//! when it stopped (or the run itself, when none was) and every strategy
//! the server could not run are an `<error>`, and those that never started
//! are `<skipped>`, so a CI page never shows green for what was not tested.

use std::io;
use std::time::Duration;

use chrono::{DateTime, Utc};
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::Exporter;
use crate::audit::Check;
use crate::error::ExitStatus;
use crate::findings::{Report, StrategyReport, ThresholdResult};

#[derive(Debug, Clone, Default)]
pub struct Junit {
    /// The `<testsuite>` name; `blackfriday <run id>` when unset. A
    /// scenario's name belongs here once runs have one.
    pub suite: Option<String>,
}

impl Junit {
    /// Public for library users who name the suite themselves (the tests do);
    /// the command line names it after the scenario instead.
    pub fn named(suite: impl Into<String>) -> Junit {
        Junit {
            suite: Some(suite.into()),
        }
    }
}

impl Exporter for Junit {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>> {
        let name = match (&self.suite, &report.meta.scenario) {
            (Some(name), _) | (None, Some(name)) => name.clone(),
            (None, None) => format!("blackfriday {}", report.meta.run_id),
        };
        let mut suite = TestSuite::new(name);
        suite.add_properties(properties(report));
        let total: f64 = report.strategies.iter().map(|s| s.figures.duration_s).sum();
        let total = Duration::from_secs_f64(total.max(0.0));
        suite.set_time(total);
        if let Some(started) = report.meta.started {
            suite.set_timestamp(DateTime::<Utc>::from(started).fixed_offset());
        }
        for s in &report.strategies {
            suite.add_test_cases(s.checks.iter().map(|c| test_case(s, c)));
            suite.add_test_cases(
                report
                    .thresholds
                    .iter()
                    .filter(|t| t.strategy == s.strategy)
                    .map(|t| threshold_case(s, t)),
            );
        }
        suite.add_test_cases(not_judged(report));
        let mut doc = quick_junit::Report::new("blackfriday");
        doc.set_time(total);
        doc.add_test_suite(suite);
        let mut bytes = Vec::new();
        doc.serialize(&mut bytes).map_err(io::Error::other)?;
        Ok(without_root_skipped(bytes))
    }
}

/// The widely used JUnit XSD (Jenkins' junit-10.xsd) allows no `skipped`
/// on the root `<testsuites>`, which quick-junit always writes. Nothing is
/// ever skipped here, so dropping it from the root tag loses nothing; the
/// `<testsuite>`'s own `skipped` is allowed and stays.
fn without_root_skipped(bytes: Vec<u8>) -> Vec<u8> {
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        return bytes;
    };
    let Some(open) = text.find("<testsuites") else {
        return bytes;
    };
    let close = open + text[open..].find('>').unwrap_or(0);
    let root = &text[open..close];
    let Some(at) = root.find(" skipped=\"") else {
        return bytes;
    };
    let end = at + 10 + root[at + 10..].find('"').map_or(0, |i| i + 1);
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..open + at]);
    out.push_str(&text[open + end..]);
    out.into_bytes()
}

/// Enough to repeat the run from the CI page.
fn properties(r: &Report) -> Vec<Property> {
    let m = &r.meta;
    let mut props = vec![
        Property::new("run_id", m.run_id.as_str()),
        Property::new("seed", m.seed.to_string()),
        Property::new("buyers", m.buyers.to_string()),
        Property::new("stock", m.stock.to_string()),
        Property::new("qty", m.qty.to_string()),
        Property::new("redis", m.redis_url.as_str()),
        Property::new("server_version", m.server_version.as_str()),
    ];
    if !r.finished {
        props.push(Property::new(
            "partial",
            format!(
                "{} of {} strategies have run",
                r.strategies.len(),
                m.strategies.len()
            ),
        ));
    }
    props
}

fn test_case(s: &StrategyReport, c: &Check) -> TestCase {
    let wanted = if s.expect().wants(c.id) {
        "pass"
    } else {
        "fail"
    };
    let got = if c.passed { "passed" } else { "failed" };
    let explained = format!(
        "{} {got}: {} (rule: {}; expectation '{}' wants it to {wanted})",
        c.id.title(),
        c.detail,
        c.id.rule(),
        s.expect()
    );
    let status = if s.verdict.failed.contains(&c.id) {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_message(format!(
                "{}: expected {wanted}, {got}: {}",
                c.id.title(),
                c.detail
            ))
            // Which kind of failure: a CI page can tell an oversell (exit 1)
            // from a speed miss (exit 4) without reading the message.
            .set_type(if c.id.is_threshold() {
                "threshold"
            } else {
                "correctness"
            })
            .set_description(format!("{} ({})", explained, c.id.key()));
        status
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(c.id.title(), status);
    case.set_classname(s.strategy.name())
        .set_time(duration(s))
        .set_system_out(explained);
    case
}

/// A threshold expression on one strategy; a warn-only miss passes, with
/// the miss in its output.
fn threshold_case(s: &StrategyReport, t: &ThresholdResult) -> TestCase {
    let status = if t.passed || t.warn {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_message(format!("threshold missed: {}: {}", t.expr, t.detail))
            .set_type("threshold");
        status
    };
    let out = match (t.passed, t.warn) {
        (true, _) => format!("held: {}", t.detail),
        (false, true) => format!("warn-only, missed (does not fail the run): {}", t.detail),
        (false, false) => format!("missed: {}", t.detail),
    };
    let mut case = TestCase::new(format!("threshold {}", t.expr), status);
    case.set_classname(s.strategy.name())
        .set_time(duration(s))
        .set_system_out(out);
    case
}

/// The strategy's run time: every testcase of it shares it.
fn duration(s: &StrategyReport) -> Duration {
    Duration::from_secs_f64(s.figures.duration_s.max(0.0))
}

/// Testcases for what has no checks to show: the abort, the strategies the
/// server could not run, and those that never started.
fn not_judged(r: &Report) -> Vec<TestCase> {
    let mut cases = Vec::new();
    for u in &r.unavailable {
        let reason = format!("{} could not run on this server: {}", u.strategy, u.reason);
        cases.push(error_case(u.strategy.name(), "unavailable", reason));
    }
    if let Some(a) = &r.aborted {
        // No strategy was running: the run itself did not reach a verdict.
        let class = a.strategy.map_or("blackfriday", |k| k.name());
        let kind = if a.status == ExitStatus::Interrupted {
            "interrupted"
        } else {
            "aborted"
        };
        let message = format!("{} (exit {})", a.message, a.status as u8);
        cases.push(error_case(class, kind, message));
    }
    let why = if r.finished || r.aborted.is_some() {
        "not run: the run stopped before it started"
    } else {
        "not run yet: this is a partial report"
    };
    for kind in r.never_ran() {
        let mut status = TestCaseStatus::skipped();
        status.set_message(why);
        let mut case = TestCase::new("runs to its verdict", status);
        case.set_classname(kind.name());
        cases.push(case);
    }
    cases
}

fn error_case(class: &str, kind: &str, message: String) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    let first = message.lines().next().unwrap_or_default().to_string();
    status
        .set_message(first)
        .set_type(kind)
        .set_description(message);
    let mut case = TestCase::new("runs to its verdict", status);
    case.set_classname(class);
    case
}
