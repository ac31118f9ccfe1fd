//! The HTML report's plots, drawn as inline SVG with `plotters`. Each
//! function formats series already in the findings; nothing is computed
//! here beyond placing points on axes.
//!
//! Every line is one `<polyline>` with one point per value of its series,
//! so a reader (or a test) can match a plot against the JSON.

use std::io;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::findings::{Report, Spectrum, StrategyReport};

const SIZE: (u32, u32) = (760, 340);

/// Line colours, one per strategy (or outcome), in order: distinct in
/// colour and lightness so they survive a greyscale printout.
const PALETTE: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One line of a plot: its legend, its points, how it is drawn.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub colour: RGBColor,
    pub width: u32,
    /// Mark every point too: a series of one or two points is no line.
    pub dots: bool,
}

/// Axis titles and the plot's caption.
pub struct Axes<'a> {
    pub caption: &'a str,
    pub x: &'a str,
    pub y: &'a str,
}

fn failed(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing a plot: {e}"))
}

/// Draw `lines` on the given axes ranges into an SVG document.
pub(super) fn draw<X, Y>(axes: &Axes<'_>, x: X, y: Y, lines: &[Line]) -> io::Result<String>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(axes.caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc(axes.x)
            .y_desc(axes.y)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(failed)?;
        for line in lines {
            let style = line.colour.stroke_width(line.width);
            let colour = line.colour;
            chart
                .draw_series(LineSeries::new(line.points.iter().copied(), style))
                .map_err(failed)?
                .label(line.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            if line.dots {
                let dots = line
                    .points
                    .iter()
                    .map(|p| Circle::new(*p, 3, colour.filled()));
                chart.draw_series(dots).map_err(failed)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Bounds of every point's coordinate `at`, widened so a flat line shows.
pub(super) fn bounds(lines: &[Line], at: fn(&(f64, f64)) -> f64) -> (f64, f64) {
    let all = lines.iter().flat_map(|l| l.points.iter().map(at));
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if hi - lo < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    }
}

/// Stock as the server held it, every strategy overlaid; zero is drawn, so
/// a line that dives under it is an oversell. `None` without samples.
pub fn stock(r: &Report) -> io::Result<Option<String>> {
    let lines: Vec<Line> = r
        .strategies
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.stock_series.is_empty())
        .map(|(i, s)| Line {
            label: s.strategy.name().to_string(),
            points: s
                .stock_series
                .iter()
                .map(|p| (p.t_s, p.stock as f64))
                .collect(),
            colour: colour(i),
            width: 2,
            dots: s.stock_series.len() < 3,
        })
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let (x0, x1) = bounds(&lines, |p| p.0);
    let (y0, y1) = bounds(&lines, |p| p.1);
    let axes = Axes {
        caption: "Stock left on the server",
        x: "seconds since the release",
        y: "units in stock",
    };
    let zero = Line {
        label: "zero".into(),
        points: vec![(x0.max(0.0), 0.0), (x1, 0.0)],
        colour: BLACK,
        width: 1,
        dots: false,
    };
    let mut all = vec![zero];
    all.extend(lines);
    draw(&axes, x0.max(0.0)..x1, y0.min(-1.0)..y1, &all).map(Some)
}

/// Purchases and attempts per second, every strategy overlaid: purchases
/// thick, attempts thin, in the strategy's colour.
pub fn throughput(r: &Report) -> io::Result<Option<String>> {
    let per_second = |v: &[u64]| {
        v.iter()
            .enumerate()
            .map(|(i, n)| (i as f64, *n as f64))
            .collect()
    };
    let mut lines = Vec::new();
    for (i, s) in r.strategies.iter().enumerate() {
        let name = s.strategy.name();
        for (what, series, width) in [
            ("purchases/s", &s.timeline.purchases, 3),
            ("attempts/s", &s.timeline.attempts, 1),
        ] {
            lines.push(Line {
                label: format!("{name} {what}"),
                points: per_second(series),
                colour: colour(i),
                width,
                dots: true,
            });
        }
    }
    if lines.iter().all(|l| l.points.is_empty()) {
        return Ok(None);
    }
    let (_, x1) = bounds(&lines, |p| p.0);
    let (_, y1) = bounds(&lines, |p| p.1);
    let axes = Axes {
        caption: "Purchases and attempts per second",
        x: "second since the release (1-second buckets)",
        y: "per second",
    };
    draw(&axes, 0.0..x1.max(1.0), 0.0..y1.max(1.0), &lines).map(Some)
}

/// The x of a percentile on the spectrum's axis: 1/(1-p), so p90 is 10 and
/// p99.99 is 10,000.
pub fn inverse(percentile: f64) -> f64 {
    1.0 / (1.0 - percentile)
}

/// The farthest percentile plotted: p99.99.
pub const LAST_PERCENTILE: f64 = 0.9999;

/// The points of a spectrum that lie on the plot, in ms.
pub fn spectrum_points(s: &Spectrum) -> Vec<(f64, f64)> {
    s.points
        .iter()
        .filter(|p| p.percentile <= LAST_PERCENTILE + 1e-12)
        .map(|p| (inverse(p.percentile), p.value as f64 / 1_000.0))
        .collect()
}

/// One strategy's latency spectrum: a line per outcome that occurred and
/// one for the service time, on a log-scaled percentile axis.
pub fn spectrum(s: &StrategyReport) -> io::Result<Option<String>> {
    let sp = &s.spectra;
    let mut named: Vec<(&str, &Spectrum)> = sp.by_outcome.labelled().to_vec();
    named.push(("service time", &sp.service));
    let lines: Vec<Line> = named
        .into_iter()
        .enumerate()
        .filter(|(_, (_, sp))| sp.count > 0)
        .map(|(i, (label, sp))| Line {
            label: label.to_string(),
            points: spectrum_points(sp),
            colour: colour(i),
            width: 2,
            dots: false,
        })
        .filter(|l| !l.points.is_empty())
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let (_, y1) = bounds(&lines, |p| p.1);
    let caption = format!("{}: latency by percentile", s.strategy.name());
    let axes = Axes {
        caption: &caption,
        x: "1/(1-percentile): 10 = p90, 100 = p99, 1000 = p99.9",
        y: "latency, ms",
    };
    let x = (1.0..inverse(LAST_PERCENTILE)).log_scale();
    draw(&axes, x, 0.0..y1.max(0.001), &lines).map(Some)
}
