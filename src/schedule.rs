//! When each buyer means to start: the seeded arrival schedule.
//!
//! Pure: no clock, no I/O. The driver turns an offset into a deadline; this
//! module only decides the offsets, so it can be tested exhaustively.
//!
//! Two load shapes:
//! - **burst** (closed): every buyer's intended start is the release instant;
//!   how many run at once is bounded by `--concurrency`.
//! - **open**: buyers arrive on a rate curve whether or not earlier ones have
//!   finished. The curve is a constant rate (`--rate 5000/s`) or a linear ramp
//!   that then holds its final rate (`--ramp 0..20000/s:10s`).
//!
//! Open arrivals are placed by inverting the curve's cumulative intensity
//! Λ(t) = ∫₀ᵗ rate: arrival k lands where Λ(t) reaches `k` (constant spacing)
//! or the k-th point of a unit-rate Poisson process (exponential gaps). The
//! second is the exact time-change construction of a Poisson process with a
//! varying rate, so a ramp needs no thinning or approximation.

mod curve;

pub use curve::{parse_rate, Curve, LoadShape, RampSpec};

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How arrivals are spaced along the curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced: the count in any window is exact.
    Constant,
    /// Independent shoppers: exponential gaps, counts vary like real traffic.
    Poisson,
}

/// How many buyers the open model releases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extent {
    Buyers(u32),
    /// Every arrival before this offset.
    Within(Duration),
}

/// Intended start of every buyer, as an offset from the release instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    buyers: usize,
    /// Nanoseconds after the release, ascending; `None` for a burst (every
    /// offset is zero, and a million zeros are not worth 8 MB).
    offsets_ns: Option<Vec<u64>>,
}

impl Schedule {
    pub fn burst(buyers: u32) -> Schedule {
        Schedule {
            buyers: buyers as usize,
            offsets_ns: None,
        }
    }

    /// The open-model schedule. Fails when it would hold more than `max`
    /// buyers, before allocating them.
    pub fn open(
        curve: Curve,
        arrivals: Arrivals,
        extent: Extent,
        seed: u64,
        max: u64,
    ) -> Result<Schedule, String> {
        curve.check()?;
        let (limit, until_s) = match extent {
            Extent::Buyers(n) => (u64::from(n), f64::INFINITY),
            Extent::Within(d) => {
                let expected = curve.cumulative(d.as_secs_f64());
                if expected > max as f64 * 1.05 {
                    return Err(too_many(expected, max));
                }
                (max + 1, d.as_secs_f64())
            }
        };
        // Its own stream: the crowd's quantities come from the same seed.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5CED_u64.rotate_left(40));
        let mut offsets = Vec::new();
        let mut s = 0.0_f64;
        for k in 0..limit {
            s = match arrivals {
                Arrivals::Constant => k as f64,
                // −ln(1−U) for U in [0, 1): a unit-rate exponential gap.
                Arrivals::Poisson => s - (1.0 - rng.gen::<f64>()).ln(),
            };
            let t = curve.inverse(s);
            if t >= until_s {
                break;
            }
            if offsets.len() as u64 >= max {
                return Err(too_many(curve.cumulative(until_s), max));
            }
            offsets.push((t * 1e9).round() as u64);
        }
        Ok(Schedule {
            buyers: offsets.len(),
            offsets_ns: Some(offsets),
        })
    }

    pub fn len(&self) -> usize {
        self.buyers
    }

    pub fn is_empty(&self) -> bool {
        self.buyers == 0
    }

    pub fn is_open(&self) -> bool {
        self.offsets_ns.is_some()
    }

    /// Intended start of buyer `i` after the release.
    pub fn offset(&self, i: usize) -> Duration {
        match &self.offsets_ns {
            Some(o) => Duration::from_nanos(o[i]),
            None => Duration::ZERO,
        }
    }

    /// Intended start of the last buyer.
    pub fn span(&self) -> Duration {
        match self.buyers {
            0 => Duration::ZERO,
            n => self.offset(n - 1),
        }
    }
}

fn too_many(expected: f64, max: u64) -> String {
    format!("that schedule makes about {expected:.0} arrivals, more than this tool holds in memory (at most {max})")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 10_000_000;

    fn open(curve: Curve, arrivals: Arrivals, extent: Extent, seed: u64) -> Schedule {
        Schedule::open(curve, arrivals, extent, seed, MAX).unwrap()
    }

    #[test]
    fn constant_arrivals_are_exact_and_evenly_spaced() {
        let c = Curve::Constant { per_s: 1000.0 };
        let s = open(
            c,
            Arrivals::Constant,
            Extent::Within(Duration::from_secs(2)),
            1,
        );
        assert_eq!(s.len(), 2000);
        assert_eq!(s.offset(0), Duration::ZERO);
        assert_eq!(s.offset(1), Duration::from_millis(1));
        assert_eq!(s.offset(1999), Duration::from_millis(1999));
        let n = open(c, Arrivals::Constant, Extent::Buyers(7), 1);
        assert_eq!((n.len(), n.span()), (7, Duration::from_millis(6)));
    }

    #[test]
    fn poisson_counts_stay_near_the_rate_and_repeat_with_the_seed() {
        let c = Curve::Constant { per_s: 1000.0 };
        let two_s = Extent::Within(Duration::from_secs(2));
        for seed in 0..50 {
            let s = open(c, Arrivals::Poisson, two_s, seed);
            // Mean 2000, sd ≈ 45: ±400 is nine deviations.
            assert!((1600..=2400).contains(&s.len()), "seed {seed}: {}", s.len());
            assert!(s.span() < Duration::from_secs(2));
            assert!((1..s.len()).all(|i| s.offset(i - 1) <= s.offset(i)));
        }
        let a = open(c, Arrivals::Poisson, two_s, 9);
        assert_eq!(a, open(c, Arrivals::Poisson, two_s, 9));
        assert_ne!(a, open(c, Arrivals::Poisson, two_s, 10));
    }

    #[test]
    fn a_ramp_schedule_is_sparse_first_and_dense_later() {
        let c = "0..1000/s:10s".parse::<RampSpec>().unwrap().0;
        let s = open(
            c,
            Arrivals::Constant,
            Extent::Within(Duration::from_secs(12)),
            1,
        );
        assert_eq!(s.len(), 7000);
        // Λ(1s) = 50: the first second holds 50 arrivals, the last 1000.
        let within = |from: u64, to: u64| {
            let window = Duration::from_secs(from)..Duration::from_secs(to);
            (0..s.len())
                .filter(|&i| window.contains(&s.offset(i)))
                .count()
        };
        assert_eq!(within(0, 1), 50);
        assert_eq!(within(11, 12), 1000);
    }

    #[test]
    fn a_burst_starts_everyone_at_the_release() {
        let b = Schedule::burst(3);
        assert!(!b.is_open());
        assert_eq!(
            (b.len(), b.span(), b.offset(2)),
            (3, Duration::ZERO, Duration::ZERO)
        );
    }

    #[test]
    fn oversized_schedules_are_refused_before_they_are_built() {
        let c = Curve::Constant { per_s: 1e9 };
        let e = Schedule::open(
            c,
            Arrivals::Constant,
            Extent::Within(Duration::from_secs(60)),
            1,
            MAX,
        )
        .unwrap_err();
        assert!(e.contains("at most 10000000"), "{e}");
        let e = Schedule::open(
            c,
            Arrivals::Poisson,
            Extent::Within(Duration::from_millis(11)),
            1,
            MAX,
        )
        .unwrap_err();
        assert!(e.contains("more than"), "{e}");
    }
}
