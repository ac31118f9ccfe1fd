//! What each strategy must do and the thresholds it is held to, from the
//! scenario file's tables and the flags on top.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::gate::baseline::RegressionLimit;
use crate::gate::{Expect, Expectation, Threshold};
use crate::scenario::{ExpectTable, Scenario, ThresholdTable};
use crate::strategy::StrategyKind;

/// The file's `[expect.<strategy>]` tables, then `--expect` on top.
pub(super) fn expectations(
    a: &RunArgs,
    f: Option<&Scenario>,
) -> Result<BTreeMap<StrategyKind, Expectation>> {
    let mut out = BTreeMap::new();
    if let Some(f) = f {
        for (name, table) in &f.expect {
            let key = format!("expect.{name}");
            let kind = StrategyKind::from_str(name)
                .map_err(|e| Error::usage(format!("{}: {e}", f.at(&key))))?;
            out.insert(kind, expectation(f, &key, table)?);
        }
    }
    for o in &a.expect {
        out.entry(o.strategy)
            .or_insert_with(Expectation::default)
            .oversell = Some(o.expect);
    }
    Ok(out)
}

fn expectation(f: &Scenario, key: &str, t: &ExpectTable) -> Result<Expectation> {
    let oversell = match t.oversell.as_deref() {
        None => None,
        Some("none") => Some(Expect::Clean),
        Some("expected") => Some(Expect::Oversell),
        Some(other) => {
            return Err(Error::usage(format!(
                "{}: oversell = \"{other}\" (expected \"none\" or \"expected\")",
                f.at(key)
            )))
        }
    };
    let oversell = match t.double_restock.as_deref() {
        None => oversell,
        Some("expected") => Some(Expect::DoubleRestock),
        Some("none") => oversell.or(Some(Expect::Clean)),
        Some(other) => {
            return Err(Error::usage(format!(
                "{}: double_restock = \"{other}\" (expected \"none\" or \"expected\")",
                f.at(key)
            )))
        }
    };
    for (name, v) in [
        ("max_p99_ms", t.max_p99_ms),
        ("min_purchases_per_s", t.min_purchases_per_s),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(Error::usage(format!(
                "{}: {name} must be a number of 0 or more",
                f.at(key)
            )));
        }
    }
    Ok(Expectation {
        oversell,
        max_p99_ms: t.max_p99_ms,
        min_purchases_per_s: t.min_purchases_per_s,
        max_gave_up: t.max_gave_up,
        max_errors: t.max_errors,
        max_false_sold_out: t.max_false_sold_out,
        sold_out: t.sold_out,
        conservation: t.conservation,
    })
}

/// The file's `[[threshold]]` tables, then `--threshold`: both add. Each
/// strategy named must be one this run has, or the threshold could never
/// be shown to hold. Tables with `figure` and `max_regression` are
/// regression limits against `--baseline` instead.
pub(super) fn thresholds(
    a: &RunArgs,
    f: Option<&Scenario>,
    strategies: &[StrategyKind],
) -> Result<(Vec<Threshold>, Vec<RegressionLimit>)> {
    let mut texts = Vec::new();
    let mut limits = Vec::new();
    if let Some(f) = f {
        for (i, t) in f.threshold.iter().enumerate() {
            match table(f, i, t, strategies)? {
                Table::Expr(text, origin) => texts.push((text, origin)),
                Table::Regression(l) => limits.push(l),
            }
        }
    }
    let from_flags = a
        .thresholds
        .iter()
        .map(|t| (t.clone(), format!("--threshold '{t}'")));
    let mut out = Vec::new();
    for (text, origin) in texts.into_iter().chain(from_flags) {
        let t: Threshold = text
            .parse()
            .map_err(|e| Error::usage(format!("{origin}: {e}")))?;
        for named in t.strategies() {
            in_run(named, strategies, &origin)?;
        }
        out.push(t);
    }
    Ok((out, limits))
}

enum Table {
    Expr(String, String),
    Regression(RegressionLimit),
}

/// One `[[threshold]]` table: `expr`, or `figure` with `max_regression`.
fn table(f: &Scenario, i: usize, t: &ThresholdTable, strategies: &[StrategyKind]) -> Result<Table> {
    let at = |key: &str| f.at(&format!("threshold[{i}].{key}"));
    match (&t.expr, &t.figure, t.max_regression) {
        (Some(expr), None, None) => {
            let text = match t.warn {
                true if !expr.trim_start().starts_with("warn:") => format!("warn: {expr}"),
                _ => expr.clone(),
            };
            Ok(Table::Expr(text, at("expr")))
        }
        (None, Some(figure), Some(pct)) => {
            let l = RegressionLimit::parse(figure, pct, t.warn)
                .map_err(|e| Error::usage(format!("{}: {e}", at("figure"))))?;
            if let Some(k) = l.strategy {
                in_run(k, strategies, &at("figure"))?;
            }
            Ok(Table::Regression(l))
        }
        _ => Err(Error::usage(format!(
            "{}: give either expr = \"STRATEGY.FIGURE OP VALUE\", or figure = \"STRATEGY.FIGURE\" with max_regression = PCT",
            f.at(&format!("threshold[{i}]"))
        ))),
    }
}

fn in_run(named: StrategyKind, strategies: &[StrategyKind], origin: &str) -> Result<()> {
    if strategies.contains(&named) {
        return Ok(());
    }
    let run: Vec<&str> = strategies.iter().map(|k| k.name()).collect();
    Err(Error::usage(format!(
        "{origin}: {named} is not among this run's strategies ({})",
        run.join(", ")
    )))
}
