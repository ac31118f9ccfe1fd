//! The reaper task: returns expired holds to stock while the crowd shops,
//! then drains what is left once every buyer is done.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hdrhistogram::Histogram;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::new_histogram;

/// Most holds one reaper call handles, so a backlog never becomes one
/// script long enough to stall the server.
pub const BATCH: usize = 200;

#[async_trait]
pub trait Reaper: Send + Sync {
    /// Return holds past their deadline to stock; for each, the µs from its
    /// deadline until its units were back.
    async fn reap(&self) -> Result<Vec<u64>, fred::error::Error>;
    /// Holds not ended yet.
    async fn open(&self) -> Result<u64, fred::error::Error>;
}

/// What the reaper did over a strategy's run.
#[derive(Debug, Clone)]
pub struct ReapStats {
    pub returned: u64,
    /// µs from a hold's deadline to its units being back in stock.
    pub lag: Histogram<u64>,
    pub errors: u64,
    pub last_error: Option<String>,
    /// Holds still open when the drain gave up.
    pub left_open: u64,
}

impl Default for ReapStats {
    fn default() -> Self {
        ReapStats {
            returned: 0,
            lag: new_histogram(),
            errors: 0,
            last_error: None,
            left_open: 0,
        }
    }
}

impl std::ops::AddAssign<&ReapStats> for ReapStats {
    fn add_assign(&mut self, o: &ReapStats) {
        self.returned += o.returned;
        self.lag.add(&o.lag).expect("histograms share their bounds");
        self.errors += o.errors;
        if self.last_error.is_none() {
            self.last_error.clone_from(&o.last_error);
        }
        // Every instance saw the same set; the last to stop is the truth.
        self.left_open = self.left_open.max(o.left_open);
    }
}

/// How often the reaper looks: a hundredth of the TTL, between 5 and 100 ms.
pub fn tick(hold_ttl: Duration) -> Duration {
    (hold_ttl / 100).clamp(Duration::from_millis(5), Duration::from_millis(100))
}

/// Reap every `tick` until `done` fires, then keep reaping until no hold is
/// open, for at most `drain` more.
pub async fn run(
    reaper: Arc<dyn Reaper>,
    tick: Duration,
    done: CancellationToken,
    drain: Duration,
) -> ReapStats {
    let mut stats = ReapStats::default();
    let mut drain_until: Option<Instant> = None;
    loop {
        let full = match reaper.reap().await {
            Ok(lags) => {
                stats.returned += lags.len() as u64;
                for lag in &lags {
                    stats.lag.saturating_record((*lag).max(1));
                }
                lags.len() >= BATCH
            }
            Err(e) => {
                stats.errors += 1;
                stats.last_error = Some(format!("{:?}: {}", e.kind(), e.details()));
                false
            }
        };
        if done.is_cancelled() {
            let until = *drain_until.get_or_insert_with(|| Instant::now() + drain);
            match reaper.open().await {
                Ok(0) => break,
                Ok(n) if Instant::now() >= until => {
                    stats.left_open = n;
                    break;
                }
                Err(_) if Instant::now() >= until => break,
                _ => {}
            }
        }
        if !full {
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = done.cancelled(), if drain_until.is_none() => {}
            }
        }
    }
    stats
}
