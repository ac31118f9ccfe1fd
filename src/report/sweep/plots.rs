//! The sweep's curves: one figure against the swept value, one line per
//! strategy, on a log axis when the values were a log range. Every line is
//! one `<polyline>` with a point per point that ran, in value order.

use std::io;

use plotters::prelude::*;

use super::super::plots::{bounds, colour, draw, Axes, Line};
use crate::sweep::{Row, Sweep};

/// A figure of the sweep: its caption, y axis and the figure per row.
pub struct Curve {
    pub id: &'static str,
    pub caption: &'static str,
    pub y: &'static str,
    pub of: fn(&Row) -> f64,
}

pub const CURVES: [Curve; 3] = [
    Curve {
        id: "throughput",
        caption: "Purchases per second",
        y: "purchases per second",
        of: |r| r.purchases_per_s,
    },
    Curve {
        id: "p99",
        caption: "p99 latency",
        y: "p99 latency, ms",
        of: |r| r.p99_us as f64 / 1_000.0,
    },
    Curve {
        id: "retries",
        caption: "Retries per purchase",
        y: "lost races per purchase",
        of: |r| r.retries_per_purchase,
    },
];

/// Each strategy's (value, figure) points, in value order.
pub fn lines(s: &Sweep, of: fn(&Row) -> f64) -> Vec<Line> {
    s.strategies
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut points: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|p| {
                    p.rows
                        .iter()
                        .find(|r| r.strategy == *k)
                        .map(|r| (p.value, of(r)))
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Line {
                label: k.name().to_string(),
                points,
                colour: colour(i),
                width: 2,
                dots: true,
            }
        })
        .filter(|l| !l.points.is_empty())
        .collect()
}

/// One curve as an SVG document; None before any point ran.
pub fn curve(s: &Sweep, c: &Curve) -> io::Result<Option<String>> {
    let lines = lines(s, c.of);
    if lines.is_empty() {
        return Ok(None);
    }
    let x_title = format!(
        "{}{}",
        s.param.flag(),
        if s.log { " (log scale)" } else { "" }
    );
    let axes = Axes {
        caption: c.caption,
        x: &x_title,
        y: c.y,
    };
    let (_, y1) = bounds(&lines, |p| p.1);
    let y = 0.0..y1.max(0.001);
    let (lo, hi) = s
        .values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if s.log && lo > 0.0 {
        // A little room either side, so the end points are not on the frame.
        let x = (lo / 1.15..hi * 1.15).log_scale();
        draw(&axes, x, y, &lines).map(Some)
    } else {
        let pad = ((hi - lo) * 0.05).max(0.5);
        draw(&axes, lo - pad..hi + pad, y, &lines).map(Some)
    }
}
