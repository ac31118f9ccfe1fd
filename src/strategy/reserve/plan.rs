//! What a holder does: how long a hold lives, and what each buyer decides.

use std::fmt;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;

use crate::crowd::DurationRange;

/// The reservation flow of a run (`--reserve`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReservePlan {
    /// How long a hold lives unless confirmed or cancelled.
    #[serde(serialize_with = "seconds")]
    pub hold_ttl: Duration,
    /// Shares of holders who confirm and who cancel; the rest abandon.
    pub confirm_rate: f64,
    pub cancel_rate: f64,
    /// A holder's pause before confirming or cancelling.
    pub think: DurationRange,
    /// Buyers told "sold out" while units are held come back later.
    pub rebuy: bool,
    /// Reaper instances, as when every app server runs the expiry worker.
    pub reapers: u32,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What a holder does once the think time is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Confirm,
    Cancel,
    /// Walk away: the reaper returns the units at the deadline.
    Abandon,
}

impl ReservePlan {
    /// The default think time: from a quarter to 1.25 times the TTL, so
    /// most holders decide in time and some come back too late.
    pub fn default_think(hold_ttl: Duration) -> DurationRange {
        DurationRange {
            min: hold_ttl / 4,
            max: hold_ttl * 5 / 4,
        }
    }

    /// A holder's decision and think time, drawn from the buyer's own seeded
    /// generator so every strategy's crowd decides alike.
    pub fn decide(&self, rng: &mut impl Rng) -> (Decision, Duration) {
        let roll: f64 = rng.gen();
        let decision = if roll < self.confirm_rate {
            Decision::Confirm
        } else if roll < self.confirm_rate + self.cancel_rate {
            Decision::Cancel
        } else {
            Decision::Abandon
        };
        (decision, self.think.draw(rng))
    }

    /// A rebuyer's pause before asking again: a fraction of the TTL, so it
    /// comes back a few times per hold lifetime, not in a tight loop.
    pub fn rebuy_pause(&self, rng: &mut impl Rng) -> Duration {
        DurationRange {
            min: self.hold_ttl / 10,
            max: self.hold_ttl / 4,
        }
        .draw(rng)
    }
}

impl fmt::Display for ReservePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "holds of {}, {:.0}% confirm, {:.0}% cancel, {:.0}% abandon after {}, {} reaper(s){}",
            humantime::format_duration(self.hold_ttl),
            self.confirm_rate * 100.0,
            self.cancel_rate * 100.0,
            (1.0 - self.confirm_rate - self.cancel_rate).max(0.0) * 100.0,
            self.think,
            self.reapers,
            if self.rebuy { ", rebuy on" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn decisions_follow_the_rates() {
        let plan = ReservePlan {
            hold_ttl: Duration::from_secs(2),
            confirm_rate: 0.5,
            cancel_rate: 0.2,
            think: ReservePlan::default_think(Duration::from_secs(2)),
            rebuy: false,
            reapers: 2,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut n = [0u32; 3];
        for _ in 0..10_000 {
            let (d, think) = plan.decide(&mut rng);
            assert!(think >= Duration::from_millis(500) && think <= Duration::from_millis(2500));
            n[d as usize] += 1;
        }
        assert!((4700..5300).contains(&n[0]), "{n:?}");
        assert!((1800..2200).contains(&n[1]), "{n:?}");
        assert!((2700..3300).contains(&n[2]), "{n:?}");
    }
}
