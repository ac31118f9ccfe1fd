//! Threshold expressions evaluated once every strategy has run: a relative
//! limit (`0.3 * lua.purchases_per_s`) needs the other strategy's figures.

use super::expr::{figure, Limit, Target, Threshold};
use crate::findings::{StrategyReport, ThresholdResult};
use crate::strategy::StrategyKind;

/// One result per threshold and strategy it names (`*`: each that ran).
/// A strategy named but not run fails its threshold: nothing shows it held.
pub fn evaluate(thresholds: &[Threshold], ran: &[StrategyReport]) -> Vec<ThresholdResult> {
    let find = |k: StrategyKind| ran.iter().find(|s| s.strategy == k);
    let mut out = Vec::new();
    for t in thresholds {
        let targets: Vec<(StrategyKind, Option<&StrategyReport>)> = match t.target {
            Target::All => ran.iter().map(|s| (s.strategy, Some(s))).collect(),
            Target::One(k) => vec![(k, find(k))],
        };
        for (strategy, report) in targets {
            out.push(one(t, strategy, report, &find));
        }
    }
    out
}

fn one<'a>(
    t: &Threshold,
    strategy: StrategyKind,
    report: Option<&StrategyReport>,
    find: &dyn Fn(StrategyKind) -> Option<&'a StrategyReport>,
) -> ThresholdResult {
    let fig = figure(t.figure).expect("parsed thresholds name known figures");
    let value = report.map(|s| fig.read(s));
    let (limit, of) = match &t.limit {
        Limit::Value(v) => (Some(*v), String::new()),
        Limit::Relative {
            factor,
            strategy: other,
            figure: name,
        } => {
            let theirs = find(*other).map(|s| figure(name).map_or(0.0, |f| f.read(s)));
            let of = match theirs {
                Some(v) => format!(" = {factor} × {other} {}", show(v, fig.time)),
                None => format!(" ({other} did not run)"),
            };
            (theirs.map(|v| factor * v), of)
        }
    };
    let passed = matches!((value, limit), (Some(v), Some(l)) if t.op.holds(v, l));
    let detail = match (value, limit) {
        (None, _) => format!("{strategy} did not run"),
        (Some(v), Some(l)) => format!(
            "{strategy} {} {} {}{of}",
            show(v, fig.time),
            t.op.symbol(),
            show(l, fig.time)
        ),
        (Some(v), None) => format!("{strategy} {}{of}", show(v, fig.time)),
    };
    ThresholdResult {
        expr: t.text.clone(),
        strategy,
        figure: t.figure.to_string(),
        warn: t.warn,
        passed,
        value,
        limit,
        detail,
    }
}

/// Latencies in the shortest readable unit, counts whole, rates with two
/// decimals.
fn show(v: f64, time: bool) -> String {
    if time && v < 1e3 {
        format!("{v:.0}µs")
    } else if time && v < 1e6 {
        format!("{:.2}ms", v / 1e3)
    } else if time {
        format!("{:.2}s", v / 1e6)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
