//! One buyer's account, from its first attempt to its final outcome.

use std::time::Duration;

use super::hold;
use crate::crowd::Buyer;
use crate::metrics::{AttemptSeconds, Outcome, RaceStep};
use crate::outcome::Failure;
use crate::strategy::reserve::ReservePlan;
use crate::strategy::Step;
use tokio::time::Instant;

/// What one buyer's attempts cost, reported back to its worker.
pub(super) struct Bought {
    pub(super) buyer: Buyer,
    pub(super) outcome: Outcome,
    /// From the intended start to the final outcome.
    pub(super) latency: Duration,
    /// From the actual start (just before the first send) to the outcome.
    pub(super) service: Duration,
    /// From the release to the final outcome.
    pub(super) finished: Duration,
    pub(super) attempts: u64,
    pub(super) conflicts: u64,
    pub(super) round_trips: u64,
    pub(super) rebuys: u64,
    pub(super) attempt_seconds: AttemptSeconds,
    pub(super) failure: Option<Failure>,
    /// Reservations: how the buyer's hold ended.
    pub(super) settled: Option<hold::Settled>,
    /// Check-then-act strategies: what the buyer's write read and left.
    pub(super) race: Option<RaceStep>,
}

impl Bought {
    pub(super) fn new(buyer: Buyer) -> Bought {
        Bought {
            buyer,
            outcome: Outcome::GaveUp,
            latency: Duration::ZERO,
            service: Duration::ZERO,
            finished: Duration::ZERO,
            attempts: 0,
            conflicts: 0,
            round_trips: 0,
            rebuys: 0,
            attempt_seconds: AttemptSeconds::default(),
            failure: None,
            settled: None,
            race: None,
        }
    }
}

impl Bought {
    /// What one attempt cost, and what its check-then-act read and wrote.
    pub(super) fn count(&mut self, step: &Step, release: Instant) {
        self.attempts += 1;
        self.round_trips += u64::from(step.round_trips);
        self.attempt_seconds.add(super::second(release.elapsed()));
        if let Some(seen) = step.race {
            self.race = RaceStep::of(&self.buyer, seen, release).or(self.race);
        }
    }
}

/// Why a buyer tries again.
#[derive(Clone, Copy)]
pub(super) enum Again {
    /// Lost a race: back off with jitter.
    Backoff,
    /// Sold out while units are held (`--rebuy`): come back later.
    Rebuy(ReservePlan),
}
