//! Purchase strategies: one trait, one file per strategy.
//!
//! A strategy only knows how to make *one attempt* for one buyer. The driver
//! (`load.rs`) owns timing, retries, backoff and outcome counting, so every
//! strategy is measured the same way. Adding a strategy is one new file plus
//! one line in [`prepare`].

mod broken;
mod decr;
mod watch;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::{Connector, Keys};

/// What one attempt ended in. Only `Conflict` makes the driver try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The server acknowledged the purchase.
    Purchased,
    /// The server said there is not enough stock: a definitive answer.
    SoldOut,
    /// Lost a race that is safe to retry (aborted EXEC, lock held by another).
    Conflict,
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

    /// Close whatever connections the strategy opened.
    async fn close(&self) {}
}

/// Everything a strategy may need to set itself up.
pub struct Setup<'a> {
    pub connector: &'a Connector,
    pub keys: Keys,
    /// Exclusive connections for strategies that need one per attempt (WATCH).
    pub connections: usize,
    pub command_timeout: Duration,
}

/// The strategies a user can name on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    Broken,
    Decr,
    Watch,
}

impl StrategyKind {
    pub const ALL: &'static [StrategyKind] = &[
        StrategyKind::Broken,
        StrategyKind::Decr,
        StrategyKind::Watch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Broken => "broken",
            StrategyKind::Decr => "decr",
            StrategyKind::Watch => "watch",
        }
    }

    /// True for strategies that are unsound by design: they exist to show the
    /// audit can see an oversell.
    pub fn is_unsafe(self) -> bool {
        matches!(self, StrategyKind::Broken | StrategyKind::Decr)
    }

    pub fn describe(self) -> &'static str {
        match self {
            StrategyKind::Broken => "GET, compare, DECRBY, record: check-then-act race",
            StrategyKind::Decr => "DECRBY with no check",
            StrategyKind::Watch => {
                "WATCH/GET/MULTI/EXEC on an exclusive connection, retry on abort"
            }
        }
    }
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
    Ok(match kind {
        StrategyKind::Broken => Arc::new(broken::Broken::new(setup).await?),
        StrategyKind::Decr => Arc::new(decr::Decr::new(setup).await?),
        StrategyKind::Watch => Arc::new(watch::Watch::new(setup).await?),
    })
}

/// Queue the writes that record an order: the order hash, its id on the
/// orders list, and `sold += qty`. Works on a pipeline or inside MULTI, so a
/// strategy with an atomic unit records the order inside it.
pub(crate) async fn queue_order<C>(
    c: &C,
    keys: &Keys,
    buyer: Buyer,
) -> Result<(), fred::error::Error>
where
    C: fred::interfaces::HashesInterface
        + fred::interfaces::ListInterface
        + fred::interfaces::KeysInterface
        + Sync,
{
    let at_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let fields: [(&str, i64); 3] = [
        ("buyer", i64::from(buyer.id)),
        ("qty", i64::from(buyer.qty)),
        ("at_us", at_us),
    ];
    let _: () = c.hset(keys.order(buyer.id), fields).await?;
    let _: () = c.rpush(keys.orders(), buyer.id).await?;
    let _: () = c.incr_by(keys.sold(), i64::from(buyer.qty)).await?;
    Ok(())
}
