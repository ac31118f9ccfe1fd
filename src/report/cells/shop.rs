//! Rows for cart and reservation runs: per product, and how holds ended.
//! Shared by the terminal tables and the Markdown report.

use super::micros;
use crate::findings::{Report, RunMeta, StrategyReport};

pub(in crate::report) const PRODUCTS_HEADER: [&str; 8] = [
    "strategy",
    "product",
    "initial",
    "sold",
    "reserved",
    "stock left",
    "in orders",
    "oversold",
];

/// One row per product of each strategy, from the audit. Only in runs
/// over several products.
pub(in crate::report) fn product_rows(r: &Report, s: &StrategyReport) -> Vec<Vec<String>> {
    if r.meta.products.len() < 2 {
        return Vec::new();
    }
    s.server
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let name = r.meta.products.get(i).map_or("?", |p| p.name.as_str());
            vec![
                if i == 0 { s.strategy.name() } else { "" }.to_string(),
                name.to_string(),
                p.initial.to_string(),
                p.sold.to_string(),
                p.reserved.to_string(),
                p.stock.to_string(),
                p.order_units.to_string(),
                p.oversold().to_string(),
            ]
        })
        .collect()
}

pub(in crate::report) const HOLDS_HEADER: [&str; 12] = [
    "strategy",
    "placed",
    "confirmed",
    "cancelled",
    "expired",
    "ended twice",
    "restocked twice",
    "late confirms",
    "rebuys",
    "restock lag p50",
    "p99",
    "max",
];

/// How holds ended, counted by the server's log; late confirms and rebuys
/// as the holders were told; the reaper's lag from deadline to restock.
pub(in crate::report) fn hold_rows(s: &StrategyReport) -> Vec<Vec<String>> {
    let (Some(server), Some(client)) = (&s.server.holds, &s.holds) else {
        return Vec::new();
    };
    vec![vec![
        s.strategy.name().to_string(),
        server.placed.to_string(),
        server.confirmed.to_string(),
        server.cancelled.to_string(),
        server.expired.to_string(),
        server.ended_twice.to_string(),
        server.restocked_twice.to_string(),
        client.confirm_late.to_string(),
        client.rebuys.to_string(),
        micros(client.restock_lag_us.p50),
        micros(client.restock_lag_us.p99),
        micros(client.restock_lag_us.max),
    ]]
}

/// Notes under the holds table: what the columns mean, and the reaper's
/// troubles if it had any.
pub(in crate::report) fn hold_notes(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    if r.meta.reserve.is_none() {
        return lines;
    }
    lines.push(
        "placed, confirmed, cancelled, expired, ended twice and restocked twice are read from the \
         server's log of hold ends; late confirms (the hold had already ended) and rebuys are \
         what the holders were told; restock lag runs from a hold's deadline to its units being \
         back in stock."
            .to_string(),
    );
    for s in &r.strategies {
        let Some(h) = &s.holds else { continue };
        if h.reaper_errors > 0 {
            lines.push(format!(
                "{}: the reaper failed {} time(s), e.g. {}",
                s.strategy,
                h.reaper_errors,
                h.reaper_error_sample.as_deref().unwrap_or("?")
            ));
        }
        if h.left_open > 0 {
            lines.push(format!(
                "{}: {} holds were still open when the reaper stopped draining",
                s.strategy, h.left_open
            ));
        }
    }
    lines
}

/// The crowd line's addition for carts and reservations.
pub(in crate::report) fn header_lines(r: &Report) -> String {
    meta_lines(&r.meta)
}

/// The same, from the run's description alone: the terminal prints it
/// before any strategy has run.
pub(in crate::report) fn meta_lines(m: &RunMeta) -> String {
    let mut out = String::new();
    if let Some(c) = &m.carts {
        let names: Vec<String> = m
            .products
            .iter()
            .map(|p| format!("{}={}", p.name, p.stock))
            .collect();
        out.push_str(&format!("carts: {c} · stock {}\n", names.join(",")));
    }
    if let Some(plan) = &m.reserve {
        out.push_str(&format!("reservations: {plan}\n"));
    }
    out
}
