//! The client-side figures of one strategy, summarised from the driver's
//! tally: what buyers were told, how fast, and the holders' side of a
//! reservation run.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::audit::ServerFacts;
use crate::metrics::{HoldTally, Percentiles, Tally};
use crate::strategy::reserve::ReapStats;
use crate::strategy::ErrorClass;

/// What the holders were told and how the reaper kept up. How the holds
/// really ended is the server's account, in [`ServerFacts::holds`].
#[derive(Debug, Clone, Serialize)]
pub struct HoldFigures {
    pub placed: u64,
    pub confirmed: u64,
    /// Confirms that came after the hold had already ended.
    pub confirm_late: u64,
    pub cancelled: u64,
    pub cancel_late: u64,
    pub abandoned: u64,
    pub settle_errors: u64,
    pub rebuys: u64,
    /// Latency of each confirm and cancel call, µs.
    pub confirm_us: Percentiles,
    pub cancel_us: Percentiles,
    /// Holds the reaper returned to stock.
    pub reaped: u64,
    /// From a hold's deadline to its units being back in stock, µs.
    pub restock_lag_us: Percentiles,
    pub reaper_errors: u64,
    pub reaper_error_sample: Option<String>,
    /// Holds still open when the reaper's drain gave up.
    pub left_open: u64,
}

impl HoldFigures {
    pub fn new(t: &HoldTally, reaper: &ReapStats) -> Self {
        HoldFigures {
            placed: t.placed,
            confirmed: t.confirmed,
            confirm_late: t.confirm_late,
            cancelled: t.cancelled,
            cancel_late: t.cancel_late,
            abandoned: t.abandoned,
            settle_errors: t.settle_errors,
            rebuys: t.rebuys,
            confirm_us: Percentiles::of(&t.confirm),
            cancel_us: Percentiles::of(&t.cancel),
            reaped: reaper.returned,
            restock_lag_us: Percentiles::of(&reaper.lag),
            reaper_errors: reaper.errors,
            reaper_error_sample: reaper.last_error.clone(),
            left_open: reaper.left_open,
        }
    }
}

/// The client-side figures of one strategy. Correctness numbers are in
/// [`ServerFacts`]; these say what buyers were told and how fast.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub purchased: u64,
    pub sold_out: u64,
    /// Sold-out answers to buyers whose quantity is still in stock at the
    /// end (from the stock the audit read back).
    pub false_sold_outs: u64,
    pub gave_up: u64,
    pub errors: u64,
    pub errors_by_class: BTreeMap<ErrorClass, u64>,
    /// First message seen per error class.
    pub error_samples: BTreeMap<ErrorClass, String>,
    pub units_purchased: u64,
    pub attempts: u64,
    pub conflicts: u64,
    /// Attempts whose outcome was unknown, also those tried again.
    pub unknown: u64,
    /// `saga`: carts taken in part, then undone; lines given back. Null
    /// for the other strategies.
    pub undone: Option<crate::metrics::Undone>,
    pub round_trips: u64,
    pub duration_s: f64,
    /// When the last purchase was acknowledged, seconds after the release.
    pub last_sale_s: f64,
    pub purchases_per_s: f64,
    pub attempts_per_s: f64,
    pub retries_per_purchase: f64,
    pub round_trips_per_purchase: f64,
    /// Buyers that started more than 2 ms after their intended time (every
    /// in-flight slot busy, or the generator behind). Meaningful in the
    /// open model; in a burst it counts buyers queued behind the crowd.
    pub late_starts: u64,
}

impl Figures {
    pub fn new(t: &Tally, elapsed: Duration, server: &ServerFacts) -> Figures {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let per_purchase = |n: u64| {
            if t.purchased == 0 {
                0.0
            } else {
                n as f64 / t.purchased as f64
            }
        };
        Figures {
            purchased: t.purchased,
            sold_out: t.sold_out,
            false_sold_outs: t
                .turned_away_with(&server.products.iter().map(|p| p.stock).collect::<Vec<_>>())
                .sold_out,
            gave_up: t.gave_up,
            errors: t.errors,
            errors_by_class: t.errors_by_class.clone(),
            error_samples: t.error_samples.clone(),
            units_purchased: t.units_purchased,
            attempts: t.attempts,
            conflicts: t.conflicts,
            unknown: t.unknown,
            undone: t.undone,
            round_trips: t.round_trips,
            duration_s: elapsed.as_secs_f64(),
            last_sale_s: t.last_purchase_us as f64 / 1e6,
            purchases_per_s: t.purchased as f64 / secs,
            attempts_per_s: t.attempts as f64 / secs,
            retries_per_purchase: per_purchase(t.conflicts),
            round_trips_per_purchase: per_purchase(t.purchase_round_trips),
            late_starts: t.late_starts,
        }
    }
}
