//! What a buyer does between two attempts: exponential backoff with full
//! jitter, plus an optional think time.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::bought::Again;
use super::Worker;
use crate::crowd::{Buyer, DurationRange};

/// Exponential backoff with full jitter: before retry `n` (0-based) sleep a
/// uniform random time in `[0, min(cap, base * 2^n)]`, plus a think time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub cap: Duration,
    /// A shopper's own pause before deciding to try again (reading the
    /// "try again" message, clicking): added to the backoff.
    pub think: DurationRange,
    /// `--retry-unknown`: an attempt whose outcome is unknown is tried
    /// again too, as a real checkout retries after a dropped connection.
    pub unknown: bool,
}

impl RetryPolicy {
    /// The backoff alone, without think time.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << retry.min(30))
            .min(self.cap);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.gen_range(0..=nanos))
    }

    /// Everything a buyer waits before retry `retry`.
    pub fn pause(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        self.delay(retry, rng) + self.think.draw(rng)
    }
}

/// The worker's half of the retry path: when to try again, with a generator
/// of the buyer's own.
impl Worker {
    /// The one retry path of lost races and rebuys: None when the retries
    /// are used up or Ctrl-C came, else how long to wait first.
    pub(super) fn next_pause(
        &self,
        again: Again,
        retries: u32,
        rng: &mut Option<ChaCha8Rng>,
        buyer: Buyer,
    ) -> Option<Duration> {
        if retries >= self.retry.max_retries || self.cancel.is_cancelled() {
            return None;
        }
        let rng = rng.get_or_insert_with(|| self.rng_of(buyer));
        Some(match again {
            Again::Backoff => self.retry.pause(retries, rng),
            Again::Rebuy(plan) => plan.rebuy_pause(rng),
        })
    }

    /// The buyer's own generator: the same seed backs off and decides the
    /// same way whichever worker happens to serve the buyer.
    pub(super) fn rng_of(&self, buyer: Buyer) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(
            self.seed ^ u64::from(buyer.id).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn backoff_is_full_jitter_under_a_growing_capped_ceiling() {
        let p = RetryPolicy {
            max_retries: 10,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(8),
            think: DurationRange::ZERO,
            unknown: false,
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

    #[test]
    fn think_time_is_added_to_the_backoff() {
        let think: DurationRange = "10ms..20ms".parse().unwrap();
        let p = RetryPolicy {
            max_retries: 1,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
            think,
            unknown: false,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..200 {
            let d = p.pause(0, &mut rng);
            assert!(
                d >= Duration::from_millis(10) && d <= Duration::from_millis(21),
                "{d:?}"
            );
        }
    }
}
