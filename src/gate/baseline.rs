//! `--baseline PREVIOUS.json` and `--max-regression PCT`: each strategy's
//! key figures against an earlier JSON report of the same scenario. The
//! comparisons are threshold results, so they show, export and decide the
//! exit status (4) as `--threshold` does; without `--max-regression` they
//! are warn-only and only show the change. A scenario's `[[threshold]]`
//! table may set the allowed regression of one figure (`figure =
//! "watch.p99"`, `max_regression = 15`), which wins over the flag for it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::findings::repeat::{self, Spread};
use crate::findings::{Report, StrategyReport, ThresholdResult};
use crate::strategy::StrategyKind;

/// A key figure: where the JSON holds it, and which way is better.
struct Key {
    name: &'static str,
    json: &'static str,
    higher_is_better: bool,
    /// µs, shown in ms.
    time: bool,
    read: fn(&StrategyReport) -> f64,
}

const KEYS: &[Key] = &[
    Key {
        name: "purchases_per_s",
        json: "/figures/purchases_per_s",
        higher_is_better: true,
        time: false,
        read: |s| s.figures.purchases_per_s,
    },
    Key {
        name: "p50",
        json: "/latency_us/p50",
        higher_is_better: false,
        time: true,
        read: |s| s.latency.p50 as f64,
    },
    Key {
        name: "p99",
        json: "/latency_us/p99",
        higher_is_better: false,
        time: true,
        read: |s| s.latency.p99 as f64,
    },
    Key {
        name: "p99_9",
        json: "/latency_us/p999",
        higher_is_better: false,
        time: true,
        read: |s| s.latency.p999 as f64,
    },
    Key {
        name: "attempts_per_s",
        json: "/figures/attempts_per_s",
        higher_is_better: true,
        time: false,
        read: |s| s.figures.attempts_per_s,
    },
];

/// The figures a baseline compares, for errors and help.
pub fn figure_names() -> Vec<&'static str> {
    KEYS.iter().map(|k| k.name).collect()
}

/// One figure's allowed regression, from a scenario's `[[threshold]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionLimit {
    /// None: `*`, every strategy.
    pub strategy: Option<StrategyKind>,
    pub figure: &'static str,
    /// Percent, 0 or more.
    pub pct: f64,
    /// Shown, never fails the run.
    pub warn: bool,
}

impl RegressionLimit {
    /// `STRATEGY.FIGURE` (or `*.FIGURE`) with its percent; errors say what
    /// is wrong, the caller names where.
    pub fn parse(spec: &str, pct: f64, warn: bool) -> std::result::Result<Self, String> {
        let (who, fig) = spec
            .trim()
            .split_once('.')
            .ok_or_else(|| format!("'{spec}' is not STRATEGY.FIGURE (e.g. watch.p99)"))?;
        let strategy = match who {
            "*" => None,
            name => Some(name.parse::<StrategyKind>().map_err(|e| e.to_string())?),
        };
        let figure = KEYS.iter().find(|k| k.name == fig).map(|k| k.name);
        let figure = figure.ok_or_else(|| {
            format!(
                "a baseline compares {}, not '{fig}'",
                figure_names().join(", ")
            )
        })?;
        if !pct.is_finite() || pct < 0.0 {
            return Err(format!(
                "max_regression must be a percent of 0 or more, got {pct}"
            ));
        }
        Ok(RegressionLimit {
            strategy,
            figure,
            pct,
            warn,
        })
    }

    fn applies(&self, strategy: StrategyKind, figure: &str) -> bool {
        self.figure == figure && self.strategy.is_none_or(|k| k == strategy)
    }
}

/// The limit for one figure of one strategy: a table naming the strategy
/// wins over a `*` table, and either over `--max-regression`. None: the
/// comparison only shows.
fn limit_for(
    limits: &[RegressionLimit],
    global: Option<f64>,
    strategy: StrategyKind,
    figure: &str,
) -> Option<(f64, bool)> {
    let mut matching: Vec<&RegressionLimit> = limits
        .iter()
        .filter(|l| l.applies(strategy, figure))
        .collect();
    matching.sort_by_key(|l| l.strategy.is_none());
    match matching.first() {
        Some(l) => Some((l.pct, l.warn)),
        None => global.map(|g| (g, false)),
    }
}

/// The earlier report's key figures, per strategy name.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    pub scenario: Option<String>,
    figures: BTreeMap<(String, &'static str), Spread>,
}

impl Baseline {
    /// Read `path`; a missing or foreign file is a usage error naming the flag.
    pub fn load(path: &Path) -> Result<Baseline> {
        let bad = |why: String| Error::usage(format!("--baseline {}: {why}", path.display()));
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| bad(format!("is not a blackfriday JSON report: {e}")))?;
        let runs: Vec<&Value> = match json.get("repetitions").and_then(Value::as_array) {
            Some(r) if !r.is_empty() => r.iter().collect(),
            _ => vec![&json],
        };
        let mut values: BTreeMap<(String, &'static str), Vec<f64>> = BTreeMap::new();
        for run in runs {
            let strategies = run
                .get("strategies")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("has no \"strategies\": is it a --json report?".into()))?;
            for s in strategies {
                let name = s.get("strategy").and_then(Value::as_str).unwrap_or("?");
                for k in KEYS {
                    let v = s.pointer(k.json).and_then(Value::as_f64).ok_or_else(|| {
                        bad(format!("strategy {name} has no number at {}", k.json))
                    })?;
                    values
                        .entry((name.to_string(), k.name))
                        .or_default()
                        .push(v);
                }
            }
        }
        let figures = values
            .into_iter()
            .filter_map(|(k, v)| Spread::of(&v).map(|s| (k, s)))
            .collect();
        let scenario = json.pointer("/run/scenario").and_then(Value::as_str);
        Ok(Baseline {
            path: path.to_path_buf(),
            scenario: scenario.map(str::to_string),
            figures,
        })
    }

    /// One result per key figure of every strategy both reports ran: a
    /// miss when the figure got worse than the baseline's worst repetition
    /// by more than its allowed percent (warn-only when none is set).
    pub fn compare(
        &self,
        report: &Report,
        max_regression: Option<f64>,
        limits: &[RegressionLimit],
    ) -> Vec<ThresholdResult> {
        let mut out = Vec::new();
        for s in &report.strategies {
            for k in KEYS {
                let limit = limit_for(limits, max_regression, s.strategy, k.name);
                let (pct, warn) = limit.unwrap_or((0.0, true));
                let Some(base) = self.figures.get(&(s.strategy.to_string(), k.name)) else {
                    continue;
                };
                let Some(now) = repeat::spread(report, s.strategy, k.read) else {
                    continue;
                };
                let (limit, passed) = if k.higher_is_better {
                    let limit = base.min * (1.0 - pct / 100.0);
                    (limit, now.median >= limit)
                } else {
                    let limit = base.max * (1.0 + pct / 100.0);
                    (limit, now.median <= limit)
                };
                out.push(ThresholdResult {
                    expr: format!("{}.{} within {pct}% of --baseline", s.strategy, k.name),
                    strategy: s.strategy,
                    figure: k.name.to_string(),
                    warn,
                    passed,
                    value: Some(now.median),
                    limit: Some(limit),
                    detail: change(k, base, &now),
                });
            }
        }
        out
    }
}

/// "1,234 vs 1,200 (+2.8%)", latencies in ms.
fn change(k: &Key, base: &Spread, now: &Spread) -> String {
    let show = |v: f64| {
        if k.time {
            format!("{:.2}ms", v / 1000.0)
        } else {
            format!("{v:.0}")
        }
    };
    let pct = if base.median == 0.0 {
        0.0
    } else {
        (now.median - base.median) / base.median * 100.0
    };
    format!(
        "{} now, {} before ({pct:+.1}%)",
        show(now.median),
        show(base.median)
    )
}
