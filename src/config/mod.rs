//! Raw flags resolved into one checked configuration before any work starts.

mod files;
mod layer;
mod shop;

use files::{load_script, outputs};

pub use shop::Shop;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::crowd::QtyRange;
use crate::error::{Error, Result};
use crate::gate::{Expect, Expectation};
use crate::load::RetryPolicy;
use crate::redis::{default_binary, RedisUrl};
use crate::report::export::Outputs;
use crate::scenario::Scenario;
use crate::schedule::{Arrivals, Curve, Extent, LoadShape, Schedule};
use crate::strategy::{Params, StrategyKind};

/// Most buyers one run accepts; the crowd is held in memory.
pub const MAX_BUYERS: u64 = 100_000_000;
const DEFAULT_MAX_CONCURRENCY: u64 = 10_000;
const DEFAULT_BUYERS: u64 = 500;

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
}

impl RunConfig {
    /// Resolve flags and, with `--scenario`, the scenario file under them.
    pub fn from_args(a: RunArgs) -> Result<RunConfig> {
        let scenario = a.scenario.as_deref().map(Scenario::load).transpose()?;
        RunConfig::resolve(a, scenario.as_ref())
    }

    pub fn resolve(a: RunArgs, scenario: Option<&Scenario>) -> Result<RunConfig> {
        let v = layer::layer(&a, scenario)?;
        check_ranges(&v)?;
        let seed = v.seed.unwrap_or_else(rand::random);
        let (schedule, load) = schedule(&a, v.buyers_given, seed)?;
        let buyers = schedule.len() as u64;
        if buyers == 0 {
            return Err(Error::usage(
                "--duration is too short for the rate: no buyer would arrive",
            ));
        }
        let demand = buyers * u64::from(v.qty.max);
        if demand > i64::MAX as u64 {
            return Err(Error::usage(
                "--buyers x --qty exceeds what a Redis integer holds",
            ));
        }
        let mut strategies = Vec::new();
        for s in &v.strategies {
            if !strategies.contains(s) {
                strategies.push(*s);
            }
        }
        for o in &a.expect {
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
        let shop = shop::resolve(&v, &strategies)?;
        let script = load_script(&strategies, v.script.as_deref())?;
        let script_file = v.script.clone().filter(|_| script.is_some());
        let outputs = outputs(a.json, a.junit, a.markdown)?;
        let redis = match v.redis.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(url) => RedisTarget::External(
                RedisUrl::parse(url)
                    .map_err(|e| Error::usage(format!("--redis / REDIS_URL: {e}")))?,
            ),
            None => RedisTarget::Managed(default_binary()),
        };
        Ok(RunConfig {
            buyers: buyers as u32,
            schedule: Arc::new(schedule),
            load,
            stock: shop.products.iter().map(|p| p.stock).sum(),
            shop,
            qty: v.qty,
            strategies,
            expectations: v.expectations,
            redis,
            seed,
            concurrency: v.concurrency.unwrap_or(buyers.min(DEFAULT_MAX_CONCURRENCY)) as usize,
            connections: v.connections as usize,
            retry: RetryPolicy {
                max_retries: u32::try_from(v.max_retries).unwrap_or(u32::MAX),
                base: v.backoff_base,
                cap: v.backoff_max,
                think: a.think,
            },
            command_timeout: v.timeout,
            params: Params {
                lock_ttl: v.lock_ttl,
                hold_pause: v.hold_pause,
                app_servers: v.app_servers as u32,
                app_work: v.app_work,
                script,
            },
            name: v.name,
            keep: a.keep,
            script_file,
            progress: !a.quiet && std::io::stderr().is_terminal(),
            // The tables go to stderr when a report takes stdout.
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && if outputs.uses_stdout() {
                    std::io::stderr().is_terminal()
                } else {
                    std::io::stdout().is_terminal()
                },
            outputs,
        })
    }

    /// What `strategy` must do: the scenario's table and `--expect`, with the
    /// strategy's default oversell expectation where neither says.
    pub fn expectation(&self, strategy: StrategyKind, demand: u64) -> Expectation {
        let mut e = self
            .expectations
            .get(&strategy)
            .cloned()
            .unwrap_or_default();
        e.oversell = Some(e.oversell.unwrap_or_else(|| {
            Expect::default_for(strategy, &self.params, demand, self.stock, self.concurrency)
        }));
        e
    }
}

/// Limits that need more than one value, or that clap cannot express.
fn check_ranges(v: &layer::Settings) -> Result<()> {
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
    if v.timeout.is_zero() {
        return Err(Error::usage(
            "--timeout must be more than 0: a command without one can hang forever",
        ));
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

/// The load shape from `--rate`/`--ramp`, `--arrivals`, `--buyers` and
/// `--duration`, and the seeded schedule it makes.
fn schedule(a: &RunArgs, buyers: Option<u64>, seed: u64) -> Result<(Schedule, LoadShape)> {
    let curve = match (a.rate, a.ramp) {
        (Some(per_s), _) => Some(Curve::Constant { per_s }),
        (None, Some(ramp)) => Some(ramp.0),
        (None, None) => None,
    };
    let Some(curve) = curve else {
        let open_only = [
            (a.arrivals.is_some(), "--arrivals"),
            (a.duration.is_some(), "--duration"),
        ];
        if let Some((_, flag)) = open_only.iter().find(|(given, _)| *given) {
            return Err(Error::usage(format!(
                "{flag} shapes the open model: add --rate N/s or --ramp FROM..TO/s:OVER"
            )));
        }
        let n = buyers.unwrap_or(DEFAULT_BUYERS);
        return Ok((Schedule::burst(n as u32), LoadShape::BURST));
    };
    let arrivals = a.arrivals.unwrap_or(Arrivals::Poisson);
    // A ramp alone describes its crowd: whoever arrives while it climbs.
    let duration = match (curve, buyers, a.duration) {
        (Curve::Ramp { over_s, .. }, None, None) => Some(Duration::from_secs_f64(over_s)),
        (_, _, d) => d,
    };
    let extent = match (duration, buyers) {
        (Some(d), _) => Extent::Within(d),
        (None, n) => Extent::Buyers(n.unwrap_or(DEFAULT_BUYERS) as u32),
    };
    let flag = if a.rate.is_some() { "--rate" } else { "--ramp" };
    let schedule = Schedule::open(curve, arrivals, extent, seed, MAX_BUYERS)
        .map_err(|e| Error::usage(format!("{flag}: {e}")))?;
    Ok((schedule, LoadShape::open(curve, arrivals, duration)))
}

fn names(s: &[StrategyKind]) -> String {
    s.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
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
        let e = resolve(&["--redis", "rediss://x:1"]).unwrap_err();
        assert!(
            matches!(e, Error::Usage(_)) && e.to_string().contains("TLS"),
            "{e}"
        );
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
