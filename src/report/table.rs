//! Terminal tables (comfy-table). Formats a finished report, nothing more.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

use super::cells::measures::{self, CPU_HEADER, LATENCY_HEADER, RETRIES_HEADER, THROUGHPUT_HEADER};
use super::cells::results::{
    check_mark, error_lines, expectation, results_row, verdict_line, verdict_reason,
    OVERSOLD_COLUMN, RESULTS_HEADER, VALIDATION_HEADER,
};
use super::cells::{connection, shop, think};
use crate::findings::{Report, StrategyReport};

pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(report));
    let _ = writeln!(out, "Results\n{}", results(report, color));
    for line in error_lines(report) {
        let _ = writeln!(out, "{line}");
    }
    for line in measures::late_start_lines(report) {
        let _ = writeln!(out, "{line}");
    }
    measurements(&mut out, report);
    let _ = writeln!(
        out,
        "Validation, read back from Redis\n{}",
        validation(report, color)
    );
    let _ = writeln!(out, "{}", verdict_line(report));
    out
}

/// Latency, retries, throughput, products, holds and CPU, with their notes.
fn measurements(out: &mut String, report: &Report) {
    let rows = |f: &dyn Fn(&StrategyReport) -> Vec<Vec<String>>| -> Vec<Vec<String>> {
        report.strategies.iter().flat_map(f).collect()
    };
    let latency = rows(&|s| measures::latency_rows(report, s));
    let _ = writeln!(
        out,
        "{}\n{}\n{}",
        measures::latency_title(report),
        numbers(&LATENCY_HEADER, latency, 2),
        measures::latency_note(report)
    );
    let retries = rows(&|s| vec![measures::retries_row(s)]);
    let _ = writeln!(
        out,
        "Retries per purchase (buyers who purchased)\n{}",
        numbers(&RETRIES_HEADER, retries, 1)
    );
    let throughput = rows(&measures::throughput_rows);
    let _ = writeln!(
        out,
        "Throughput per 1-second bucket since the release\n{}",
        numbers(&THROUGHPUT_HEADER, throughput, 3)
    );
    shop_tables(out, report);
    let cpu = rows(&|s| vec![measures::cpu_row(s)]);
    let _ = writeln!(
        out,
        "CPU while each strategy ran (server: INFO cpu; generator: this process)\n{}",
        numbers(&CPU_HEADER, cpu, 1)
    );
    for line in measures::cpu_warnings(report) {
        let _ = writeln!(out, "{line}");
    }
}

/// Products and holds, in the runs that have them.
fn shop_tables(out: &mut String, report: &Report) {
    let products: Vec<Vec<String>> = report
        .strategies
        .iter()
        .flat_map(|s| shop::product_rows(report, s))
        .collect();
    if !products.is_empty() {
        let _ = writeln!(
            out,
            "Products, read back from Redis\n{}",
            numbers(&shop::PRODUCTS_HEADER, products, 2)
        );
    }
    let holds: Vec<Vec<String>> = report.strategies.iter().flat_map(shop::hold_rows).collect();
    if !holds.is_empty() {
        let _ = writeln!(out, "Holds\n{}", numbers(&shop::HOLDS_HEADER, holds, 1));
        for line in shop::hold_notes(report) {
            let _ = writeln!(out, "{line}");
        }
    }
}

pub fn header(r: &Report) -> String {
    let m = &r.meta;
    let server = match m.managed_pid {
        Some(pid) => format!(
            "managed redis-server {} at {} (pid {pid})",
            m.server_version, m.redis_url
        ),
        None => format!("redis {} at {}", m.server_version, m.redis_url),
    };
    format!(
        "blackfriday run {} · seed {} (repeat with --seed {})\n\
         crowd: {} buyers wanting {} unit(s) {}, {} units demanded, {} in stock · {} in flight · {} watch connections\n\
         {}load: {}{}\n\
         redis: {server}\n\
         connection: {}\n",
        m.run_id, m.seed, m.seed, m.buyers, m.qty,
        if m.carts.is_some() { "per cart line" } else { "each" },
        m.demand, m.stock, m.concurrency, m.connections,
        shop::header_lines(r), m.load, think(m), connection(m)
    )
}

fn table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !color {
        t.force_no_tty();
    }
    t
}

fn right(text: impl ToString) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn good_bad(text: impl ToString, good: bool, color: bool) -> Cell {
    let cell = Cell::new(text);
    if !color {
        return cell;
    }
    cell.fg(if good { Color::Green } else { Color::Red })
        .add_attribute(Attribute::Bold)
}

fn results(r: &Report, color: bool) -> Table {
    let mut t = table(color);
    t.set_header(RESULTS_HEADER);
    for s in &r.strategies {
        let row = results_row(s).into_iter().enumerate().map(|(i, text)| {
            let cell = match i {
                0 => return Cell::new(text),
                OVERSOLD_COLUMN => good_bad(text, s.server.oversold() == 0, color),
                _ => Cell::new(text),
            };
            cell.set_alignment(CellAlignment::Right)
        });
        t.add_row(row.collect::<Vec<_>>());
    }
    t
}

/// A table of figures: the first `labels` columns left-aligned, the rest
/// right-aligned.
fn numbers(header: &[&str], rows: Vec<Vec<String>>, labels: usize) -> Table {
    let mut t = table(false);
    t.set_header(header.to_vec());
    for row in rows {
        let cells = row.into_iter().enumerate().map(|(i, text)| {
            if i < labels {
                Cell::new(text)
            } else {
                right(text)
            }
        });
        t.add_row(cells.collect::<Vec<_>>());
    }
    t
}

fn validation(r: &Report, color: bool) -> Table {
    let mut t = table(color);
    t.set_header(VALIDATION_HEADER);
    for s in &r.strategies {
        for (i, c) in s.checks.iter().enumerate() {
            let wanted = s.expect().wants(c.id);
            let tolerated = s.verdict.tolerated.contains(&c.id);
            let mark = check_mark(s, c);
            t.add_row(vec![
                Cell::new(if i == 0 { s.strategy.name() } else { "" }),
                Cell::new(if i == 0 {
                    expectation(s)
                } else {
                    String::new()
                }),
                Cell::new(c.id.title()),
                good_bad(mark, c.passed == wanted || tolerated, color),
                Cell::new(&c.detail),
            ]);
        }
        t.add_row(vec![
            Cell::new(""),
            Cell::new(""),
            Cell::new("verdict").add_attribute(Attribute::Bold),
            good_bad(
                if s.verdict.held { "held" } else { "FAILED" },
                s.verdict.held,
                color,
            ),
            Cell::new(verdict_reason(s)),
        ]);
    }
    t
}
