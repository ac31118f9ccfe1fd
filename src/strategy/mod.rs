//! Purchase strategies: one trait, one file per strategy.
//!
//! A strategy only knows how to make *one attempt* for one buyer. The driver
//! (`load.rs`) owns timing, retries, backoff and outcome counting, so every
//! strategy is measured the same way. Adding a strategy is one new file plus
//! one line in [`prepare`].

mod app_lock;
mod broken;
mod cart;
mod compensate;
mod decr;
mod function;
mod lock;
mod lua;
mod script;
mod shared;
mod watch;

pub(crate) use shared::{
    bought_or_sold_out, now_us, queue_order, replace_connection, sold_out_already, watch_cmd,
    BuyScriptArgs,
};

/// `lua/buy.lua`, for the benchmark's server-side ceiling.
pub(crate) use lua::BUY as BUY_SCRIPT;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::{Connector, Keys};
use crate::reserve::{Decision, Reaper, ReservePlan};

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

/// A Redis error met during an attempt: its class, counted, and its message,
/// kept as a sample for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub class: ErrorClass,
    pub message: String,
}

/// Coarse error kinds, counted per strategy in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    Timeout,
    Io,
    Canceled,
    Server,
    Other,
}

impl ErrorClass {
    pub fn of(e: &fred::error::Error) -> ErrorClass {
        use fred::error::ErrorKind as K;
        match e.kind() {
            K::Timeout => ErrorClass::Timeout,
            K::IO => ErrorClass::Io,
            K::Canceled => ErrorClass::Canceled,
            K::Unknown | K::InvalidArgument | K::InvalidCommand | K::NotFound => ErrorClass::Server,
            _ => ErrorClass::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Timeout => "timeout",
            ErrorClass::Io => "io",
            ErrorClass::Canceled => "canceled",
            ErrorClass::Server => "server",
            ErrorClass::Other => "other",
        }
    }
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
        }
    }

    /// Reservation flows: what returns expired holds to stock.
    fn reaper(&self) -> Option<Arc<dyn Reaper>> {
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
    pub app_work: Duration,
    /// `script`: the user's checkout, read from --script.
    pub script: Option<std::sync::Arc<str>>,
}

/// The strategies a user can name on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    Broken,
    Decr,
    Watch,
    Lua,
    Function,
    Compensate,
    Lock,
    LockFenced,
    AppLock,
    Script,
    ReserveNaive,
}

impl StrategyKind {
    pub const ALL: &'static [StrategyKind] = &[
        StrategyKind::Broken,
        StrategyKind::Decr,
        StrategyKind::Watch,
        StrategyKind::Lua,
        StrategyKind::Function,
        StrategyKind::Compensate,
        StrategyKind::Lock,
        StrategyKind::LockFenced,
        StrategyKind::AppLock,
        StrategyKind::Script,
        StrategyKind::ReserveNaive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Broken => "broken",
            StrategyKind::Decr => "decr",
            StrategyKind::Watch => "watch",
            StrategyKind::Lua => "lua",
            StrategyKind::Function => "function",
            StrategyKind::Compensate => "compensate",
            StrategyKind::Lock => "lock",
            StrategyKind::LockFenced => "lock-fenced",
            StrategyKind::AppLock => "app-lock",
            StrategyKind::Script => "script",
            StrategyKind::ReserveNaive => "reserve-naive",
        }
    }

    /// True when, with these parameters, the strategy is unsound by design:
    /// the control groups that show the audit can see an oversell.
    pub fn oversells_by_design(self, p: &Params) -> bool {
        match self {
            StrategyKind::Broken | StrategyKind::Decr => true,
            // K processes with K private mutexes exclude nobody across them.
            StrategyKind::AppLock => p.app_servers > 1,
            // A holder paused past its TTL writes after the next one read.
            StrategyKind::Lock => pauses_past_ttl(p),
            _ => false,
        }
    }

    /// Audit checks a strategy is known to fail by design without being
    /// unsound: they are shown, but do not fail its verdict.
    pub fn tolerated(self, p: &Params) -> &'static [crate::audit::CheckId] {
        use crate::audit::CheckId;
        match self {
            // A transient negative makes concurrent buyers see "sold out"
            // although the units come back: false sold-outs, by design.
            StrategyKind::Compensate => &[CheckId::NoLostSales],
            // Holders stalled past their TTL have their writes refused: safe,
            // but the refusals can outlast the buyers' retries (undersell).
            StrategyKind::LockFenced if pauses_past_ttl(p) => &[CheckId::NoUndersell],
            // The seed's reservations: a double restock breaks everything
            // downstream of it too. The verdict rests on the double restock
            // itself; the rest is shown.
            StrategyKind::ReserveNaive => &[
                CheckId::NoOversell,
                CheckId::Conservation,
                CheckId::OrdersMatch,
                CheckId::ClientAgrees,
                CheckId::NoUndersell,
                CheckId::HoldsEndOnce,
                CheckId::NoLateConfirm,
            ],
            _ => &[],
        }
    }
}

/// A holder paused longer than its lock lives: a second holder gets in.
fn pauses_past_ttl(p: &Params) -> bool {
    !p.hold_pause.is_zero() && p.hold_pause > p.lock_ttl
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StrategyKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        StrategyKind::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let known: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown strategy '{s}' (known: {})", known.join(", "))
            })
    }
}

/// Build a ready-to-run strategy: connections opened, scripts loaded.
pub async fn prepare(kind: StrategyKind, setup: Setup<'_>) -> Result<Arc<dyn Strategy>> {
    if let Some(plan) = setup.reserve {
        return crate::reserve::prepare(kind, setup, plan).await;
    }
    if setup.carts {
        return cart::prepare(kind, setup).await;
    }
    Ok(match kind {
        StrategyKind::Broken => Arc::new(broken::Broken::new(setup).await?),
        StrategyKind::Decr => Arc::new(decr::Decr::new(setup).await?),
        StrategyKind::Watch => Arc::new(watch::Watch::new(setup).await?),
        StrategyKind::Lua => Arc::new(lua::Lua::new(setup).await?),
        StrategyKind::Function => Arc::new(function::Function::new(setup).await?),
        StrategyKind::Compensate => Arc::new(compensate::Compensate::new(setup).await?),
        StrategyKind::Lock => Arc::new(lock::Lock::new(setup, false).await?),
        StrategyKind::LockFenced => Arc::new(lock::Lock::new(setup, true).await?),
        StrategyKind::AppLock => Arc::new(app_lock::AppLock::new(setup).await?),
        StrategyKind::Script => Arc::new(script::UserScript::new(setup).await?),
        StrategyKind::ReserveNaive => {
            return Err(crate::error::Error::usage(
                "reserve-naive is a reservation flow: add --reserve",
            ))
        }
    })
}
