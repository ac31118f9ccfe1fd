//! Series the report draws: the stock as the server held it during the run,
//! and the latency percentile spectra. Data only; the gate and the session
//! fill them in, `report/` formats them.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::metrics::ByOutcome;

/// One reading of the server during a strategy's run, from one MGET of the
/// stock and sold keys so both describe the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StockSample {
    /// Seconds since the release.
    pub t_s: f64,
    /// Units left for sale, every product summed (negative once oversold).
    pub stock: i64,
    /// Units recorded as sold, every product summed.
    pub sold: i64,
}

/// Ticks per half distance to 100%, as HdrHistogram's own percentile
/// output uses: about 5 points per halving of the remaining tail.
const TICKS_PER_HALF: u32 = 5;

/// One step of a percentile spectrum: `value` is reached by `percentile`
/// of the recorded values, `total` of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpectrumPoint {
    pub value: u64,
    /// 0..=1.
    pub percentile: f64,
    pub total: u64,
}

/// A histogram's percentile distribution, compact enough to keep (the
/// histogram itself is tens of kilobytes): what HdrHistogram's
/// `outputPercentileDistribution` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spectrum {
    pub points: Vec<SpectrumPoint>,
    pub count: u64,
    pub max: u64,
    pub mean: f64,
    pub stdev: f64,
    /// Significant decimal digits the histogram kept: values are exact to
    /// within 10^-digits of themselves.
    pub significant_digits: u8,
}

impl Spectrum {
    pub fn of(h: &Histogram<u64>) -> Spectrum {
        if h.is_empty() {
            return Spectrum::default();
        }
        // The running total at each step, as the .hgrm format prints it.
        let mut total = 0;
        let points = h
            .iter_quantiles(TICKS_PER_HALF)
            .map(|v| {
                total += v.count_since_last_iteration();
                SpectrumPoint {
                    value: h.highest_equivalent(v.value_iterated_to()),
                    percentile: v.quantile_iterated_to(),
                    total,
                }
            })
            .collect();
        Spectrum {
            points,
            count: h.len(),
            max: h.max(),
            mean: h.mean(),
            stdev: h.stdev(),
            significant_digits: h.sigfig(),
        }
    }
}

/// The latency spectra of one strategy, µs: every buyer, by final outcome,
/// and the service time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spectra {
    pub latency: Spectrum,
    pub by_outcome: ByOutcome<Spectrum>,
    pub service: Spectrum,
}

impl Default for Spectra {
    fn default() -> Self {
        Spectra {
            latency: Spectrum::default(),
            by_outcome: ByOutcome {
                purchased: Spectrum::default(),
                sold_out: Spectrum::default(),
                gave_up: Spectrum::default(),
                error: Spectrum::default(),
                released: Spectrum::default(),
            },
            service: Spectrum::default(),
        }
    }
}
