//! `--markdown`: the verdict and headline first, then the terminal's tables as GitHub-flavoured
//! Markdown, for a CI job summary. Cell texts come from `report/cells`, so the
//! two reports cannot drift apart.

use std::fmt::Write;
use std::io;

use super::Exporter;
use crate::findings::{Report, StrategyReport};
use crate::report::cells::gate::{headline, threshold_lines};
use crate::report::cells::measures::{
    self, CPU_HEADER, LATENCY_HEADER, RETRIES_HEADER, THROUGHPUT_HEADER,
};
use crate::report::cells::results::{
    self, error_lines, results_row, verdict_line, RESULTS_HEADER, VALIDATION_HEADER,
};
use crate::report::cells::{connection, crowd, shop, think};
use crate::report::faults;

pub struct Markdown;

impl Exporter for Markdown {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>> {
        Ok(render(report).into_bytes())
    }
}

/// Verdict and headline first, as a CI page is read; the details after.
pub fn render(r: &Report) -> String {
    let mut out = title(r);
    for line in verdict_line(r).lines() {
        // Two trailing spaces: a hard line break, so each note stays on its own line.
        let _ = writeln!(out, "**{}**  ", escape(line));
    }
    notes(&mut out, &threshold_lines(r));
    out.push_str(&header(r));
    out.push_str("\n### Results\n\n");
    let rows: Vec<Vec<String>> = r.strategies.iter().map(results_row).collect();
    out.push_str(&table(&RESULTS_HEADER, &rows, 1));
    notes(&mut out, &error_lines(r));
    notes(&mut out, &measures::late_start_lines(r));
    measurements(&mut out, r);
    out.push_str("\n### Validation, read back from Redis\n\n");
    out.push_str(&table(&VALIDATION_HEADER, &validation_rows(r), usize::MAX));
    for (s, lines) in crate::report::race::sections(r) {
        let _ = write!(
            out,
            "\n### {} ({})\n",
            crate::report::race::TITLE,
            s.strategy.name()
        );
        notes(&mut out, &lines);
    }
    out
}

/// `## blackfriday: <scenario>` and the headline under it.
fn title(r: &Report) -> String {
    let m = &r.meta;
    let name = match &m.scenario {
        Some(s) => format!("{} (run {})", s, m.run_id),
        None => format!("run {}", m.run_id),
    };
    format!(
        "## blackfriday: {}\n\n### {}\n\n",
        escape(&name),
        escape(&headline(r))
    )
}

/// A bulleted list, after a blank line, when there is anything to list.
fn notes(out: &mut String, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    out.push('\n');
    for line in lines {
        let _ = writeln!(out, "- {}", escape(line));
    }
}

fn measurements(out: &mut String, r: &Report) {
    let rows = |f: &dyn Fn(&StrategyReport) -> Vec<Vec<String>>| -> Vec<Vec<String>> {
        r.strategies.iter().flat_map(f).collect()
    };
    let _ = write!(out, "\n### {}\n\n", measures::latency_title(r));
    let latency = rows(&|s| measures::latency_rows(r, s));
    out.push_str(&table(&LATENCY_HEADER, &latency, 2));
    let _ = writeln!(out, "\n{}", escape(measures::latency_note(r)));
    out.push_str("\n### Retries per purchase (buyers who purchased)\n\n");
    let retries = rows(&|s| vec![measures::retries_row(s)]);
    out.push_str(&table(&RETRIES_HEADER, &retries, 1));
    out.push_str("\n### Throughput per 1-second bucket since the release\n\n");
    out.push_str(&table(
        &THROUGHPUT_HEADER,
        &rows(&measures::throughput_rows),
        3,
    ));
    let products = rows(&|s| shop::product_rows(r, s));
    if !products.is_empty() {
        out.push_str("\n### Products, read back from Redis\n\n");
        out.push_str(&table(&shop::PRODUCTS_HEADER, &products, 2));
    }
    let holds = rows(&shop::hold_rows);
    if !holds.is_empty() {
        out.push_str("\n### Holds\n\n");
        out.push_str(&table(&shop::HOLDS_HEADER, &holds, 1));
        notes(out, &shop::hold_notes(r));
    }
    let faults = rows(&faults::rows);
    if !faults.is_empty() {
        out.push_str("\n### Faults\n\n");
        out.push_str(&table(&faults::HEADER, &faults, 3));
        notes(
            out,
            &faults::NOTE.lines().map(String::from).collect::<Vec<_>>(),
        );
    }
    out.push_str("\n### CPU while each strategy ran\n\n");
    let cpu = rows(&|s| vec![measures::cpu_row(s)]);
    out.push_str(&table(&CPU_HEADER, &cpu, 1));
    notes(out, &measures::cpu_node_lines(r));
    notes(out, &measures::cpu_warnings(r));
}

fn header(r: &Report) -> String {
    let m = &r.meta;
    let server = match m.managed_pid {
        Some(_) => format!("managed redis-server {}", m.server_version),
        None => format!("redis {}", m.server_version),
    };
    format!(
        "\n### The run\n\n\
         - run {}\n\
         - seed {} (repeat with `--seed {}`)\n\
         - crowd: {}\n\
         {}{}- load: {}{}\n\
         - redis: {server} at `{}`\n\
         - connection: {}\n",
        m.run_id,
        m.seed,
        m.seed,
        crowd(m),
        shop::header_lines(r)
            .lines()
            .map(|l| format!("- {}\n", escape(l)))
            .collect::<String>(),
        faults::header_lines(&r.meta)
            .lines()
            .map(|l| format!("- {}\n", escape(l)))
            .collect::<String>(),
        m.load,
        think(m),
        m.redis_url,
        escape(&connection(m))
    )
}

fn validation_rows(r: &Report) -> Vec<Vec<String>> {
    results::validation_rows(r, |t| format!("**{t}**"))
}

/// A GFM table. Figures read best right-aligned, as in the terminal: every
/// column after the first `labels` is right-aligned.
fn table(header: &[&str], rows: &[Vec<String>], labels: usize) -> String {
    let mut out = String::new();
    let cells: Vec<String> = header.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    let align: Vec<&str> = (0..header.len())
        .map(|col| if col >= labels { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", align.join("|"));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// Keep a cell in its cell: a `|` would end it, a newline the whole row.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}
