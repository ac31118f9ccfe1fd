//! `blackfriday bench`: the server's ceiling for the purchase script, then
//! blackfriday's own driver against the same server, each figure beside its
//! target and its ratio to the ceiling.
//!
//! One managed redis-server serves everything but the startup workload, so
//! the ratios compare like with like. Targets are reported met or not met;
//! only a failure to measure (no redis-benchmark, a child without a report)
//! is an error.

mod ceiling;
mod peer;
mod rows;
mod workload;

use std::ffi::OsString;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::error::{Error, ExitStatus, Result};
use crate::redis::{self, default_binary, Connector, Keys, ManagedRedis, RedisUrl};
use fred::prelude::*;

pub struct BenchOptions {
    /// EVALSHA calls per redis-benchmark measurement.
    pub requests: u64,
    pub redis_benchmark: OsString,
    /// Child runs timed for the startup workload (the median is shown).
    pub startup_runs: u32,
    pub markdown: bool,
}

/// One line of the table.
pub(crate) struct Row {
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
    let peer = rows::peer(&admin, server.port()).await?;
    let peer_rate = peer.rate;
    rows.push(peer);
    rows.extend(rows::lua_throughput(&url, piped, peer_rate).await?);
    rows.push(rows::watch_sellout(&url).await?);
    rows.push(rows::memory(&url).await?);
    rows.push(rows::soak(&url).await?);
    rows.push(rows::startup(o.startup_runs).await?);
    let _ = admin.quit().await;
    println!("{}", machine());
    if o.markdown {
        println!("{}", markdown(&rows, plain, piped));
    } else {
        println!("{}", table(&rows, plain, piped));
    }
    Ok(ExitStatus::Held)
}

pub(crate) fn note(what: &str) {
    eprintln!("bench: {what}…");
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
pub(crate) fn thousands(x: f64) -> String {
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
