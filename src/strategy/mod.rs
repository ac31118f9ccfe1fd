//! Purchase strategies: one trait, one file per strategy.
//!
//! A strategy only knows how to make *one attempt* for one buyer. The driver
//! (`load.rs`) owns timing, retries, backoff and outcome counting, so every
//! strategy is measured the same way. Each strategy's file declares its
//! [`Facts`] (name, versions, what it is expected to do); adding a strategy
//! is one new file plus its `mod` line and one line in the table below.

#[macro_use]
mod kind;

mod app_lock;
mod broken;
mod cart;
mod compensate;
mod decr;
mod facts;
mod function;
mod gap;
mod idempotent;
mod lock;
mod lua;
mod queue;
pub mod reserve;
mod saga;
mod script;
mod scripted;
mod shared;
mod watch;

pub(crate) use facts::built;
pub use facts::{Build, Commands, Facts, Shape};
pub use kind::help;

// Adding a strategy: a file that declares its `Facts`, its `mod` line
// above, and one line here.
strategies! {
    Broken => broken::FACTS,
    Decr => decr::FACTS,
    Watch => watch::FACTS,
    Lua => lua::FACTS,
    Idempotent => idempotent::FACTS,
    Function => function::FACTS,
    Compensate => compensate::FACTS,
    Saga => saga::FACTS,
    Lock => lock::FACTS,
    LockFenced => lock::FENCED_FACTS,
    AppLock => app_lock::FACTS,
    Script => script::FACTS,
    ReserveNaive => reserve::NAIVE_FACTS,
}

pub(crate) use shared::{
    bought_or_sold_out, now_us, on_held_connection, on_own_connection, queue_order,
    sold_out_already, unwatch_on, watch_cmd, BuyScriptArgs,
};

/// `lua/buy.lua`, for the benchmark's server-side ceiling.
pub(crate) use lua::BUY as BUY_SCRIPT;

use std::sync::Arc;
use std::time::Duration;

use crate::crowd::Buyer;
use crate::error::Result;
pub use crate::metrics::Seen;
/// Kept here so `strategy::{ErrorClass, Failure}` keep working.
pub use crate::outcome::{ErrorClass, Failure};
use crate::redis::{Connector, Keys};
use async_trait::async_trait;
use reserve::{Decision, Reaper, ReservePlan};

/// What one attempt ended in. Only `Conflict` makes the driver try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The server acknowledged the purchase.
    Purchased,
    /// The server said there is not enough stock: a definitive answer.
    SoldOut,
    /// Lost a race that is safe to retry (aborted EXEC, lock held by another).
    Conflict,
    /// Reservations: not enough stock now, but some of the missing units are
    /// held by others and may come back (`--rebuy` asks again later).
    HeldElsewhere,
    /// The outcome is unknown: the purchase may or may not have been applied.
    Error(Failure),
}

impl From<fred::error::Error> for Attempt {
    fn from(e: fred::error::Error) -> Self {
        Attempt::Error(Failure {
            class: ErrorClass::of(&e),
            message: format!("{:?}: {}", e.kind(), e.details()),
        })
    }
}

/// One attempt and the number of network round trips it cost.
#[derive(Debug, Clone)]
pub struct Step {
    pub attempt: Attempt,
    pub round_trips: u32,
    /// Check-then-act strategies: the stock read and the DECRBY reply, as
    /// the server gave them, to explain an oversell. None elsewhere.
    pub race: Option<Seen>,
}

#[async_trait]
pub trait Strategy: Send + Sync {
    /// Make one attempt for `buyer`. Never panics on Redis errors: they come
    /// back as [`Attempt::Error`] and the driver counts them.
    async fn attempt(&self, buyer: Buyer) -> Step;

    /// Reservation flows: confirm or cancel the hold `buyer` placed.
    /// `Purchased` means this call ended the hold; `SoldOut`, that it had
    /// already ended (expired) and nothing moved.
    async fn settle(&self, _buyer: Buyer, _how: Decision) -> Step {
        Step {
            attempt: Attempt::Error(Failure {
                class: ErrorClass::Other,
                message: "this strategy does not hold units".into(),
            }),
            round_trips: 0,
            race: None,
        }
    }

    /// Reservation flows: what returns expired holds to stock.
    fn reaper(&self) -> Option<Arc<dyn Reaper>> {
        None
    }

    /// Strategies that undo what they took (`saga`): how much they undid.
    fn undone(&self) -> Option<crate::metrics::Undone> {
        None
    }

    /// Close whatever connections the strategy opened.
    async fn close(&self) {}
}

/// Everything a strategy may need to set itself up.
pub struct Setup<'a> {
    pub connector: &'a Connector,
    pub keys: Keys,
    pub run_id: &'a str,
    /// `redis_version` from INFO, for features that need a recent server.
    pub server_version: &'a str,
    /// Exclusive connections for strategies that need one per attempt (WATCH).
    pub connections: usize,
    pub params: Params,
    /// Buyers bring carts over several products.
    pub carts: bool,
    /// Buyers hold, then confirm, cancel or abandon.
    pub reserve: Option<ReservePlan>,
}

/// Knobs of individual strategies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// `lock`, `lock-fenced`: how long a lock lives unless released.
    pub lock_ttl: Duration,
    /// `lock`, `lock-fenced`: an artificial pause between reading the stock
    /// and writing the purchase, as a GC pause or a slow disk would cause.
    pub hold_pause: Duration,
    /// `app-lock`: simulated app servers, each with its own in-memory lock.
    pub app_servers: u32,
    /// `app-lock`: the request's own work inside the app server's lock.
    pub app_work: crate::crowd::DurationRange,
    /// `script`: the user's checkout, read from --script.
    pub script: Option<std::sync::Arc<str>>,
    /// `broken`, `app-lock`: application work between the read and the
    /// write (`--gap`), drawn per buyer from the run's seed. For `app-lock`
    /// it replaces `--app-work` when given.
    pub gap: Option<crate::crowd::DurationRange>,
    /// The run's seed, so that the same seed draws the same gaps.
    pub seed: u64,
    /// Script calls go out coalesced through a [`Pipe`](crate::redis::Pipe),
    /// not one write each through fred (`--per-call-writes`).
    pub coalesce: bool,
}

/// Build a ready-to-run strategy: connections opened, scripts loaded, in
/// the version its facts give for this run's shape.
pub async fn prepare(kind: StrategyKind, setup: Setup<'_>) -> Result<Arc<dyn Strategy>> {
    let shape = Shape::of(setup.carts, setup.reserve.is_some());
    let build = kind.facts().build(shape).ok_or_else(|| {
        crate::error::Error::usage(format!(
            "strategy {kind} has no version for {}",
            shape.named()
        ))
    })?;
    build(setup).await
}
