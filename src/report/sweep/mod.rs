//! The sweep formatted: a line per point while it runs, then one table
//! (a row per point and strategy), the points that failed with their seed,
//! and the verdict; and the sweep's files (`--json`, `--csv`, `--html`).
//! Everything here reads the [`Sweep`]; nothing is decided here.

pub mod csv;
mod html;
pub mod json;
mod plots;

use std::fmt::Write;
use std::path::Path;

use unicode_width::UnicodeWidthStr;

use super::cells::headline::{grouped, short_micros};
use super::export::{dest, Format, Outputs, Target};
use super::layout::{prose, View};
use crate::error::{Error, ExitStatus, Result};
use crate::sweep::{Param, Point, Row, Sweep};

/// A value of the swept flag as the table shows it: `20,000`, `500/s`.
pub fn value(p: Param, v: f64) -> String {
    match p {
        Param::Skew => format!("{v}"),
        Param::Rate if v.fract() == 0.0 => format!("{}/s", grouped(v as i64)),
        Param::Rate => format!("{v}/s"),
        _ => grouped(v as i64),
    }
}

fn strategies(s: &Sweep) -> String {
    let names: Vec<&str> = s.strategies.iter().map(|k| k.name()).collect();
    names.join(", ")
}

/// What the sweep will do, before its first point.
pub fn header(s: &Sweep, seed: u64, view: &View) -> String {
    let (first, last) = (s.values[0], s.values[s.values.len() - 1]);
    let spread = if s.log {
        format!(
            "log range {} to {}",
            value(s.param, first),
            value(s.param, last)
        )
    } else {
        let all: Vec<String> = s.values.iter().map(|v| value(s.param, *v)).collect();
        all.join(", ")
    };
    let line = format!(
        "blackfriday sweep: {} over {} points ({spread}) · {} · seed {seed} (repeat with --seed \
         {seed})",
        s.param.flag(),
        s.values.len(),
        strategies(s)
    );
    format!("{}\n", prose(&line, view.width))
}

/// `point 3/8: --buyers 460`, before the point runs.
pub fn point_start(s: &Sweep, i: usize, view: &View) -> String {
    let line = format!(
        "point {}/{}: {} {}",
        i + 1,
        s.values.len(),
        s.param.flag(),
        value(s.param, s.values[i])
    );
    format!("{}\n", prose(&line, view.width))
}

/// The point that just ran, a line per strategy.
pub fn point_done(s: &Sweep, view: &View) -> String {
    let Some(p) = s.points.last() else {
        return String::new();
    };
    let mut out = String::new();
    for r in &p.rows {
        let line = format!(
            "{} {} purchases/s · p99 {} · oversold {} · {}",
            r.strategy.name(),
            grouped(r.purchases_per_s.round() as i64),
            short_micros(r.p99_us),
            grouped(r.oversold),
            if r.held { "held" } else { "FAILED" }
        );
        let _ = writeln!(out, "  {}", prose(&line, view.width - 2));
    }
    out
}

/// The table's header, two lines per column, and its rows: shared by the
/// terminal and the HTML page.
pub(super) fn cells(s: &Sweep) -> (Vec<[&'static str; 2]>, Vec<Vec<String>>) {
    let header = vec![
        [s.param.name(), ""],
        ["strategy", ""],
        ["purchases", "per s"],
        ["p50", ""],
        ["p99", ""],
        ["retries", "per buy"],
        ["attempts", "per s"],
        ["oversold", ""],
        ["gave", "up"],
        ["verdict", ""],
    ];
    let mut rows = Vec::new();
    for p in &s.points {
        for (i, r) in p.rows.iter().enumerate() {
            let shown = if i == 0 {
                value(s.param, p.value)
            } else {
                String::new()
            };
            rows.push(row(shown, r));
        }
    }
    (header, rows)
}

fn row(value: String, r: &Row) -> Vec<String> {
    vec![
        value,
        r.strategy.name().to_string(),
        grouped(r.purchases_per_s.round() as i64),
        short_micros(r.p50_us),
        short_micros(r.p99_us),
        format!("{:.2}", r.retries_per_purchase),
        grouped(r.attempts_per_s.round() as i64),
        grouped(r.oversold),
        grouped(r.gave_up as i64),
        if r.held { "held" } else { "FAILED" }.to_string(),
    ]
}

/// Columns left-aligned in the terminal table: the strategy and verdict.
const LEFT: [usize; 2] = [1, 9];

/// The table in plain columns: two spaces between them when that fits the
/// view, one otherwise.
fn table(s: &Sweep, view: &View) -> String {
    let (header, rows) = cells(s);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            let cells = rows.iter().map(|r| r[c].width());
            cells
                .chain(header[c].iter().map(|h| h.width()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total: usize = widths.iter().sum();
    let gap = if total + 2 * (widths.len() - 1) <= view.width {
        2
    } else {
        1
    };
    let line = |texts: Vec<&str>| {
        let mut out = String::new();
        for (c, t) in texts.into_iter().enumerate() {
            let pad = " ".repeat(widths[c] - t.width());
            let sep = if c == 0 { "" } else { &" ".repeat(gap)[..] };
            if LEFT.contains(&c) {
                let _ = write!(out, "{sep}{t}{pad}");
            } else {
                let _ = write!(out, "{sep}{pad}{t}");
            }
        }
        format!("{}\n", out.trim_end())
    };
    let mut out = line(header.iter().map(|h| h[0]).collect());
    out.push_str(&line(header.iter().map(|h| h[1]).collect()));
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// Why one point did not hold, naming its value and seed.
pub(super) fn failure(s: &Sweep, p: &Point) -> String {
    let mut why: Vec<String> = p
        .rows
        .iter()
        .filter(|r| !r.held)
        .map(|r| {
            let checks: Vec<&str> = r.failed.iter().map(|c| c.title()).collect();
            format!(
                "{} was expected {} and failed {}",
                r.strategy.name(),
                r.expect,
                checks.join(", ")
            )
        })
        .collect();
    why.extend(
        p.unavailable
            .iter()
            .map(|(k, reason)| format!("{} unavailable: {reason}", k.name())),
    );
    why.extend(p.thresholds_missed.iter().map(|t| format!("missed {t}")));
    if why.is_empty() {
        why.push(format!("the run ended with exit {}", p.status as u8));
    }
    format!(
        "{} {} (seed {}, run {}): {}",
        s.param.flag(),
        value(s.param, p.value),
        p.seed,
        p.run_id,
        why.join("; ")
    )
}

/// Where each strategy's purchases per second fell below half of the
/// fastest one's.
pub(super) fn half_speed_lines(s: &Sweep) -> Vec<String> {
    s.half_speed()
        .into_iter()
        .map(|h| match h.from {
            Some(v) => format!(
                "{} made less than half of {}'s purchases/s from {} {} on",
                h.slow.name(),
                h.fast.name(),
                s.param.flag(),
                value(s.param, v)
            ),
            None => format!(
                "{} kept at least half of {}'s purchases/s at every point",
                h.slow.name(),
                h.fast.name()
            ),
        })
        .collect()
}

/// The closing line: what happened, and the exit status.
pub(super) fn verdict(s: &Sweep) -> String {
    let status = s.status() as u8;
    let n = s.values.len();
    if let Some((_, message)) = &s.stopped {
        return format!(
            "sweep: stopped after {} of {n} points: {message} (exit {status})",
            s.points.len()
        );
    }
    let failed: Vec<&Point> = s.failed().collect();
    if failed.is_empty() && s.status() == ExitStatus::Held {
        return format!("sweep: held at all {n} points ({}) (exit 0)", strategies(s));
    }
    let which: Vec<String> = failed
        .iter()
        .map(|p| format!("{} (seed {})", value(s.param, p.value), p.seed))
        .collect();
    format!(
        "sweep: FAILED at {} of {n} points, {} {} (exit {status})",
        failed.len(),
        s.param.flag(),
        which.join(", ")
    )
}

/// Everything printed once the sweep is over.
pub fn render(s: &Sweep, view: &View) -> String {
    let mut out = String::from("\n");
    out.push_str(&table(s, view));
    let failed: Vec<&Point> = s.failed().collect();
    for p in failed {
        let _ = writeln!(
            out,
            "{}",
            prose(&format!("FAILED: {}", failure(s, p)), view.width)
        );
    }
    for line in half_speed_lines(s) {
        let _ = writeln!(out, "{}", prose(&line, view.width));
    }
    let _ = writeln!(out, "{}", prose(&verdict(s), view.width));
    out
}

fn bytes(format: Format, s: &Sweep) -> Result<Vec<u8>> {
    let rendered = match format {
        Format::Json => json::render(s),
        Format::Csv => csv::render(s),
        Format::Html => html::render(s),
        other => Err(std::io::Error::other(format!(
            "{} does not apply to a sweep",
            other.flag()
        ))),
    };
    rendered.map_err(|e| Error::usage(format!("{}: {e}", format.flag())))
}

/// Rewrite the sweep's files with the points so far.
pub fn write_files(outputs: &Outputs, s: &Sweep) -> Result<()> {
    write_where(outputs, s, |t| matches!(t, Target::File(_)))
}

/// The last version of every file and stream; the bytes bound for stdout
/// come back, for the caller to print after the table.
pub fn write_final(outputs: &Outputs, s: &Sweep) -> Result<Vec<u8>> {
    write_where(outputs, s, |t| !matches!(t, Target::Stdout))?;
    match outputs.outputs.iter().find(|o| o.target == Target::Stdout) {
        Some(o) => bytes(o.format, s),
        None => Ok(Vec::new()),
    }
}

fn write_where(outputs: &Outputs, s: &Sweep, which: impl Fn(&Target) -> bool) -> Result<()> {
    for o in outputs.outputs.iter().filter(|o| which(&o.target)) {
        let data = bytes(o.format, s)?;
        let path = match &o.target {
            Target::File(p) | Target::Stream(p) => p.as_path(),
            Target::Stdout => Path::new("-"),
        };
        dest::write(&o.target, &data).map_err(|e| {
            Error::usage(format!(
                "{} {}: cannot write the report there: {e}",
                o.format.flag(),
                path.display()
            ))
        })?;
    }
    Ok(())
}
