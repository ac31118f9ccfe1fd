//! The only place pass or fail is decided.
//!
//! An expectation says what a strategy *should* do under this load. `clean`
//! means every audit check must hold. `oversell` means the no-oversell check
//! must fail while every other check holds: an unsound strategy that stops
//! overselling means the test has lost its teeth, and that fails too.
//!
//! The gate computes, then hands over: [`assess`] turns one strategy's
//! evidence (the driver's tally, the audit's facts) into checks, thresholds
//! and a verdict, and returns the finished [`crate::findings::StrategyReport`]
//! that `report/` only formats.

use std::str::FromStr;

use crate::audit::{Check, CheckId};
/// Kept here so `gate::Expect` keeps working.
pub use crate::outcome::Expect;
use crate::strategy::{Params, StrategyKind};

mod assess;
pub mod baseline;
mod contest;
mod evaluate;
pub mod expr;
mod thresholds;

pub use crate::findings::Verdict;
pub use assess::{assess, Evidence};
pub use contest::contested;
pub use evaluate::evaluate;
pub use expr::Threshold;
pub use thresholds::thresholds;

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
    /// Units an oversell can come from: asked for by buyers who could each
    /// be served alone ([`contested`]; the whole crowd's demand when every
    /// buyer fits the stock).
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
    /// The expectation the verdict holds the strategy to, by its own name:
    /// `expectation.oversell`, or when the gate chose a clean one for a
    /// reason worth naming, that reason ([`Expect::Unprovoked`],
    /// [`Expect::Starved`]). `expectation.oversell` then stays `clean`.
    pub named: Expect,
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
    let by_design = match (facts.control)(params) {
        Some(_) if run.concurrency < 2 => Expect::Clean,
        // Nobody can be sold what another was sold too: a control group
        // that cannot oversell is reported as such, not as a failure.
        Some(Expect::Oversell) if run.demand <= run.stock => Expect::Unprovoked,
        Some(flaw) => flaw,
        None => Expect::Clean,
    };
    let named = expectation.oversell.unwrap_or(by_design);
    expectation.oversell = Some(match named {
        Expect::Unprovoked | Expect::Starved => Expect::Clean,
        other => other,
    });
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
        named,
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
