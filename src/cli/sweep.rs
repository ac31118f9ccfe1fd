//! The `sweep` subcommand's flags: every flag of `run`, with the six a
//! sweep can vary taking a list or a log range instead of one value.
//!
//! Written out rather than derived because clap's derive cannot give a
//! flattened flag another type: `run`'s flags are added as they are, the
//! six are re-typed with `mut_arg`, and their values are taken out of the
//! matches before `RunArgs` reads the rest. Values are parsed here; which
//! one is swept, and every rule, is decided in `config/`.

use clap::{ArgMatches, Args, Command, FromArgMatches};

use super::RunArgs;
use crate::sweep::{Param, Values};

#[derive(Debug, Clone, Default)]
pub struct SweepArgs {
    /// The run flags; the six sweep flags are always `None` in it.
    pub run: RunArgs,
    /// The sweep flags given, each with its values, in `Param::ALL` order.
    pub given: Vec<(Param, Values)>,
}

const AFTER: &str = "\
Exactly one of --buyers, --stock, --connections, --rate, --skew, --products takes
two or more values: a list (100,1000,10000) or a log range FROM..TO:POINTS
(100..20000:8: 8 points evenly spaced on a log scale, rounded to two significant
digits, duplicates dropped). The others take one value, or none. Every point is a
full run of every strategy on the same seed, audited on the server.
Exit codes: 0 every point held, 1 a correctness expectation failed at some point
(the message names the point and its seed), 2 bad usage, 3 Redis or redis-server
failed, 4 only performance thresholds missed, 130 interrupted.";

fn help(p: Param) -> &'static str {
    match p {
        Param::Buyers => "Buyers in the crowd: N, a list N,N,… or a log range FROM..TO:POINTS",
        Param::Stock => "Units of stock per product: UNITS, a list or a log range FROM..TO:POINTS",
        Param::Connections => "watch connections: N, a list or a log range FROM..TO:POINTS",
        Param::Rate => "Open model arrival rate: N/s, a list or a log range FROM..TO:POINTS",
        Param::Skew => "Zipf exponent of product popularity: S, a list or a log range",
        Param::Products => "Products on sale: N, a list or a log range FROM..TO:POINTS",
    }
}

/// The run's arguments, the six sweep flags re-typed, and the report flags
/// that mean one file for the whole sweep.
fn sweep_args(cmd: Command) -> Command {
    let mut cmd = RunArgs::augment_args(cmd)
        .after_help(AFTER)
        .after_long_help(AFTER);
    for p in Param::ALL {
        cmd = cmd.mut_arg(p.name(), |a| {
            a.value_parser(move |s: &str| p.parse(s))
                .value_name("V|V,V,…|FROM..TO:POINTS")
                .help(help(p))
                .long_help(None)
                .help_heading("Swept (one of them takes several values)")
        });
    }
    let reports = [
        (
            "json",
            "Write the sweep as JSON (schemas/sweep-v1.schema.json); - for stdout",
        ),
        (
            "csv",
            "Write one CSV row per point and strategy (columns in the README)",
        ),
        (
            "html",
            "Write one self-contained HTML page with the curves (loads nothing)",
        ),
    ];
    for (id, text) in reports {
        cmd = cmd.mut_arg(id, |a| a.help(text).long_help(None));
    }
    // One report per run: a sweep has no single run to write them for.
    for id in [
        "junit",
        "markdown",
        "hdr",
        "repeat",
        "baseline",
        "max_regression",
    ] {
        cmd = cmd.mut_arg(id, |a| a.hide(true));
    }
    cmd
}

impl Args for SweepArgs {
    fn augment_args(cmd: Command) -> Command {
        sweep_args(cmd)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        sweep_args(cmd)
    }
}

impl FromArgMatches for SweepArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut m.clone())
    }

    fn from_arg_matches_mut(m: &mut ArgMatches) -> Result<Self, clap::Error> {
        // Taken out first: `RunArgs` would read them as single numbers.
        let given = Param::ALL
            .into_iter()
            .filter_map(|p| m.remove_one::<Values>(p.name()).map(|v| (p, v)))
            .collect();
        let run = RunArgs::from_arg_matches_mut(m)?;
        Ok(SweepArgs { run, given })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}
