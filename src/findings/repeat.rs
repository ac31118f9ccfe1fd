//! `--repeat N`: the repetitions of one run, combined. The top-level report
//! is the repetition that decides the exit status (the first to fail, so
//! its seed is the one to reproduce), and it keeps every repetition.

use super::{Report, StrategyReport};
use crate::error::ExitStatus;
use crate::strategy::StrategyKind;

/// A figure over the repetitions: median and range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// None for no values.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

/// Fold the repetitions into one report: the first whose correctness
/// failed, else the first that did not hold, else the first.
pub fn combine(runs: Vec<Report>) -> Report {
    let pick = runs
        .iter()
        .position(Report::correctness_failed)
        .or_else(|| runs.iter().position(|r| r.status() != ExitStatus::Held))
        .unwrap_or(0);
    let mut top = runs[pick].clone();
    top.repetitions = runs;
    top
}

/// The runs a figure is read from: the repetitions, or the report itself.
pub fn runs(report: &Report) -> Vec<&Report> {
    if report.repetitions.is_empty() {
        vec![report]
    } else {
        report.repetitions.iter().collect()
    }
}

/// `read` over every run's `strategy`, as a spread.
pub fn spread(
    report: &Report,
    strategy: StrategyKind,
    read: impl Fn(&StrategyReport) -> f64,
) -> Option<Spread> {
    let values: Vec<f64> = runs(report)
        .iter()
        .flat_map(|r| r.strategies.iter().filter(|s| s.strategy == strategy))
        .map(read)
        .collect();
    Spread::of(&values)
}

/// The repetitions whose correctness failed, as (index from 1, seed).
pub fn failed_seeds(report: &Report) -> Vec<(usize, u64)> {
    report
        .repetitions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.correctness_failed())
        .map(|(i, r)| (i + 1, r.meta.seed))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn median_and_range() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of(&[1.0, 4.0]).unwrap().median, 2.5);
        assert!(Spread::of(&[]).is_none());
    }
}
