//! `--hdr DIR`: each strategy's latency histograms in HdrHistogram's
//! percentile-distribution text (`.hgrm`), the format wrk2 and memtier print
//! and HdrHistogram's plotter reads. Values are in milliseconds, as wrk2
//! prints them.
//!
//! One file per strategy and outcome that occurred, plus every buyer
//! (`all`) and the service time: `<strategy>-<what>.hgrm`.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::findings::{Report, Spectrum};

/// µs per printed unit (ms).
const SCALE: f64 = 1_000.0;

/// Every `.hgrm` file of the report: file name and contents.
pub fn files(report: &Report) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in &report.strategies {
        let sp = &s.spectra;
        let mut named = vec![("all", &sp.latency), ("service", &sp.service)];
        named.extend(sp.by_outcome.labelled());
        for (what, spectrum) in named {
            if spectrum.count > 0 {
                let name = format!("{}-{}.hgrm", s.strategy.name(), what.replace(' ', "-"));
                out.push((name, render(spectrum)));
            }
        }
    }
    out
}

/// `--hdr -`: every file in turn on stdout, each after a `#` line naming it
/// (readers of the format skip `#` lines).
pub struct Concatenated;

impl super::Exporter for Concatenated {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>> {
        let mut out = String::new();
        for (name, text) in files(report) {
            let _ = writeln!(out, "#[File: {name}]");
            out.push_str(&text);
        }
        Ok(out.into_bytes())
    }
}

/// Write every file into `dir`, each atomically.
pub fn write_dir(report: &Report, dir: &Path) -> io::Result<()> {
    for (name, text) in files(report) {
        super::write_atomic(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

/// One spectrum as HdrHistogram's `outputPercentileDistribution` prints it.
pub fn render(s: &Spectrum) -> String {
    let d = usize::from(s.significant_digits.max(1));
    let ms = |v: f64| v / SCALE;
    let mut t = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    for p in &s.points {
        let value = ms(p.value as f64);
        if p.percentile < 1.0 {
            let inverse = 1.0 / (1.0 - p.percentile);
            let _ = writeln!(
                t,
                "{value:12.d$} {:2.12} {:10} {inverse:14.2}",
                p.percentile, p.total
            );
        } else {
            // 1/(1-1) is infinite: HdrHistogram leaves the column out.
            let _ = writeln!(t, "{value:12.d$} {:2.12} {:10}", p.percentile, p.total);
        }
    }
    let _ = writeln!(
        t,
        "#[Mean    = {:12.d$}, StdDeviation   = {:12.d$}]",
        ms(s.mean),
        ms(s.stdev)
    );
    let _ = writeln!(
        t,
        "#[Max     = {:12.d$}, Total count    = {:12}]",
        ms(s.max as f64),
        s.count
    );
    t
}

/// Parse the rows of a `.hgrm` text back: (value, percentile, total count).
/// For tests and tools that check a file they were handed.
pub fn parse(text: &str) -> Vec<(f64, f64, u64)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let value = cols.next()?.parse().ok()?;
            let percentile = cols.next()?.parse().ok()?;
            let total = cols.next()?.parse().ok()?;
            Some((value, percentile, total))
        })
        .collect()
}
