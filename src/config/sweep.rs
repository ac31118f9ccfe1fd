//! `blackfriday sweep` resolved: which flag is swept, and one checked
//! [`RunConfig`] per point, each built from the run's own flags with the
//! swept value set, through the same resolution as `run`. Every point is
//! resolved before the first runs, so a value no run accepts is exit 2
//! before any Redis work.

use std::io::IsTerminal;

use super::files::outputs;
use super::RunConfig;
use crate::cli::{RunArgs, SweepArgs};
use crate::crowd::StockSpec;
use crate::error::{Error, Result};
use crate::report::export::{Format, Outputs};
use crate::scenario::Scenario;
use crate::sweep::{Param, Values};

/// The sweep, ready to run.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    pub param: Param,
    /// The values came from a log range.
    pub log: bool,
    pub points: Vec<SweepPoint>,
    /// `--json`, `--csv`, `--html`: one file each for the whole sweep.
    pub outputs: Outputs,
    /// `--quiet`: no progress and no line per point.
    pub quiet: bool,
    pub color: bool,
}

#[derive(Debug, Clone)]
pub struct SweepPoint {
    pub value: f64,
    pub config: RunConfig,
}

impl SweepConfig {
    pub fn from_args(a: SweepArgs) -> Result<SweepConfig> {
        let SweepArgs { mut run, given } = a;
        refuse_per_run_reports(&run)?;
        let (param, values) = swept(&given)?;
        let outputs = outputs([
            (Format::Json, run.json.take()),
            (Format::Csv, run.csv.take()),
            (Format::Html, run.html.take()),
        ])?;
        for (p, v) in given.iter().filter(|(p, _)| *p != param) {
            set(&mut run, *p, v.points[0]);
        }
        let scenario = run.scenario.as_deref().map(Scenario::load).transpose()?;
        let mut points = Vec::with_capacity(values.points.len());
        for &value in &values.points {
            let mut args = run.clone();
            set(&mut args, param, value);
            let config = RunConfig::resolve(args, scenario.as_ref()).map_err(|e| match e {
                Error::Usage(m) => Error::usage(format!(
                    "sweep point {} {}: {m}",
                    param.flag(),
                    param.show(value)
                )),
                e => e,
            })?;
            // Every point faces a crowd from the same seed: the first
            // point's, drawn once when neither flag nor file gave one.
            run.seed = Some(config.seed);
            points.push(SweepPoint { value, config });
        }
        let quiet = run.quiet;
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && if outputs.uses_stdout() {
                std::io::stderr().is_terminal()
            } else {
                std::io::stdout().is_terminal()
            };
        Ok(SweepConfig {
            param,
            log: values.log,
            points,
            outputs,
            quiet,
            color,
        })
    }
}

/// The one flag given two or more values.
fn swept(given: &[(Param, Values)]) -> Result<(Param, Values)> {
    let swept: Vec<&(Param, Values)> = given.iter().filter(|(_, v)| v.swept()).collect();
    match swept.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let flags: Vec<String> = Param::ALL.iter().map(|p| p.flag()).collect();
            Err(Error::usage(format!(
                "sweep needs one flag with two or more values, one of {}: e.g. --buyers \
                 100,1000,10000 or --buyers 100..20000:8",
                flags.join(", ")
            )))
        }
        many => {
            let flags: Vec<String> = many.iter().map(|(p, _)| p.flag()).collect();
            Err(Error::usage(format!(
                "sweep varies one flag at a time, but {} each have several values: give the \
                 others one value",
                flags.join(" and ")
            )))
        }
    }
}

/// Reports of a single run: a sweep writes one file for all its points.
fn refuse_per_run_reports(a: &RunArgs) -> Result<()> {
    let refused = [
        ("--junit", a.junit.is_some()),
        ("--markdown", a.markdown.is_some()),
        ("--hdr", a.hdr.is_some()),
        ("--repeat", a.repeat.is_some()),
        ("--baseline", a.baseline.is_some()),
        ("--max-regression", a.max_regression.is_some()),
        ("--details", a.details),
    ];
    match refused.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(Error::usage(format!(
            "{flag} is not available with sweep: it belongs to a single run; sweep writes \
             --json, --csv and --html for all its points"
        ))),
        None => Ok(()),
    }
}

/// Put one value of `p` in the run's flags, as if it had been typed.
fn set(a: &mut RunArgs, p: Param, v: f64) {
    // Whole parameters hold whole values (points.rs rounds them).
    let n = v as u64;
    match p {
        Param::Buyers => a.buyers = Some(n),
        Param::Stock => a.stock = Some(StockSpec::Each(n)),
        Param::Connections => a.connections = Some(n),
        Param::Rate => a.rate = Some(v),
        Param::Skew => a.skew = Some(v),
        Param::Products => a.products = Some(n),
    }
}
