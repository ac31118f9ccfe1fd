//! The load shape: a burst, or the open model with its rate or ramp,
//! arrivals, crowd extent and think time, from `[load]` and the flags alike.

use std::str::FromStr;
use std::time::Duration;

use clap::ValueEnum;

use super::layer::from_file as parse_key;
use super::settings::{Named, Settings};
use super::MAX_BUYERS;
use crate::cli;
use crate::error::{Error, Result};
use crate::load::DurationRange;
use crate::scenario::{LoadModel, Scenario};
use crate::schedule::{parse_rate, Arrivals, Curve, Extent, LoadShape, RampSpec, Schedule};

/// The file's `[load]` table.
pub(super) fn from_file(s: &mut Settings, f: &Scenario) -> Result<()> {
    let Some(t) = &f.load else { return Ok(()) };
    let named = |key: &str| f.at(&format!("load.{key}"));
    let parse = |key: &str, raw: &Option<String>, p: fn(&str) -> Result<Curve, String>| {
        parse_key(f, &format!("load.{key}"), raw.as_deref(), p)
    };
    let rate = parse("rate", &t.rate, |v| {
        parse_rate(v).map(|per_s| Curve::Constant { per_s })
    })?;
    let ramp = parse("ramp", &t.ramp, |v| RampSpec::from_str(v).map(|r| r.0))?;
    s.curve = match (rate, ramp) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(format!(
                "{}: give load.rate or load.ramp, not both",
                named("ramp")
            )))
        }
        (Some(c), None) => Some(Named {
            value: c,
            name: named("rate"),
        }),
        (None, Some(c)) => Some(Named {
            value: c,
            name: named("ramp"),
        }),
        (None, None) => None,
    };
    if t.model == Some(LoadModel::Burst) {
        if let Some(c) = &s.curve {
            return Err(Error::usage(format!(
                "{}: model = \"burst\" releases everyone at once; a rate or ramp needs model = \"open\"",
                c.name
            )));
        }
    }
    let arrivals = parse_key(f, "load.arrivals", t.arrivals.as_deref(), |v| {
        Arrivals::from_str(v.trim(), true).map_err(|_| "expected poisson or constant".into())
    })?;
    s.arrivals = arrivals.map(|value| Named {
        value,
        name: named("arrivals"),
    });
    let duration = parse_key(f, "load.duration", t.duration.as_deref(), cli::duration)?;
    if duration.is_some() && s.buyers_given.is_some() {
        return Err(Error::usage(format!(
            "{}: `buyers` and load.duration both size the crowd; give one",
            named("duration")
        )));
    }
    s.duration = duration.map(|value| Named {
        value,
        name: named("duration"),
    });
    let think = parse_key(f, "load.think", t.think.as_deref(), DurationRange::from_str)?;
    s.think = think.unwrap_or(s.think);
    Ok(())
}

/// `--rate`/`--ramp`, `--arrivals` and `--think`, over the file. A rate or
/// ramp on the command line replaces the file's, whichever it was.
pub(super) fn from_flags(
    s: &mut Settings,
    rate: Option<f64>,
    ramp: Option<Curve>,
    arrivals: Option<Arrivals>,
    think: Option<DurationRange>,
) {
    let curve = match (rate, ramp) {
        (Some(per_s), _) => Some((Curve::Constant { per_s }, "--rate")),
        (None, Some(c)) => Some((c, "--ramp")),
        (None, None) => None,
    };
    if let Some((value, flag)) = curve {
        s.curve = Some(Named {
            value,
            name: flag.into(),
        });
    }
    if let Some(value) = arrivals {
        s.arrivals = Some(Named {
            value,
            name: "--arrivals".into(),
        });
    }
    s.think = think.unwrap_or(s.think);
}

/// `[load] model = "open"` with no rate or ramp from the file or the flags.
pub(super) fn check_model(s: &Settings, f: Option<&Scenario>) -> Result<()> {
    let Some(f) = f else { return Ok(()) };
    let open = f.load.as_ref().and_then(|t| t.model) == Some(LoadModel::Open);
    if open && s.curve.is_none() {
        return Err(Error::usage(format!(
            "{}: model = \"open\" needs load.rate (e.g. \"5000/s\") or load.ramp (e.g. \"0..20000/s:10s\")",
            f.at("load.model")
        )));
    }
    Ok(())
}

/// The load shape and the seeded schedule it makes.
pub(super) fn schedule(v: &Settings, seed: u64) -> Result<(Schedule, LoadShape)> {
    let Some(curve) = &v.curve else {
        let open_only = [
            v.arrivals.as_ref().map(|a| &a.name),
            v.duration.as_ref().map(|d| &d.name),
        ];
        if let Some(name) = open_only.into_iter().flatten().next() {
            return Err(Error::usage(format!(
                "{name} shapes the open model: add --rate N/s or --ramp FROM..TO/s:OVER \
                 (load.rate or load.ramp in a scenario)"
            )));
        }
        return Ok((Schedule::burst(v.buyers as u32), LoadShape::BURST));
    };
    let arrivals = v.arrivals.as_ref().map_or(Arrivals::Poisson, |a| a.value);
    // A ramp alone describes its crowd: whoever arrives while it climbs.
    let duration = match (curve.value, v.buyers_given, &v.duration) {
        (Curve::Ramp { over_s, .. }, None, None) => Some(Duration::from_secs_f64(over_s)),
        (_, _, d) => d.as_ref().map(|d| d.value),
    };
    let extent = match duration {
        Some(d) => Extent::Within(d),
        None => Extent::Buyers(v.buyers as u32),
    };
    let schedule = Schedule::open(curve.value, arrivals, extent, seed, MAX_BUYERS)
        .map_err(|e| Error::usage(format!("{}: {e}", curve.name)))?;
    Ok((schedule, LoadShape::open(curve.value, arrivals, duration)))
}
