//! `--json`: a versioned document whose shape is described by
//! `schemas/report-v1.schema.json`. The view structs below are that contract;
//! the internal model can change without breaking it, and a test validates
//! real output against the schema so neither drifts unnoticed.

use std::io;

use serde::Serialize;

use super::Exporter;
use crate::audit::{Check, CheckId, ServerFacts};
use crate::cpu::CpuUse;
use crate::crowd::{CartPlan, Product, QtyRange};
use crate::fault::{FaultRecord, FaultStep, Fsync};
use crate::findings::{
    Aborted, Figures, HoldFigures, Report, StockSample, StrategyReport, ThresholdResult,
    Unavailable,
};
use crate::load::DurationRange;
use crate::metrics::{ByOutcome, Percentiles, Race};
use crate::outcome::Expect;
use crate::redis::Link;
use crate::schedule::LoadShape;
use crate::strategy::reserve::ReservePlan;
use crate::strategy::StrategyKind;

/// Bumped on any change a consumer could trip over (a field removed,
/// renamed or retyped); adding an optional field keeps it.
pub const SCHEMA_VERSION: u32 = 1;

pub struct Json;

impl Exporter for Json {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(&Document::of(report))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    run: Run<'a>,
    strategies: Vec<Strategy<'a>>,
    unavailable: &'a [Unavailable],
    finished: bool,
    interrupted: bool,
    verdict: Overall,
    thresholds: &'a [ThresholdResult],
    /// Why the run ended before its verdict; null when it did not.
    aborted: Option<&'a Aborted>,
    /// Strategies asked for that never started.
    not_run: Vec<StrategyKind>,
    /// `--repeat N`: every repetition's own document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    repetitions: Vec<Document<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Run<'a> {
    run_id: &'a str,
    scenario: Option<&'a str>,
    /// A string: seeds use all 64 bits, and JSON readers that hold numbers
    /// as doubles (JavaScript, jq) would round it into a different crowd.
    seed: String,
    strategies: &'a [StrategyKind],
    buyers: u32,
    load: Load,
    stock: u64,
    products: &'a [Product],
    carts: Option<CartPlan>,
    reserve: Option<ReservePlan>,
    qty: QtyRange,
    demand: u64,
    concurrency: usize,
    connections: usize,
    max_retries: u32,
    /// `--retry-unknown`: unknown outcomes were retried too.
    retry_unknown: bool,
    redis: Redis<'a>,
    /// Fault steps planned for every strategy, in time order.
    faults: &'a [FaultStep],
}

#[derive(Serialize)]
struct Load {
    #[serde(flatten)]
    shape: LoadShape,
    think: DurationRange,
}

#[derive(Serialize)]
struct Redis<'a> {
    /// Password masked.
    url: &'a str,
    server_version: &'a str,
    managed_pid: Option<u32>,
    /// Every process the run started: the server, or each cluster node.
    managed_pids: &'a [u32],
    /// The managed server's AOF fsync policy; null without persistence.
    appendfsync: Option<Fsync>,
    /// tcp or unix, TLS, and the ACL user (never the password).
    #[serde(flatten)]
    link: &'a Link,
}

#[derive(Serialize)]
struct Strategy<'a> {
    strategy: StrategyKind,
    expect: Expect,
    figures: &'a Figures,
    latency_us: &'a Percentiles,
    latency_by_outcome_us: &'a ByOutcome<Percentiles>,
    service_time_us: &'a Percentiles,
    retries_per_purchase: &'a Percentiles,
    throughput: Throughput<'a>,
    cpu: &'a CpuUse,
    server: Server<'a>,
    checks: Vec<CheckView<'a>>,
    verdict: StrategyVerdict<'a>,
    holds: Option<&'a HoldFigures>,
    faults: &'a [FaultRecord],
    /// Stock and sold read from the server over the run.
    stock_series: &'a [StockSample],
    race: Option<&'a Race>,
}

#[derive(Serialize)]
struct Throughput<'a> {
    bucket_s: u32,
    purchases: &'a [u64],
    attempts: &'a [u64],
}

#[derive(Serialize)]
struct Server<'a> {
    #[serde(flatten)]
    facts: &'a ServerFacts,
    oversold: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Wanted {
    Pass,
    Fail,
}

#[derive(Serialize)]
struct CheckView<'a> {
    id: CheckId,
    title: &'static str,
    rule: &'static str,
    passed: bool,
    /// What the strategy's expectation wants from this check.
    wanted: Wanted,
    /// Whether the result is the one wanted, as the gate judged it.
    held: bool,
    detail: &'a str,
}

#[derive(Serialize)]
struct StrategyVerdict<'a> {
    held: bool,
    failed: &'a [CheckId],
    tolerated: &'a [CheckId],
}

#[derive(Serialize)]
struct Overall {
    held: bool,
    exit_status: u8,
    failed_strategies: Vec<StrategyKind>,
}

impl<'a> Document<'a> {
    fn of(r: &'a Report) -> Document<'a> {
        let m = &r.meta;
        Document {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            run: Run {
                run_id: &m.run_id,
                scenario: m.scenario.as_deref(),
                seed: m.seed.to_string(),
                strategies: &m.strategies,
                buyers: m.buyers,
                load: Load {
                    shape: m.load,
                    think: m.think,
                },
                stock: m.stock,
                products: &m.products,
                carts: m.carts,
                reserve: m.reserve,
                qty: m.qty,
                demand: m.demand,
                concurrency: m.concurrency,
                connections: m.connections,
                max_retries: m.max_retries,
                retry_unknown: m.retry_unknown,
                redis: Redis {
                    url: &m.redis_url,
                    server_version: &m.server_version,
                    managed_pid: m.managed_pid,
                    managed_pids: &m.managed_pids,
                    appendfsync: m.appendfsync,
                    link: &m.link,
                },
                faults: &m.faults,
            },
            strategies: r.strategies.iter().map(Strategy::of).collect(),
            unavailable: &r.unavailable,
            finished: r.finished,
            interrupted: r.interrupted,
            aborted: r.aborted.as_ref(),
            not_run: r.never_ran().collect(),
            verdict: Overall {
                held: r.held(),
                exit_status: r.status() as u8,
                failed_strategies: r.failed_strategies(),
            },
            thresholds: &r.thresholds,
            repetitions: r.repetitions.iter().map(Document::of).collect(),
        }
    }
}

impl<'a> Strategy<'a> {
    fn of(s: &'a StrategyReport) -> Strategy<'a> {
        Strategy {
            strategy: s.strategy,
            expect: s.expect(),
            figures: &s.figures,
            latency_us: &s.latency,
            latency_by_outcome_us: &s.latency_by_outcome,
            service_time_us: &s.service,
            retries_per_purchase: &s.retries,
            throughput: Throughput {
                bucket_s: 1,
                purchases: &s.timeline.purchases,
                attempts: &s.timeline.attempts,
            },
            cpu: &s.cpu,
            holds: s.holds.as_ref(),
            faults: &s.faults,
            stock_series: &s.stock_series,
            race: s.race.as_ref(),
            server: Server {
                facts: &s.server,
                oversold: s.server.oversold(),
            },
            checks: s.checks.iter().map(|c| CheckView::of(s, c)).collect(),
            verdict: StrategyVerdict {
                held: s.verdict.held,
                failed: &s.verdict.failed,
                tolerated: &s.verdict.tolerated,
            },
        }
    }
}

impl<'a> CheckView<'a> {
    fn of(s: &StrategyReport, c: &'a Check) -> CheckView<'a> {
        CheckView {
            id: c.id,
            title: c.id.title(),
            rule: c.id.rule(),
            passed: c.passed,
            wanted: if s.expect().wants(c.id) {
                Wanted::Pass
            } else {
                Wanted::Fail
            },
            held: !s.verdict.failed.contains(&c.id),
            detail: &c.detail,
        }
    }
}
