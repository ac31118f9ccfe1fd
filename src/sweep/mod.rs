//! `blackfriday sweep`: one run flag varied over points, every point a full
//! run of every strategy with the server audit. This module holds the
//! points (`points`) and the sweep's result as data, collected from each
//! point's finished [`Report`]; `report/sweep` formats it.

pub mod points;

pub use points::{Param, Values};

use crate::error::ExitStatus;
use crate::findings::{Report, StrategyReport};
use crate::outcome::{CheckId, Expect};
use crate::strategy::StrategyKind;

/// The whole sweep so far.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub param: Param,
    /// The values were a log range: plots use a log axis.
    pub log: bool,
    /// Every planned value, in run order.
    pub values: Vec<f64>,
    pub strategies: Vec<StrategyKind>,
    /// The points that ran, in run order.
    pub points: Vec<Point>,
    /// Every planned point ran (false on the snapshots written between
    /// points, and when a point stopped the sweep).
    pub finished: bool,
    /// Why the sweep stopped early, and its exit status.
    pub stopped: Option<(ExitStatus, String)>,
}

/// One point: the value, the run that measured it, and its verdict.
#[derive(Debug, Clone)]
pub struct Point {
    pub value: f64,
    pub seed: u64,
    pub run_id: String,
    pub buyers: u32,
    pub stock: u64,
    pub demand: u64,
    /// The run's own exit status.
    pub status: ExitStatus,
    pub rows: Vec<Row>,
    /// Strategies the server could not run, with the reason.
    pub unavailable: Vec<(StrategyKind, String)>,
    /// Threshold expressions missed (not warn-only).
    pub thresholds_missed: Vec<String>,
}

/// One strategy at one point: the figures the sweep compares, the audit's
/// numbers read back from Redis, and the gate's verdict.
#[derive(Debug, Clone)]
pub struct Row {
    pub strategy: StrategyKind,
    pub expect: Expect,
    pub held: bool,
    /// Checks whose result differs from what the expectation wants.
    pub failed: Vec<CheckId>,
    pub purchased: u64,
    pub sold_out: u64,
    pub gave_up: u64,
    pub errors: u64,
    /// From the server: the sold counters, the stock left, the oversell.
    pub sold: i64,
    pub stock_left: i64,
    pub oversold: i64,
    pub purchases_per_s: f64,
    pub attempts_per_s: f64,
    pub retries_per_purchase: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub duration_s: f64,
}

impl Row {
    fn of(s: &StrategyReport) -> Row {
        let f = &s.figures;
        Row {
            strategy: s.strategy,
            expect: s.expect(),
            held: s.verdict.held,
            failed: s.verdict.failed.clone(),
            purchased: f.purchased,
            sold_out: f.sold_out,
            gave_up: f.gave_up,
            errors: f.errors,
            sold: s.server.sold,
            stock_left: s.server.stock,
            oversold: s.server.oversold(),
            purchases_per_s: f.purchases_per_s,
            attempts_per_s: f.attempts_per_s,
            retries_per_purchase: f.retries_per_purchase,
            p50_us: s.latency.p50,
            p99_us: s.latency.p99,
            duration_s: f.duration_s,
        }
    }
}

/// A strategy whose purchases per second fell below half of another's.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfSpeed {
    pub slow: StrategyKind,
    pub fast: StrategyKind,
    /// The first point at which it was below half; None: never.
    pub from: Option<f64>,
}

impl Sweep {
    pub fn new(param: Param, log: bool, values: Vec<f64>, strategies: Vec<StrategyKind>) -> Sweep {
        Sweep {
            param,
            log,
            values,
            strategies,
            points: Vec::new(),
            finished: false,
            stopped: None,
        }
    }

    /// Add the point measured at `value` from its run's report.
    pub fn push(&mut self, value: f64, r: &Report) {
        self.points.push(Point {
            value,
            seed: r.meta.seed,
            run_id: r.meta.run_id.clone(),
            buyers: r.meta.buyers,
            stock: r.meta.stock,
            demand: r.meta.demand,
            status: r.status(),
            rows: r.strategies.iter().map(Row::of).collect(),
            unavailable: r
                .unavailable
                .iter()
                .map(|u| (u.strategy, u.reason.clone()))
                .collect(),
            thresholds_missed: r.thresholds_missed().map(|t| t.expr.clone()).collect(),
        });
    }

    /// The sweep's exit status: a stop decides; otherwise the worst
    /// point's, an interrupted or broken run before a failed expectation,
    /// a failed expectation before a missed threshold.
    pub fn status(&self) -> ExitStatus {
        if let Some((status, _)) = &self.stopped {
            return *status;
        }
        let order = [
            ExitStatus::Interrupted,
            ExitStatus::Infra,
            ExitStatus::Usage,
            ExitStatus::ExpectationFailed,
            ExitStatus::ThresholdsMissed,
        ];
        order
            .into_iter()
            .find(|s| self.points.iter().any(|p| p.status == *s))
            .unwrap_or(ExitStatus::Held)
    }

    /// Points whose run did not hold, in run order.
    pub fn failed(&self) -> impl Iterator<Item = &Point> {
        self.points.iter().filter(|p| p.status != ExitStatus::Held)
    }

    /// For every strategy held to `clean`, against the clean one with the
    /// most purchases per second at the last point: the first point where
    /// it made less than half as many. Control groups are left out: a
    /// strategy that oversells is fast because it is wrong. Empty with
    /// fewer than two clean strategies.
    pub fn half_speed(&self) -> Vec<HalfSpeed> {
        let Some(last) = self.points.last() else {
            return Vec::new();
        };
        let clean = |k: StrategyKind| {
            self.points
                .iter()
                .flat_map(|p| p.rows.iter())
                .filter(|r| r.strategy == k)
                .all(|r| r.expect == Expect::Clean)
        };
        let fast = last
            .rows
            .iter()
            .filter(|r| clean(r.strategy))
            .max_by(|a, b| a.purchases_per_s.total_cmp(&b.purchases_per_s));
        let Some(fast) = fast.map(|r| r.strategy) else {
            return Vec::new();
        };
        let rate = |p: &Point, k: StrategyKind| {
            p.rows
                .iter()
                .find(|r| r.strategy == k)
                .map(|r| r.purchases_per_s)
        };
        let others = self.strategies.iter().filter(|&&k| k != fast && clean(k));
        others
            .map(|&slow| HalfSpeed {
                slow,
                fast,
                from: self
                    .points
                    .iter()
                    .find(|p| match (rate(p, slow), rate(p, fast)) {
                        (Some(s), Some(f)) => s < f / 2.0,
                        _ => false,
                    })
                    .map(|p| p.value),
            })
            .collect()
    }
}
