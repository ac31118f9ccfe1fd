//! `--html`: one self-contained page: the verdict first, then the plots
//! (stock on the server, throughput, latency spectra), retries per purchase
//! and the validation checks with their evidence. Plots are inline SVG and
//! the style is inline: the file loads nothing, so it opens offline and can
//! be attached to a CI run. Cell texts come from `report/cells`, like the
//! terminal's and the Markdown's.

use std::fmt::Write;
use std::io;

use super::Exporter;
use crate::findings::Report;
use crate::report::cells::results::{
    self, results_row, verdict_line, RESULTS_HEADER, VALIDATION_HEADER,
};
use crate::report::plots;

pub struct Html;

impl Exporter for Html {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>> {
        render(report).map(String::into_bytes)
    }
}

pub(in crate::report) const STYLE: &str = "body{font-family:sans-serif;max-width:62em;margin:1em auto;padding:0 1em;\
color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\
.verdict{padding:.6em 1em;border-radius:4px;font-weight:bold;white-space:pre-wrap}\
.held{background:#e6f4ea;border:1px solid #34a853}.failed{background:#fce8e6;border:1px solid #d93025}\
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}\
td,th{border:1px solid #ccc;padding:.25em .5em}td.n{text-align:right}\
figure{margin:.5em 0}svg{max-width:100%;height:auto}.meta{color:#555}";

pub fn render(r: &Report) -> io::Result<String> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>blackfriday run {id}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>blackfriday run {id}</h1>\n",
        id = escape(&r.meta.run_id)
    );
    let held = r.failed().next().is_none() && r.unavailable.is_empty();
    let _ = writeln!(
        out,
        "<div class=\"verdict {}\">{}</div>",
        if held { "held" } else { "failed" },
        escape(verdict_line(r).trim_end())
    );
    meta(&mut out, r);
    out.push_str("<h2>Results</h2>\n");
    let rows: Vec<Vec<String>> = r.strategies.iter().map(results_row).collect();
    table(&mut out, &RESULTS_HEADER, &rows, 1);
    plots_section(&mut out, r)?;
    retries(&mut out, r);
    out.push_str("<h2>Validation, read back from Redis</h2>\n");
    table(
        &mut out,
        &VALIDATION_HEADER,
        &validation_rows(r),
        usize::MAX,
    );
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn meta(out: &mut String, r: &Report) {
    let m = &r.meta;
    let _ = writeln!(
        out,
        "<p class=\"meta\">seed {} · {} buyers wanting {} unit(s) each, {} demanded · {} in \
         stock · load {} · {} connections · redis {}</p>",
        m.seed,
        m.buyers,
        escape(&m.qty.to_string()),
        m.demand,
        m.stock,
        escape(&m.load.to_string()),
        m.connections,
        escape(&m.server_version)
    );
}

fn plots_section(out: &mut String, r: &Report) -> io::Result<()> {
    out.push_str("<h2>Stock on the server over time</h2>\n");
    figure(
        out,
        "stock",
        plots::stock(r)?,
        "Read from the server (one MGET of stock and sold) about every 20 ms.",
    );
    out.push_str("<h2>Purchases and attempts per second</h2>\n");
    figure(out, "throughput", plots::throughput(r)?, "");
    out.push_str("<h2>Latency percentile spectrum</h2>\n");
    for s in &r.strategies {
        let id = format!("spectrum-{}", s.strategy.name());
        figure(
            out,
            &id,
            plots::spectrum(s)?,
            "From the intended start to the outcome, by final outcome; service time from the \
             first send.",
        );
    }
    Ok(())
}

/// A plot with its note, or a line saying there was nothing to draw.
pub(in crate::report) fn figure(out: &mut String, id: &str, svg: Option<String>, note: &str) {
    match svg {
        Some(svg) => {
            let _ = writeln!(out, "<figure id=\"{id}\">");
            // The document's own declaration covers the inline SVG.
            let body = match svg.find("<svg") {
                Some(at) => &svg[at..],
                None => &svg,
            };
            out.push_str(body.trim_end());
            if !note.is_empty() {
                let _ = write!(out, "\n<figcaption>{}</figcaption>", escape(note));
            }
            out.push_str("\n</figure>\n");
        }
        None => {
            let _ = writeln!(out, "<p>No data to plot yet.</p>");
        }
    }
}

fn retries(out: &mut String, r: &Report) {
    out.push_str("<h2>Retries per purchase</h2>\n");
    let header = ["strategy", "purchases", "mean", "p50", "p90", "p99", "max"];
    let rows: Vec<Vec<String>> = r
        .strategies
        .iter()
        .map(|s| {
            let p = &s.retries;
            vec![
                s.strategy.name().to_string(),
                p.count.to_string(),
                format!("{:.2}", p.mean),
                p.p50.to_string(),
                p.p90.to_string(),
                p.p99.to_string(),
                p.max.to_string(),
            ]
        })
        .collect();
    table(out, &header, &rows, 1);
}

fn validation_rows(r: &Report) -> Vec<Vec<String>> {
    results::validation_rows(r, |t| t.to_string())
}

/// An HTML table; columns after the first `labels` are right-aligned.
pub(in crate::report) fn table(
    out: &mut String,
    header: &[&str],
    rows: &[Vec<String>],
    labels: usize,
) {
    out.push_str("<table>\n<tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i >= labels { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// Text in HTML: the five characters markup gives meaning to.
pub(in crate::report) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
