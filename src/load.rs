//! The one driver: starts every buyer at its intended time, retries
//! conflicts with backoff, times every buyer and counts outcomes. Strategies
//! only make single attempts.
//!
//! The load shape is data, not code: a [`Schedule`] gives each buyer's
//! intended start as an offset from the release. A closed burst is the
//! schedule whose offsets are all zero; an open model spreads them along a
//! rate curve. The same loop serves both:
//!
//! - a few workers pull buyers from a shared cursor, each keeping up to its
//!   share of `--concurrency` buyers in flight;
//! - a buyer starts at its intended time, or as soon as a slot frees when
//!   every slot is busy. One that starts more than [`LATE`] after its
//!   intended time is counted as a *late start*: the in-flight cap was
//!   reached, or the generator could not keep up;
//! - latency runs from the intended start (coordinated-omission correct: a
//!   stalled server cannot hide the queue it causes), service time from the
//!   buyer's actual start, immediately before its first send.
//!
//! Time is `tokio::time::Instant`, so a paused test clock drives the
//! schedule exactly.

mod bought;
mod hold;
mod live;
mod record;
mod retry;

use bought::{Again, Bought};

pub use crate::crowd::DurationRange;
pub use live::Live;
pub use retry::RetryPolicy;

use std::iter::Enumerate;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::crowd::{Buyer, Crowd};
use crate::metrics::{HistorySink, Outcome, Tally};
use crate::redis::blame;
use crate::schedule::{Offsets, Schedule};
use crate::strategy::reserve::ReservePlan;
use crate::strategy::{Attempt, ErrorClass, Failure, Step, Strategy};

/// A start later than this after the intended time counts as late. The
/// timers tick once per millisecond and a sleep ends on the tick after its
/// deadline, so an on-time start can lag by a tick plus the wake-up itself.
pub const LATE: Duration = Duration::from_millis(2);

/// How the crowd is driven.
#[derive(Debug, Clone)]
pub struct DriveOptions {
    /// Buyers in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Seeds the backoff jitter and think times, so a run can be repeated.
    pub seed: u64,
    /// Fired when the server stops answering: attempts in flight end at once
    /// as errors (unknown outcome) instead of each waiting out its timeout.
    pub abort: CancellationToken,
    /// Reservations: a placed hold is then confirmed, cancelled or abandoned.
    pub reserve: Option<ReservePlan>,
    /// `--history`: where every attempt's events go.
    pub history: Option<HistorySink>,
    /// Keep when each purchase was acknowledged (8 bytes a purchase), for
    /// the fault steps' recovery and losses. Off otherwise: a long soak
    /// would grow with its purchases.
    pub ack_times: bool,
}

pub struct DriveResult {
    pub tally: Tally,
    /// From the release instant until the last buyer had its outcome.
    pub elapsed: Duration,
    /// Ctrl-C stopped the release of further buyers.
    pub interrupted: bool,
    /// The first failure every other buyer would meet too (a permission, a
    /// script error, out of memory, credentials): it tripped the abort, and
    /// the run ends on it rather than blaming the strategy.
    pub fatal: Option<Failure>,
}

pub async fn drive(
    strategy: Arc<dyn Strategy>,
    crowd: Arc<Crowd>,
    schedule: Arc<Schedule>,
    opts: &DriveOptions,
    live: Arc<Live>,
    cancel: CancellationToken,
) -> DriveResult {
    assert_eq!(crowd.len(), schedule.len(), "one intended start per buyer");
    let (release, gate) = watch::channel(None::<Instant>);
    let cursor = Arc::new(Mutex::new(schedule.offsets().enumerate()));
    let fatal = Arc::new(OnceLock::new());
    let concurrency = opts.concurrency.clamp(1, crowd.len().max(1));
    // A few workers, each driving many buyers at once: the histograms (one
    // set per worker, about a megabyte) stay few, and nothing is shared in
    // the hot path but the cursor and the live counters. Two per core, not
    // one: a worker polls all its buyers in turn, so a lock holder's next
    // step waits behind every buyer spinning in the same worker. With one
    // worker per core, `lock` under 20,000 buyers took ten times longer.
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
                fatal: fatal.clone(),
                retry: opts.retry,
                reserve: opts.reserve,
                history: opts.history.clone(),
                seed: opts.seed,
                ack_times: opts.ack_times,
                // Spread the in-flight budget exactly over the workers.
                in_flight: concurrency / workers + usize::from(w < concurrency % workers),
            };
            tokio::spawn(worker.run(gate.clone()))
        })
        .collect();

    let start = Instant::now();
    let _ = release.send(Some(start));
    let _ = live.released.set(start);
    crate::probe::released();
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
        fatal: fatal.get().cloned(),
    }
}

struct Worker {
    strategy: Arc<dyn Strategy>,
    crowd: Arc<Crowd>,
    /// The next buyer and its intended start: the schedule is walked as
    /// buyers are claimed, never stored.
    cursor: Arc<Mutex<Enumerate<Offsets>>>,
    live: Arc<Live>,
    cancel: CancellationToken,
    abort: CancellationToken,
    /// The first fatal failure of any worker; see [`DriveResult::fatal`].
    fatal: Arc<OnceLock<Failure>>,
    retry: RetryPolicy,
    reserve: Option<ReservePlan>,
    history: Option<HistorySink>,
    seed: u64,
    ack_times: bool,
    in_flight: usize,
}

/// A buyer claimed from the cursor, waiting for its intended start.
struct Due {
    index: usize,
    at: Instant,
}

fn second(since_release: Duration) -> u32 {
    u32::try_from(since_release.as_secs()).unwrap_or(u32::MAX)
}

impl Worker {
    async fn run(self, mut gate: watch::Receiver<Option<Instant>>) -> Tally {
        let mut tally = Tally::default();
        let Ok(release) = gate
            .wait_for(Option::is_some)
            .await
            .map(|s| s.expect("checked"))
        else {
            return tally;
        };
        let mut buying = FuturesUnordered::new();
        let mut next: Option<Due> = None;
        loop {
            let now = Instant::now();
            // Start every buyer whose time has come, while there is room. A
            // worker without room claims nothing: a due buyer is left to a
            // worker that has some.
            while buying.len() < self.in_flight {
                if next.is_none() {
                    next = self.claim(release);
                }
                let Some(due) = next.take_if(|d| d.at <= now) else {
                    break;
                };
                tally.late_starts += u64::from(now - due.at > LATE);
                self.live.started.fetch_add(1, Ordering::Relaxed);
                buying.push(self.buy(due.index, due.at, release));
            }
            let wake = next.as_ref().map(|d| d.at).filter(|at| *at > now);
            tokio::select! {
                Some(b) = buying.next(), if !buying.is_empty() => self.account(&mut tally, b),
                () = tokio::time::sleep_until(wake.unwrap_or(now)), if wake.is_some() => {}
                () = self.cancel.cancelled(), if next.is_some() => next = None,
                else => break,
            }
        }
        tally
    }

    /// The next buyer of the crowd, unless the crowd is done or Ctrl-C came.
    fn claim(&self, release: Instant) -> Option<Due> {
        if self.cancel.is_cancelled() || self.abort.is_cancelled() {
            return None;
        }
        // A worker only panics on a bug, and then the run is lost anyway.
        let (index, offset) = self.cursor.lock().expect("cursor lock").next()?;
        let at = release + offset;
        Some(Due { index, at })
    }

    /// A reply every buyer would meet (see [`blame::fatal`]) is not one
    /// unknown outcome among many: keep the first and stop the run, as the
    /// watchdog does for a dead server.
    fn stop_on_fatal(&self, f: &Failure) {
        if !self.abort.is_cancelled() && blame::fatal(&f.message) {
            let _ = self.fatal.set(f.clone());
            self.abort.cancel();
        }
    }

    /// Attempts until a final outcome; conflicts back off and retry.
    async fn buy(&self, index: usize, intended: Instant, release: Instant) -> Bought {
        let started = Instant::now();
        let buyer = self.crowd.buyer(index);
        // Jitter seeded per buyer: the same seed backs off the same way
        // whichever worker happens to serve the buyer. Built on the first
        // retry only: most buyers never need it.
        let mut rng: Option<ChaCha8Rng> = None;
        let mut b = Bought::new(buyer);
        let mut retries = 0;
        // Unknown outcomes retried so far (`--retry-unknown`).
        let mut unknowns = 0;
        b.outcome = loop {
            let process = self.invoke(buyer, unknowns, release);
            let step = self.attempt(buyer).await;
            self.completed(process, buyer, &step, release);
            b.count(&step, release);
            let (stop, again) = match self.judge(&mut b, step.attempt, &mut unknowns) {
                Ok(next) => next,
                Err(done) => break done,
            };
            let Some(pause) = self.next_pause(again, retries, &mut rng, buyer) else {
                break stop;
            };
            b.rebuys += u64::from(matches!(again, Again::Rebuy(_)));
            // Ctrl-C: a buyer between attempts stops trying.
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.cancel.cancelled() => break stop,
            }
            retries += 1;
        };
        self.finish(b, intended, started, release).await
    }

    /// What the buyer ends with if it does not try again (`Ok`, with how it
    /// would try again), or its final outcome (`Err`).
    fn judge(
        &self,
        b: &mut Bought,
        attempt: Attempt,
        unknowns: &mut u64,
    ) -> std::result::Result<(Outcome, Again), Outcome> {
        // What the buyer ends with if it does not try again, and why
        // it would.
        let next = match attempt {
            Attempt::Purchased => return Err(Outcome::Purchased),
            Attempt::SoldOut => return Err(Outcome::SoldOut),
            // It may have been applied: a buyer stops here, or with
            // --retry-unknown tries again, and buys twice unless the
            // strategy is idempotent.
            Attempt::Error(failure) => {
                b.unknown += 1;
                self.live.errors.fetch_add(1, Ordering::Relaxed);
                let class = failure.class;
                let again = self.retries_unknown(&failure);
                b.failure = Some(failure);
                if !again {
                    return Err(Outcome::Error(class));
                }
                *unknowns += 1;
                (Outcome::Error(class), Again::Backoff)
            }
            // Sold out for now; with --rebuy the buyer comes back once
            // holds may have ended, as long as some are held.
            Attempt::HeldElsewhere => match self.reserve.filter(|p| p.rebuy) {
                Some(plan) => (Outcome::SoldOut, Again::Rebuy(plan)),
                None => return Err(Outcome::SoldOut),
            },
            // Nothing of a lost race was applied: a buyer who stops
            // trying simply gave up.
            Attempt::Conflict => {
                b.conflicts += 1;
                self.live.conflicts.fetch_add(1, Ordering::Relaxed);
                (Outcome::GaveUp, Again::Backoff)
            }
        };
        Ok(next)
    }

    /// Times the buyer's final outcome and, for a hold, lets the holder
    /// settle it.
    async fn finish(
        &self,
        mut b: Bought,
        intended: Instant,
        started: Instant,
        release: Instant,
    ) -> Bought {
        let now = Instant::now();
        // In a reservation run this is the hold's latency: the think time
        // and the confirm are the shopper's, and are measured apart.
        b.latency = now.saturating_duration_since(intended);
        b.service = now.saturating_duration_since(started);
        if let (Outcome::Purchased, Some(plan)) = (b.outcome, &self.reserve) {
            self.settle(&mut b, plan).await;
        }
        b.finished = Instant::now().saturating_duration_since(release);
        b
    }

    /// One attempt, ended at once as an unknown outcome when the server
    /// stops answering.
    async fn attempt(&self, buyer: Buyer) -> Step {
        tokio::select! {
            step = self.strategy.attempt(buyer) => step,
            _ = self.abort.cancelled() => Step {
                attempt: Attempt::Error(Failure {
                    class: ErrorClass::Canceled,
                    message: "stopped: the server stopped answering".into(),
                }),
                round_trips: 0,
                race: None,
            },
        }
    }

    /// Reservations: the holder confirms, cancels or walks away.
    async fn settle(&self, b: &mut Bought, plan: &ReservePlan) {
        // A generator of its own, not the backoff's: the same buyer decides
        // alike under every strategy, however many retries its hold took.
        let mut decide = ChaCha8Rng::seed_from_u64(self.rng_of(b.buyer).next_u64() ^ 0x5EED);
        let s = hold::settle(
            self.strategy.as_ref(),
            b.buyer,
            plan,
            &mut decide,
            &self.cancel,
            &self.abort,
        )
        .await;
        b.outcome = s.outcome();
        b.failure = s.failure().or(b.failure.take());
        b.settled = Some(s);
    }
}
