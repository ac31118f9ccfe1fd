//! `--junit`: one `<testsuite>` per run, one `<testcase>` per strategy ×
//! audit check (classname = strategy, name = check title). A testcase fails
//! when the check's result differs from what the strategy's expectation
//! wants, as the gate judged it, so `broken` overselling as expected passes.

use std::io;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::Exporter;
use crate::audit::Check;
use crate::findings::{Report, StrategyReport};

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
        for s in &report.strategies {
            suite.add_test_cases(s.checks.iter().map(|c| test_case(s, c)));
        }
        let mut doc = quick_junit::Report::new("blackfriday");
        doc.add_test_suite(suite);
        let mut bytes = Vec::new();
        doc.serialize(&mut bytes).map_err(io::Error::other)?;
        Ok(bytes)
    }
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
            .set_type(c.id.key())
            .set_description(explained.clone());
        status
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(c.id.title(), status);
    case.set_classname(s.strategy.name())
        .set_system_out(explained);
    case
}
