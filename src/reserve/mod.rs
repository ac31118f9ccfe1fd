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

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::strategy::{Setup, Strategy, StrategyKind};

pub async fn prepare(
    kind: StrategyKind,
    setup: Setup<'_>,
    plan: ReservePlan,
) -> Result<Arc<dyn Strategy>> {
    Ok(match kind {
        StrategyKind::Lua => Arc::new(atomic::Atomic::new(setup, plan).await?),
        StrategyKind::ReserveNaive => Arc::new(naive::Naive::new(setup, plan).await?),
        other => {
            return Err(Error::usage(format!(
                "strategy {other} has no reservation flow (use lua or reserve-naive)"
            )))
        }
    })
}
