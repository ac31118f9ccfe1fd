//! Every setting of a run, and the one block of defaults they start from.
//!
//! `layer` lays the scenario file and then the flags over
//! `Settings::default()`; nothing else in the crate holds a default for a
//! run setting.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::crowd::{QtyRange, StockSpec};
use crate::fault::{FaultStep, Fsync};
use crate::gate::baseline::RegressionLimit;
use crate::gate::{ExpectOverride, Expectation, Threshold};
use crate::load::DurationRange;
use crate::redis::TlsOptions;
use crate::schedule::{Arrivals, Curve};
use crate::strategy::{Params, StrategyKind};

/// A value and where it came from (`--rate` or `file.toml (load.rate)`),
/// so a rule that needs another setting names the one the user gave.
#[derive(Debug, Clone)]
pub struct Named<T> {
    pub value: T,
    pub name: String,
}

/// The user's checkout script: a file to read, or a shipped scenario's
/// embedded copy.
#[derive(Debug, Clone)]
pub enum ScriptSource {
    File { path: PathBuf, name: String },
    Shipped { text: &'static str },
}

/// Every setting of a run, layered, before cross-field checks.
pub struct Settings {
    pub buyers: u64,
    /// `--buyers` or the file's `buyers`, if either was given: an open-model
    /// ramp alone otherwise decides the crowd.
    pub buyers_given: Option<u64>,
    pub stock: StockSpec,
    pub products: Option<u64>,
    pub cart: Option<QtyRange>,
    pub skew: Option<f64>,
    pub reserve: bool,
    pub hold_ttl: Duration,
    pub confirm_rate: f64,
    pub cancel_rate: f64,
    pub hold_think: Option<DurationRange>,
    pub rebuy: bool,
    pub reapers: u64,
    pub qty: QtyRange,
    /// Empty until layered: then the run's strategies, or the default pair
    /// for its mode.
    pub strategies: Vec<StrategyKind>,
    pub redis: Option<String>,
    pub seed: Option<u64>,
    pub concurrency: Option<u64>,
    pub connections: u64,
    pub max_retries: u64,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub timeout: Duration,
    pub lock_ttl: Duration,
    pub hold_pause: Duration,
    /// `app-lock`: drawn per buyer from the seed, like `--gap`.
    pub app_work: DurationRange,
    pub app_servers: u64,
    pub script: Option<ScriptSource>,
    pub expectations: BTreeMap<StrategyKind, Expectation>,
    /// `--expect` as given, checked against the run's strategies.
    pub expect_flags: Vec<ExpectOverride>,
    /// The scenario's name, for report titles.
    pub name: Option<String>,
    /// Open model: `--rate`/`--ramp` or `[load] rate`/`ramp`.
    pub curve: Option<Named<Curve>>,
    pub arrivals: Option<Named<Arrivals>>,
    pub duration: Option<Named<Duration>>,
    pub think: DurationRange,
    pub keep: bool,
    pub quiet: bool,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// Print the detailed tables on the terminal.
    pub details: bool,
    /// `--live`: the full-screen view.
    pub live: bool,
    /// Fault steps, in the order given (`--fault` replaces the file's).
    pub faults: Vec<FaultStep>,
    pub appendfsync: Option<Fsync>,
    /// Retry unknown outcomes as lost races are retried.
    pub retry_unknown: bool,
    /// `--history`: the operations as JSON lines (flags only).
    pub history: Option<PathBuf>,
    /// `[[threshold]]` then `--threshold`, parsed.
    pub thresholds: Vec<Threshold>,
    pub csv: Option<PathBuf>,
    pub hdr: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// `--gap`: work between the read and the write of `broken` and
    /// `app-lock`; None: none for `broken`, `app_work` for `app-lock`.
    pub gap: Option<Named<DurationRange>>,
    /// `rediss://` settings: files, the name to verify, the opt-out.
    pub tls: TlsOptions,
    /// `--unix` or the file's `unix`, and which of them said so.
    pub unix: Option<String>,
    /// `--per-call-writes` or the file's `per_call_writes`.
    pub per_call_writes: bool,
    /// `--topology` or the file's `topology`: the value and who said it.
    pub topology: Option<Named<String>>,
    /// `--spread` or the file's `spread`, and which of them said so.
    pub spread: Option<String>,
    /// `--repeat` or the file's `repeat`: runs on seeds seed, seed+1, …
    pub repeat: u32,
    /// `--baseline` and `--max-regression` (flags only).
    pub baseline: Option<PathBuf>,
    pub max_regression: Option<f64>,
    /// `[[threshold]]` tables with `figure` and `max_regression`.
    pub regressions: Vec<RegressionLimit>,
}

/// The default strategies: the seed's race against its fix, or, for
/// reservations, the atomic scripts against the seed's naive version.
pub const DEFAULT_STRATEGIES: [StrategyKind; 2] = [StrategyKind::Broken, StrategyKind::Watch];
pub const DEFAULT_RESERVE_STRATEGIES: [StrategyKind; 2] =
    [StrategyKind::Lua, StrategyKind::ReserveNaive];
/// Without `--concurrency`, every buyer is in flight, up to this many.
pub const DEFAULT_MAX_CONCURRENCY: u64 = 10_000;
/// App-lock's work inside its section: long and varied enough that on every
/// seed some app server reads the last units inside another's section. With
/// one fixed 1ms the servers' timers woke on the same tick, wrote together
/// and read together, in step, and about one run in six missed the race;
/// 1ms..5ms still missed one in twenty on a loaded machine, whose late
/// timers wake many servers at once.
const DEFAULT_APP_WORK: DurationRange = DurationRange {
    min: Duration::from_millis(2),
    max: Duration::from_millis(20),
};

impl Default for Settings {
    /// The one block of defaults: what a run with no scenario and no flags
    /// does. Defaults that depend on other settings (products from a
    /// `--stock` list, cart lines, hold think time, concurrency, arrivals
    /// when a rate is given) are `None` here and derived where they are
    /// resolved.
    fn default() -> Settings {
        Settings {
            buyers: 500,
            buyers_given: None,
            stock: StockSpec::Each(100),
            products: None,
            cart: None,
            skew: None,
            reserve: false,
            hold_ttl: Duration::from_secs(2),
            confirm_rate: 0.5,
            cancel_rate: 0.2,
            hold_think: None,
            rebuy: false,
            reapers: 2,
            qty: QtyRange::ONE,
            strategies: Vec::new(),
            redis: None,
            seed: None,
            concurrency: None,
            connections: 4,
            max_retries: 1000,
            backoff_base: Duration::from_micros(500),
            backoff_max: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
            lock_ttl: Duration::from_secs(1),
            hold_pause: Duration::ZERO,
            app_work: DEFAULT_APP_WORK,
            app_servers: 8,
            script: None,
            expectations: BTreeMap::new(),
            expect_flags: Vec::new(),
            name: None,
            curve: None,
            arrivals: None,
            duration: None,
            think: DurationRange::ZERO,
            keep: false,
            quiet: false,
            json: None,
            junit: None,
            markdown: None,
            details: false,
            live: false,
            faults: Vec::new(),
            appendfsync: None,
            retry_unknown: false,
            history: None,
            thresholds: Vec::new(),
            csv: None,
            hdr: None,
            html: None,
            gap: None,
            tls: TlsOptions::default(),
            unix: None,
            per_call_writes: false,
            topology: None,
            spread: None,
            repeat: 1,
            baseline: None,
            max_regression: None,
            regressions: Vec::new(),
        }
    }
}

impl Settings {
    /// The strategies' knobs, with the user's checkout once it is read.
    pub fn params(&self, script: Option<Arc<str>>) -> Params {
        Params {
            lock_ttl: self.lock_ttl,
            hold_pause: self.hold_pause,
            app_servers: u32::try_from(self.app_servers).unwrap_or(u32::MAX),
            app_work: self.app_work,
            script,
            gap: self.gap.as_ref().map(|g| g.value),
            coalesce: !self.per_call_writes,
            // The resolved seed, drawn when none was given, is set with it.
            seed: self.seed.unwrap_or(0),
        }
    }
}
