//! The finished run as data: what ran, what the server held afterwards, and
//! the gate's verdict. The session and the gate build it (`gate::assess`);
//! `report/` only formats it, so nothing here decides or talks to Redis.

pub mod faults;
mod figures;
pub mod repeat;
mod series;

pub use figures::{Figures, HoldFigures};
pub use series::{Spectra, Spectrum, SpectrumPoint, StockSample};

use serde::Serialize;

use crate::audit::{Check, CheckId, ServerFacts};
use crate::cpu::CpuUse;
use crate::crowd::{CartPlan, Product, QtyRange};
use crate::error::ExitStatus;
use crate::fault::{FaultRecord, FaultStep, Fsync};
// The expectation's vocabulary; the leaf `outcome` module is its future home.
use crate::load::DurationRange;
use crate::metrics::{ByOutcome, Percentiles, Race, Timeline};
use crate::outcome::Expect;
use crate::redis::Link;
use crate::schedule::LoadShape;
use crate::strategy::reserve::ReservePlan;
use crate::strategy::StrategyKind;

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
    /// `--threshold` / `[[threshold]]` results, evaluated once every
    /// strategy has run (a limit may name another strategy's figure).
    pub thresholds: Vec<ThresholdResult>,
    /// The run was stopped before it could finish (the server died, a
    /// script stuck, a permission was missing, a signal): why, and with
    /// which exit status. Reports written on that path carry it, so a file
    /// left on disk never claims a verdict the process did not return.
    #[serde(default)]
    pub aborted: Option<Aborted>,
    /// `--repeat N`: every repetition's own report, in seed order; empty
    /// for a single run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repetitions: Vec<Report>,
}

/// One threshold expression on one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdResult {
    /// As the user wrote it.
    pub expr: String,
    pub strategy: StrategyKind,
    pub figure: String,
    /// Warn-only: shown, never fails the run.
    pub warn: bool,
    pub passed: bool,
    /// The figure (µs for a latency); None when the strategy did not run.
    pub value: Option<f64>,
    /// The limit it was compared with; None when it names a strategy that
    /// did not run.
    pub limit: Option<f64>,
    pub detail: String,
}

/// Why a run ended before its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Aborted {
    /// The process's exit status: 3 for the infrastructure, 130 for a signal.
    #[serde(serialize_with = "exit_code")]
    pub status: ExitStatus,
    /// The message printed on stderr (URLs masked).
    pub message: String,
    /// The strategy that was running, if one was.
    pub strategy: Option<StrategyKind>,
}

fn exit_code<S: serde::Serializer>(status: &ExitStatus, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(*status as u8)
}

impl Aborted {
    /// Stopped by a signal (Ctrl-C, SIGTERM) while `strategy` ran.
    pub fn interrupted(strategy: Option<StrategyKind>, message: impl Into<String>) -> Aborted {
        Aborted {
            status: ExitStatus::Interrupted,
            message: message.into(),
            strategy,
        }
    }

    /// Stopped by `error` while `strategy` ran. The caller masks the
    /// message (see `redis::redact`) before it reaches a file.
    pub fn by(error: &crate::error::Error, strategy: Option<StrategyKind>) -> Aborted {
        Aborted {
            status: error.status(),
            message: error.to_string(),
            strategy,
        }
    }
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
    /// `--retry-unknown`: unknown outcomes were retried too.
    pub retry_unknown: bool,
    /// The URL with its password masked.
    pub redis_url: String,
    /// Whether blackfriday started this redis-server itself, and its pid.
    pub managed_pid: Option<u32>,
    /// Every process blackfriday started: the server, or each cluster node.
    pub managed_pids: Vec<u32>,
    pub server_version: String,
    /// Fault steps planned for every strategy, in time order.
    pub faults: Vec<FaultStep>,
    /// The managed server's AOF fsync policy; None: no persistence.
    pub appendfsync: Option<Fsync>,
    /// When the run started (JUnit's timestamp); not in the JSON, whose
    /// run id already names the run.
    #[serde(skip)]
    pub started: Option<std::time::SystemTime>,
    /// Transport, TLS and the ACL user: how the run reached the server.
    pub link: Link,
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
    /// What each planned fault did during this strategy's run.
    pub faults: Vec<FaultRecord>,
    /// Stock and sold as the server held them, every ~20 ms from the
    /// release (decimated to a bounded number of points on long runs).
    #[serde(default)]
    pub stock_series: Vec<StockSample>,
    /// Latency percentile spectra, for plots and `.hgrm` files.
    #[serde(default)]
    pub spectra: Spectra,
    /// Check-then-act strategies that oversold: how the first oversold unit
    /// was sold, from the GET and DECRBY replies recorded during the run.
    #[serde(default)]
    pub race: Option<Race>,
}

/// The gate's judgement of one strategy, as data.
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

impl StrategyReport {
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
        if let Some(a) = &self.aborted {
            a.status
        } else if !self.unavailable.is_empty() {
            // The run is incomplete: no verdict can claim it held.
            ExitStatus::Infra
        } else if self.interrupted {
            // Buyers stopped by Ctrl-C gave up with stock left: the checks
            // describe what ran, but a stopped run can neither pass nor fail.
            ExitStatus::Interrupted
        } else if self.correctness_failed() {
            ExitStatus::ExpectationFailed
        } else if self.failed().next().is_some() || self.thresholds_missed().next().is_some() {
            // Only performance thresholds missed: a team can keep speed
            // advisory and correctness blocking.
            ExitStatus::ThresholdsMissed
        } else {
            ExitStatus::Held
        }
    }

    /// A correctness check failed: an oversell, a lost order, a control
    /// group that lost its teeth. Threshold checks are not among them.
    pub fn correctness_failed(&self) -> bool {
        self.failed()
            .any(|s| s.verdict.failed.iter().any(|c| !c.is_threshold()))
    }

    /// Threshold expressions missed that fail the run (not warn-only).
    pub fn thresholds_missed(&self) -> impl Iterator<Item = &ThresholdResult> {
        self.thresholds.iter().filter(|t| !t.passed && !t.warn)
    }

    /// Strategies whose verdict failed or that missed a threshold, in run order.
    pub fn failed_strategies(&self) -> Vec<StrategyKind> {
        let mut out: Vec<StrategyKind> = self.failed().map(|s| s.strategy).collect();
        for t in self.thresholds_missed() {
            if !out.contains(&t.strategy) {
                out.push(t.strategy);
            }
        }
        out
    }

    /// Warn-only threshold expressions missed.
    pub fn warnings(&self) -> impl Iterator<Item = &ThresholdResult> {
        self.thresholds.iter().filter(|t| !t.passed && t.warn)
    }

    /// Whether the whole run can be called a pass: every strategy ran to
    /// its verdict and every verdict held.
    pub fn held(&self) -> bool {
        self.status() == ExitStatus::Held
    }

    /// Strategies asked for that neither ran, nor were found unavailable,
    /// nor were running when the run stopped: those a stopped run skipped,
    /// or a partial snapshot has still to run. A run that finished without
    /// stopping ran them all.
    pub fn never_ran(&self) -> impl Iterator<Item = StrategyKind> + '_ {
        let stopped_in = self.aborted.as_ref().and_then(|a| a.strategy);
        let ended_early = self.aborted.is_some() || !self.finished;
        self.meta.strategies.iter().copied().filter(move |&k| {
            ended_early
                && self.strategy(k).is_none()
                && !self.unavailable.iter().any(|u| u.strategy == k)
                && stopped_in != Some(k)
        })
    }

    pub fn strategy(&self, kind: StrategyKind) -> Option<&StrategyReport> {
        self.strategies.iter().find(|s| s.strategy == kind)
    }
}
