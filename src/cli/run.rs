//! The `run` subcommand's flags. Every flag is an `Option` (or an off bool)
//! so that "no flags" is `RunArgs::default()`; defaults and cross-field
//! rules live in `config/`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{duration, non_negative, positive, rate, whole};
use crate::crowd::{QtyRange, StockSpec};
use crate::gate::ExpectOverride;
use crate::load::DurationRange;
use crate::schedule::{parse_rate, Arrivals, RampSpec};
use crate::strategy::StrategyKind;

const FIGURES: &str = "\
Figures:
  purchased        buyers the server acknowledged a purchase to
  sold out         buyers told there was not enough stock (a definitive answer)
  false sold-outs  sold-out answers to buyers whose quantity is still in stock at the end
  gave up          buyers who lost the race --max-retries times in a row (contention, not stock)
  errors           buyers whose outcome is unknown (timeout, connection lost): may or may not have bought
  final stock      the stock key read back from Redis after the run
  oversold         units sold beyond the initial stock, from the server's sold counter and stock
  duration         release of the crowd until the last buyer had an outcome
  last sale        release of the crowd until the last purchase was acknowledged
  purchases/s      purchased / duration;  attempts/s: every try, first or retry, / duration
  conflicts per purchase
                   lost races (aborted EXECs, busy locks, stale fences) of all buyers, also
                   those later told sold out, / purchased (not the retries table's mean,
                   which counts only each purchaser's own retries)
  round trips per purchase
                   network round trips of the buyers who purchased, retries included / purchased
  latency          a buyer's intended start until its final outcome, retries, backoff and
                   pool waits included, in an HDR histogram (3 significant digits): the
                   release of the crowd in a burst, its scheduled arrival with --rate/--ramp
                   (coordinated-omission correct); also split by outcome
  service time     a buyer's first send until its final outcome: latency minus the wait to start
  late starts      open model: buyers started more than 2ms after their intended arrival
  throughput       purchases and attempts per 1-second bucket since the release
  CPU              server (INFO cpu) and generator (getrusage) CPU while the strategy ran
Validation: every check is read back from Redis after the strategy ran. See the README.
Report files (--json, --junit, --markdown) are rewritten after every strategy, each
replaced atomically, so a run that dies half-way still leaves the strategies it finished.
Thresholds (--threshold): STRATEGY.FIGURE OP VALUE over purchases_per_s, attempts_per_s,
  p50, p90, p99, p99_9, max, mean (latencies take a unit: 25ms), gave_up, errors, oversold,
  false_sold_outs, retries_per_purchase, ... ; STRATEGY may be '*'; VALUE may be relative
  ('0.3 * lua.purchases_per_s'); a 'warn:' prefix never fails the run.
Exit codes: 0 held, 1 a correctness expectation failed, 2 bad usage, 3 Redis or
  redis-server failed, 4 only performance thresholds missed, 130 interrupted.";

#[derive(Debug, Default, Clone, Args)]
#[command(after_long_help = FIGURES)]
pub struct RunArgs {
    /// A scenario file (or the name of a shipped one: see `blackfriday scenarios`).
    /// Flags given on the command line override it.
    #[arg(long, value_name = "FILE|NAME")]
    pub scenario: Option<PathBuf>,

    /// Buyers in the crowd [default: 500]. In a burst all are released at
    /// once; with --rate or --ramp they arrive on that schedule.
    #[arg(help_heading = "Crowd", long, value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    pub buyers: Option<u64>,

    /// Open model: buyers arrive at this rate whether or not earlier ones
    /// have finished, e.g. 5000/s. Latency is then measured from each buyer's
    /// intended arrival.
    #[arg(help_heading = "Load", long, value_name = "N/s", value_parser = parse_rate, conflicts_with = "ramp",
          allow_hyphen_values = true)]
    pub rate: Option<f64>,

    /// Open model, the sale-opening surge: the rate climbs linearly from FROM
    /// to TO over OVER, then holds TO, e.g. 0..20000/s:10s. Without --buyers
    /// or --duration the crowd is whoever arrives during the ramp.
    #[arg(
        help_heading = "Load",
        long,
        value_name = "FROM..TO/s:OVER",
        allow_hyphen_values = true
    )]
    pub ramp: Option<RampSpec>,

    /// Open model: how arrivals are spaced [default: poisson]. poisson:
    /// independent shoppers, random gaps (bursts included, as in real
    /// traffic); constant: evenly spaced, exact counts.
    #[arg(help_heading = "Load", long, value_enum, value_name = "KIND")]
    pub arrivals: Option<Arrivals>,

    /// Open model: the crowd is every buyer arriving within this time,
    /// instead of a fixed --buyers.
    #[arg(help_heading = "Load", long, value_name = "DURATION", value_parser = duration, conflicts_with = "buyers",
          allow_hyphen_values = true)]
    pub duration: Option<Duration>,

    /// A shopper's pause before each retry, added to the backoff: a duration
    /// or a range like 1ms..20ms, drawn from the seed. [default: 0s]
    #[arg(help_heading = "Crowd", long, value_name = "DURATION|MIN..MAX")]
    pub think: Option<DurationRange>,

    /// Your checkout script for the `script` strategy (contract in the README).
    #[arg(help_heading = "Strategies", long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Units of stock seeded before each strategy, for every product, or a
    /// list naming each product: ps5=100,xbox=50 (that many products). [default: 100]
    #[arg(
        help_heading = "Crowd",
        long,
        value_name = "UNITS|NAME=UNITS,…",
        allow_negative_numbers = true
    )]
    pub stock: Option<StockSpec>,

    /// Products on sale; with 2 or more every buyer brings a cart (see --cart).
    /// [default: 1, or the length of a --stock list]
    #[arg(help_heading = "Carts", long, value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    pub products: Option<u64>,

    /// Distinct products per cart, a number or a range drawn from the seed;
    /// each line wants --qty units. A cart is bought whole or not at all.
    /// [default: 1..3 with several products]
    #[arg(help_heading = "Carts", long, value_name = "N|MIN..MAX")]
    pub cart: Option<QtyRange>,

    /// How hot the popular products are: the Zipf exponent of product
    /// popularity (0 uniform, 1 the first product twice as wanted as the
    /// second). [default: 1]
    #[arg(help_heading = "Carts", long, value_name = "S", allow_negative_numbers = true, value_parser = non_negative)]
    pub skew: Option<f64>,

    /// Reservations: each buyer holds the cart (stock -> reserved, for
    /// --hold-ttl), then confirms, cancels or abandons it; a reaper returns
    /// expired holds. Strategies: lua (atomic scripts), reserve-naive.
    #[arg(help_heading = "Reservations", long)]
    pub reserve: bool,

    /// --reserve: how long a hold lives unless confirmed or cancelled. [default: 2s]
    #[arg(help_heading = "Reservations", long, value_name = "DURATION", value_parser = duration)]
    pub hold_ttl: Option<Duration>,

    /// --reserve: share of holders who confirm, 0..1 or a percentage. [default: 50%]
    #[arg(help_heading = "Reservations", long, value_name = "RATE", value_parser = rate)]
    pub confirm_rate: Option<f64>,

    /// --reserve: share of holders who cancel; the rest abandon the hold. [default: 20%]
    #[arg(help_heading = "Reservations", long, value_name = "RATE", value_parser = rate)]
    pub cancel_rate: Option<f64>,

    /// --reserve: how long a holder thinks before confirming or cancelling,
    /// drawn from the seed. Past the hold's TTL the confirm comes too late.
    /// [default: from a quarter to 1.25 times --hold-ttl]
    #[arg(help_heading = "Reservations", long, value_name = "DURATION|MIN..MAX")]
    pub hold_think: Option<DurationRange>,

    /// --reserve: a buyer told "sold out" while units are held comes back
    /// when holds may have ended, as real shoppers do, until nothing is held.
    #[arg(help_heading = "Reservations", long)]
    pub rebuy: bool,

    /// --reserve: reaper instances returning expired holds, as when every app
    /// server runs the expiry worker. [default: 2]
    #[arg(help_heading = "Reservations", long, value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    pub reapers: Option<u64>,

    /// Strategies to compare, in order: repeat the flag or give a comma list.
    #[arg(help_heading = "Strategies", short, long = "strategy", value_name = "NAME", value_delimiter = ',', long_help = crate::strategy::help())]
    pub strategies: Vec<StrategyKind>,

    /// Redis to use, redis://[user:password@]host[:port][/db]. Without it,
    /// a throwaway redis-server is started on 127.0.0.1 and a free port.
    #[arg(
        help_heading = "Redis",
        long,
        env = "REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis: Option<String>,

    /// Seed of the crowd and of the backoff jitter; the same seed gives the same crowd.
    /// Printed with every run so it can be repeated.
    #[arg(
        help_heading = "Crowd",
        long,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub seed: Option<u64>,

    /// Units each buyer wants: a number or an inclusive range like 1..3, drawn from the seed. [default: 1]
    #[arg(help_heading = "Crowd", long, value_name = "N|MIN..MAX")]
    pub qty: Option<QtyRange>,

    /// Buyers in flight at once [default: all buyers, up to 10000].
    #[arg(help_heading = "Load", long, value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    pub concurrency: Option<u64>,

    /// Exclusive connections for strategies that need one per attempt (watch).
    /// More connections mean more buyers racing on the same key and more aborted
    /// EXECs; 2 to 4 sold 1,000 units to 10,000 buyers alike on a 2-core machine,
    /// 5 or more slower. [default: 4]
    #[arg(help_heading = "Redis", long, value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    pub connections: Option<u64>,

    /// Retries after a lost race (aborted EXEC) before a buyer gives up. [default: 1000]
    #[arg(help_heading = "Strategies", long, value_name = "N", allow_negative_numbers = true, value_parser = whole)]
    pub max_retries: Option<u64>,

    /// Backoff before the first retry; it doubles with every retry, with full jitter. [default: 500us]
    #[arg(help_heading = "Strategies", long, value_name = "DURATION", value_parser = duration)]
    pub backoff_base: Option<Duration>,

    /// Upper bound of the backoff. [default: 20ms]
    #[arg(help_heading = "Strategies", long, value_name = "DURATION", value_parser = duration)]
    pub backoff_max: Option<Duration>,

    /// Timeout of every Redis command; a timed-out purchase counts as an error (unknown outcome). [default: 5s]
    #[arg(help_heading = "Redis", long, value_name = "DURATION", value_parser = duration)]
    pub timeout: Option<Duration>,

    /// lock, lock-fenced: how long the lock lives unless released. [default: 1s]
    #[arg(help_heading = "Strategies", long, value_name = "DURATION", value_parser = duration)]
    pub lock_ttl: Option<Duration>,

    /// lock, lock-fenced: an artificial pause inside the critical section, between
    /// reading the stock and writing the purchase. Longer than --lock-ttl, two
    /// holders overlap: `lock` oversells, `lock-fenced` rejects the stale write. [default: 0s]
    #[arg(help_heading = "Strategies", long, value_name = "DURATION", value_parser = duration)]
    pub hold_pause: Option<Duration>,

    /// app-lock: time an app server spends inside its lock between reading the
    /// stock and writing the purchase (validation, pricing: the request's own work),
    /// drawn per buyer from the seed: 5ms, or 2ms..20ms. [default: 2ms..20ms]
    #[arg(help_heading = "Strategies", long, value_name = "DURATION[..MAX]")]
    pub app_work: Option<DurationRange>,

    /// app-lock: simulated app servers, each with its own in-memory lock.
    /// 1 is correct; more oversell, which is the point. [default: 8]
    #[arg(help_heading = "Strategies", long, value_name = "K", allow_negative_numbers = true, value_parser = positive)]
    pub app_servers: Option<u64>,

    /// Override what a strategy must do, e.g. --expect watch=clean, broken=oversell or
    /// reserve-naive=double-restock. By default broken and decr must oversell whenever
    /// demand exceeds stock, reserve-naive must restock a hold twice; the rest must be clean.
    #[arg(
        help_heading = "Gate",
        long = "expect",
        value_name = "STRATEGY=clean|oversell|double-restock"
    )]
    pub expect: Vec<ExpectOverride>,

    /// Leave each strategy's keys in Redis for inspection instead of deleting them.
    #[arg(help_heading = "Redis", long)]
    pub keep: bool,

    /// No progress bars; tables only.
    #[arg(help_heading = "Reports", short, long)]
    pub quiet: bool,

    /// A full-screen view for a room: per strategy a big stock counter (red
    /// below zero), sold, oversold, rates and a live p99, every panel kept
    /// until q is pressed; then the summary. Needs a terminal on stdout.
    #[arg(help_heading = "Reports", long, conflicts_with = "quiet")]
    pub live: bool,

    /// Write the report as versioned JSON (schemas/report-v1.schema.json).
    /// `-` writes it to stdout at the end and moves the tables to stderr.
    #[arg(help_heading = "Reports", long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write a JUnit XML report: one testcase per strategy and audit check.
    #[arg(help_heading = "Reports", long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write the tables and verdict as GitHub-flavoured Markdown; also appended
    /// to $GITHUB_STEP_SUMMARY when that is set.
    #[arg(help_heading = "Reports", long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Print every table (latency, retries, throughput over time, CPU, full
    /// validation, products, holds) after the verdict's key figures. The
    /// --markdown and --json reports always hold them.
    #[arg(long)]
    pub details: bool,
    /// Break the server at a time from the release: KIND@AT (repeatable),
    /// e.g. kill@2s, pause:300ms@1500ms. Kinds: kill, restart, pause:D
    /// (managed server only), client-kill, client-pause:D, script-flush;
    /// through a local proxy (plain TCP): latency:D[..D2][:FOR], drop,
    /// blackhole:D.
    #[arg(help_heading = "Faults", long = "fault", value_name = "KIND@AT")]
    pub faults: Vec<crate::fault::FaultStep>,

    /// Start the managed redis-server with AOF on and this fsync policy, in
    /// its own directory kept across a kill.
    #[arg(help_heading = "Faults", long, value_enum, value_name = "POLICY")]
    pub appendfsync: Option<crate::fault::Fsync>,

    /// Retry a purchase whose outcome is unknown (an error after sending),
    /// as a real checkout does, within --max-retries and the same backoff. A
    /// strategy that is not idempotent can then buy twice: the audit's one
    /// purchase per buyer check fails on it.
    #[arg(help_heading = "Faults", long)]
    pub retry_unknown: bool,

    /// Write every operation as one JSON line (Jepsen's history shape:
    /// invoke, then ok, fail or info for an unknown outcome), streamed as
    /// the run goes.
    #[arg(help_heading = "Reports", long, value_name = "FILE.jsonl")]
    pub history: Option<PathBuf>,
    /// A threshold on any per-strategy figure of the JSON report, repeatable:
    /// 'watch.p99 <= 25ms', '*.gave_up == 0', 'watch.purchases_per_s >= 0.3 *
    /// lua.purchases_per_s'. A 'warn:' prefix makes it warn-only. Missed
    /// thresholds alone exit 4; correctness failures exit 1.
    #[arg(help_heading = "Gate", long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Write one CSV row per strategy with the Results figures (columns in
    /// the README).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write each strategy's latency histograms, per outcome, as HdrHistogram
    /// percentile-distribution files (DIR/<strategy>-<outcome>.hgrm, in ms).
    #[arg(long, value_name = "DIR")]
    pub hdr: Option<PathBuf>,

    /// Write one self-contained HTML page with the verdict and plots (stock,
    /// throughput, latency spectrum, checks); it loads nothing from anywhere.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// broken, app-lock: the application's work between reading the stock and
    /// writing the purchase, drawn per buyer from the seed (5ms, or 1ms..10ms).
    /// Widens the race as a real request handler does; for app-lock it replaces
    /// --app-work. [default: none; app-lock: --app-work]
    #[arg(long, value_name = "DURATION[..MAX]")]
    pub gap: Option<DurationRange>,
    /// rediss://: trust the certificate authorities in this PEM bundle
    /// instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// rediss://: present this PEM client certificate (mutual TLS); needs --tls-key.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// rediss://: the PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// rediss://: the name the server's certificate must carry, when the URL
    /// names the server otherwise (by IP address, through a tunnel).
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,

    /// rediss://: accept any server certificate. Encrypted but not
    /// authenticated: for throwaway test servers only; every run warns.
    #[arg(long)]
    pub tls_insecure: bool,

    /// The managed redis-server listens on a unix socket instead of a TCP port.
    #[arg(long)]
    pub unix: bool,

    /// Send every purchase-script call through the Redis client with a
    /// write of its own, instead of coalescing the calls queued since the
    /// last write into one: for comparing the two.
    #[arg(long)]
    pub per_call_writes: bool,

    /// What the managed Redis is: one server, or a local Redis Cluster of N
    /// primaries (each with R replicas), started and stopped by the run. [default: standalone]
    #[arg(long, value_name = "standalone|cluster:N|cluster:NxR")]
    pub topology: Option<String>,

    /// Each product under a hash tag of its own, so a cluster spreads the
    /// products over its primaries (carts that need one slot are refused).
    #[arg(long)]
    pub spread: bool,

    /// Run the whole run N times, on seeds seed, seed+1, …: correctness must
    /// hold in every repetition (exit 1 names the seed); figures are shown as
    /// median and min–max, and the JSON keeps every repetition.
    #[arg(help_heading = "Gate", long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: Option<u32>,

    /// Compare each strategy's key figures with this earlier JSON report of
    /// the same scenario, and show their change.
    #[arg(help_heading = "Gate", long, value_name = "PREVIOUS.json")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: exit 4 when a figure got worse by more than PCT
    /// percent (beyond the min–max spread when both runs used --repeat).
    #[arg(help_heading = "Gate", long, value_name = "PCT", requires = "baseline",
          allow_negative_numbers = true, value_parser = crate::cli::non_negative)]
    pub max_regression: Option<f64>,
}
