//! Terminal tables (comfy-table). Formats a finished report, nothing more.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

use super::measures::{self, CPU_HEADER, LATENCY_HEADER, RETRIES_HEADER, THROUGHPUT_HEADER};
use super::{shop, Report, StrategyReport};
use crate::audit::{Check, CheckId};
use crate::gate::Expect;

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
    let products = rows(&|s| shop::product_rows(report, s));
    if !products.is_empty() {
        let _ = writeln!(
            out,
            "Products, read back from Redis\n{}",
            numbers(&shop::PRODUCTS_HEADER, products, 2)
        );
    }
    let holds = rows(&shop::hold_rows);
    if !holds.is_empty() {
        let _ = writeln!(out, "Holds\n{}", numbers(&shop::HOLDS_HEADER, holds, 1));
        for line in shop::hold_notes(report) {
            let _ = writeln!(out, "{line}");
        }
    }
    let cpu = rows(&|s| vec![measures::cpu_row(s)]);
    let _ = writeln!(
        out,
        "CPU while each strategy ran (server: INFO cpu; generator: this process)\n{}",
        numbers(&CPU_HEADER, cpu, 1)
    );
    for line in measures::cpu_warnings(report) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "Validation, read back from Redis\n{}",
        validation(report, color)
    );
    let _ = writeln!(out, "{}", verdict_line(report));
    out
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
         redis: {server}\n",
        m.run_id, m.seed, m.seed, m.buyers, m.qty,
        if m.carts.is_some() { "per cart line" } else { "each" },
        m.demand, m.stock, m.concurrency, m.connections,
        shop::header_lines(r), m.load, think(m)
    )
}

pub(super) fn think(m: &super::RunMeta) -> String {
    if m.think.is_zero() {
        String::new()
    } else {
        format!(" · think {} before each retry", m.think)
    }
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

pub(super) const RESULTS_HEADER: [&str; 14] = [
    "strategy",
    "purchased",
    "sold out",
    "false sold-outs",
    "gave up",
    "errors",
    "final stock",
    "oversold",
    "duration",
    "last sale",
    "purchases/s",
    "attempts/s",
    "retries/purchase",
    "rtt/purchase",
];
/// Column of [`RESULTS_HEADER`] coloured by whether it is 0.
const OVERSOLD_COLUMN: usize = 7;

/// One row of the results table as text, shared with the Markdown report.
pub(super) fn results_row(s: &StrategyReport) -> Vec<String> {
    let f = &s.figures;
    vec![
        s.strategy.name().to_string(),
        f.purchased.to_string(),
        f.sold_out.to_string(),
        f.false_sold_outs.to_string(),
        f.gave_up.to_string(),
        f.errors.to_string(),
        s.server.stock.to_string(),
        s.server.oversold().to_string(),
        format!("{:.3}s", f.duration_s),
        format!("{:.3}s", f.last_sale_s),
        format!("{:.0}", f.purchases_per_s),
        format!("{:.0}", f.attempts_per_s),
        format!("{:.2}", f.retries_per_purchase),
        format!("{:.2}", f.round_trips_per_purchase),
    ]
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

/// One line per strategy and error class, with the first message seen.
pub(super) fn error_lines(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    for s in &r.strategies {
        for (class, n) in &s.figures.errors_by_class {
            let sample = s
                .figures
                .error_samples
                .get(class)
                .map_or("", String::as_str);
            lines.push(format!(
                "errors: {} {n} × {} (first: {sample})",
                s.strategy,
                class.name()
            ));
        }
    }
    lines
}

/// Microseconds as the shortest readable unit.
pub fn micros(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=999_999 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
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

pub(super) const VALIDATION_HEADER: [&str; 5] = [
    "strategy",
    "expected",
    "check",
    "result",
    "evidence (from Redis)",
];

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

/// The result column: what the check did, and whether that was wanted.
pub(super) fn check_mark(s: &StrategyReport, c: &Check) -> &'static str {
    match (c.passed, s.expect().wants(c.id)) {
        (true, true) => "✅ pass",
        (false, false) => "❌ fail, as expected",
        (true, false) => "✅ pass, expected to fail",
        (false, true) if s.verdict.tolerated.contains(&c.id) => "⚠️ fail, tolerated",
        (false, true) => "❌ fail",
    }
}

pub(super) fn expectation(s: &StrategyReport) -> String {
    match s.expect() {
        Expect::Clean => "clean: every check passes".into(),
        Expect::Oversell => "oversell: must oversell, all else passes".into(),
        Expect::DoubleRestock => "double-restock: some hold's units must go back twice".into(),
    }
}

pub(super) fn verdict_reason(s: &StrategyReport) -> String {
    let v = &s.verdict;
    if v.held && !v.tolerated.is_empty() {
        let tolerated: Vec<&str> = v.tolerated.iter().map(|c| c.title()).collect();
        return format!(
            "as expected ({}); known weakness shown: {}",
            v.expect,
            tolerated.join(", ")
        );
    }
    if v.held {
        return format!("behaved as expected ({})", v.expect);
    }
    let failed: Vec<&str> = v.failed.iter().map(|c| c.title()).collect();
    match v.expect {
        e if e.tooth().is_some_and(|t| v.failed.contains(&t)) => format!(
            "expected to fail '{}' and did not: the test has lost its teeth ({})",
            e.tooth().map_or("", CheckId::title),
            failed.join(", ")
        ),
        _ => format!("unexpected result on: {}", failed.join(", ")),
    }
}

pub(super) fn verdict_line(r: &Report) -> String {
    let failed: Vec<&str> = r.failed().map(|s| s.strategy.name()).collect();
    let status = r.status() as u8;
    let mut line = if failed.is_empty() {
        format!("verdict: every expectation held (exit {status})")
    } else {
        format!(
            "verdict: expectation failed for {} (exit {status})",
            failed.join(", ")
        )
    };
    for u in &r.unavailable {
        let _ = write!(line, "\nnot run: {}: {} (exit 3)", u.strategy, u.reason);
    }
    if !r.finished {
        let _ = write!(
            line,
            "\nnote: partial report, {} of {} strategies have run",
            r.strategies.len(),
            r.meta.strategies.len()
        );
    }
    if r.interrupted {
        line.push_str(
            "\nnote: interrupted with Ctrl-C: buyers still retrying stopped and count as gave up; \
             the checks describe what ran, the exit status is 130",
        );
    }
    line
}
