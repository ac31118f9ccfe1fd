//! The one driver: releases the crowd, retries conflicts with backoff, times
//! every buyer and counts outcomes. Strategies only make single attempts.
//!
//! Closed burst (the midnight stampede): every buyer is released at the same
//! instant. Workers pull buyers from a shared cursor and keep up to
//! `concurrency` of them in flight in total; a buyer's latency runs from the common release
//! instant to its final outcome, so time spent queued behind busy workers,
//! waiting for a pooled connection and backing off is all included.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::crowd::{Buyer, Crowd};
use crate::metrics::{Outcome, Tally};
use crate::strategy::{Attempt, ErrorClass, Failure, Step, Strategy};

/// Exponential backoff with full jitter: before retry `n` (0-based) sleep a
/// uniform random time in `[0, min(cap, base * 2^n)]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl RetryPolicy {
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << retry.min(30))
            .min(self.cap);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.gen_range(0..=nanos))
    }
}

/// How the crowd is driven.
#[derive(Debug, Clone)]
pub struct DriveOptions {
    /// Buyers in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Seeds the backoff jitter, so a run can be repeated.
    pub seed: u64,
    /// Fired when the server stops answering: attempts in flight end at once
    /// as errors (unknown outcome) instead of each waiting out its timeout.
    pub abort: CancellationToken,
}

/// Counters the progress display reads while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    pub done: AtomicU64,
    pub purchased: AtomicU64,
}

pub struct DriveResult {
    pub tally: Tally,
    /// From the release instant until the last buyer had its outcome.
    pub elapsed: Duration,
    /// Ctrl-C stopped the release of further buyers.
    pub interrupted: bool,
}

pub async fn drive(
    strategy: Arc<dyn Strategy>,
    crowd: Arc<Crowd>,
    opts: &DriveOptions,
    live: Arc<Live>,
    cancel: CancellationToken,
) -> DriveResult {
    let (release, gate) = watch::channel(None::<Instant>);
    let cursor = Arc::new(AtomicUsize::new(0));
    let concurrency = opts.concurrency.clamp(1, crowd.len().max(1));
    // A few workers, each driving many buyers at once: the histograms (one
    // per worker, a few hundred KB each) stay few, and nothing is shared in
    // the hot path but the cursor and the live counters.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = concurrency.min(cores * 2);
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let worker = Worker {
                strategy: strategy.clone(),
                crowd: crowd.clone(),
                cursor: cursor.clone(),
                live: live.clone(),
                cancel: cancel.clone(),
                abort: opts.abort.clone(),
                retry: opts.retry,
                seed: opts.seed,
                // Spread the in-flight budget exactly over the workers.
                in_flight: concurrency / workers + usize::from(w < concurrency % workers),
            };
            tokio::spawn(worker.run(gate.clone()))
        })
        .collect();

    let start = Instant::now();
    let _ = release.send(Some(start));
    let mut tally = Tally::default();
    for h in handles {
        // A worker only panics on a bug; surface it rather than under-count.
        let part = h.await.expect("load worker panicked");
        tally += &part;
    }
    DriveResult {
        tally,
        elapsed: start.elapsed(),
        interrupted: cancel.is_cancelled(),
    }
}

struct Worker {
    strategy: Arc<dyn Strategy>,
    crowd: Arc<Crowd>,
    cursor: Arc<AtomicUsize>,
    live: Arc<Live>,
    cancel: CancellationToken,
    abort: CancellationToken,
    retry: RetryPolicy,
    seed: u64,
    in_flight: usize,
}

/// What one buyer's attempts cost, reported back to its worker.
struct Bought {
    buyer: Buyer,
    outcome: Outcome,
    latency: Duration,
    attempts: u64,
    conflicts: u64,
    round_trips: u64,
    failure: Option<Failure>,
}

impl Worker {
    async fn run(self, mut gate: watch::Receiver<Option<Instant>>) -> Tally {
        let mut tally = Tally::default();
        let Ok(start) = gate
            .wait_for(Option::is_some)
            .await
            .map(|s| s.expect("checked"))
        else {
            return tally;
        };
        let mut buying = FuturesUnordered::new();
        loop {
            while buying.len() < self.in_flight
                && !self.cancel.is_cancelled()
                && !self.abort.is_cancelled()
            {
                let i = self.cursor.fetch_add(1, Ordering::Relaxed);
                if i >= self.crowd.len() {
                    break;
                }
                buying.push(self.buy(self.crowd.buyer(i), start));
            }
            let Some(b) = buying.next().await else { break };
            tally.attempts += b.attempts;
            tally.conflicts += b.conflicts;
            tally.round_trips += b.round_trips;
            if b.outcome == Outcome::Purchased {
                tally.purchase_retries += b.conflicts;
                tally.purchase_round_trips += b.round_trips;
            }
            if let Some(f) = b.failure {
                tally.sample_error(f);
            }
            tally.record(b.buyer.qty, b.outcome, b.latency);
            self.live.done.fetch_add(1, Ordering::Relaxed);
            if b.outcome == Outcome::Purchased {
                self.live.purchased.fetch_add(1, Ordering::Relaxed);
            }
        }
        tally
    }

    /// Attempts until a final outcome; conflicts back off and retry.
    async fn buy(&self, buyer: Buyer, start: Instant) -> Bought {
        // Jitter seeded per buyer: the same seed backs off the same way
        // whichever worker happens to serve the buyer.
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ u64::from(buyer.id).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut b = Bought {
            buyer,
            outcome: Outcome::GaveUp,
            latency: Duration::ZERO,
            attempts: 0,
            conflicts: 0,
            round_trips: 0,
            failure: None,
        };
        let mut retries = 0;
        b.outcome = loop {
            let step = tokio::select! {
                step = self.strategy.attempt(buyer) => step,
                _ = self.abort.cancelled() => Step {
                    attempt: Attempt::Error(Failure {
                        class: ErrorClass::Canceled,
                        message: "stopped: the server stopped answering".into(),
                    }),
                    round_trips: 0,
                },
            };
            b.attempts += 1;
            b.round_trips += u64::from(step.round_trips);
            match step.attempt {
                Attempt::Purchased => break Outcome::Purchased,
                Attempt::SoldOut => break Outcome::SoldOut,
                Attempt::Error(failure) => {
                    let class = failure.class;
                    b.failure = Some(failure);
                    break Outcome::Error(class);
                }
                Attempt::Conflict => {
                    b.conflicts += 1;
                    // Ctrl-C: a buyer between attempts stops trying. Nothing
                    // of a lost race was applied, so it simply gave up.
                    if retries >= self.retry.max_retries || self.cancel.is_cancelled() {
                        break Outcome::GaveUp;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(self.retry.delay(retries, &mut rng)) => {}
                        _ = self.cancel.cancelled() => break Outcome::GaveUp,
                    }
                    retries += 1;
                }
            }
        };
        b.latency = start.elapsed();
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_a_growing_capped_ceiling() {
        let p = RetryPolicy {
            max_retries: 10,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(8),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for retry in 0..10 {
            let ceiling = Duration::from_millis(1 << retry.min(3));
            let samples: Vec<Duration> = (0..200).map(|_| p.delay(retry, &mut rng)).collect();
            assert!(samples.iter().all(|d| *d <= ceiling), "retry {retry}");
            // Full jitter: spread over the whole window, not bunched at its top.
            assert!(samples.iter().any(|d| *d < ceiling / 4), "retry {retry}");
        }
    }
}
