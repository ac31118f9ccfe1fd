//! Per-worker tallies and latency histograms, merged with `+=` at the end.
//!
//! Each worker owns its own [`Tally`], so the hot path takes no lock; the
//! driver adds them up once the crowd is done.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::strategy::{ErrorClass, Failure};

/// Highest latency the histograms track exactly: one hour, in µs. Anything
/// above is clamped and still counted.
const MAX_MICROS: u64 = 3_600_000_000;

/// Final outcome of one buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Purchased,
    SoldOut,
    GaveUp,
    Error(ErrorClass),
}

#[derive(Debug, Clone)]
pub struct Tally {
    pub purchased: u64,
    pub sold_out: u64,
    pub gave_up: u64,
    pub errors: u64,
    pub errors_by_class: BTreeMap<ErrorClass, u64>,
    /// The first message seen for each error class.
    pub error_samples: BTreeMap<ErrorClass, String>,
    /// Units the client was told it bought.
    pub units_purchased: u64,
    /// Every attempt, first tries and retries.
    pub attempts: u64,
    /// Attempts that lost a race and were retried or given up.
    pub conflicts: u64,
    pub round_trips: u64,
    /// Retries and round trips of the buyers who ended up purchasing: what a
    /// sale costs, without the sold-out answers.
    pub purchase_retries: u64,
    pub purchase_round_trips: u64,
    /// Buyers turned away, by the quantity they wanted. The audit compares
    /// these with the stock left at the end.
    pub turned_away: BTreeMap<u32, TurnedAway>,
    /// Release-to-outcome latency of every buyer, in µs.
    pub latency: Histogram<u64>,
    /// Latest acknowledged purchase, µs after the release.
    pub last_purchase_us: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            purchased: 0,
            sold_out: 0,
            gave_up: 0,
            errors: 0,
            errors_by_class: BTreeMap::new(),
            error_samples: BTreeMap::new(),
            units_purchased: 0,
            attempts: 0,
            conflicts: 0,
            round_trips: 0,
            purchase_retries: 0,
            purchase_round_trips: 0,
            turned_away: BTreeMap::new(),
            latency: new_histogram(),
            last_purchase_us: 0,
        }
    }
}

pub fn new_histogram() -> Histogram<u64> {
    // 3 significant digits: 0.1% resolution at every magnitude.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

/// Buyers who did not get their units, by what they were told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TurnedAway {
    pub sold_out: u64,
    pub gave_up: u64,
    pub errors: u64,
}

impl AddAssign<&TurnedAway> for TurnedAway {
    fn add_assign(&mut self, o: &TurnedAway) {
        self.sold_out += o.sold_out;
        self.gave_up += o.gave_up;
        self.errors += o.errors;
    }
}

impl Tally {
    /// Keep the first message of each error class for the report.
    pub fn sample_error(&mut self, f: Failure) {
        self.error_samples.entry(f.class).or_insert(f.message);
    }

    /// Record a buyer's final outcome and its latency.
    pub fn record(&mut self, qty: u32, outcome: Outcome, latency: Duration) {
        match outcome {
            Outcome::Purchased => {
                self.purchased += 1;
                self.units_purchased += u64::from(qty);
            }
            Outcome::SoldOut => {
                self.sold_out += 1;
                self.turned_away.entry(qty).or_default().sold_out += 1;
            }
            Outcome::GaveUp => {
                self.gave_up += 1;
                self.turned_away.entry(qty).or_default().gave_up += 1;
            }
            Outcome::Error(class) => {
                self.errors += 1;
                self.turned_away.entry(qty).or_default().errors += 1;
                *self.errors_by_class.entry(class).or_default() += 1;
            }
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if outcome == Outcome::Purchased {
            self.last_purchase_us = self.last_purchase_us.max(micros);
        }
        self.latency.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    pub fn buyers(&self) -> u64 {
        self.purchased + self.sold_out + self.gave_up + self.errors
    }

    /// Buyers turned away whose quantity is still in stock: `stock_left` is
    /// what the audit found on the server.
    pub fn turned_away_with_stock(&self, stock_left: i64) -> TurnedAway {
        let left = u32::try_from(stock_left.max(0)).unwrap_or(u32::MAX);
        let mut sum = TurnedAway::default();
        for t in self.turned_away.range(..=left).map(|(_, t)| t) {
            sum += t;
        }
        sum
    }
}

impl AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, o: &Tally) {
        self.purchased += o.purchased;
        self.sold_out += o.sold_out;
        self.gave_up += o.gave_up;
        self.errors += o.errors;
        for (k, v) in &o.errors_by_class {
            *self.errors_by_class.entry(*k).or_default() += v;
        }
        self.units_purchased += o.units_purchased;
        self.attempts += o.attempts;
        self.conflicts += o.conflicts;
        self.round_trips += o.round_trips;
        self.purchase_retries += o.purchase_retries;
        self.purchase_round_trips += o.purchase_round_trips;
        for (q, t) in &o.turned_away {
            *self.turned_away.entry(*q).or_default() += t;
        }
        for (k, v) in &o.error_samples {
            self.error_samples.entry(*k).or_insert_with(|| v.clone());
        }
        self.last_purchase_us = self.last_purchase_us.max(o.last_purchase_us);
        // Same bounds everywhere, so adding cannot fail.
        self.latency
            .add(&o.latency)
            .expect("histograms share bounds");
    }
}

/// Latency percentiles in µs.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_tallies_add_up_exactly() {
        let mut a = Tally::default();
        let mut b = Tally::default();
        for i in 1..=1000u64 {
            a.record(1, Outcome::Purchased, Duration::from_micros(i));
            b.record(2, Outcome::SoldOut, Duration::from_micros(i * 7));
        }
        b.record(
            3,
            Outcome::Error(ErrorClass::Timeout),
            Duration::from_secs(2),
        );
        let mut m = Tally::default();
        m += &a;
        m += &b;
        assert_eq!(m.latency.len(), a.latency.len() + b.latency.len());
        assert_eq!(m.latency.max(), a.latency.max().max(b.latency.max()));
        assert_eq!(m.buyers(), 2001);
        assert_eq!(m.units_purchased, 1000);
        assert_eq!(m.errors_by_class[&ErrorClass::Timeout], 1);
    }

    #[test]
    fn turned_away_counts_only_quantities_still_in_stock() {
        let mut t = Tally::default();
        t.record(1, Outcome::SoldOut, Duration::from_micros(5));
        t.record(3, Outcome::SoldOut, Duration::from_micros(5));
        t.record(2, Outcome::GaveUp, Duration::from_micros(5));
        t.record(1, Outcome::Error(ErrorClass::Io), Duration::from_micros(5));
        let at = |stock| {
            let a = t.turned_away_with_stock(stock);
            (a.sold_out, a.gave_up, a.errors)
        };
        assert_eq!(at(0), (0, 0, 0));
        assert_eq!(at(2), (1, 1, 1));
        assert_eq!(at(-5), (0, 0, 0));
        assert_eq!(at(10), (2, 1, 1));
    }
}
