//! `sweep --csv`: one row per point and strategy. The column names are a
//! contract (README, "Sweep"): add columns at the end, never rename or
//! reorder.

use std::io;

use crate::sweep::{Point, Row, Sweep};

/// The header, in order.
pub const COLUMNS: [&str; 23] = [
    "parameter",
    "value",
    "strategy",
    "expect",
    "held",
    "seed",
    "run_id",
    "buyers",
    "stock",
    "demand",
    "purchased",
    "sold",
    "stock_left",
    "oversold",
    "sold_out",
    "gave_up",
    "errors",
    "purchases_per_s",
    "attempts_per_s",
    "retries_per_purchase",
    "latency_p50_us",
    "latency_p99_us",
    "duration_s",
];

pub fn render(s: &Sweep) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for p in &s.points {
        for r in &p.rows {
            w.write_record(row(s, p, r))?;
        }
    }
    w.into_inner().map_err(|e| e.into_error())
}

fn row(s: &Sweep, p: &Point, r: &Row) -> [String; COLUMNS.len()] {
    let n = |v: u64| v.to_string();
    // Rates keep three decimals: enough for a plot, stable in a diff.
    let x = |v: f64| format!("{v:.3}");
    [
        s.param.name().to_string(),
        p.value.to_string(),
        r.strategy.name().to_string(),
        r.expect.to_string(),
        r.held.to_string(),
        n(p.seed),
        p.run_id.clone(),
        n(u64::from(p.buyers)),
        n(p.stock),
        n(p.demand),
        n(r.purchased),
        r.sold.to_string(),
        r.stock_left.to_string(),
        r.oversold.to_string(),
        n(r.sold_out),
        n(r.gave_up),
        n(r.errors),
        x(r.purchases_per_s),
        x(r.attempts_per_s),
        x(r.retries_per_purchase),
        n(r.p50_us),
        n(r.p99_us),
        x(r.duration_s),
    ]
}
