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

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::audit::{Check, CheckId};
use crate::strategy::{Params, StrategyKind};

mod assess;
mod thresholds;

pub use crate::findings::Verdict;
pub use assess::{assess, Evidence};
pub use thresholds::thresholds;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Clean,
    Oversell,
    /// `reserve-naive`: ending holds races the reaper, and some hold's units
    /// must go back to stock twice.
    #[serde(rename = "double-restock")]
    DoubleRestock,
}

impl Expect {
    /// Strategies unsound by design are expected to oversell whenever the
    /// crowd asks for more than the stock and at least two buyers are in
    /// flight; with enough stock for everyone, or one buyer at a time,
    /// nothing can oversell, so every strategy must then be clean.
    pub fn default_for(
        kind: StrategyKind,
        params: &Params,
        demand: u64,
        stock: u64,
        concurrency: usize,
    ) -> Expect {
        if kind == StrategyKind::ReserveNaive && concurrency >= 2 {
            Expect::DoubleRestock
        } else if kind.oversells_by_design(params) && demand > stock && concurrency >= 2 {
            Expect::Oversell
        } else {
            Expect::Clean
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Expect::Clean => "clean",
            Expect::Oversell => "oversell",
            Expect::DoubleRestock => "double-restock",
        }
    }

    /// Whether a check's result is the one this expectation asks for.
    pub fn wants(self, id: CheckId) -> bool {
        self.tooth() != Some(id)
    }

    /// The check this expectation wants to fail: the control group's tooth.
    pub fn tooth(self) -> Option<CheckId> {
        match self {
            Expect::Clean => None,
            Expect::Oversell => Some(CheckId::NoOversell),
            Expect::DoubleRestock => Some(CheckId::NoDoubleRestock),
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Expect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "clean" => Ok(Expect::Clean),
            "oversell" => Ok(Expect::Oversell),
            "double-restock" => Ok(Expect::DoubleRestock),
            other => Err(format!(
                "unknown expectation '{other}' (known: clean, oversell, double-restock)"
            )),
        }
    }
}

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
    /// None: the default for the strategy ([`Expect::default_for`]).
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
