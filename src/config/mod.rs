//! Raw flags resolved into one checked configuration before any work starts.

mod faults;
mod files;
mod layer;
mod modes;
mod settings;
mod shape;
mod shop;

use files::{load_script, outputs};

pub use settings::{Named, ScriptSource, Settings};
pub use shop::Shop;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::crowd::QtyRange;
use crate::error::{Error, Result};
use crate::fault::{FaultStep, Fsync};
use crate::gate::{self, Expectation};
use crate::load::RetryPolicy;
use crate::redis::{default_binary, plaintext_refuses_tls, Listen, RedisUrl, TlsOptions};
use crate::report::export::Format;
use crate::report::export::Outputs;
use crate::scenario::Scenario;
use crate::schedule::{LoadShape, Schedule};
use crate::strategy::{Params, StrategyKind};

/// Most buyers one run accepts; the crowd is held in memory.
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
    /// Fault steps, in time order from the release.
    pub faults: Vec<FaultStep>,
    /// The managed server's AOF fsync policy; None: no persistence.
    pub appendfsync: Option<Fsync>,
    /// `[[threshold]]` and `--threshold`, evaluated once every strategy ran.
    pub thresholds: Vec<gate::Threshold>,
    /// `rediss://` settings; empty for every other URL.
    pub tls: TlsOptions,
    /// Where the managed redis-server listens (`--unix`: a socket).
    pub listen: Listen,
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
        let outputs = outputs([
            (Format::Json, v.json.clone()),
            (Format::Junit, v.junit.clone()),
            (Format::Markdown, v.markdown.clone()),
            (Format::Csv, v.csv.clone()),
            (Format::Hdr, v.hdr.clone()),
            (Format::Html, v.html.clone()),
        ])?;
        let script = load_script(&strategies, v.script.as_ref())?;
        let strategies_use_script = script.is_some();
        let redis = redis(v.redis.as_deref(), &v)?;
        let faults = faults::check(&v, &redis)?;
        Ok(RunConfig {
            buyers: buyers as u32,
            schedule: Arc::new(schedule),
            load,
            stock: shop.products.iter().map(|p| p.stock).sum(),
            qty: v.qty,
            redis,
            seed,
            concurrency: v
                .concurrency
                .unwrap_or(buyers.min(settings::DEFAULT_MAX_CONCURRENCY))
                as usize,
            connections: v.connections as usize,
            retry: RetryPolicy {
                max_retries: u32::try_from(v.max_retries).unwrap_or(u32::MAX),
                base: v.backoff_base,
                cap: v.backoff_max,
                think: v.think,
            },
            command_timeout: v.timeout,
            params: Params {
                seed,
                ..v.params(script)
            },
            progress: !v.quiet && std::io::stderr().is_terminal(),
            color: color(&outputs),
            shop,
            strategies,
            expectations: v.expectations,
            name: v.name,
            keep: v.keep,
            script_file: v
                .script
                .as_ref()
                .filter(|_| strategies_use_script)
                .map(|s| match s {
                    ScriptSource::File { path, .. } => path.clone(),
                    ScriptSource::Shipped { .. } => "the shipped checkout script".into(),
                }),
            outputs,
            details: v.details,
            faults,
            appendfsync: v.appendfsync,
            thresholds: v.thresholds,
            listen: if v.unix.is_some() {
                Listen::Unix
            } else {
                Listen::Tcp
            },
            tls: v.tls,
        })
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

/// Limits that need more than one value, or that clap cannot express.
fn check_ranges(v: &Settings) -> Result<()> {
    if v.buyers > MAX_BUYERS {
        return Err(Error::usage(format!(
            "--buyers {} is more than this tool holds in memory (at most {MAX_BUYERS})",
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

/// `--redis`, `REDIS_URL` or the file's `redis`; a managed server without.
/// TLS settings and `--unix` are checked against it here, before anything
/// starts: a setting the target cannot honour would be silently ignored.
fn redis(url: Option<&str>, v: &Settings) -> Result<RedisTarget> {
    let Some(url) = url.map(str::trim).filter(|s| !s.is_empty()) else {
        if let Some(flag) = v.tls.first_given() {
            return Err(Error::usage(format!(
                "{flag}: the managed redis-server speaks plaintext; TLS settings need an \
                 external server: --redis rediss://host:port"
            )));
        }
        return Ok(RedisTarget::Managed(default_binary()));
    };
    let parsed =
        RedisUrl::parse(url).map_err(|e| Error::usage(format!("--redis / REDIS_URL: {e}")))?;
    if let Some(unix) = &v.unix {
        return Err(Error::usage(format!(
            "{unix} makes the managed redis-server listen on a socket, and this run uses {}: \
             for a server of your own, give its socket as --redis unix:///path/to/redis.sock",
            parsed.masked()
        )));
    }
    if !parsed.tls() {
        if let Some(flag) = v.tls.first_given() {
            return Err(plaintext_refuses_tls(flag, &parsed));
        }
    }
    // The files are read now, so a wrong path stops the run with exit 2.
    if parsed.tls() {
        v.tls.config()?;
    }
    Ok(RedisTarget::External(parsed))
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
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::gate::Expect;
    use clap::Parser;

    fn resolve(args: &[&str]) -> Result<RunConfig> {
        let cli =
            Cli::try_parse_from(["blackfriday", "run"].iter().chain(args)).expect("clap accepts");
        let Command::Run(a) = cli.command else {
            panic!("not a run")
        };
        RunConfig::from_args(a)
    }

    #[test]
    fn defaults_compare_broken_and_watch_with_a_printed_seed() {
        let c = resolve(&[]).unwrap();
        assert_eq!(
            c.strategies,
            vec![StrategyKind::Broken, StrategyKind::Watch]
        );
        assert_eq!((c.buyers, c.stock, c.concurrency), (500, 100, 500));
        assert_eq!(
            c.expectation(StrategyKind::Broken, 500).oversell,
            Some(Expect::Oversell)
        );
        assert_eq!(
            c.expectation(StrategyKind::Broken, 100).oversell,
            Some(Expect::Clean)
        );
        assert_eq!(
            c.expectation(StrategyKind::Watch, 500).oversell,
            Some(Expect::Clean)
        );
        assert_eq!(
            c.expectation(StrategyKind::AppLock, 500).oversell,
            Some(Expect::Oversell)
        );
        assert_eq!(
            c.expectation(StrategyKind::Lock, 500).oversell,
            Some(Expect::Clean)
        );
    }

    #[test]
    fn the_pause_and_the_servers_decide_what_locks_must_do() {
        let c = resolve(&[
            "-s",
            "app-lock,lock,lock-fenced",
            "--app-servers",
            "1",
            "--hold-pause",
            "50ms",
            "--lock-ttl",
            "20ms",
        ])
        .unwrap();
        assert_eq!(
            c.expectation(StrategyKind::AppLock, 500).oversell,
            Some(Expect::Clean)
        );
        assert_eq!(
            c.expectation(StrategyKind::Lock, 500).oversell,
            Some(Expect::Oversell)
        );
        assert_eq!(
            c.expectation(StrategyKind::LockFenced, 500).oversell,
            Some(Expect::Clean)
        );
    }

    #[test]
    fn cross_field_rules_name_the_flag() {
        let e = resolve(&["--expect", "decr=clean"]).unwrap_err();
        assert!(e.to_string().contains("--expect decr=clean"), "{e}");
        let e = resolve(&["--backoff-base", "1s", "--backoff-max", "1ms"]).unwrap_err();
        assert!(e.to_string().contains("--backoff-base"), "{e}");
        let e = resolve(&["--json", "-", "--junit", "-"]).unwrap_err();
        assert!(e.to_string().starts_with("--junit -: --json"), "{e}");
        let e = resolve(&["--markdown", "/nonexistent-dir/r.md"]).unwrap_err();
        assert!(
            matches!(e, Error::Usage(_))
                && e.to_string().contains("--markdown /nonexistent-dir/r.md"),
            "{e}"
        );
        let e = resolve(&["--redis", "redis://x:1", "--tls-ca", "ca.pem"]).unwrap_err();
        assert!(
            matches!(e, Error::Usage(_)) && e.to_string().contains("TLS"),
            "{e}"
        );
        let e = resolve(&["--tls-insecure"]).unwrap_err();
        assert!(
            e.to_string().starts_with("--tls-insecure: the managed"),
            "{e}"
        );
        let e = resolve(&["--unix", "--redis", "redis://x:1"]).unwrap_err();
        assert!(e.to_string().contains("unix:///path"), "{e}");
        let e = resolve(&["--redis", "rediss://x:1", "--tls-cert", "c.pem"]).unwrap_err();
        assert!(e.to_string().contains("--tls-key"), "{e}");
    }

    #[test]
    fn the_open_model_sizes_its_crowd_from_the_schedule() {
        let c = resolve(&[
            "--rate",
            "1000/s",
            "--duration",
            "2s",
            "--arrivals",
            "constant",
        ])
        .unwrap();
        assert!(c.schedule.is_open() && c.load.is_open());
        assert_eq!((c.buyers, c.concurrency), (2000, 2000));
        // A ramp alone: whoever arrives while it climbs (Λ(10s) = 5000).
        let c = resolve(&["--ramp", "0..1000/s:10s", "--arrivals", "constant"]).unwrap();
        assert_eq!(c.buyers, 5000);
        let c = resolve(&["--rate", "100/s", "--buyers", "30"]).unwrap();
        assert_eq!((c.buyers, c.schedule.len()), (30, 30));
        assert_eq!(c.load.arrivals, Some(crate::schedule::Arrivals::Poisson));
        let c = resolve(&["--think", "1ms..3ms"]).unwrap();
        assert_eq!(c.retry.think.max, Duration::from_millis(3));
        assert!(!c.schedule.is_open());
    }

    #[test]
    fn open_model_flags_need_a_rate() {
        for flag in [&["--duration", "2s"][..], &["--arrivals", "constant"][..]] {
            let e = resolve(flag).unwrap_err();
            assert!(
                matches!(e, Error::Usage(_)) && e.to_string().contains(flag[0]),
                "{e}"
            );
        }
        let e = resolve(&["--rate", "0.001/s", "--duration", "1ms", "--seed", "1"]).unwrap_err();
        assert!(e.to_string().contains("no buyer would arrive"), "{e}");
    }
}
