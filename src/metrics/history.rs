//! The run as a history of operations, for `--history`: each attempt is an
//! `invoke` event sent just before its first command and a completion (`ok`,
//! `fail`, or `info` when the outcome is unknown) just after its reply, the
//! shape Jepsen, Knossos and Elle read.
//!
//! Recording is cheap and bounded: the driver sends each event down an
//! unbounded channel to one writer that streams it to the file; nothing is
//! kept. The interval between an attempt's two events contains the real
//! one, and the channel keeps the order of sends, so an operation that
//! completed before another was invoked comes first in the file.

use std::borrow::Cow;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// Jepsen's event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Invoke,
    /// The purchase was applied.
    Ok,
    /// Definitely not applied: sold out, or a lost race.
    Fail,
    /// The outcome is unknown: it may or may not have been applied.
    Info,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Invoke => "invoke",
            Op::Ok => "ok",
            Op::Fail => "fail",
            Op::Info => "info",
        }
    }
}

/// One event of one buyer's attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub strategy: &'static str,
    pub op: Op,
    /// `buy`, or `hold` in a reservation run.
    pub f: &'static str,
    /// The buyer, or a fresh process number after an unknown outcome: a
    /// process whose operation is left pending never invokes again.
    pub process: u64,
    pub buyer: u32,
    pub qty: u32,
    /// Since the release.
    pub time_ns: u64,
    /// The order an `ok` recorded (the buyer id outside reservations).
    pub order: Option<u32>,
    /// Check-then-act strategies: the stock their read returned.
    pub stock_read: Option<i64>,
    /// The answer in a word (`bought`, `sold-out`, `conflict`,
    /// `held-elsewhere`) or the error; None on an invoke.
    pub reply: Option<Cow<'static, str>>,
}

/// Where the driver sends its events: one strategy's end of the channel.
#[derive(Debug, Clone)]
pub struct HistorySink {
    tx: UnboundedSender<Event>,
    strategy: &'static str,
}

impl HistorySink {
    /// A sink for the whole run and the writer's end.
    pub fn channel() -> (HistorySink, UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (HistorySink { tx, strategy: "" }, rx)
    }

    /// The same channel, with `strategy` on every event.
    pub fn for_strategy(&self, strategy: &'static str) -> HistorySink {
        HistorySink {
            tx: self.tx.clone(),
            strategy,
        }
    }

    /// A writer gone (its file failed) loses the events; the run goes on,
    /// and the writer's error is reported when it is joined.
    pub fn send(&self, mut event: Event) {
        event.strategy = self.strategy;
        let _ = self.tx.send(event);
    }
}
