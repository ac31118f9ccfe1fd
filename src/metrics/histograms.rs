//! The histograms every tally keeps, their bounds, and what the report
//! reads from them.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::outcome::Outcome;

/// Highest latency the histograms track exactly: one hour, in µs. Anything
/// above is clamped and still counted.
pub(super) const MAX_MICROS: u64 = 3_600_000_000;

/// One value per final outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByOutcome<T> {
    pub purchased: T,
    pub sold_out: T,
    pub gave_up: T,
    pub error: T,
    pub released: T,
}

impl<T> ByOutcome<T> {
    pub fn get_mut(&mut self, o: Outcome) -> &mut T {
        match o {
            Outcome::Purchased => &mut self.purchased,
            Outcome::SoldOut => &mut self.sold_out,
            Outcome::GaveUp => &mut self.gave_up,
            Outcome::Error(_) => &mut self.error,
            Outcome::Released => &mut self.released,
        }
    }

    /// In the order the report shows them, with their labels.
    pub fn labelled(&self) -> [(&'static str, &T); 5] {
        [
            ("purchased", &self.purchased),
            ("sold out", &self.sold_out),
            ("gave up", &self.gave_up),
            ("error", &self.error),
            ("released", &self.released),
        ]
    }

    pub fn map<U>(&self, f: impl Fn(&T) -> U) -> ByOutcome<U> {
        ByOutcome {
            purchased: f(&self.purchased),
            sold_out: f(&self.sold_out),
            gave_up: f(&self.gave_up),
            error: f(&self.error),
            released: f(&self.released),
        }
    }
}

impl Default for ByOutcome<Histogram<u64>> {
    fn default() -> Self {
        ByOutcome {
            purchased: new_histogram(),
            sold_out: new_histogram(),
            gave_up: new_histogram(),
            error: new_histogram(),
            released: new_histogram(),
        }
    }
}

pub fn new_histogram() -> Histogram<u64> {
    // 3 significant digits: 0.1% resolution at every magnitude.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

/// Percentiles of a histogram: µs for latencies, a count for retries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}
