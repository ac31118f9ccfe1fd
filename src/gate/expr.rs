//! `--threshold` and `[[threshold]]`: `[warn:] STRATEGY.FIGURE OP VALUE`.
//!
//! STRATEGY is a strategy's name or `*` (every strategy that ran). FIGURE is
//! any per-strategy figure of the JSON report ([`FIGURES`]). VALUE is a
//! number (latencies take a unit: `25ms`), or relative to another
//! strategy's figure: `0.3 * lua.purchases_per_s`. Parsed when the
//! configuration is resolved, so a typo is exit 2 before any buyer runs.

use std::fmt;

use crate::findings::StrategyReport;
use crate::strategy::StrategyKind;

/// One figure a threshold can name, and how it is read from a report.
pub struct Figure {
    pub name: &'static str,
    /// A latency or duration, held in µs: its values take a unit.
    pub time: bool,
    read: fn(&StrategyReport) -> f64,
}

impl Figure {
    pub fn read(&self, s: &StrategyReport) -> f64 {
        (self.read)(s)
    }
}

const fn fig(name: &'static str, time: bool, read: fn(&StrategyReport) -> f64) -> Figure {
    Figure { name, time, read }
}

/// Every figure a threshold can name. Latencies are the buyers' latency
/// (`latency_us` in the JSON); a figure with no samples reads 0 and is
/// still evaluated: zero is a value, not a pass.
pub const FIGURES: &[Figure] = &[
    fig("p50", true, |s| s.latency.p50 as f64),
    fig("p90", true, |s| s.latency.p90 as f64),
    fig("p99", true, |s| s.latency.p99 as f64),
    fig("p99_9", true, |s| s.latency.p999 as f64),
    fig("max", true, |s| s.latency.max as f64),
    fig("mean", true, |s| s.latency.mean),
    fig("service_p99", true, |s| s.service.p99 as f64),
    fig("duration", true, |s| s.figures.duration_s * 1e6),
    fig("last_sale", true, |s| s.figures.last_sale_s * 1e6),
    fig("purchases_per_s", false, |s| s.figures.purchases_per_s),
    fig("attempts_per_s", false, |s| s.figures.attempts_per_s),
    fig("retries_per_purchase", false, |s| {
        s.figures.retries_per_purchase
    }),
    fig("round_trips_per_purchase", false, |s| {
        s.figures.round_trips_per_purchase
    }),
    fig("purchased", false, |s| s.figures.purchased as f64),
    fig("sold_out", false, |s| s.figures.sold_out as f64),
    fig("false_sold_outs", false, |s| {
        s.figures.false_sold_outs as f64
    }),
    fig("gave_up", false, |s| s.figures.gave_up as f64),
    fig("errors", false, |s| s.figures.errors as f64),
    fig("attempts", false, |s| s.figures.attempts as f64),
    fig("conflicts", false, |s| s.figures.conflicts as f64),
    fig("unknown", false, |s| s.figures.unknown as f64),
    fig("late_starts", false, |s| s.figures.late_starts as f64),
    fig("oversold", false, |s| s.server.oversold() as f64),
    fig("final_stock", false, |s| s.server.stock as f64),
    fig("sold", false, |s| s.server.sold as f64),
    fig("orders", false, |s| s.server.orders as f64),
];

pub fn figure(name: &str) -> Option<&'static Figure> {
    FIGURES.iter().find(|f| f.name == name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `*`: every strategy that ran.
    All,
    One(StrategyKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// Longest first, so `<=` is not read as `<`.
const OPS: [(&str, Op); 6] = [
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<", Op::Lt),
    (">", Op::Gt),
];

impl Op {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Eq => left == right,
            Op::Ne => left != right,
        }
    }

    pub fn symbol(self) -> &'static str {
        OPS.iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(s, _)| s)
    }
}

/// The right side: a fixed value (µs for a latency) or a share of another
/// strategy's figure.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    Value(f64),
    Relative {
        factor: f64,
        strategy: StrategyKind,
        figure: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As the user wrote it, for reports and messages.
    pub text: String,
    /// `warn:`: shown, never fails the run.
    pub warn: bool,
    pub target: Target,
    pub figure: &'static str,
    pub op: Op,
    pub limit: Limit,
}

impl Threshold {
    /// The strategies it names, on either side (none for `*`).
    pub fn strategies(&self) -> Vec<StrategyKind> {
        let mut named = Vec::new();
        if let Target::One(k) = self.target {
            named.push(k);
        }
        if let Limit::Relative { strategy, .. } = self.limit {
            named.push(strategy);
        }
        named
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Threshold {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        parse(text)
    }
}

const SYNTAX: &str = "expected [warn:] STRATEGY.FIGURE OP VALUE, e.g. 'watch.p99 <= 25ms' \
                      or 'watch.purchases_per_s >= 0.3 * lua.purchases_per_s'";

/// Parse one expression. The error says what is wrong and what is known;
/// the caller adds where the expression came from.
pub fn parse(text: &str) -> Result<Threshold, String> {
    let body = text.trim();
    let (warn, body) = match body.strip_prefix("warn:") {
        Some(rest) => (true, rest.trim()),
        None => (false, body),
    };
    let (at, sym, op) = OPS
        .iter()
        .filter_map(|(sym, op)| body.find(sym).map(|at| (at, *sym, *op)))
        .min_by_key(|(at, sym, _)| (*at, usize::MAX - sym.len()))
        .ok_or_else(|| format!("no comparison (<, <=, >, >=, ==, !=): {SYNTAX}"))?;
    let (left, right) = (body[..at].trim(), body[at + sym.len()..].trim());
    let (target, figure) = reference(left, true)?;
    let limit = limit(right, figure)?;
    Ok(Threshold {
        text: text.trim().to_string(),
        warn,
        target,
        figure: figure.name,
        op,
        limit,
    })
}

/// `STRATEGY.FIGURE`; `*` only where every strategy may be meant.
fn reference(s: &str, star: bool) -> Result<(Target, &'static Figure), String> {
    let (who, what) = s
        .split_once('.')
        .ok_or_else(|| format!("'{s}' is not STRATEGY.FIGURE: {SYNTAX}"))?;
    let target = match who.trim() {
        "*" if star => Target::All,
        "*" => return Err(format!("'{s}': the right side names one strategy, not '*'")),
        name => Target::One(name.parse()?),
    };
    let figure = figure(what.trim()).ok_or_else(|| {
        let known: Vec<&str> = FIGURES.iter().map(|f| f.name).collect();
        format!(
            "unknown figure '{}' (known: {})",
            what.trim(),
            known.join(", ")
        )
    })?;
    Ok((target, figure))
}

fn limit(s: &str, left: &Figure) -> Result<Limit, String> {
    let parts: Vec<&str> = s.splitn(2, '*').map(str::trim).collect();
    // `0.3` is a number; `lua.p99` and `*.p99` are references.
    let is_ref = |p: &str| p.contains('.') && !p.starts_with(|c: char| c.is_ascii_digit());
    let (factor, reference_text) = match parts.as_slice() {
        [one] if is_ref(one) => ("1", *one),
        [one] => return value(one, left).map(Limit::Value),
        [a, b] if is_ref(b) => (*a, *b),
        [a, b] if is_ref(a) => (*b, *a),
        _ => return Err(format!("right side '{s}': {SYNTAX}")),
    };
    let factor = number(factor).ok_or_else(|| format!("'{factor}' is not a number"))?;
    let (Target::One(strategy), figure) = reference(reference_text, false)? else {
        unreachable!("a right side never names '*'")
    };
    if figure.time != left.time {
        return Err(format!(
            "{} and {} are not the same kind of figure (a latency against a count)",
            left.name, figure.name
        ));
    }
    Ok(Limit::Relative {
        factor,
        strategy,
        figure: figure.name,
    })
}

/// A fixed value: latencies in µs from `25ms`, `500us`, `1.5s`.
fn value(s: &str, figure: &Figure) -> Result<f64, String> {
    if !figure.time {
        return number(s).ok_or_else(|| format!("'{s}' is not a number for {}", figure.name));
    }
    let units = [("us", 1.0), ("µs", 1.0), ("ms", 1e3), ("s", 1e6)];
    units
        .iter()
        .find_map(|(unit, scale)| s.strip_suffix(unit).and_then(number).map(|v| v * scale))
        .ok_or_else(|| {
            format!(
                "'{s}': {} is a latency, give it a unit (500us, 25ms, 1.5s)",
                figure.name
            )
        })
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_relative_and_warn_only_parse() {
        let t = parse("watch.p99 <= 25ms").unwrap();
        assert_eq!(
            (t.target, t.figure, t.op, t.limit, t.warn),
            (
                Target::One(StrategyKind::Watch),
                "p99",
                Op::Le,
                Limit::Value(25_000.0),
                false
            )
        );
        let t = parse("warn: watch.purchases_per_s >= 0.3 * lua.purchases_per_s").unwrap();
        assert!(t.warn);
        assert_eq!(
            t.limit,
            Limit::Relative {
                factor: 0.3,
                strategy: StrategyKind::Lua,
                figure: "purchases_per_s"
            }
        );
        let t = parse("*.gave_up == 0").unwrap();
        assert_eq!((t.target, t.limit), (Target::All, Limit::Value(0.0)));
        assert_eq!(parse("lua.p99_9<1.5s").unwrap().limit, Limit::Value(1.5e6));
    }

    #[test]
    fn mistakes_say_what_is_known() {
        let e = parse("watch.p98 < 5ms").unwrap_err();
        assert!(
            e.contains("unknown figure 'p98'") && e.contains("p99_9"),
            "{e}"
        );
        let e = parse("wach.p99 < 5ms").unwrap_err();
        assert!(
            e.contains("unknown strategy 'wach'") && e.contains("watch"),
            "{e}"
        );
        let e = parse("watch.p99 < 5").unwrap_err();
        assert!(e.contains("give it a unit"), "{e}");
        let e = parse("watch.p99 5ms").unwrap_err();
        assert!(e.contains("no comparison"), "{e}");
        let e = parse("watch.p99 < 2 * *.p99").unwrap_err();
        assert!(e.contains("not '*'"), "{e}");
        let e = parse("watch.p99 < 2 * lua.gave_up").unwrap_err();
        assert!(e.contains("not the same kind"), "{e}");
    }
}
