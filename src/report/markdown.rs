//! `--markdown`: the terminal's three tables and verdict as GitHub-flavoured
//! Markdown, for a CI job summary. Cell texts come from `table.rs`, so the
//! two reports cannot drift apart.

use std::fmt::Write;
use std::io;

use super::export::Exporter;
use super::table::{
    check_mark, error_lines, expectation, latency_row, results_row, verdict_line, verdict_reason,
    LATENCY_HEADER, RESULTS_HEADER, VALIDATION_HEADER,
};
use super::Report;

pub struct Markdown;

impl Exporter for Markdown {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>> {
        Ok(render(report).into_bytes())
    }
}

pub fn render(r: &Report) -> String {
    let mut out = header(r);
    out.push_str("\n### Results\n\n");
    let rows: Vec<Vec<String>> = r.strategies.iter().map(results_row).collect();
    out.push_str(&table(&RESULTS_HEADER, &rows, true));
    let errors = error_lines(r);
    if !errors.is_empty() {
        out.push('\n');
        for line in errors {
            let _ = writeln!(out, "- {}", escape(&line));
        }
    }
    out.push_str("\n### Latency, release to final outcome (all buyers)\n\n");
    let rows: Vec<Vec<String>> = r.strategies.iter().map(latency_row).collect();
    out.push_str(&table(&LATENCY_HEADER, &rows, true));
    out.push_str("\n### Validation, read back from Redis\n\n");
    out.push_str(&table(&VALIDATION_HEADER, &validation_rows(r), false));
    out.push('\n');
    for line in verdict_line(r).lines() {
        // Two trailing spaces: a hard line break, so each note stays on its own line.
        let _ = writeln!(out, "**{}**  ", escape(line));
    }
    out
}

fn header(r: &Report) -> String {
    let m = &r.meta;
    let server = match m.managed_pid {
        Some(_) => format!("managed redis-server {}", m.server_version),
        None => format!("redis {}", m.server_version),
    };
    format!(
        "## blackfriday run {}\n\n\
         - seed {} (repeat with `--seed {}`)\n\
         - crowd: {} buyers wanting {} unit(s) each, {} units demanded, {} in stock · {} in flight · {} watch connections\n\
         - redis: {server} at `{}`\n",
        m.run_id,
        m.seed,
        m.seed,
        m.buyers,
        m.qty,
        m.demand,
        m.stock,
        m.concurrency,
        m.connections,
        m.redis_url
    )
}

fn validation_rows(r: &Report) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for s in &r.strategies {
        for (i, c) in s.checks.iter().enumerate() {
            let first = i == 0;
            rows.push(vec![
                if first {
                    s.strategy.name().into()
                } else {
                    String::new()
                },
                if first { expectation(s) } else { String::new() },
                c.id.title().into(),
                check_mark(s, c).into(),
                c.detail.clone(),
            ]);
        }
        let verdict = if s.verdict.held { "held" } else { "FAILED" };
        rows.push(vec![
            String::new(),
            String::new(),
            "**verdict**".into(),
            format!("**{verdict}**"),
            verdict_reason(s),
        ]);
    }
    rows
}

/// A GFM table. Figures read best right-aligned, as in the terminal, so
/// `numbers` right-aligns every column after the first.
fn table(header: &[&str], rows: &[Vec<String>], numbers: bool) -> String {
    let mut out = String::new();
    let cells: Vec<String> = header.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    let align: Vec<&str> = (0..header.len())
        .map(|col| if numbers && col > 0 { "---:" } else { "---" })
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
