//! What a buyer does between two attempts: exponential backoff with full
//! jitter, plus an optional think time.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;
use serde::ser::SerializeStruct;
use serde::Serialize;

/// A fixed duration or an inclusive range drawn uniformly: `5ms`, `1ms..20ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
}

impl DurationRange {
    pub const ZERO: DurationRange = DurationRange {
        min: Duration::ZERO,
        max: Duration::ZERO,
    };

    pub fn is_zero(&self) -> bool {
        self.max.is_zero()
    }

    pub fn draw(&self, rng: &mut impl Rng) -> Duration {
        if self.min == self.max {
            return self.min;
        }
        let lo = u64::try_from(self.min.as_nanos()).unwrap_or(u64::MAX);
        let hi = u64::try_from(self.max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.gen_range(lo..=hi))
    }
}

/// As `{ "min_s": …, "max_s": … }`: seconds, like every duration in the report.
impl Serialize for DurationRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("DurationRange", 2)?;
        st.serialize_field("min_s", &self.min.as_secs_f64())?;
        st.serialize_field("max_s", &self.max.as_secs_f64())?;
        st.end()
    }
}

impl fmt::Display for DurationRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |d: Duration| humantime::format_duration(d).to_string();
        if self.min == self.max {
            f.write_str(&show(self.min))
        } else {
            write!(f, "{}..{}", show(self.min), show(self.max))
        }
    }
}

impl FromStr for DurationRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |part: &str| {
            humantime::parse_duration(part.trim())
                .map_err(|e| format!("{e} in '{s}' (examples: 5ms, 1ms..20ms)"))
        };
        let (min, max) = match s.split_once("..") {
            Some((lo, hi)) => (parse(lo)?, parse(hi)?),
            None => {
                let d = parse(s)?;
                (d, d)
            }
        };
        if min > max {
            return Err(format!(
                "range '{s}' is empty: the first duration must not exceed the second"
            ));
        }
        Ok(DurationRange { min, max })
    }
}

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

    #[test]
    fn duration_range_syntax() {
        let fixed: DurationRange = "5ms".parse().unwrap();
        assert_eq!(
            (fixed.min, fixed.max),
            (Duration::from_millis(5), Duration::from_millis(5))
        );
        let r: DurationRange = "1ms..1s".parse().unwrap();
        assert_eq!(
            (r.min, r.max),
            (Duration::from_millis(1), Duration::from_secs(1))
        );
        assert_eq!(r.to_string(), "1ms..1s");
        for bad in ["", "fast", "5ms..1ms", "1ms..", "-1ms"] {
            assert!(bad.parse::<DurationRange>().is_err(), "{bad}");
        }
    }
}
