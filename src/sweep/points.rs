//! The swept parameter and its values: a list (`100,1000,10000`) or a log
//! range (`100..20000:8`, 8 points spaced evenly on a log scale, rounded
//! to two significant digits and deduplicated; the ends stay as given).

use serde::Serialize;

use crate::schedule::parse_rate;

/// Most points one sweep runs: each is a full run of every strategy.
pub const MAX_POINTS: usize = 100;

/// The run flags a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Param {
    Buyers,
    Stock,
    Connections,
    Rate,
    Skew,
    Products,
}

impl Param {
    pub const ALL: [Param; 6] = [
        Param::Buyers,
        Param::Stock,
        Param::Connections,
        Param::Rate,
        Param::Skew,
        Param::Products,
    ];

    /// The name of the flag and of the clap argument.
    pub fn name(self) -> &'static str {
        match self {
            Param::Buyers => "buyers",
            Param::Stock => "stock",
            Param::Connections => "connections",
            Param::Rate => "rate",
            Param::Skew => "skew",
            Param::Products => "products",
        }
    }

    pub fn flag(self) -> String {
        format!("--{}", self.name())
    }

    /// Counts take whole values; rates and the skew exponent do not.
    pub fn whole(self) -> bool {
        !matches!(self, Param::Rate | Param::Skew)
    }

    /// A value as the flag would take it: `2100`, `500/s`, `0.5`.
    pub fn show(self, v: f64) -> String {
        match self {
            Param::Rate => format!("{v}/s"),
            _ => format!("{v}"),
        }
    }

    /// One value as the flag takes it, checked as the run flag checks it.
    fn value(self, s: &str) -> Result<f64, String> {
        let v = match self {
            Param::Buyers | Param::Connections | Param::Products => count(s, 1)? as f64,
            Param::Stock => count(s, 0)? as f64,
            Param::Rate => parse_rate(s)?,
            Param::Skew => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => v,
                _ => return Err(format!("must be a number of 0 or more, got '{s}'")),
            },
        };
        Ok(v)
    }

    /// Parse `LIST` or `FROM..TO:POINTS` for this parameter.
    pub fn parse(self, s: &str) -> Result<Values, String> {
        let text = s.trim();
        if text.contains("..") {
            return self.range(text);
        }
        if text.contains('=') && self == Param::Stock {
            return Err(format!(
                "a sweep takes units of stock ({text}): a NAME=UNITS list is not swept; \
                 use --products N with one --stock"
            ));
        }
        let mut points = Vec::new();
        for item in text.split(',') {
            let v = self.value(item)?;
            if !points.contains(&v) {
                points.push(v);
            }
        }
        check_count(points.len())?;
        Ok(Values { points, log: false })
    }

    /// `FROM..TO:POINTS`, log-spaced.
    fn range(self, text: &str) -> Result<Values, String> {
        let bad = || format!("expected FROM..TO:POINTS like 100..20000:8, got '{text}'");
        let (ends, n) = text.rsplit_once(':').ok_or_else(bad)?;
        let (from, to) = ends.split_once("..").ok_or_else(bad)?;
        let (from, to) = (self.value(from)?, self.value(to)?);
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n < 2 {
            return Err(format!("a range needs at least 2 points, got '{text}'"));
        }
        check_count(n)?;
        if from <= 0.0 || to <= from {
            return Err(format!(
                "a log range needs 0 < FROM < TO, got '{text}' (give a list to include 0)"
            ));
        }
        Ok(Values {
            points: log_spaced(from, to, n, self.whole()),
            log: true,
        })
    }
}

/// A whole number of at least `min`, as the run flags take it.
fn count(s: &str, min: u64) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!(
            "must be a whole number of at least {min}, got '{s}'"
        )),
    }
}

fn check_count(n: usize) -> Result<(), String> {
    if n > MAX_POINTS {
        return Err(format!("at most {MAX_POINTS} points, got {n}"));
    }
    Ok(())
}

/// The values of one sweep flag, in the order they run.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    pub points: Vec<f64>,
    /// Given as a log range: the plots use a log axis.
    pub log: bool,
}

impl Values {
    /// More than one value: this flag is the one swept.
    pub fn swept(&self) -> bool {
        self.points.len() > 1
    }
}

/// `n` values from `from` to `to`, evenly spaced on a log scale, each
/// rounded to two significant digits (whole for counts), duplicates
/// dropped. The ends are kept exactly as given.
pub fn log_spaced(from: f64, to: f64, n: usize, whole: bool) -> Vec<f64> {
    let ratio = (to / from).ln();
    let mut out: Vec<f64> = Vec::with_capacity(n);
    for i in 0..n {
        let v = if i == 0 {
            from
        } else if i == n - 1 {
            to
        } else {
            round2(from * (ratio * i as f64 / (n - 1) as f64).exp())
        };
        let v = if whole { v.round().max(1.0) } else { v };
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Two significant digits: 2083 → 2100, 456.5 → 460, 0.213 → 0.21.
fn round2(v: f64) -> f64 {
    if v <= 0.0 {
        return v;
    }
    let scale = 10f64.powf(v.log10().floor() - 1.0);
    (v / scale).round() * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_range_is_rounded_and_keeps_its_ends() {
        let v = Param::Buyers.parse("100..20000:8").unwrap();
        assert!(v.log);
        assert_eq!(
            v.points,
            vec![100.0, 210.0, 460.0, 980.0, 2100.0, 4500.0, 9500.0, 20000.0]
        );
    }

    #[test]
    fn duplicates_are_dropped() {
        let v = Param::Connections.parse("1..4:8").unwrap();
        assert_eq!(v.points, vec![1.0, 2.0, 3.0, 4.0]);
        let v = Param::Buyers.parse("5,5,7").unwrap();
        assert_eq!(v.points, vec![5.0, 7.0]);
        assert!(!Param::Buyers.parse("5").unwrap().swept());
    }

    #[test]
    fn values_are_checked_as_the_run_flag_checks_them() {
        assert!(Param::Buyers.parse("0,10").is_err());
        assert!(Param::Stock.parse("0,10").is_ok());
        assert!(Param::Stock.parse("0..10:3").is_err());
        assert!(Param::Rate.parse("100/s..1000/s:3").unwrap().log);
        assert!(Param::Skew.parse("0,0.5,1.5").is_ok());
        assert!(Param::Buyers.parse("10..5:3").is_err());
        assert!(Param::Buyers.parse("10..50:1").is_err());
        assert!(Param::Stock.parse("a=1,b=2").is_err());
    }
}
