//! The open model's arrival rate, its command-line syntax, and the load
//! shape as the report states it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use super::Arrivals;

/// Arrival rate of the open model: a constant, or a linear ramp that holds
/// its final rate once it is over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Curve {
    Constant {
        per_s: f64,
    },
    Ramp {
        from_per_s: f64,
        to_per_s: f64,
        over_s: f64,
    },
}

impl Curve {
    /// Λ(t): expected arrivals in the first `t` seconds.
    pub fn cumulative(&self, t: f64) -> f64 {
        match *self {
            Curve::Constant { per_s } => per_s * t,
            Curve::Ramp {
                from_per_s: a,
                to_per_s: b,
                over_s: len,
            } => {
                let ramp = t.min(len);
                let within = a * ramp + (b - a) * ramp * ramp / (2.0 * len);
                within + b * (t - len).max(0.0)
            }
        }
    }

    /// Λ⁻¹(s): the time at which `s` arrivals are expected.
    pub fn inverse(&self, s: f64) -> f64 {
        match *self {
            Curve::Constant { per_s } => s / per_s,
            Curve::Ramp {
                from_per_s: a,
                to_per_s: b,
                over_s: len,
            } => {
                let at_end = self.cumulative(len);
                if s > at_end {
                    return len + (s - at_end) / b;
                }
                // Root of a·t + (b−a)·t²/2len = s, written 2s / (a + √…) so it
                // stays exact when a ≈ b and has no 0/0 when a = 0.
                let disc = (a * a + 2.0 * (b - a) * s / len).max(0.0);
                let denom = a + disc.sqrt();
                if denom <= 0.0 {
                    0.0
                } else {
                    2.0 * s / denom
                }
            }
        }
    }

    /// Checked construction: a curve must keep arriving forever (its rate
    /// after the ramp is above zero), or the schedule could never end.
    pub fn check(&self) -> Result<(), String> {
        let finite = |x: f64| x.is_finite() && x >= 0.0;
        match *self {
            Curve::Constant { per_s } if finite(per_s) && per_s > 0.0 => Ok(()),
            Curve::Constant { .. } => Err("the rate must be more than 0/s".into()),
            Curve::Ramp {
                from_per_s,
                to_per_s,
                over_s,
            } => {
                if !finite(from_per_s) || !finite(to_per_s) || to_per_s <= 0.0 {
                    Err("a ramp must end above 0/s, e.g. 0..20000/s:10s".into())
                } else if !(over_s.is_finite() && over_s > 0.0) {
                    Err("a ramp must last more than 0s, e.g. 0..20000/s:10s".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Curve::Constant { per_s } => write!(f, "{per_s}/s"),
            Curve::Ramp {
                from_per_s,
                to_per_s,
                over_s,
            } => write!(f, "{from_per_s}..{to_per_s}/s over {over_s}s"),
        }
    }
}

/// `5000/s` or `5000` (per second; fractions allowed: `0.5/s`).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let bad = || format!("expected a rate like 5000/s, got '{s}'");
    let n = s.trim();
    let n = n.strip_suffix("/s").unwrap_or(n).trim();
    let rate: f64 = n.parse().map_err(|_| bad())?;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!("the rate must be more than 0/s, got '{s}'"));
    }
    Ok(rate)
}

/// `FROM..TO/s:OVER`, e.g. `0..20000/s:10s`: the rate climbs linearly from
/// FROM to TO over OVER, then holds TO.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RampSpec(pub Curve);

impl FromStr for RampSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected a ramp like 0..20000/s:10s (FROM..TO/s:OVER), got '{s}'");
        let (rates, over) = s.trim().rsplit_once(':').ok_or_else(bad)?;
        let rates = rates.replace("/s", "");
        let (from, to) = rates.split_once("..").ok_or_else(bad)?;
        let num = |x: &str| x.trim().parse::<f64>().map_err(|_| bad());
        let over = humantime::parse_duration(over.trim()).map_err(|_| bad())?;
        let curve = Curve::Ramp {
            from_per_s: num(from)?,
            to_per_s: num(to)?,
            over_s: over.as_secs_f64(),
        };
        curve.check()?;
        Ok(RampSpec(curve))
    }
}

/// The load shape a run used, as the report states it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoadShape {
    /// `burst` (closed) or `open`.
    pub model: &'static str,
    pub arrivals: Option<Arrivals>,
    pub curve: Option<Curve>,
    /// `--duration`, when the crowd is whoever arrives within it.
    pub duration_s: Option<f64>,
}

impl LoadShape {
    pub const BURST: LoadShape = LoadShape {
        model: "burst",
        arrivals: None,
        curve: None,
        duration_s: None,
    };

    pub fn open(curve: Curve, arrivals: Arrivals, duration: Option<Duration>) -> LoadShape {
        LoadShape {
            model: "open",
            arrivals: Some(arrivals),
            curve: Some(curve),
            duration_s: duration.map(|d| d.as_secs_f64()),
        }
    }

    pub fn is_open(&self) -> bool {
        self.curve.is_some()
    }
}

impl fmt::Display for LoadShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Some(curve), Some(arrivals)) = (self.curve, self.arrivals) else {
            return f.write_str("closed burst, every buyer released at once");
        };
        let spacing = match arrivals {
            Arrivals::Constant => "evenly spaced",
            Arrivals::Poisson => "poisson",
        };
        write!(f, "open, {spacing} arrivals at {curve}")?;
        if let Some(d) = self.duration_s {
            write!(f, " for {d}s")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(s: &str) -> Curve {
        s.parse::<RampSpec>().unwrap().0
    }

    #[test]
    fn a_ramp_climbs_then_holds() {
        let c = ramp("0..1000/s:10s");
        // Λ(10s) = 10 s × 500/s on average = 5000 arrivals during the ramp.
        assert!((c.cumulative(10.0) - 5000.0).abs() < 1e-6);
        assert!((c.cumulative(12.0) - 7000.0).abs() < 1e-6);
        for s in [0.0, 1.0, 10.0, 2500.0, 4999.0, 5000.0, 6000.0] {
            assert!((c.cumulative(c.inverse(s)) - s).abs() < 1e-6, "{s}");
        }
        // A flat ramp is a constant rate.
        let flat = ramp("200..200/s:1s");
        assert!((flat.inverse(300.0) - 1.5).abs() < 1e-9);
    }

    #[test]
    fn rate_and_ramp_syntax() {
        assert_eq!(parse_rate("5000/s"), Ok(5000.0));
        assert_eq!(parse_rate(" 0.5 "), Ok(0.5));
        for bad in ["0/s", "-3/s", "fast", "5000/m", "", "inf"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ramp("0..20000/s:10s"),
            Curve::Ramp {
                from_per_s: 0.0,
                to_per_s: 20000.0,
                over_s: 10.0
            }
        );
        assert_eq!(
            ramp("100/s..50/s:500ms"),
            Curve::Ramp {
                from_per_s: 100.0,
                to_per_s: 50.0,
                over_s: 0.5
            }
        );
        for bad in [
            "0..20000/s",
            "20000/s:10s",
            "10..0/s:1s",
            "0..10/s:0s",
            "a..b/s:1s",
            "0..1/s:x",
        ] {
            assert!(bad.parse::<RampSpec>().is_err(), "{bad}");
        }
    }
}
