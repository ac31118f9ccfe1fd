//! Command-line surface (clap derive only). Values are parsed by the types
//! they become; defaults and cross-field rules live in `config/`, so every
//! run flag is an `Option` (or a bool that is off) and "no flags" is
//! `RunArgs::default()`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

mod run;
mod sweep;

pub use run::RunArgs;
pub use sweep::SweepArgs;

/// The exit-code contract, as the README's table states it.
pub const EXIT_CODES: &str =
    "Exit codes: 0 every expectation held, 1 a correctness expectation failed \
(oversell, lost order, a control group that lost its teeth), 2 bad usage or configuration, \
3 Redis unreachable / refused / redis-server missing or died, 4 correctness held but a \
performance threshold was missed, 130 interrupted (Ctrl-C).";

#[derive(Debug, Parser)]
#[command(
    name = "blackfriday",
    version,
    about = "Recreate a flash-sale stampede against a real Redis and prove, from the server, \
             whether a purchase strategy oversells, undersells or loses orders, and how fast it is.",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the `run` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Seed stock, release the crowd against each strategy in turn, audit the server, report.
    Run(RunArgs),
    /// Vary one run flag over a list or a log range (--buyers 100..20000:8): every point
    /// a full, audited run of every strategy; a table, and --csv, --json, --html curves.
    Sweep(SweepArgs),
    /// Validate scenario files without touching Redis: exit 0 valid, 2 invalid.
    Check {
        /// Scenario files (or shipped scenario names). Not `required` in
        /// clap: its error would not name the argument, ours does.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List the scenarios shipped with blackfriday.
    Scenarios,
    /// Remove the keys of runs that died without cleaning up (only namespaces
    /// bf:<run-id>:{<strategy>}: whose recorded start is old enough).
    Clean(CleanArgs),
    /// Measure redis-benchmark's EVALSHA ceiling on a managed redis-server, then
    /// blackfriday's own workloads on the same server, each against its target.
    Bench(BenchArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// EVALSHA calls per redis-benchmark measurement.
    #[arg(long, default_value = "200000", value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    pub requests: u64,

    /// The redis-benchmark binary (installed with redis-server).
    #[arg(
        long,
        env = "BLACKFRIDAY_REDIS_BENCHMARK",
        default_value = "redis-benchmark",
        value_name = "PATH"
    )]
    pub redis_benchmark: std::ffi::OsString,

    /// Child runs timed for the startup figure; the median is reported.
    #[arg(long, default_value = "5", value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    pub startup_runs: u64,

    /// Print the table as GitHub-flavoured Markdown (for a README).
    #[arg(long)]
    pub markdown: bool,
}

pub(crate) fn whole(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("must be a whole number of 0 or more, got '{s}'"))
}

pub(crate) fn positive(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("must be a whole number of at least 1, got '{s}'")),
    }
}

pub(crate) fn non_negative(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("must be a number of 0 or more, got '{s}'")),
    }
}

/// A share: `0.5` or `50%`.
pub(crate) fn rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "must be a share from 0 to 1 or 0% to 100%, got '{s}'"
        )),
    }
}

pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| format!("{e} (examples: 500us, 2ms, 1s)"))
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// The Redis to clean, redis://[user:password@]host[:port][/db].
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub redis: Option<String>,

    /// Remove only this run's keys (the 8 hex digits of bf:<run-id>:, shown in
    /// every run's header).
    #[arg(long, value_name = "ID", conflicts_with = "older_than")]
    pub run: Option<String>,

    /// Remove the runs that started at least this long ago [default: 1h].
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub older_than: Option<Duration>,

    /// List what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}
