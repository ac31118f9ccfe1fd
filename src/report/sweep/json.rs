//! `sweep --json`: a versioned document whose shape is described by
//! `schemas/sweep-v1.schema.json`. The view structs below are that
//! contract, apart from the internal model.

use std::io;

use serde::Serialize;
use serde_json::Value;

use crate::outcome::{CheckId, Expect};
use crate::strategy::StrategyKind;
use crate::sweep::{Param, Point, Row, Sweep};

/// Bumped on any change a consumer could trip over.
pub const SCHEMA_VERSION: u32 = 1;

pub fn render(s: &Sweep) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(&Document::of(s))?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    sweep: Plan<'a>,
    points: Vec<PointView<'a>>,
    half_speed: Vec<HalfSpeed>,
    /// Every planned point ran.
    finished: bool,
    verdict: Verdict,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Plan<'a> {
    parameter: Param,
    flag: String,
    log: bool,
    values: Vec<Value>,
    strategies: &'a [StrategyKind],
}

#[derive(Serialize)]
struct PointView<'a> {
    value: Value,
    /// A string: seeds use all 64 bits (see the run report's `seed`).
    seed: String,
    run_id: &'a str,
    buyers: u32,
    stock: u64,
    demand: u64,
    status: u8,
    strategies: Vec<RowView<'a>>,
    unavailable: Vec<Unavailable<'a>>,
    thresholds_missed: &'a [String],
}

#[derive(Serialize)]
struct Unavailable<'a> {
    strategy: StrategyKind,
    reason: &'a str,
}

#[derive(Serialize)]
struct RowView<'a> {
    strategy: StrategyKind,
    expect: Expect,
    held: bool,
    failed_checks: &'a [CheckId],
    purchased: u64,
    sold_out: u64,
    gave_up: u64,
    errors: u64,
    /// Read back from Redis after the run.
    server: Server,
    purchases_per_s: f64,
    attempts_per_s: f64,
    retries_per_purchase: f64,
    latency_p50_us: u64,
    latency_p99_us: u64,
    duration_s: f64,
}

#[derive(Serialize)]
struct Server {
    sold: i64,
    stock_left: i64,
    oversold: i64,
}

#[derive(Serialize)]
struct HalfSpeed {
    slow: StrategyKind,
    fast: StrategyKind,
    /// The first value at which `slow` made less than half of `fast`'s
    /// purchases per second; null: never.
    from: Option<Value>,
}

#[derive(Serialize)]
struct Verdict {
    status: u8,
    held: bool,
    failed: Vec<Failed>,
    /// Why the sweep stopped before its last point; null when it did not.
    stopped: Option<String>,
}

#[derive(Serialize)]
struct Failed {
    value: Value,
    seed: String,
    status: u8,
    message: String,
}

impl<'a> Document<'a> {
    fn of(s: &'a Sweep) -> Document<'a> {
        let status = s.status();
        Document {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            sweep: Plan {
                parameter: s.param,
                flag: s.param.flag(),
                log: s.log,
                values: s.values.iter().map(|v| number(*v)).collect(),
                strategies: &s.strategies,
            },
            points: s.points.iter().map(point).collect(),
            half_speed: s
                .half_speed()
                .into_iter()
                .map(|h| HalfSpeed {
                    slow: h.slow,
                    fast: h.fast,
                    from: h.from.map(number),
                })
                .collect(),
            finished: s.finished,
            verdict: Verdict {
                status: status as u8,
                held: status == crate::error::ExitStatus::Held,
                failed: s
                    .failed()
                    .map(|p| Failed {
                        value: number(p.value),
                        seed: p.seed.to_string(),
                        status: p.status as u8,
                        message: super::failure(s, p),
                    })
                    .collect(),
                stopped: s.stopped.as_ref().map(|(_, m)| m.clone()),
            },
        }
    }
}

fn point(p: &Point) -> PointView<'_> {
    PointView {
        value: number(p.value),
        seed: p.seed.to_string(),
        run_id: &p.run_id,
        buyers: p.buyers,
        stock: p.stock,
        demand: p.demand,
        status: p.status as u8,
        strategies: p.rows.iter().map(row).collect(),
        unavailable: p
            .unavailable
            .iter()
            .map(|(k, reason)| Unavailable {
                strategy: *k,
                reason,
            })
            .collect(),
        thresholds_missed: &p.thresholds_missed,
    }
}

fn row(r: &Row) -> RowView<'_> {
    RowView {
        strategy: r.strategy,
        expect: r.expect,
        held: r.held,
        failed_checks: &r.failed,
        purchased: r.purchased,
        sold_out: r.sold_out,
        gave_up: r.gave_up,
        errors: r.errors,
        server: Server {
            sold: r.sold,
            stock_left: r.stock_left,
            oversold: r.oversold,
        },
        purchases_per_s: r.purchases_per_s,
        attempts_per_s: r.attempts_per_s,
        retries_per_purchase: r.retries_per_purchase,
        latency_p50_us: r.p50_us,
        latency_p99_us: r.p99_us,
        duration_s: r.duration_s,
    }
}

/// A whole value as an integer (`60`, not `60.0`): counts read as counts.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}
