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
///
/// Only the recipe is kept, never the offsets: the driver walks them with
/// [`Schedule::offsets`] as it releases buyers, so a ten-minute soak costs
/// no more memory than a ten-second run.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    buyers: usize,
    /// `None` for a burst: every offset is zero.
    open: Option<Open>,
    /// Intended start of the last buyer.
    span: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Open {
    curve: Curve,
    arrivals: Arrivals,
    seed: u64,
}

impl Schedule {
    pub fn burst(buyers: u32) -> Schedule {
        Schedule {
            buyers: buyers as usize,
            open: None,
            span: Duration::ZERO,
        }
    }

    /// The open-model schedule. Fails when it would hold more than `max`
    /// buyers (more than one run drives), before walking them.
    pub fn open(
        curve: Curve,
        arrivals: Arrivals,
        extent: Extent,
        seed: u64,
        max: u64,
    ) -> Result<Schedule, String> {
        curve.check()?;
        let open = Open {
            curve,
            arrivals,
            seed,
        };
        let (limit, until) = match extent {
            Extent::Buyers(n) => (u64::from(n), None),
            Extent::Within(d) => {
                let expected = curve.cumulative(d.as_secs_f64());
                if expected > max as f64 * 1.05 {
                    return Err(too_many(expected, max));
                }
                (max + 1, Some(d))
            }
        };
        // One walk to count the arrivals and find the last; nothing is kept.
        let mut walk = Offsets::new(open, limit as usize);
        let (mut buyers, mut span) = (0_u64, Duration::ZERO);
        for t in walk.by_ref() {
            if until.is_some_and(|d| t >= d) {
                break;
            }
            if buyers >= max {
                let until_s = until.map_or(f64::INFINITY, |d| d.as_secs_f64());
                return Err(too_many(curve.cumulative(until_s), max));
            }
            (buyers, span) = (buyers + 1, t);
        }
        Ok(Schedule {
            buyers: buyers as usize,
            open: Some(open),
            span,
        })
    }

    pub fn len(&self) -> usize {
        self.buyers
    }

    pub fn is_empty(&self) -> bool {
        self.buyers == 0
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Every buyer's intended start after the release, in buyer order,
    /// computed as it is asked for.
    pub fn offsets(&self) -> Offsets {
        match self.open {
            Some(open) => Offsets::new(open, self.buyers),
            None => Offsets {
                open: None,
                rng: ChaCha8Rng::seed_from_u64(0),
                k: 0,
                s: 0.0,
                left: self.buyers,
            },
        }
    }

    /// Intended start of the last buyer.
    pub fn span(&self) -> Duration {
        self.span
    }
}

/// The offsets of a schedule, one buyer after the other.
#[derive(Debug, Clone)]
pub struct Offsets {
    open: Option<Open>,
    rng: ChaCha8Rng,
    /// The next arrival's number, and where the last one fell on the
    /// unit-rate axis Λ.
    k: u64,
    s: f64,
    left: usize,
}

impl Offsets {
    fn new(open: Open, left: usize) -> Offsets {
        Offsets {
            open: Some(open),
            // Its own stream: the crowd's quantities come from the same seed.
            rng: ChaCha8Rng::seed_from_u64(open.seed ^ 0x5CED_u64.rotate_left(40)),
            k: 0,
            s: 0.0,
            left,
        }
    }
}

impl Iterator for Offsets {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.left = self.left.checked_sub(1)?;
        let Some(open) = self.open else {
            return Some(Duration::ZERO);
        };
        self.s = match open.arrivals {
            Arrivals::Constant => self.k as f64,
            // −ln(1−U) for U in [0, 1): a unit-rate exponential gap.
            Arrivals::Poisson => self.s - (1.0 - self.rng.gen::<f64>()).ln(),
        };
        self.k += 1;
        let t = open.curve.inverse(self.s);
        Some(Duration::from_nanos((t * 1e9).round() as u64))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

fn too_many(expected: f64, max: u64) -> String {
    format!("that schedule makes about {expected:.0} arrivals, more than one run drives (at most {max})")
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
        let o: Vec<Duration> = s.offsets().collect();
        assert_eq!(o.len(), 2000);
        assert_eq!(o[0], Duration::ZERO);
        assert_eq!(o[1], Duration::from_millis(1));
        assert_eq!(o[1999], Duration::from_millis(1999));
        assert_eq!(s.span(), o[1999]);
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
            let o: Vec<Duration> = s.offsets().collect();
            assert!(o.windows(2).all(|w| w[0] <= w[1]));
            assert_eq!((o.len(), o.last().copied()), (s.len(), Some(s.span())));
        }
        let a = open(c, Arrivals::Poisson, two_s, 9);
        let walk = |s: Schedule| s.offsets().collect::<Vec<_>>();
        assert_eq!(walk(a.clone()), walk(open(c, Arrivals::Poisson, two_s, 9)));
        assert_ne!(walk(a), walk(open(c, Arrivals::Poisson, two_s, 10)));
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
            s.offsets().filter(|t| window.contains(t)).count()
        };
        assert_eq!(within(0, 1), 50);
        assert_eq!(within(11, 12), 1000);
    }

    #[test]
    fn a_burst_starts_everyone_at_the_release() {
        let b = Schedule::burst(3);
        assert!(!b.is_open());
        assert_eq!(
            (b.len(), b.span(), b.offsets().collect::<Vec<_>>()),
            (3, Duration::ZERO, vec![Duration::ZERO; 3])
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
