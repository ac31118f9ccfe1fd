//! `sweep --html`: one self-contained page: the verdict, the table, and
//! the curves (purchases per second, p99 and retries per purchase against
//! the swept value, one line per strategy) as inline SVG. It loads nothing.

use std::fmt::Write;
use std::io;

use super::super::export::html::{escape, figure, table, STYLE};
use super::plots::{curve, CURVES};
use super::{cells, failure, half_speed_lines, value, verdict};
use crate::sweep::Sweep;

pub fn render(s: &Sweep) -> io::Result<Vec<u8>> {
    let mut out = String::new();
    let title = format!("blackfriday sweep: {}", s.param.flag());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = escape(&title)
    );
    let held = s.status() == crate::error::ExitStatus::Held;
    let _ = writeln!(
        out,
        "<div class=\"verdict {}\">{}</div>",
        if held { "held" } else { "failed" },
        escape(&verdict(s))
    );
    meta(&mut out, s);
    for c in &CURVES {
        figure(&mut out, c.id, curve(s, c)?, "");
    }
    let notes: Vec<String> = s
        .failed()
        .map(|p| format!("FAILED: {}", failure(s, p)))
        .chain(half_speed_lines(s))
        .collect();
    for note in notes {
        let _ = writeln!(out, "<p>{}</p>", escape(&note));
    }
    out.push_str("<h2>Every point</h2>\n");
    let (header, rows) = cells(s);
    let header: Vec<String> = header
        .iter()
        .map(|h| format!("{} {}", h[0], h[1]).trim_end().to_string())
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&mut out, &header, &rows, 2);
    out.push_str("</body>\n</html>\n");
    Ok(out.into_bytes())
}

fn meta(out: &mut String, s: &Sweep) {
    let Some(p) = s.points.first() else {
        return;
    };
    let values: Vec<String> = s.values.iter().map(|v| value(s.param, *v)).collect();
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} over {} · strategies {} · seed {} · every point a full run, \
         audited on the server</p>",
        escape(&s.param.flag()),
        escape(&values.join(", ")),
        escape(&super::strategies(s)),
        p.seed
    );
}
