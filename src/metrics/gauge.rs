//! A latency distribution the live view can read while buyers still write
//! it: one atomic counter per bucket, so recording takes no lock and reading
//! needs no merge. Coarser than the HDR histograms the report is built from
//! (about 12% per bucket), which is why the view labels its p99 approximate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two: 8 keeps a bucket within 12.5% of its value.
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Microseconds up to 2^40 (12 days): far past any timeout.
const EXPONENTS: usize = 41;

#[derive(Debug)]
pub struct LatencyGauge {
    buckets: Vec<AtomicU64>,
}

impl Default for LatencyGauge {
    fn default() -> Self {
        LatencyGauge {
            buckets: (0..EXPONENTS * SUB).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// The bucket of `us` microseconds: values below `SUB` each have their own;
/// above, the exponent and the next `SUB_BITS` bits choose it.
fn bucket(us: u64) -> usize {
    if us < SUB as u64 {
        return us as usize;
    }
    let exp = 63 - us.leading_zeros();
    let sub = (us >> (exp - SUB_BITS)) as usize & (SUB - 1);
    let i = (exp - SUB_BITS + 1) as usize * SUB + sub;
    i.min(EXPONENTS * SUB - 1)
}

/// The largest value in bucket `i`: a quantile read from it is never
/// under-stated.
fn upper(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let exp = (i / SUB) as u32 - 1 + SUB_BITS;
    let sub = (i % SUB) as u64;
    let low = (1u64 << exp) | (sub << (exp - SUB_BITS));
    low + (1u64 << (exp - SUB_BITS)) - 1
}

impl LatencyGauge {
    pub fn record(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket(us)].fetch_add(1, Ordering::Relaxed);
    }

    /// The `q` quantile (0..=1) of what was recorded so far, rounded up to
    /// its bucket's top; `None` before the first value.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        let i = counts
            .iter()
            .position(|c| {
                seen += c;
                seen >= rank
            })
            .unwrap_or(counts.len() - 1);
        Some(Duration::from_micros(upper(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_a_bucket_that_holds_it() {
        for us in (0..5_000u64).chain([1 << 20, 123_456_789]) {
            let i = bucket(us);
            assert!(upper(i) >= us, "{us} above its bucket's top {}", upper(i));
            if i > 0 {
                assert!(upper(i - 1) < us, "{us} belongs to an earlier bucket");
            }
        }
    }

    #[test]
    fn the_p99_is_within_a_bucket_of_the_true_one() {
        let g = LatencyGauge::default();
        assert_eq!(g.quantile(0.99), None);
        for ms in 1..=1000u64 {
            g.record(Duration::from_millis(ms));
        }
        let p99 = g.quantile(0.99).unwrap().as_micros() as f64;
        assert!((990_000.0..=990_000.0 * 1.125).contains(&p99), "{p99}");
    }
}
