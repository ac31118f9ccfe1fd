//! The terminal report. Formats a finished report, nothing more.
//!
//! By default: a headline per strategy, the key figures, the evidence of
//! every check that failed, and the verdict as the last line. `--details`
//! adds every measurement table. Everything fits the view's width
//! (`layout`): tables are arranged, prose wraps between words.

use std::fmt::Write;

use comfy_table::{Attribute, Cell, CellAlignment, Color};

use super::cells::gate::threshold_lines;
use super::cells::headline::{headline, key_row, verdict, verdict_notes, KEY_HEADER};
use super::cells::measures::{
    self, CPU_HEADER, LATENCY_HEADER, RETRIES_HEADER, RETRIES_NOTE, THROUGHPUT_HEADER,
};
use super::cells::repeat::{repeat_notes, repeat_rows, REPEAT_HEADER};
use super::cells::results::{
    check_mark, error_lines, expectation, results_row, verdict_reason, OVERSOLD_COLUMN,
    RESULTS_HEADER, VALIDATION_HEADER,
};
use super::cells::{connection, crowd, shop, think};
use super::faults;
use super::layout::{labelled, prose, Grid, View};
use crate::findings::{Report, RunMeta, StrategyReport};

/// Everything printed once the run is over. The header came before it
/// ([`header`]), while the buyers were still to be released.
pub fn render(report: &Report, view: &View) -> String {
    let mut out = String::new();
    let w = view.width;
    let _ = writeln!(out, "\n{}", headlines(report, w));
    let _ = writeln!(out, "{}", key_figures(report, view));
    fault_table(&mut out, report, view);
    let mut notes = error_lines(report);
    notes.extend(measures::cpu_warnings(report));
    for line in notes {
        let _ = writeln!(out, "{}", prose(&line, w));
    }
    if view.details {
        details(&mut out, report, view);
    } else {
        evidence(&mut out, report, view);
    }
    out.push_str(&super::race::terminal(report));
    repetitions(&mut out, report, view);
    if !report.thresholds.is_empty() {
        let _ = writeln!(out, "Thresholds");
        for line in threshold_lines(report) {
            let _ = writeln!(out, "{}", prose(&line, w));
        }
    }
    for line in verdict_notes(report) {
        let _ = writeln!(out, "{}", prose(&line, w));
    }
    // The last line names what happened: nothing may scroll it away.
    let _ = writeln!(out, "{}", prose(&verdict(report), w));
    out
}

/// One line per strategy, names aligned.
fn headlines(r: &Report, width: usize) -> String {
    let pad = r
        .strategies
        .iter()
        .map(|s| s.strategy.name().len())
        .max()
        .unwrap_or(0);
    let lines: Vec<String> = r
        .strategies
        .iter()
        .map(|s| labelled(&format!("{:pad$}", s.strategy.name()), &headline(s), width))
        .collect();
    lines.join("\n")
}

/// `--repeat`: each strategy's key figures as median (min–max), and the
/// seed of every repetition whose correctness failed.
fn repetitions(out: &mut String, r: &Report, view: &View) {
    let Some((title, failed)) = repeat_notes(r) else {
        return;
    };
    let mut g = Grid::new(&REPEAT_HEADER, 1);
    for row in repeat_rows(r) {
        let cells = row.into_iter().enumerate();
        g.rows.push(
            cells
                .map(|(i, t)| if i == 0 { Cell::new(t) } else { right(t) })
                .collect(),
        );
    }
    let _ = writeln!(out, "{title}\n{}", g.render(view));
    for line in failed {
        let _ = writeln!(out, "{}", prose(&line, view.width));
    }
}

fn key_figures(r: &Report, view: &View) -> String {
    let mut g = Grid::new(&KEY_HEADER, 1);
    for s in &r.strategies {
        let oversold = s.server.oversold() == 0;
        let row = key_row(s).into_iter().enumerate().map(|(i, text)| match i {
            0 => Cell::new(text),
            2 => good_bad(text, oversold, view.color).set_alignment(CellAlignment::Right),
            _ => right(text),
        });
        g.rows.push(row.collect());
    }
    g.render(view)
}

/// The validation rows of every check that failed, wanted or not, and the
/// verdict of every strategy that did not behave as expected.
fn evidence(out: &mut String, r: &Report, view: &View) {
    // The expectation is in the headline: its column would only narrow the
    // evidence.
    let mut g = Grid::new(&["strategy", "check", "result", "evidence (from Redis)"], 1);
    for s in &r.strategies {
        let mut rows: Vec<Vec<Cell>> = s
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| check_row(s, c, view.color))
            .collect();
        if !s.verdict.held {
            rows.push(verdict_row(s, view.color));
        }
        // The strategy once, on its first row.
        for row in rows.iter_mut() {
            row.remove(1);
        }
        for row in rows.iter_mut().skip(1) {
            row[0] = Cell::new("");
        }
        g.rows.extend(rows);
    }
    if !g.rows.is_empty() {
        let _ = writeln!(out, "Evidence, read back from Redis\n{}", g.render(view));
    }
}

/// Every table: results, latency, retries, throughput, products, holds,
/// CPU and the full validation.
fn details(out: &mut String, report: &Report, view: &View) {
    let w = view.width;
    for line in measures::late_start_lines(report) {
        let _ = writeln!(out, "{}", prose(&line, w));
    }
    let rows = |f: &dyn Fn(&StrategyReport) -> Vec<Vec<String>>| -> Vec<Vec<String>> {
        report.strategies.iter().flat_map(f).collect()
    };
    let results = rows(&|s| vec![results_row(s)]);
    let mut section = |title: &str, table: String, note: &str| {
        let _ = writeln!(out, "{}\n{table}", prose(title, w));
        if !note.is_empty() {
            let _ = writeln!(out, "{}", prose(note, w));
        }
    };
    section("Results", numbers(&RESULTS_HEADER, results, 1, view), "");
    let latency = rows(&|s| measures::latency_rows(report, s));
    section(
        measures::latency_title(report),
        numbers(&LATENCY_HEADER, latency, 2, view),
        measures::latency_note(report),
    );
    let retries = rows(&|s| vec![measures::retries_row(s)]);
    section(
        "Retries of each buyer who purchased",
        numbers(&RETRIES_HEADER, retries, 1, view),
        RETRIES_NOTE,
    );
    let throughput = rows(&measures::throughput_rows);
    section(
        "Throughput per 1-second bucket since the release",
        numbers(&THROUGHPUT_HEADER, throughput, 3, view),
        "",
    );
    shop_tables(out, report, view);
    let cpu = rows(&|s| vec![measures::cpu_row(s)]);
    let _ = writeln!(
        out,
        "{}\n{}",
        prose(
            "CPU while each strategy ran (server: INFO cpu; generator: this process)",
            w
        ),
        numbers(&CPU_HEADER, cpu, 1, view)
    );
    for line in measures::cpu_node_lines(report) {
        let _ = writeln!(out, "{}", prose(&line, w));
    }
    let _ = writeln!(
        out,
        "Validation, read back from Redis\n{}",
        validation(report, view)
    );
}

/// What each planned fault did, in runs that have faults: shown by
/// default, since it is what such a run is about.
fn fault_table(out: &mut String, report: &Report, view: &View) {
    let rows: Vec<Vec<String>> = report.strategies.iter().flat_map(faults::rows).collect();
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "Faults\n{}\n{}",
            numbers(&faults::HEADER, rows, 3, view),
            prose(faults::NOTE, view.width)
        );
    }
}

/// Products and holds, in the runs that have them.
fn shop_tables(out: &mut String, report: &Report, view: &View) {
    let products: Vec<Vec<String>> = report
        .strategies
        .iter()
        .flat_map(|s| shop::product_rows(report, s))
        .collect();
    if !products.is_empty() {
        let _ = writeln!(
            out,
            "Products, read back from Redis\n{}",
            numbers(&shop::PRODUCTS_HEADER, products, 2, view)
        );
    }
    let holds: Vec<Vec<String>> = report.strategies.iter().flat_map(shop::hold_rows).collect();
    if !holds.is_empty() {
        let _ = writeln!(
            out,
            "Holds\n{}",
            numbers(&shop::HOLDS_HEADER, holds, 1, view)
        );
        for line in shop::hold_notes(report) {
            let _ = writeln!(out, "{}", prose(&line, view.width));
        }
    }
}

/// The run header: what is about to happen and against which server.
/// Printed before the first buyer is released.
pub fn header(m: &RunMeta, view: &View) -> String {
    let server = match (m.managed_pid, m.managed_pids.len()) {
        (Some(pid), 0 | 1) => format!(
            "managed redis-server {} at {} (pid {pid})",
            m.server_version, m.redis_url
        ),
        (Some(_), n) => format!(
            "managed cluster of {n} redis-server {} at {} (pids {})",
            m.server_version,
            m.redis_url,
            m.managed_pids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        (None, _) => format!("redis {} at {}", m.server_version, m.redis_url),
    };
    let crowd = format!("crowd: {}", crowd(m));
    let mut lines = vec![
        format!(
            "blackfriday run {} · seed {} (repeat with --seed {})",
            m.run_id, m.seed, m.seed
        ),
        crowd,
    ];
    lines.extend(shop::meta_lines(m).lines().map(str::to_string));
    lines.extend(faults::header_lines(m).lines().map(str::to_string));
    lines.push(format!("load: {}{}", m.load, think(m)));
    lines.push(format!("redis: {server}"));
    lines.push(format!("connection: {}", connection(m)));
    let wrapped: Vec<String> = lines.iter().map(|l| prose(l, view.width)).collect();
    format!("{}\n", wrapped.join("\n"))
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

/// A table of figures: the first `labels` columns left-aligned (and
/// repeated if the table must be split), the rest right-aligned.
fn numbers(header: &[&str], rows: Vec<Vec<String>>, labels: usize, view: &View) -> String {
    let mut g = Grid::new(header, labels);
    for row in rows {
        let cells = row.into_iter().enumerate().map(|(i, text)| {
            if i < labels {
                Cell::new(text)
            } else if header == RESULTS_HEADER && i == OVERSOLD_COLUMN {
                good_bad(&text, text == "0", view.color).set_alignment(CellAlignment::Right)
            } else {
                right(text)
            }
        });
        g.rows.push(cells.collect());
    }
    g.render(view)
}

fn check_row(s: &StrategyReport, c: &crate::audit::Check, color: bool) -> Vec<Cell> {
    let wanted = s.expect().wants(c.id);
    let tolerated = s.verdict.tolerated.contains(&c.id);
    vec![
        Cell::new(s.strategy.name()),
        Cell::new(expectation(s)),
        Cell::new(c.id.title()),
        good_bad(check_mark(s, c), c.passed == wanted || tolerated, color),
        Cell::new(&c.detail),
    ]
}

fn verdict_row(s: &StrategyReport, color: bool) -> Vec<Cell> {
    vec![
        Cell::new(s.strategy.name()),
        Cell::new(""),
        Cell::new("verdict").add_attribute(Attribute::Bold),
        good_bad(
            if s.verdict.held { "held" } else { "FAILED" },
            s.verdict.held,
            color,
        ),
        Cell::new(verdict_reason(s)),
    ]
}

fn validation(r: &Report, view: &View) -> String {
    let mut g = Grid::new(&VALIDATION_HEADER, 1);
    for s in &r.strategies {
        for (i, c) in s.checks.iter().enumerate() {
            let mut row = check_row(s, c, view.color);
            if i > 0 {
                row[0] = Cell::new("");
                row[1] = Cell::new("");
            }
            g.rows.push(row);
        }
        let mut row = verdict_row(s, view.color);
        row[0] = Cell::new("");
        g.rows.push(row);
    }
    g.render(view)
}
