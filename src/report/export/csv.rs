//! `--csv`: one row per strategy with the Results figures, for spreadsheets
//! and plotting tools. The column names are a contract (README, "CSV
//! columns"): add columns at the end, never rename or reorder.

use std::io;

use super::Exporter;
use crate::findings::{Report, StrategyReport};

pub struct Csv;

/// The header, in order.
pub const COLUMNS: [&str; 31] = [
    "run_id",
    "strategy",
    "expect",
    "held",
    "buyers",
    "stock",
    "purchased",
    "sold_out",
    "false_sold_outs",
    "gave_up",
    "errors",
    "units_purchased",
    "attempts",
    "conflicts",
    "round_trips",
    "duration_s",
    "last_sale_s",
    "purchases_per_s",
    "attempts_per_s",
    "retries_per_purchase",
    "round_trips_per_purchase",
    "latency_p50_us",
    "latency_p90_us",
    "latency_p99_us",
    "latency_p999_us",
    "latency_max_us",
    "service_p99_us",
    "server_stock_left",
    "server_sold",
    "oversold",
    "unknown",
];

impl Exporter for Csv {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(COLUMNS)?;
        for s in &report.strategies {
            w.write_record(row(report, s))?;
        }
        w.into_inner().map_err(|e| e.into_error())
    }
}

fn row(report: &Report, s: &StrategyReport) -> [String; COLUMNS.len()] {
    let f = &s.figures;
    let n = |v: u64| v.to_string();
    // Rates keep three decimals: enough for a plot, stable in a diff.
    let x = |v: f64| format!("{v:.3}");
    [
        report.meta.run_id.clone(),
        s.strategy.name().to_string(),
        s.expect().to_string(),
        s.verdict.held.to_string(),
        n(u64::from(report.meta.buyers)),
        n(report.meta.stock),
        n(f.purchased),
        n(f.sold_out),
        n(f.false_sold_outs),
        n(f.gave_up),
        n(f.errors),
        n(f.units_purchased),
        n(f.attempts),
        n(f.conflicts),
        n(f.round_trips),
        x(f.duration_s),
        x(f.last_sale_s),
        x(f.purchases_per_s),
        x(f.attempts_per_s),
        x(f.retries_per_purchase),
        x(f.round_trips_per_purchase),
        n(s.latency.p50),
        n(s.latency.p90),
        n(s.latency.p99),
        n(s.latency.p999),
        n(s.latency.max),
        n(s.service.p99),
        s.server.stock.to_string(),
        s.server.sold.to_string(),
        s.server.oversold().to_string(),
        n(f.unknown),
    ]
}
