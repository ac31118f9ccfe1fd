//! Per-worker tallies and latency histograms, merged with `+=` at the end.
//!
//! Each worker owns its own [`Tally`], so the hot path takes no lock; the
//! driver adds them up once the crowd is done. Histograms are in µs with 3
//! significant digits (0.1% resolution at every magnitude).

mod acked;
mod away;
mod gauge;
mod histograms;
mod history;
mod holds;
mod race;
mod timeline;

pub use acked::IdSet;
pub use away::{Away, TurnedAway};
pub use gauge::LatencyGauge;
pub use holds::HoldTally;
pub use race::{Race, RaceLog, RaceStep, Seen};

pub use histograms::{new_histogram, ByOutcome, Percentiles};
pub use history::{Event, HistorySink, Op};
pub use timeline::{AttemptSeconds, Timeline};

use histograms::MAX_MICROS;

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::crowd::{Buyer, Cart};
use crate::outcome::{ErrorClass, Failure};

/// Kept here so `metrics::Outcome` keeps working.
pub use crate::outcome::Outcome;

/// What a strategy that undoes its steps (`saga`) gave back: carts taken in
/// part and then undone, and the lines given back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Undone {
    pub carts: u64,
    pub lines: u64,
}

#[derive(Debug, Clone)]
pub struct Tally {
    pub purchased: u64,
    pub sold_out: u64,
    pub gave_up: u64,
    pub errors: u64,
    /// Reservations: buyers whose hold ended without a purchase.
    pub released: u64,
    /// Reservations: how the holds went, as the holders were told.
    pub holds: HoldTally,
    pub errors_by_class: BTreeMap<ErrorClass, u64>,
    /// The first message seen for each error class.
    pub error_samples: BTreeMap<ErrorClass, String>,
    /// Units the client was told it bought.
    pub units_purchased: u64,
    /// Every attempt, first tries and retries.
    pub attempts: u64,
    /// Attempts that lost a race and were retried or given up.
    pub conflicts: u64,
    /// Attempts whose outcome was unknown (an error after sending), also
    /// those `--retry-unknown` tried again: `errors` counts only buyers who
    /// ended that way.
    pub unknown: u64,
    pub round_trips: u64,
    /// Retries and round trips of the buyers who ended up purchasing: what a
    /// sale costs, without the sold-out answers.
    pub purchase_retries: u64,
    pub purchase_round_trips: u64,
    /// Buyers turned away, by the quantity they wanted. The audit compares
    /// these with the stock left at the end.
    pub turned_away: BTreeMap<u32, TurnedAway>,
    /// Cart runs: each buyer turned away with the cart they wanted, since
    /// whether a cart still fits depends on every product's stock.
    pub turned_away_carts: Vec<(Cart, Away)>,
    /// Latency of every buyer in µs, from its intended start to its final
    /// outcome: the release instant in a burst, its scheduled arrival in the
    /// open model (coordinated-omission correct).
    pub latency: Histogram<u64>,
    /// The same latency, split by final outcome.
    pub by_outcome: ByOutcome<Histogram<u64>>,
    /// Service time in µs: from the buyer's first send to its final outcome.
    pub service: Histogram<u64>,
    /// Retries made by each buyer who purchased.
    pub retries: Histogram<u64>,
    /// Buyers that started more than `load::LATE` after their intended
    /// time: every in-flight slot was busy, or the generator fell behind.
    pub late_starts: u64,
    /// Purchases and attempts per second since the release.
    pub timeline: Timeline,
    /// Latest acknowledged purchase, µs after the release.
    pub last_purchase_us: u64,
    /// The buyers (= order ids) told their purchase went through.
    pub acked: IdSet,
    /// When each was told: (buyer id, ms after the release), in the order
    /// the driver saw them. For the faults: how fast purchases came back,
    /// and when the acknowledgements a restart lost were given.
    pub acked_at: Vec<(u32, u32)>,
    /// Check-then-act strategies: the few decrements around zero, to tell
    /// how the first oversold unit was sold.
    pub race: RaceLog,
    /// `saga`: the carts it undid and the lines it gave back; None for a
    /// strategy that never undoes.
    pub undone: Option<Undone>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            purchased: 0,
            sold_out: 0,
            gave_up: 0,
            errors: 0,
            released: 0,
            holds: HoldTally::default(),
            errors_by_class: BTreeMap::new(),
            error_samples: BTreeMap::new(),
            units_purchased: 0,
            attempts: 0,
            conflicts: 0,
            unknown: 0,
            round_trips: 0,
            purchase_retries: 0,
            purchase_round_trips: 0,
            turned_away: BTreeMap::new(),
            turned_away_carts: Vec::new(),
            latency: new_histogram(),
            by_outcome: ByOutcome::default(),
            service: new_histogram(),
            retries: new_histogram(),
            late_starts: 0,
            timeline: Timeline::default(),
            last_purchase_us: 0,
            acked: IdSet::default(),
            acked_at: Vec::new(),
            race: RaceLog::default(),
            undone: None,
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Tally {
    /// Keep the first message of each error class for the report.
    pub fn sample_error(&mut self, f: Failure) {
        self.error_samples.entry(f.class).or_insert(f.message);
    }

    /// Record a buyer's final outcome and its latency.
    pub fn record(&mut self, qty: u32, outcome: Outcome, latency: Duration) {
        let buyer = Buyer {
            id: 0,
            qty,
            cart: Cart::NONE,
        };
        self.record_buyer(&buyer, outcome, latency);
    }

    /// Record a buyer's final outcome and its latency; a cart buyer turned
    /// away is kept with the cart, for the lost-sales check.
    pub fn record_buyer(&mut self, buyer: &Buyer, outcome: Outcome, latency: Duration) {
        let away = match outcome {
            Outcome::Purchased => {
                self.purchased += 1;
                self.units_purchased += u64::from(buyer.qty);
                None
            }
            Outcome::SoldOut => {
                self.sold_out += 1;
                Some(Away::SoldOut)
            }
            Outcome::GaveUp => {
                self.gave_up += 1;
                Some(Away::GaveUp)
            }
            Outcome::Error(class) => {
                self.errors += 1;
                *self.errors_by_class.entry(class).or_default() += 1;
                Some(Away::Error)
            }
            Outcome::Released => {
                self.released += 1;
                None
            }
        };
        if let Some(away) = away {
            if buyer.cart.is_empty() {
                self.turned_away.entry(buyer.qty).or_default().add(away);
            } else {
                self.turned_away_carts.push((buyer.cart, away));
            }
        }
        let us = micros(latency).clamp(1, MAX_MICROS);
        self.latency.saturating_record(us);
        self.by_outcome.get_mut(outcome).saturating_record(us);
    }

    /// A buyer's service time: from its first send to its final outcome.
    pub fn record_service(&mut self, service: Duration) {
        self.service
            .saturating_record(micros(service).clamp(1, MAX_MICROS));
    }

    /// A purchase acknowledged `since_release` after the release, after
    /// `retries` lost races.
    pub fn record_purchase(&mut self, since_release: Duration, retries: u64) {
        let us = micros(since_release);
        self.last_purchase_us = self.last_purchase_us.max(us);
        self.timeline
            .purchase(u32::try_from(us / 1_000_000).unwrap_or(u32::MAX));
        self.retries.saturating_record(retries.min(MAX_MICROS));
    }

    /// Buyer `id` was told "bought", `since_release` after the release.
    /// A purchase acknowledged to buyer `id`; its time too when `timed`.
    pub fn ack(&mut self, id: u32, since_release: Duration, timed: bool) {
        self.acked.insert(id);
        if timed {
            let ms = u32::try_from(since_release.as_millis()).unwrap_or(u32::MAX);
            self.acked_at.push((id, ms));
        }
    }

    pub fn buyers(&self) -> u64 {
        self.purchased + self.sold_out + self.gave_up + self.errors + self.released
    }

    /// Buyers turned away whose whole want is still in stock, given each
    /// product's stock as the audit found it (one entry: a single product).
    pub fn turned_away_with(&self, stocks: &[i64]) -> TurnedAway {
        let left = |p: u16| stocks.get(usize::from(p)).copied().unwrap_or(0).max(0);
        let first = u32::try_from(left(0)).unwrap_or(u32::MAX);
        let mut sum = TurnedAway::default();
        for t in self.turned_away.range(..=first).map(|(_, t)| t) {
            sum += t;
        }
        for (cart, away) in &self.turned_away_carts {
            if cart
                .lines()
                .iter()
                .all(|l| left(l.product) >= i64::from(l.qty))
            {
                sum.add(*away);
            }
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
        self.released += o.released;
        self.holds += &o.holds;
        for (k, v) in &o.errors_by_class {
            *self.errors_by_class.entry(*k).or_default() += v;
        }
        self.units_purchased += o.units_purchased;
        self.attempts += o.attempts;
        self.conflicts += o.conflicts;
        self.unknown += o.unknown;
        self.round_trips += o.round_trips;
        self.purchase_retries += o.purchase_retries;
        self.purchase_round_trips += o.purchase_round_trips;
        for (q, t) in &o.turned_away {
            *self.turned_away.entry(*q).or_default() += t;
        }
        self.turned_away_carts
            .extend_from_slice(&o.turned_away_carts);
        if let Some(u) = o.undone {
            let mine = self.undone.get_or_insert_with(Undone::default);
            mine.carts += u.carts;
            mine.lines += u.lines;
        }
        for (k, v) in &o.error_samples {
            self.error_samples.entry(*k).or_insert_with(|| v.clone());
        }
        self.last_purchase_us = self.last_purchase_us.max(o.last_purchase_us);
        self.late_starts += o.late_starts;
        self.timeline += &o.timeline;
        self.acked |= &o.acked;
        self.acked_at.extend_from_slice(&o.acked_at);
        self.race += &o.race;
        // Same bounds everywhere, so adding cannot fail.
        let pairs = [
            (&mut self.latency, &o.latency),
            (&mut self.by_outcome.purchased, &o.by_outcome.purchased),
            (&mut self.by_outcome.sold_out, &o.by_outcome.sold_out),
            (&mut self.by_outcome.gave_up, &o.by_outcome.gave_up),
            (&mut self.by_outcome.error, &o.by_outcome.error),
            (&mut self.by_outcome.released, &o.by_outcome.released),
            (&mut self.service, &o.service),
            (&mut self.retries, &o.retries),
        ];
        for (mine, theirs) in pairs {
            mine.add(theirs).expect("histograms share bounds");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worker-like parts with different outcomes, service times and retries.
    fn part(seed: u64) -> Tally {
        let mut t = Tally::default();
        let outcomes = [
            Outcome::Purchased,
            Outcome::SoldOut,
            Outcome::GaveUp,
            Outcome::Error(ErrorClass::Timeout),
        ];
        for i in 1..=1000 + seed * 37 {
            let outcome = outcomes[((i + seed) % 4) as usize];
            let latency = Duration::from_micros(i * (seed + 1) * 13);
            t.record(1 + (i % 3) as u32, outcome, latency);
            t.record_service(latency / 2);
            if outcome == Outcome::Purchased {
                t.record_purchase(latency, i % 5);
            }
        }
        t.late_starts = seed;
        t
    }

    #[test]
    fn merged_tallies_add_up_exactly() {
        let parts: Vec<Tally> = (0..4).map(part).collect();
        let mut m = Tally::default();
        for p in &parts {
            m += p;
        }
        let sum = |f: &dyn Fn(&Tally) -> u64| parts.iter().map(f).sum::<u64>();
        let max = |f: &dyn Fn(&Tally) -> u64| parts.iter().map(f).max().unwrap();
        assert_eq!(m.buyers(), sum(&|t| t.buyers()));
        assert_eq!(m.latency.len(), sum(&|t| t.latency.len()));
        assert_eq!(m.latency.max(), max(&|t| t.latency.max()));
        assert_eq!(m.service.len(), sum(&|t| t.service.len()));
        assert_eq!(m.service.max(), max(&|t| t.service.max()));
        assert_eq!(m.retries.len(), m.purchased);
        assert_eq!(m.retries.max(), max(&|t| t.retries.max()));
        assert_eq!(m.retries.min(), 0, "a purchase without retries counts as 0");
        assert_eq!(m.late_starts, sum(&|t| t.late_starts));
        for (i, (name, h)) in m.by_outcome.labelled().into_iter().enumerate() {
            let of = |t: &Tally| t.by_outcome.labelled()[i].1.clone();
            assert_eq!(h.len(), sum(&|t| of(t).len()), "{name}: count");
            assert_eq!(h.max(), max(&|t| of(t).max()), "{name}: max");
        }
        // Every buyer is in exactly one outcome histogram.
        let split: u64 = m.by_outcome.labelled().iter().map(|(_, h)| h.len()).sum();
        assert_eq!(split, m.latency.len());
        assert_eq!(m.by_outcome.purchased.len(), m.purchased);
        assert_eq!(m.by_outcome.error.len(), m.errors);
        assert_eq!(m.timeline.purchases.iter().sum::<u64>(), m.purchased);
        assert_eq!(m.errors_by_class[&ErrorClass::Timeout], m.errors);
        assert_eq!(
            m.last_purchase_us,
            max(&|t| t.last_purchase_us),
            "latest purchase of any worker"
        );
    }

    #[test]
    fn turned_away_counts_only_quantities_still_in_stock() {
        let mut t = Tally::default();
        t.record(1, Outcome::SoldOut, Duration::from_micros(5));
        t.record(3, Outcome::SoldOut, Duration::from_micros(5));
        t.record(2, Outcome::GaveUp, Duration::from_micros(5));
        t.record(1, Outcome::Error(ErrorClass::Io), Duration::from_micros(5));
        let at = |stock| {
            let a = t.turned_away_with(&[stock]);
            (a.sold_out, a.gave_up, a.errors)
        };
        assert_eq!(at(0), (0, 0, 0));
        assert_eq!(at(2), (1, 1, 1));
        assert_eq!(at(-5), (0, 0, 0));
        assert_eq!(at(10), (2, 1, 1));
    }
}
