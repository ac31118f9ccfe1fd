//! The only place pass or fail is decided.
//!
//! An expectation says what a strategy *should* do under this load. `clean`
//! means every audit check must hold. `oversell` means the no-oversell check
//! must fail while every other check holds: an unsound strategy that stops
//! overselling means the test has lost its teeth, and that fails too.

use std::str::FromStr;

use serde::Serialize;

use crate::audit::{Check, CheckId, ServerFacts};
use crate::metrics::Percentiles;
/// Kept here so `gate::Expect` keeps working.
pub use crate::outcome::Expect;
use crate::report::Figures;
use crate::strategy::{Params, StrategyKind};

/// `--expect STRATEGY=clean|oversell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectOverride {
    pub strategy: StrategyKind,
    pub expect: Expect,
}

impl FromStr for ExpectOverride {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, expect) = s
            .split_once('=')
            .ok_or_else(|| format!("expected STRATEGY=clean|oversell|double-restock, got '{s}'"))?;
        Ok(ExpectOverride {
            strategy: name.parse()?,
            expect: expect.parse()?,
        })
    }
}

/// Everything a strategy must do: the oversell expectation and the
/// thresholds of a scenario's `[expect.<strategy>]` table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expectation {
    /// None: the default for the strategy ([`expected`]).
    pub oversell: Option<Expect>,
    pub max_p99_ms: Option<f64>,
    pub min_purchases_per_s: Option<f64>,
    pub max_gave_up: Option<u64>,
    pub max_errors: Option<u64>,
    pub max_false_sold_out: Option<u64>,
    pub sold_out: Option<bool>,
    /// Some(false) tolerates a failed conservation check.
    pub conservation: Option<bool>,
}

/// The thresholds as checks. Each one set is evaluated, even when its metric
/// recorded nothing: zero is a value, and "no samples" fails a latency budget
/// rather than passing it unseen.
pub fn thresholds(
    e: &Expectation,
    f: &Figures,
    latency: &Percentiles,
    server: &ServerFacts,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut add = |id, passed, detail: String| checks.push(Check { id, passed, detail });
    if let Some(max) = e.max_p99_ms {
        let (passed, detail) = if latency.count == 0 {
            (
                false,
                format!("no samples: nothing to show p99 <= {max} ms"),
            )
        } else {
            let p99 = latency.p99 as f64 / 1e3;
            (
                p99 <= max,
                format!(
                    "p99 {p99:.2} ms vs max {max} ms over {} buyers",
                    latency.count
                ),
            )
        };
        add(CheckId::MaxP99, passed, detail);
    }
    if let Some(min) = e.min_purchases_per_s {
        let got = f.purchases_per_s;
        add(
            CheckId::MinPurchasesPerS,
            got >= min,
            format!("{got:.0} purchases/s vs min {min}"),
        );
    }
    if let Some(max) = e.max_gave_up {
        add(
            CheckId::MaxGaveUp,
            f.gave_up <= max,
            format!("{} gave up vs max {max}", f.gave_up),
        );
    }
    if let Some(max) = e.max_errors {
        add(
            CheckId::MaxErrors,
            f.errors <= max,
            format!("{} errors vs max {max}", f.errors),
        );
    }
    if let Some(max) = e.max_false_sold_out {
        let n = f.false_sold_outs;
        add(
            CheckId::MaxFalseSoldOut,
            n <= max,
            format!("{n} false sold-outs vs max {max}"),
        );
    }
    if let Some(want) = e.sold_out {
        let done = server.stock == 0;
        let detail = format!(
            "final stock {} (sold {} of {})",
            server.stock, server.sold, server.initial
        );
        add(CheckId::SoldOut, done == want, detail);
    }
    checks
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub expect: Expect,
    pub held: bool,
    /// Checks whose result differs from what the expectation wants.
    pub failed: Vec<CheckId>,
    /// Checks whose failure this strategy is known for and that are shown
    /// without failing the verdict (compensate's false sold-outs).
    pub tolerated: Vec<CheckId>,
}

pub fn judge(expect: Expect, tolerated: &[CheckId], checks: &[Check]) -> Verdict {
    let (tolerated, failed): (Vec<CheckId>, Vec<CheckId>) = checks
        .iter()
        .filter(|c| c.passed != expect.wants(c.id))
        .map(|c| c.id)
        .partition(|id| tolerated.contains(id));
    Verdict {
        expect,
        held: failed.is_empty(),
        failed,
        tolerated,
    }
}

/// This run, as far as what a strategy must do depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Units the whole crowd asks for.
    pub demand: u64,
    /// Units seeded, all products together.
    pub stock: u64,
    /// Buyers in flight at once.
    pub concurrency: usize,
    /// Buyers hold, then confirm, cancel or abandon (`--reserve`).
    pub reserve: bool,
}

/// What a strategy must do in a run, and the checks it may fail without
/// failing its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub expectation: Expectation,
    pub tolerated: Vec<CheckId>,
}

/// The expected-outcome rule, in one place: the strategy's facts, this
/// run's load and the user's own expectation (`--expect`, a scenario's
/// `[expect.<strategy>]`, None when neither says) make what the verdict
/// holds the strategy to.
///
/// A control group must show its flaw only when the crowd can provoke it:
/// at least two buyers in flight, and for an oversell more demand than
/// stock. Otherwise, and for every sound strategy, it must be clean.
pub fn expected(
    kind: StrategyKind,
    params: &Params,
    run: &Run,
    given: Option<&Expectation>,
) -> Expected {
    let facts = kind.facts();
    let mut expectation = given.cloned().unwrap_or_default();
    let by_design = || match (facts.control)(params) {
        Some(_) if run.concurrency < 2 => Expect::Clean,
        Some(Expect::Oversell) if run.demand <= run.stock => Expect::Clean,
        Some(flaw) => flaw,
        None => Expect::Clean,
    };
    expectation.oversell = Some(expectation.oversell.unwrap_or_else(by_design));
    let mut tolerated = (facts.tolerates)(params).to_vec();
    if expectation.conservation == Some(false) {
        tolerated.push(CheckId::Conservation);
    }
    if run.reserve {
        // Holds that expire after a buyer was told "sold out" put units
        // back on the shelf: the lost sale is real, and shown, but it is
        // what reservations cost, not a fault of the strategy.
        tolerated.push(CheckId::NoLostSales);
    }
    Expected {
        expectation,
        tolerated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(passed: bool) -> Vec<Check> {
        [
            CheckId::NoOversell,
            CheckId::Conservation,
            CheckId::OrdersMatch,
        ]
        .into_iter()
        .map(|id| Check {
            id,
            passed,
            detail: String::new(),
        })
        .collect()
    }

    #[test]
    fn clean_needs_every_check() {
        assert!(judge(Expect::Clean, &[], &all(true)).held);
        assert!(!judge(Expect::Clean, &[], &all(false)).held);
    }

    #[test]
    fn expected_oversell_that_did_not_happen_fails() {
        let v = judge(Expect::Oversell, &[], &all(true));
        assert!(!v.held);
        assert_eq!(v.failed, vec![CheckId::NoOversell]);
        let mut oversold = all(true);
        oversold[0].passed = false;
        assert!(judge(Expect::Oversell, &[], &oversold).held);
    }

    #[test]
    fn tolerated_failures_are_kept_apart() {
        let mut checks = all(true);
        checks[1].passed = false;
        let v = judge(Expect::Clean, &[CheckId::Conservation], &checks);
        assert!(v.held);
        assert_eq!(v.tolerated, vec![CheckId::Conservation]);
    }

    #[test]
    fn overrides_parse() {
        let o: ExpectOverride = "watch=oversell".parse().unwrap();
        assert_eq!(
            (o.strategy, o.expect),
            (StrategyKind::Watch, Expect::Oversell)
        );
        assert!("watch".parse::<ExpectOverride>().is_err());
        assert!("nope=clean".parse::<ExpectOverride>().is_err());
    }
}
