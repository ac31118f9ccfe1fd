//! How long a shopper pauses: a fixed duration or a range drawn from the
//! buyer's own generator. Think times between retries and before settling a
//! hold both use it, so it lives with the crowd, below the driver and the
//! strategies alike.

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

#[cfg(test)]
mod tests {
    use super::*;

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
