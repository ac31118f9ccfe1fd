//! The counters the live displays read while the run goes on: the workers
//! only bump atomics, the progress bar and the `--live` view read them.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::OnceLock;

use tokio::time::Instant;

use crate::metrics::LatencyGauge;

/// Counters the live display reads while the run goes on.
#[derive(Debug)]
pub struct Live {
    pub started: AtomicU64,
    pub done: AtomicU64,
    pub purchased: AtomicU64,
    /// Stock left as last read from Redis by the live display; `i64::MIN`
    /// until it has been read.
    pub stock: AtomicI64,
    /// Attempts ended with an unknown outcome, also those tried again with
    /// `--retry-unknown`: the fault steps' account.
    pub errors: AtomicU64,
    /// Every try, first or retry, as it is made.
    pub attempts: AtomicU64,
    /// Lost races (conflicts), each followed by a retry or giving up.
    pub conflicts: AtomicU64,
    /// Latency of every buyer with an outcome so far, for a live p99.
    pub latency: LatencyGauge,
    /// The release instant, once the crowd is released: side tasks that
    /// record over time count from it.
    pub released: OnceLock<Instant>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            started: AtomicU64::new(0),
            done: AtomicU64::new(0),
            purchased: AtomicU64::new(0),
            stock: AtomicI64::new(i64::MIN),
            errors: AtomicU64::new(0),
            attempts: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
            latency: LatencyGauge::default(),
            released: OnceLock::new(),
        }
    }
}
