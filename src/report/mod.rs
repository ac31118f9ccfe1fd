//! The finished run as data. Presentation modules only format a [`Report`];
//! they compute nothing.

pub mod export;
pub mod json;
pub mod junit;
pub mod markdown;
mod measures;
mod progress;
mod shop;
pub mod table;

pub use export::{Exporter, Format, Output, Outputs, Target};
pub use progress::{Progress, StockProbe};

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::audit::{self, Check, CheckId, ServerFacts};
use crate::cpu::CpuUse;
use crate::crowd::{CartPlan, Product, QtyRange};
use crate::error::ExitStatus;
use crate::gate::Expectation;
use crate::gate::{self, Expect, Verdict};
use crate::load::DurationRange;
use crate::metrics::{ByOutcome, Percentiles, Tally, Timeline};
use crate::schedule::LoadShape;
use crate::strategy::reserve::ReservePlan;
use crate::strategy::{ErrorClass, StrategyKind};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub meta: RunMeta,
    pub strategies: Vec<StrategyReport>,
    /// Strategies the server could not run (e.g. functions before Redis 7).
    pub unavailable: Vec<Unavailable>,
    /// Ctrl-C stopped the run early; the figures cover what ran.
    pub interrupted: bool,
    /// False on the snapshots handed out while strategies are still to run,
    /// so a file left behind by a crash says it is partial.
    pub finished: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unavailable {
    pub strategy: StrategyKind,
    pub reason: String,
}

/// What the run was: enough to repeat it.
#[derive(Debug, Clone, Serialize)]
pub struct RunMeta {
    pub run_id: String,
    /// The scenario's name, when the run came from one.
    pub scenario: Option<String>,
    pub seed: u64,
    /// Every strategy the run was asked for, in order; `Report::strategies`
    /// holds those that have run so far.
    pub strategies: Vec<StrategyKind>,
    pub buyers: u32,
    /// Closed burst or open model, and the open model's rate curve.
    pub load: LoadShape,
    /// Think time added to every retry's backoff.
    pub think: DurationRange,
    pub stock: u64,
    /// Products on sale (one, named "item", in a single-product run).
    pub products: Vec<Product>,
    /// Cart runs: how carts were drawn.
    pub carts: Option<CartPlan>,
    /// Reservation runs: the hold flow.
    pub reserve: Option<ReservePlan>,
    pub qty: QtyRange,
    /// Units the whole crowd asks for.
    pub demand: u64,
    pub concurrency: usize,
    pub connections: usize,
    pub max_retries: u32,
    /// The URL with its password masked.
    pub redis_url: String,
    /// Whether blackfriday started this redis-server itself, and its pid.
    pub managed_pid: Option<u32>,
    pub server_version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyReport {
    pub strategy: StrategyKind,
    pub figures: Figures,
    /// Intended-start-to-outcome latency of every buyer, µs (from the
    /// release in a burst).
    pub latency: Percentiles,
    /// The same, by final outcome.
    pub latency_by_outcome: ByOutcome<Percentiles>,
    /// First-send-to-outcome time of every buyer, µs.
    pub service: Percentiles,
    /// Retries made by each buyer who purchased.
    pub retries: Percentiles,
    /// Purchases and attempts per 1-second bucket since the release.
    pub timeline: Timeline,
    pub cpu: CpuUse,
    pub server: ServerFacts,
    pub checks: Vec<Check>,
    pub verdict: Verdict,
    /// Reservation runs: the holders' side and the reaper's.
    pub holds: Option<HoldFigures>,
}

/// What the holders were told and how the reaper kept up. How the holds
/// really ended is the server's account, in [`ServerFacts::holds`].
#[derive(Debug, Clone, Serialize)]
pub struct HoldFigures {
    pub placed: u64,
    pub confirmed: u64,
    /// Confirms that came after the hold had already ended.
    pub confirm_late: u64,
    pub cancelled: u64,
    pub cancel_late: u64,
    pub abandoned: u64,
    pub settle_errors: u64,
    pub rebuys: u64,
    /// Latency of each confirm and cancel call, µs.
    pub confirm_us: Percentiles,
    pub cancel_us: Percentiles,
    /// Holds the reaper returned to stock.
    pub reaped: u64,
    /// From a hold's deadline to its units being back in stock, µs.
    pub restock_lag_us: Percentiles,
    pub reaper_errors: u64,
    pub reaper_error_sample: Option<String>,
    /// Holds still open when the reaper's drain gave up.
    pub left_open: u64,
}

impl HoldFigures {
    pub fn new(
        t: &crate::metrics::HoldTally,
        reaper: &crate::strategy::reserve::ReapStats,
    ) -> Self {
        HoldFigures {
            placed: t.placed,
            confirmed: t.confirmed,
            confirm_late: t.confirm_late,
            cancelled: t.cancelled,
            cancel_late: t.cancel_late,
            abandoned: t.abandoned,
            settle_errors: t.settle_errors,
            rebuys: t.rebuys,
            confirm_us: Percentiles::of(&t.confirm),
            cancel_us: Percentiles::of(&t.cancel),
            reaped: reaper.returned,
            restock_lag_us: Percentiles::of(&reaper.lag),
            reaper_errors: reaper.errors,
            reaper_error_sample: reaper.last_error.clone(),
            left_open: reaper.left_open,
        }
    }
}

/// The client-side figures of one strategy. Correctness numbers are in
/// [`ServerFacts`]; these say what buyers were told and how fast.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub purchased: u64,
    pub sold_out: u64,
    /// Sold-out answers to buyers whose quantity is still in stock at the
    /// end (from the stock the audit read back).
    pub false_sold_outs: u64,
    pub gave_up: u64,
    pub errors: u64,
    pub errors_by_class: BTreeMap<ErrorClass, u64>,
    /// First message seen per error class.
    pub error_samples: BTreeMap<ErrorClass, String>,
    pub units_purchased: u64,
    pub attempts: u64,
    pub conflicts: u64,
    pub round_trips: u64,
    pub duration_s: f64,
    /// When the last purchase was acknowledged, seconds after the release.
    pub last_sale_s: f64,
    pub purchases_per_s: f64,
    pub attempts_per_s: f64,
    pub retries_per_purchase: f64,
    pub round_trips_per_purchase: f64,
    /// Buyers that started more than 2 ms after their intended time (every
    /// in-flight slot busy, or the generator behind). Meaningful in the
    /// open model; in a burst it counts buyers queued behind the crowd.
    pub late_starts: u64,
}

impl Figures {
    pub fn new(t: &Tally, elapsed: Duration, server: &ServerFacts) -> Figures {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let per_purchase = |n: u64| {
            if t.purchased == 0 {
                0.0
            } else {
                n as f64 / t.purchased as f64
            }
        };
        Figures {
            purchased: t.purchased,
            sold_out: t.sold_out,
            false_sold_outs: t
                .turned_away_with(&server.products.iter().map(|p| p.stock).collect::<Vec<_>>())
                .sold_out,
            gave_up: t.gave_up,
            errors: t.errors,
            errors_by_class: t.errors_by_class.clone(),
            error_samples: t.error_samples.clone(),
            units_purchased: t.units_purchased,
            attempts: t.attempts,
            conflicts: t.conflicts,
            round_trips: t.round_trips,
            duration_s: elapsed.as_secs_f64(),
            last_sale_s: t.last_purchase_us as f64 / 1e6,
            purchases_per_s: t.purchased as f64 / secs,
            attempts_per_s: t.attempts as f64 / secs,
            retries_per_purchase: per_purchase(t.conflicts),
            round_trips_per_purchase: per_purchase(t.purchase_round_trips),
            late_starts: t.late_starts,
        }
    }
}

impl StrategyReport {
    /// Audit, judge and summarise one strategy's run.
    /// Put a strategy's figures together with the audit and the gate's
    /// checks: thresholds from the expectation, the verdict from the gate.
    pub fn new(
        strategy: StrategyKind,
        expectation: &Expectation,
        tolerated: &[CheckId],
        tally: &Tally,
        elapsed: Duration,
        server: ServerFacts,
        cpu: CpuUse,
    ) -> StrategyReport {
        let figures = Figures::new(tally, elapsed, &server);
        let latency = Percentiles::of(&tally.latency);
        let mut checks = audit::checks(&server, tally);
        checks.extend(gate::thresholds(expectation, &figures, &latency, &server));
        let expect = expectation.oversell.unwrap_or(Expect::Clean);
        StrategyReport {
            strategy,
            figures,
            latency,
            latency_by_outcome: tally.by_outcome.map(Percentiles::of),
            service: Percentiles::of(&tally.service),
            retries: Percentiles::of(&tally.retries),
            timeline: tally.timeline.clone().squared(),
            cpu,
            verdict: gate::judge(expect, tolerated, &checks),
            checks,
            server,
            holds: None,
        }
    }

    pub fn expect(&self) -> Expect {
        self.verdict.expect
    }
}

impl Report {
    /// Strategies whose expectation failed, as the gate judged them.
    pub fn failed(&self) -> impl Iterator<Item = &StrategyReport> {
        self.strategies.iter().filter(|s| !s.verdict.held)
    }

    pub fn status(&self) -> ExitStatus {
        if !self.unavailable.is_empty() {
            // The run is incomplete: no verdict can claim it held.
            ExitStatus::Infra
        } else if self.interrupted {
            // Buyers stopped by Ctrl-C gave up with stock left: the checks
            // describe what ran, but a stopped run can neither pass nor fail.
            ExitStatus::Interrupted
        } else if self.failed().next().is_some() {
            ExitStatus::ExpectationFailed
        } else {
            ExitStatus::Held
        }
    }

    pub fn strategy(&self, kind: StrategyKind) -> Option<&StrategyReport> {
        self.strategies.iter().find(|s| s.strategy == kind)
    }
}
