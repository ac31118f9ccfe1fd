//! The second half of a reservation: think, then confirm, cancel or walk
//! away. Only runs for a buyer whose hold was placed.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::crowd::Buyer;
use crate::metrics::{HoldTally, Outcome};
use crate::strategy::reserve::{Decision, ReservePlan};
use crate::strategy::{Attempt, Failure, Strategy};

/// How one hold ended, as its holder was told.
pub(super) struct Settled {
    pub decision: Decision,
    pub attempt: Option<Attempt>,
    pub took: Duration,
}

impl Settled {
    /// The buyer's final outcome: bought only when the confirm won.
    pub fn outcome(&self) -> Outcome {
        match (&self.attempt, self.decision) {
            (Some(Attempt::Purchased), Decision::Confirm) => Outcome::Purchased,
            (Some(Attempt::Error(f)), _) => Outcome::Error(f.class),
            _ => Outcome::Released,
        }
    }

    pub fn failure(&self) -> Option<Failure> {
        match &self.attempt {
            Some(Attempt::Error(f)) => Some(f.clone()),
            _ => None,
        }
    }

    pub fn count(&self, t: &mut HoldTally) {
        t.placed += 1;
        let us = u64::try_from(self.took.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let (hist, won, late) = match self.decision {
            Decision::Abandon => {
                t.abandoned += 1;
                return;
            }
            Decision::Confirm => (&mut t.confirm, &mut t.confirmed, &mut t.confirm_late),
            Decision::Cancel => (&mut t.cancel, &mut t.cancelled, &mut t.cancel_late),
        };
        hist.saturating_record(us);
        match self.attempt {
            Some(Attempt::Purchased) => *won += 1,
            Some(Attempt::SoldOut) => *late += 1,
            _ => t.settle_errors += 1,
        }
    }
}

/// Think, then end the hold as the buyer decided. Ctrl-C or a lost server
/// cut the thinking short: the hold is left to the reaper.
pub(super) async fn settle(
    strategy: &dyn Strategy,
    buyer: Buyer,
    plan: &ReservePlan,
    rng: &mut impl Rng,
    cancel: &CancellationToken,
    abort: &CancellationToken,
) -> Settled {
    let (decision, think) = plan.decide(rng);
    let walked_away = Settled {
        decision: Decision::Abandon,
        attempt: None,
        took: Duration::ZERO,
    };
    if decision == Decision::Abandon {
        return Settled {
            decision,
            ..walked_away
        };
    }
    tokio::select! {
        () = tokio::time::sleep(think) => {}
        () = cancel.cancelled() => return walked_away,
        () = abort.cancelled() => return walked_away,
    }
    let started = Instant::now();
    let step = tokio::select! {
        step = strategy.settle(buyer, decision) => step,
        () = abort.cancelled() => crate::strategy::Step {
            attempt: Attempt::Error(Failure {
                class: crate::strategy::ErrorClass::Canceled,
                message: "stopped: the server stopped answering".into(),
            }),
            round_trips: 0,
            race: None,
        },
    };
    Settled {
        decision,
        attempt: Some(step.attempt),
        took: started.elapsed(),
    }
}
