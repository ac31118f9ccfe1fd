//! What the driver writes down about a buyer: its final account in the
//! worker's tally, and, with `--history`, each attempt as an invoke and a
//! completion.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::bought::Bought;
use super::Worker;
use crate::crowd::Buyer;
use crate::metrics::{Event, Op, Outcome, Tally};
use crate::outcome::Failure;
use crate::redis::blame;
use crate::strategy::{Attempt, Step};

impl Worker {
    pub(super) fn account(&self, tally: &mut Tally, b: Bought) {
        tally.attempts += b.attempts;
        tally.conflicts += b.conflicts;
        tally.unknown += b.unknown;
        tally.round_trips += b.round_trips;
        tally.holds.rebuys += b.rebuys;
        b.attempt_seconds.drain_into(&mut tally.timeline);
        if b.outcome == Outcome::Purchased {
            tally.purchase_retries += b.conflicts;
            tally.purchase_round_trips += b.round_trips;
            tally.record_purchase(b.finished, b.conflicts);
            tally.ack(b.buyer.id, b.finished, self.ack_times);
            self.live.purchased.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(f) = b.failure {
            self.stop_on_fatal(&f);
            tally.sample_error(f);
        }
        if let Some(s) = &b.settled {
            s.count(&mut tally.holds);
        }
        if let Some(step) = b.race {
            tally.race.note(step);
        }
        tally.record_buyer(&b.buyer, b.outcome, b.latency);
        tally.record_service(b.service);
        self.live.latency.record(b.latency);
        self.live.done.fetch_add(1, Ordering::Relaxed);
    }

    /// `--retry-unknown`: whether an unknown outcome is tried again. Not
    /// once the server stopped answering (every attempt would fail the same
    /// way), nor after a failure every buyer would meet.
    pub(super) fn retries_unknown(&self, f: &Failure) -> bool {
        self.retry.unknown && !self.abort.is_cancelled() && !blame::fatal(&f.message)
    }

    /// The invoke event of an attempt, just before it sends; returns its
    /// process. A buyer whose earlier attempt was left unknown invokes as a
    /// new process, as Jepsen's clients do after an indeterminate result.
    /// The live count of tries goes up here too, as the try is made.
    pub(super) fn invoke(&self, buyer: Buyer, unknowns: u64, release: Instant) -> u64 {
        self.live.attempts.fetch_add(1, Ordering::Relaxed);
        let process = u64::from(buyer.id) + unknowns * self.crowd.len() as u64;
        if let Some(h) = &self.history {
            h.send(self.event(Op::Invoke, process, buyer, release));
        }
        process
    }

    /// The completion event of an attempt, just after its reply.
    pub(super) fn completed(&self, process: u64, buyer: Buyer, step: &Step, release: Instant) {
        let Some(h) = &self.history else {
            return;
        };
        let (op, reply) = match &step.attempt {
            Attempt::Purchased => (Op::Ok, Cow::Borrowed("bought")),
            Attempt::SoldOut => (Op::Fail, Cow::Borrowed("sold-out")),
            Attempt::Conflict => (Op::Fail, Cow::Borrowed("conflict")),
            Attempt::HeldElsewhere => (Op::Fail, Cow::Borrowed("held-elsewhere")),
            Attempt::Error(f) => (Op::Info, Cow::Owned(f.message.clone())),
        };
        let mut e = self.event(op, process, buyer, release);
        e.order = (op == Op::Ok).then_some(buyer.id);
        e.stock_read = step.race.map(|s| s.read);
        e.reply = Some(reply);
        h.send(e);
    }

    fn event(&self, op: Op, process: u64, buyer: Buyer, release: Instant) -> Event {
        Event {
            strategy: "",
            op,
            f: if self.reserve.is_some() {
                "hold"
            } else {
                "buy"
            },
            process,
            buyer: buyer.id,
            qty: buyer.qty,
            time_ns: u64::try_from(release.elapsed().as_nanos()).unwrap_or(u64::MAX),
            order: None,
            stock_read: None,
            reply: None,
        }
    }
}
