//! Reservations: hold a cart, then confirm, cancel or abandon it, while a
//! reaper returns expired holds to stock.
//!
//! Two implementations of the same flow:
//! - `lua` ([`atomic`]): each step is one script, and every way a hold can
//!   end (confirm, cancel, expiry) starts by removing it from the holds hash,
//!   so exactly one of them wins;
//! - `reserve-naive` ([`naive`]): the seed's version, where confirm, cancel
//!   and the reaper each read the hold, then write in a MULTI without WATCH.
//!   Two of them can read the same hold before either writes: its units go
//!   back twice, or a hold already returned is still confirmed.
//!
//! Both append every end to the `ended` log inside their own write, which
//! is how the audit sees a hold that ended twice. The reaper works from a
//! sorted set of deadlines, never from keyspace notifications, which Redis
//! may drop or deliver late.

mod atomic;
mod naive;
mod plan;
pub mod reaper;

pub use plan::{Decision, ReservePlan};
pub use reaper::{ReapStats, Reaper};

use super::{built, Build, Commands, Facts, Setup};
use crate::error::{Error, Result};
use crate::outcome::{CheckId, Expect};

/// `lua`'s reservation flow.
pub(super) const ATOMIC: Build = |s| built(atomic::Atomic::new(s));

pub(super) const NAIVE_FACTS: Facts = Facts {
    name: "reserve-naive",
    help: "--reserve only: ending a hold races the reaper (control group)",
    single: None,
    cart: None,
    hold: Some(|s| built(naive::Naive::new(s))),
    control: |_| Some(Expect::DoubleRestock),
    // A double restock breaks everything downstream of it too. The verdict
    // rests on the double restock itself; the rest is shown.
    tolerates: |_| {
        &[
            CheckId::NoOversell,
            CheckId::Conservation,
            CheckId::OrdersMatch,
            CheckId::ClientAgrees,
            CheckId::NoUndersell,
            CheckId::HoldsEndOnce,
            CheckId::NoLateConfirm,
        ]
    },
    commands: Commands {
        single: &[],
        cart: &[],
        hold: &[
            "WATCH",
            "UNWATCH",
            "MULTI",
            "EXEC",
            "GET",
            "MGET",
            "DECRBY",
            "INCR",
            "INCRBY",
            "HSET",
            "HGET",
            "HDEL",
            "HGETALL",
            "HLEN",
            "DEL",
            "RPUSH",
            "ZADD",
            "ZREM",
            "ZSCORE",
            "ZCARD",
            "ZRANGEBYSCORE",
            "TIME",
            "EVALSHA",
            "SCRIPT|LOAD",
        ],
    },
};

/// The run's reservation plan, which a hold flow cannot start without.
fn plan_of(setup: &Setup<'_>) -> Result<ReservePlan> {
    setup
        .reserve
        .ok_or_else(|| Error::usage("a reservation flow needs --reserve"))
}
