//! blackfriday's own workloads under `bench`, and the peer generator beside
//! them: one table row each, with its target met or not.

use std::time::Duration;

use fred::prelude::*;

use super::workload::{self, ChildRun};
use super::{ceiling, note, peer, thousands, Row};
use crate::error::{Error, Result};
use crate::redis::{self, Keys};

/// Buyers of workload 1 and of the peer row.
const BUYERS: u32 = 200_000;

fn row(workload: &str, measured: String, target: &str, met: Option<bool>) -> Row {
    Row {
        workload: workload.into(),
        measured,
        target: target.into(),
        met,
        rate: None,
        ceiling: false,
        cpu: String::new(),
    }
}

/// The Node.js peer on the same server, with a stock of its own.
pub async fn peer(admin: &Client, port: u16) -> Result<Row> {
    note("peer: Node.js, one coalescing connection, 200,000 buyers");
    let keys = Keys::new("bench", "peer");
    let evalsha = ceiling::prepare(admin, keys.prefix()).await?;
    let run = peer::measure(port, &evalsha[0], keys.prefix(), BUYERS).await;
    redis::cleanup(admin, &keys)
        .await
        .map_err(|e| Error::infra(format!("deleting the peer's keys: {e}")))?;
    let name = "peer: Node.js on one auto-pipelined connection, lua, 200,000 buyers";
    let Some(run) = run? else {
        let skipped = format!("skipped: no {} on PATH", peer::node().to_string_lossy());
        return Ok(row(name, skipped, "", None));
    };
    let mut r = row(
        name,
        format!(
            "{} purchases/s ({} purchased, {} errors); {:.1} µs CPU per purchase",
            thousands(run.rate()),
            thousands(run.purchased as f64),
            run.errors,
            run.cpu_s * 1e6 / (run.purchased.max(1) as f64),
        ),
        "",
        None,
    );
    r.rate = (run.purchased == u64::from(BUYERS)).then(|| run.rate());
    Ok(r)
}

/// Workload 1 and its whole-process wall time (target 4).
pub async fn lua_throughput(url: &str, piped: f64, peer: Option<f64>) -> Result<[Row; 2]> {
    note("lua, 200,000 buyers, stock that never runs out");
    let c = workload::run(
        &[
            "-s",
            "lua",
            "--buyers",
            "200000",
            "--stock",
            "100000000",
            "--seed",
            "1",
        ],
        Some(url),
    )
    .await?;
    let rate = c.figure("purchases_per_s");
    let all_sold = c.figure("purchased") == f64::from(BUYERS);
    let (generator, server) = c.cpu_per_purchase_us();
    let cpu_ok = matches!((generator, server), (Some(g), Some(s)) if g <= s);
    let us = |x: Option<f64>| x.map_or("n/a".into(), |x| format!("{x:.1}"));
    let mut r = row(
        "1. lua, 200,000 buyers, stock never runs out",
        format!(
            "{} purchases/s ({} purchased); CPU per purchase: generator {} µs, server {} µs",
            thousands(rate),
            thousands(c.figure("purchased")),
            us(generator),
            us(server),
        ),
        "≥ the peer, ≥ 0.8× the -P 16 ceiling, generator CPU ≤ server's",
        Some(all_sold && rate >= 0.8 * piped && peer.is_none_or(|p| rate >= p) && cpu_ok),
    );
    r.rate = Some(rate);
    r.cpu = c.cores();
    let ratio = c.wall_ratio();
    let wall = row(
        "4. whole process for workload 1: start, seed, run, audit, cleanup",
        format!(
            "{:.2} s wall for a {:.2} s run: {ratio:.2}×",
            c.wall.as_secs_f64(),
            c.figure("duration_s")
        ),
        "≤ 1.3× the run",
        Some(ratio <= 1.3),
    );
    Ok([r, wall])
}

pub async fn watch_sellout(url: &str) -> Result<Row> {
    note("watch, 10,000 buyers for 1,000 units, default settings");
    let c = workload::run(
        &[
            "-s", "watch", "--buyers", "10000", "--stock", "1000", "--seed", "1",
        ],
        Some(url),
    )
    .await?;
    let (last_sale, all) = (c.figure("last_sale_s"), c.figure("duration_s"));
    let exact = c.sold_exactly(1000);
    let mut r = row(
        "2. watch, 10,000 buyers / 1,000 stock",
        format!(
            "sold {} of 1,000{}, every buyer answered by {all:.3}s (last sale at {last_sale:.3}s)",
            c.server("sold"),
            if exact { " exactly" } else { ": NOT exact" },
        ),
        "exactly the stock, every buyer answered ≤ 0.3 s",
        Some(exact && all <= 0.3),
    );
    r.rate = (last_sale > 0.0).then(|| 1000.0 / last_sale);
    r.cpu = c.cores();
    Ok(r)
}

pub async fn memory(url: &str) -> Result<Row> {
    note("lua, 10,000,000 buyers for 100,000 units (peak memory)");
    let c = workload::run(
        &[
            "-s", "lua", "--buyers", "10000000", "--stock", "100000", "--seed", "1",
        ],
        Some(url),
    )
    .await?;
    let kb = c
        .probe("vmhwm_kb")
        .ok_or_else(|| Error::infra("the 10,000,000-buyer run did not report its VmHWM"))?;
    let mb = kb as f64 * 1024.0 / 1e6;
    let mut r = row(
        "3. lua, 10,000,000 buyers / 100,000 stock",
        format!(
            "peak RSS {mb:.1} MB (VmHWM); {} buyers/s answered, sold {}",
            thousands(c.figure("attempts_per_s")),
            thousands(c.server("sold") as f64)
        ),
        "peak RSS ≤ 100 MB",
        Some(c.sold_exactly(100_000) && mb <= 100.0),
    );
    r.rate = Some(c.figure("attempts_per_s"));
    r.cpu = c.cores();
    Ok(r)
}

/// Seconds of the open-model soak in the bench; the README says how to run
/// the whole ten minutes.
const SOAK_S: u64 = 60;

/// Open model at 20,000 arrivals/s: resident memory at 10 s and near the
/// end must be within 10% of each other.
pub async fn soak(url: &str) -> Result<Row> {
    note("open-model soak, 20,000 arrivals/s for 60 s (memory over time)");
    let duration = format!("{SOAK_S}s");
    let at = [Duration::from_secs(10), Duration::from_secs(SOAK_S - 2)];
    let c = workload::run_sampled(
        &[
            "-s",
            "lua",
            "--rate",
            "20000/s",
            "--duration",
            &duration,
            "--stock",
            "100000000",
            "--seed",
            "1",
        ],
        Some(url),
        &at,
    )
    .await?;
    let mb = |kb: Option<&Option<u64>>| kb.copied().flatten().map(|kb| kb as f64 * 1024.0 / 1e6);
    let (early, late) = (mb(c.rss_kb.first()), mb(c.rss_kb.last()));
    let (measured, met) = match (early, late) {
        (Some(e), Some(l)) => (
            format!(
                "RSS {e:.1} MB at 10 s, {l:.1} MB at {} s ({:+.1}%); {} attempts, {} late starts",
                SOAK_S - 2,
                (l / e - 1.0) * 100.0,
                thousands(c.figure("attempts")),
                thousands(c.figure("late_starts")),
            ),
            Some(l <= e * 1.1),
        ),
        _ => (
            "the child ended before its memory was read".into(),
            Some(false),
        ),
    };
    let mut r = row(
        "3b. open soak, --rate 20000/s --duration 60s",
        measured,
        "RSS at the end within 10% of RSS at 10 s",
        met,
    );
    r.cpu = c.cores();
    Ok(r)
}

pub async fn startup(runs: u32) -> Result<Row> {
    note("startup: process start to first release, managed redis-server included");
    let mut samples = Vec::new();
    for _ in 0..runs.max(1) {
        let c: ChildRun =
            workload::run(&["-s", "lua", "--buyers", "1", "--stock", "1"], None).await?;
        samples.push(workload::startup_ms(&c).ok_or_else(|| {
            Error::infra("a startup run did not report the instant of its release")
        })?);
    }
    let median = workload::median(samples.clone()).unwrap_or(f64::NAN);
    let max = samples.iter().copied().fold(0.0, f64::max);
    Ok(row(
        "5. startup: spawn to first buyer released, managed redis-server included",
        format!(
            "{median:.0} ms (median of {}, max {max:.0} ms)",
            samples.len()
        ),
        "< 300 ms",
        Some(median < 300.0),
    ))
}
