//! Raw flags resolved into one checked configuration before any work starts.

mod expect;
mod faults;
mod files;
mod layer;
mod link;
mod modes;
mod settings;
mod shape;
mod shop;
mod sweep;

use files::{live, load_script, outputs};

pub use settings::{Named, ScriptSource, Settings};
pub use shop::Shop;
pub use sweep::{SweepConfig, SweepPoint};

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::crowd::QtyRange;
use crate::error::{Error, Result};
use crate::fault::{FaultStep, Fsync};
use crate::gate::{self, Expectation};
use crate::load::RetryPolicy;
use crate::redis::{ClusterShape, Listen, RedisUrl, TlsOptions};
use crate::report::export::Format;
use crate::report::export::Outputs;
use crate::scenario::Scenario;
use crate::schedule::{LoadShape, Schedule};
use crate::strategy::{Params, StrategyKind};

/// Most buyers one run accepts. Nothing per buyer is held (buyers and
/// arrivals are computed as they are released), but a larger crowd would
/// take longer than anyone waits, and order ids are 32-bit.
pub const MAX_BUYERS: u64 = 100_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// Start a throwaway redis-server from this binary.
    Managed(OsString),
    External(RedisUrl),
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Crowd size: `--buyers`, or the arrivals the schedule holds.
    pub buyers: u32,
    /// Each buyer's intended start; every offset is zero in a burst.
    pub schedule: Arc<Schedule>,
    pub load: LoadShape,
    /// Units seeded, all products together.
    pub stock: u64,
    /// Products, carts and reservations.
    pub shop: Shop,
    pub qty: QtyRange,
    pub strategies: Vec<StrategyKind>,
    pub expectations: BTreeMap<StrategyKind, Expectation>,
    pub redis: RedisTarget,
    pub seed: u64,
    pub concurrency: usize,
    pub connections: usize,
    pub retry: RetryPolicy,
    pub command_timeout: Duration,
    pub params: Params,
    /// The scenario's name, if the run came from one.
    pub name: Option<String>,
    pub keep: bool,
    /// The file `--script` read, named in the messages about that script.
    pub script_file: Option<std::path::PathBuf>,
    pub progress: bool,
    /// Colour the tables: only on a terminal, never with NO_COLOR.
    pub color: bool,
    /// Report files to write, checked writable here.
    pub outputs: Outputs,
    /// `--details`: print every table, not only the key figures.
    pub details: bool,
    /// `--live`: the full-screen view instead of the progress bars.
    pub live: bool,
    /// Fault steps, in time order from the release.
    pub faults: Vec<FaultStep>,
    /// The managed server's AOF fsync policy; None: no persistence.
    pub appendfsync: Option<Fsync>,
    /// `--history`: every operation as a JSON line, streamed to this file.
    pub history: Option<PathBuf>,
    /// `[[threshold]]` and `--threshold`, evaluated once every strategy ran.
    pub thresholds: Vec<gate::Threshold>,
    /// `rediss://` settings; empty for every other URL.
    pub tls: TlsOptions,
    /// Where the managed redis-server listens (`--unix`: a socket).
    pub listen: Listen,
    /// `--topology cluster:…`: start a local cluster instead of one server.
    pub cluster: Option<ClusterShape>,
    /// `--spread`: a hash tag per product.
    pub spread: bool,
    /// `--repeat`: how many runs, on seeds seed, seed+1, …
    pub repeat: u32,
    /// `--baseline`: the earlier report's key figures.
    pub baseline: Option<Arc<gate::baseline::Baseline>>,
    /// `--max-regression`: percent; None: the comparison only shows.
    pub max_regression: Option<f64>,
    /// `[[threshold]]` tables' regression limits, per figure.
    pub regressions: Vec<gate::baseline::RegressionLimit>,
}

impl RunConfig {
    /// Resolve flags and, with `--scenario`, the scenario file under them.
    pub fn from_args(a: RunArgs) -> Result<RunConfig> {
        let scenario = a.scenario.as_deref().map(Scenario::load).transpose()?;
        RunConfig::resolve(a, scenario.as_ref())
    }

    /// Layer the file and the flags over the defaults, then check every
    /// rule that ties settings together. Only `layer` reads the flags.
    pub fn resolve(a: RunArgs, scenario: Option<&Scenario>) -> Result<RunConfig> {
        let v = layer::layer(&a, scenario)?;
        check_ranges(&v)?;
        let seed = v.seed.unwrap_or_else(rand::random);
        let (schedule, load) = shape::schedule(&v, seed)?;
        let buyers = check_crowd(&schedule, &v)?;
        let strategies = strategies(&v)?;
        let shop = shop::resolve(&v, &strategies)?;
        let (outputs, live) = report_files(&v)?;
        let history = files::history(v.history.as_deref())?;
        let script = load_script(&strategies, v.script.as_ref())?;
        let script_file = script_file(v.script.as_ref(), script.is_some());
        let redis = link::redis(v.redis.as_deref(), &v)?;
        let cluster = link::topology(&v)?;
        let faults = faults::check(&v, &redis, listen_on(&v), cluster)?;
        let baseline = baseline(&v)?;
        let concurrency = v
            .concurrency
            .unwrap_or(buyers.min(settings::DEFAULT_MAX_CONCURRENCY));
        Ok(RunConfig {
            listen: listen_on(&v), // first: before fields move out of `v`
            buyers: buyers as u32,
            schedule: Arc::new(schedule),
            load,
            stock: shop.products.iter().map(|p| p.stock).sum(),
            qty: v.qty,
            redis,
            seed,
            concurrency: concurrency as usize,
            connections: v.connections as usize,
            retry: retry_policy(&v),
            command_timeout: v.timeout,
            params: Params {
                seed,
                ..v.params(script)
            },
            progress: !v.quiet && !live && std::io::stderr().is_terminal(),
            color: color(&outputs),
            shop,
            strategies,
            expectations: v.expectations,
            name: v.name,
            keep: v.keep,
            script_file,
            outputs,
            details: v.details,
            live,
            faults,
            appendfsync: v.appendfsync,
            history,
            thresholds: v.thresholds,
            cluster,
            spread: v.spread.is_some(),
            tls: v.tls,
            repeat: v.repeat,
            baseline,
            max_regression: v.max_regression,
            regressions: v.regressions,
        })
    }

    /// `--repeat N`: the run resolved once per repetition, on seeds seed,
    /// seed+1, … (each rebuilds the seeded schedule). One for a plain run.
    pub fn repetitions(a: RunArgs) -> Result<Vec<RunConfig>> {
        let scenario = a.scenario.as_deref().map(Scenario::load).transpose()?;
        let first = RunConfig::resolve(a.clone(), scenario.as_ref())?;
        let mut runs = vec![];
        for i in 1..u64::from(first.repeat) {
            let mut again = a.clone();
            again.seed = Some(first.seed.wrapping_add(i));
            runs.push(RunConfig::resolve(again, scenario.as_ref())?);
        }
        runs.insert(0, first);
        Ok(runs)
    }

    /// What `strategy` must do: the scenario's table and `--expect`, with the
    /// strategy's default oversell expectation where neither says.
    pub fn expectation(&self, strategy: StrategyKind, demand: u64) -> Expectation {
        self.expected(strategy, demand).expectation
    }

    /// [`gate::expected`] for this run: the expectation and the checks
    /// `strategy` may fail without failing its verdict.
    pub fn expected(&self, strategy: StrategyKind, demand: u64) -> gate::Expected {
        let run = gate::Run {
            demand,
            stock: self.stock,
            concurrency: self.concurrency,
            reserve: self.shop.reserve.is_some(),
        };
        let mut expected = gate::expected(
            strategy,
            &self.params,
            &run,
            self.expectations.get(&strategy),
        );
        expected.tolerated.extend(faults::tolerated(self));
        expected
    }
}

fn retry_policy(v: &Settings) -> RetryPolicy {
    RetryPolicy {
        max_retries: u32::try_from(v.max_retries).unwrap_or(u32::MAX),
        base: v.backoff_base,
        cap: v.backoff_max,
        think: v.think,
        unknown: v.retry_unknown,
    }
}

/// `--unix` (or the file's `unix`) puts the managed server on a socket.
fn listen_on(v: &Settings) -> Listen {
    if v.unix.is_some() {
        Listen::Unix
    } else {
        Listen::Tcp
    }
}

/// The report files asked for, each checked before the run starts, and
/// whether `--live` may take the terminal beside them.
fn report_files(v: &Settings) -> Result<(Outputs, bool)> {
    let outputs = outputs([
        (Format::Json, v.json.clone()),
        (Format::Junit, v.junit.clone()),
        (Format::Markdown, v.markdown.clone()),
        (Format::Csv, v.csv.clone()),
        (Format::Hdr, v.hdr.clone()),
        (Format::Html, v.html.clone()),
    ])?;
    let live = live(v, &outputs)?;
    Ok((outputs, live))
}

/// The script the run's strategies load, as the report names it: none
/// when no strategy loads one.
fn script_file(s: Option<&ScriptSource>, loaded: bool) -> Option<PathBuf> {
    match s.filter(|_| loaded)? {
        ScriptSource::File { path, .. } => Some(path.clone()),
        ScriptSource::Shipped { .. } => Some("the shipped checkout script".into()),
    }
}

/// Limits that need more than one value, or that clap cannot express.
fn check_ranges(v: &Settings) -> Result<()> {
    if v.buyers > MAX_BUYERS {
        return Err(Error::usage(format!(
            "--buyers {} is more than one run drives (at most {MAX_BUYERS})",
            v.buyers
        )));
    }
    let lines = v.cart.map_or(1, |c| c.max);
    let demand = v
        .buyers
        .saturating_mul(u64::from(v.qty.max))
        .saturating_mul(u64::from(lines));
    if demand > i64::MAX as u64 {
        return Err(Error::usage(
            "--buyers x --qty exceeds what a Redis integer holds",
        ));
    }
    if v.backoff_base > v.backoff_max {
        return Err(Error::usage(format!(
            "--backoff-base ({:?}) must not exceed --backoff-max ({:?})",
            v.backoff_base, v.backoff_max
        )));
    }
    // The client counts timeouts in whole milliseconds and reads 0 as "no
    // timeout": anything under 1ms would make a command wait forever.
    if v.timeout < Duration::from_millis(1) {
        return Err(Error::usage(format!(
            "--timeout must be at least 1ms, got {:?}: under that a command could hang forever",
            v.timeout
        )));
    }
    if v.lock_ttl.as_millis() < 1 {
        return Err(Error::usage(
            "--lock-ttl must be at least 1ms (Redis expires keys in ms)",
        ));
    }
    if v.app_servers > 1024 {
        return Err(Error::usage("--app-servers must be at most 1024"));
    }
    if v.connections > 1024 {
        return Err(Error::usage("--connections must be at most 1024"));
    }
    Ok(())
}

/// `--baseline`: read now, so a bad file is exit 2 before any buyer runs,
/// and refused when it is another scenario's report.
fn baseline(v: &Settings) -> Result<Option<Arc<gate::baseline::Baseline>>> {
    let Some(path) = &v.baseline else {
        return Ok(None);
    };
    let b = gate::baseline::Baseline::load(path)?;
    if b.scenario != v.name {
        let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "no scenario".into());
        return Err(Error::usage(format!(
            "--baseline {}: is a report of {}, this run is {}: compare runs of the same scenario",
            path.display(),
            name(&b.scenario),
            name(&v.name)
        )));
    }
    Ok(Some(Arc::new(b)))
}

/// The crowd the schedule holds, and the demand it brings, within bounds.
fn check_crowd(schedule: &Schedule, v: &Settings) -> Result<u64> {
    let buyers = schedule.len() as u64;
    if buyers == 0 {
        let name = v
            .duration
            .as_ref()
            .map_or("--duration", |d| d.name.as_str());
        return Err(Error::usage(format!(
            "{name} is too short for the rate: no buyer would arrive"
        )));
    }
    if buyers * u64::from(v.qty.max) > i64::MAX as u64 {
        return Err(Error::usage(
            "--buyers x --qty exceeds what a Redis integer holds",
        ));
    }
    Ok(buyers)
}

/// The run's strategies, each once, and `--expect` only for those.
fn strategies(v: &Settings) -> Result<Vec<StrategyKind>> {
    let mut strategies = Vec::new();
    for s in &v.strategies {
        if !strategies.contains(s) {
            strategies.push(*s);
        }
    }
    for o in &v.expect_flags {
        if !strategies.contains(&o.strategy) {
            return Err(Error::usage(format!(
                "--expect {}={}: {} is not among this run's strategies ({})",
                o.strategy,
                o.expect,
                o.strategy,
                names(&strategies)
            )));
        }
    }
    Ok(strategies)
}

/// Colour the tables only on a terminal, never with NO_COLOR; the tables go
/// to stderr when a report takes stdout.
fn color(outputs: &Outputs) -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && if outputs.uses_stdout() {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        }
}

fn names(s: &[StrategyKind]) -> String {
    s.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
