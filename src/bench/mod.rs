//! `blackfriday bench`: the server's ceiling for the purchase script, then
//! blackfriday's own driver against the same server, each figure beside its
//! target and its ratio to the ceiling.
//!
//! One managed redis-server serves everything but the startup workload, so
//! the ratios compare like with like. Targets are reported met or not met;
//! only a failure to measure (no redis-benchmark, a child without a report)
//! is an error.

mod ceiling;
mod workload;

use std::ffi::OsString;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::error::{Error, ExitStatus, Result};
use crate::redis::{self, default_binary, Connector, Keys, ManagedRedis, RedisUrl};
use fred::prelude::*;
use workload::ChildRun;

pub struct BenchOptions {
    /// EVALSHA calls per redis-benchmark measurement.
    pub requests: u64,
    pub redis_benchmark: OsString,
    /// Child runs timed for the startup workload (the median is shown).
    pub startup_runs: u32,
    pub markdown: bool,
}

/// One line of the table.
struct Row {
    workload: String,
    measured: String,
    target: String,
    met: Option<bool>,
    /// Calls or purchases per second, compared with the ceilings.
    rate: Option<f64>,
    /// A ceiling itself: no ratio to show.
    ceiling: bool,
    cpu: String,
}

pub async fn run(o: &BenchOptions) -> Result<ExitStatus> {
    let server = ManagedRedis::start(&default_binary()).await?;
    let url = server.url();
    let connector = Connector::new(
        RedisUrl::parse(&url).map_err(Error::infra)?,
        Duration::from_secs(30),
    )?;
    let admin = connector.admin().await?;
    let keys = Keys::new("bench", "lua");
    let evalsha = ceiling::prepare(&admin, keys.prefix()).await?;
    let mut rows = Vec::new();
    for pipeline in [1, ceiling::PIPELINE] {
        note(&format!("redis-benchmark EVALSHA, -P {pipeline}"));
        let rps = ceiling::measure(
            &o.redis_benchmark,
            server.port(),
            o.requests,
            pipeline,
            &evalsha,
        )
        .await?;
        rows.push(Row {
            workload: format!(
                "ceiling: redis-benchmark -c {} -P {pipeline}, EVALSHA buy.lua",
                ceiling::CLIENTS
            ),
            measured: format!("{} calls/s", thousands(rps)),
            target: String::new(),
            met: None,
            rate: Some(rps),
            ceiling: true,
            cpu: String::new(),
        });
    }
    redis::cleanup(&admin, &keys)
        .await
        .map_err(|e| connector.fail("deleting the benchmark keys", e))?;
    let (plain, piped) = (rows[0].rate.unwrap_or(0.0), rows[1].rate.unwrap_or(0.0));
    rows.push(lua_throughput(&url).await?);
    rows.push(watch_sellout(&url).await?);
    rows.push(memory(&url).await?);
    rows.push(startup(o.startup_runs).await?);
    let _ = admin.quit().await;
    println!("{}", machine());
    if o.markdown {
        println!("{}", markdown(&rows, plain, piped));
    } else {
        println!("{}", table(&rows, plain, piped));
    }
    Ok(ExitStatus::Held)
}

fn note(what: &str) {
    eprintln!("bench: {what}…");
}

async fn lua_throughput(url: &str) -> Result<Row> {
    note("lua, 200,000 buyers, stock that never runs out");
    let c = workload::run(
        &[
            "-s", "lua", "--buyers", "200000", "--stock", "200000", "--seed", "1",
        ],
        Some(url),
    )
    .await?;
    let rate = c.figure("purchases_per_s");
    let all_sold = c.figure("purchased") == 200_000.0;
    Ok(Row {
        workload: "1. lua, 200,000 buyers, stock never runs out".into(),
        measured: format!(
            "{} purchases/s ({} purchased)",
            thousands(rate),
            thousands(c.figure("purchased"))
        ),
        target: "≥ 100,000 purchases/s".into(),
        met: Some(all_sold && rate >= 100_000.0),
        rate: Some(rate),
        ceiling: false,
        cpu: c.cores(),
    })
}

async fn watch_sellout(url: &str) -> Result<Row> {
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
    Ok(Row {
        workload: "2. watch, 10,000 buyers / 1,000 stock".into(),
        measured: format!(
            "sold {} of 1,000{}, last sale at {last_sale:.3}s (all answered at {all:.3}s)",
            c.server("sold"),
            if exact { " exactly" } else { ": NOT exact" },
        ),
        target: "exactly the stock, in < 0.6 s".into(),
        met: Some(exact && last_sale < 0.6),
        rate: (last_sale > 0.0).then(|| 1000.0 / last_sale),
        ceiling: false,
        cpu: c.cores(),
    })
}

async fn memory(url: &str) -> Result<Row> {
    note("lua, 1,000,000 buyers for 100,000 units (peak memory)");
    let c = workload::run(
        &[
            "-s", "lua", "--buyers", "1000000", "--stock", "100000", "--seed", "1",
        ],
        Some(url),
    )
    .await?;
    let kb = c
        .probe("vmhwm_kb")
        .ok_or_else(|| Error::infra("the 1,000,000-buyer run did not report its VmHWM"))?;
    let mb = kb as f64 * 1024.0 / 1e6;
    Ok(Row {
        workload: "3. lua, 1,000,000 buyers / 100,000 stock".into(),
        measured: format!(
            "peak RSS {mb:.1} MB (VmHWM); {} buyers/s answered, sold {}",
            thousands(c.figure("attempts_per_s")),
            thousands(c.server("sold") as f64)
        ),
        target: "peak RSS < 200 MB".into(),
        met: Some(c.sold_exactly(100_000) && mb < 200.0),
        rate: Some(c.figure("attempts_per_s")),
        ceiling: false,
        cpu: c.cores(),
    })
}

async fn startup(runs: u32) -> Result<Row> {
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
    Ok(Row {
        workload: "4. startup: spawn to first buyer released, managed redis-server included".into(),
        measured: format!(
            "{median:.0} ms (median of {}, max {max:.0} ms)",
            samples.len()
        ),
        target: "< 300 ms".into(),
        met: Some(median < 300.0),
        rate: None,
        ceiling: false,
        cpu: String::new(),
    })
}

/// Cores and CPU model, for the figures to be read against.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "machine: {cores} cores ({model}), shared by blackfriday and redis-server {}",
        if cores <= 2 {
            "(the generator competes with the server)"
        } else {
            ""
        }
    )
}

/// 123456.7 → "123,457".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const HEADER: [&str; 7] = [
    "workload",
    "measured",
    "target",
    "result",
    "÷ EVALSHA ceiling",
    "÷ -P 16 ceiling",
    "CPU",
];

fn cells(r: &Row, plain: f64, piped: f64) -> [String; 7] {
    let ratio = |c: f64| match r.rate {
        Some(x) if c > 0.0 && !r.ceiling => format!("{:.2}×", x / c),
        _ => String::new(),
    };
    let result = match r.met {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "",
    };
    [
        r.workload.clone(),
        r.measured.clone(),
        r.target.clone(),
        result.into(),
        ratio(plain),
        ratio(piped),
        r.cpu.clone(),
    ]
}

fn table(rows: &[Row], plain: f64, piped: f64) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(HEADER);
    for r in rows {
        t.add_row(cells(r, plain, piped));
    }
    for col in [4, 5] {
        if let Some(c) = t.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

fn markdown(rows: &[Row], plain: f64, piped: f64) -> String {
    let mut out = format!(
        "| {} |\n|---|---|---|---|---:|---:|---|\n",
        HEADER.join(" | ")
    );
    for r in rows {
        out.push_str(&format!("| {} |\n", cells(r, plain, piped).join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
    }

    #[test]
    fn rows_compare_with_the_ceilings() {
        let r = Row {
            workload: "w".into(),
            measured: "m".into(),
            target: "t".into(),
            met: Some(false),
            rate: Some(50_000.0),
            ceiling: false,
            cpu: String::new(),
        };
        let c = cells(&r, 100_000.0, 200_000.0);
        assert_eq!(
            (c[3].as_str(), c[4].as_str(), c[5].as_str()),
            ("NOT met", "0.50×", "0.25×")
        );
        let md = markdown(&[r], 100_000.0, 0.0);
        assert!(md.contains("| w | m | t | NOT met | 0.50× |  |  |"), "{md}");
    }
}
