//! Defaults < scenario file < command-line flags, one setting at a time.
//!
//! The only code that reads `RunArgs`. Values from a file go through the
//! same parsers as the flags, and an error names the file and the key it
//! came from.

use std::str::FromStr;

use super::expect::{expectations, thresholds};
use super::link::{file_link, flag_link};
use super::modes::{self, Given};
use super::settings::{
    Named, ScriptSource, Settings, DEFAULT_RESERVE_STRATEGIES, DEFAULT_STRATEGIES,
};
use super::shape;
use crate::cli::{self, RunArgs};
use crate::crowd::{QtyRange, StockSpec};
use crate::error::{Error, Result};
use crate::fault::{FaultKind, FaultStep, Fsync};
use crate::load::DurationRange;
use crate::scenario::{FaultTable, RateValue, Scenario, StockValue};
use crate::strategy::StrategyKind;

/// Parse a value from the scenario file with the flag's own parser.
pub(super) fn from_file<T>(
    s: &Scenario,
    key: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    raw.map(|v| parse(v).map_err(|e| Error::usage(format!("{}: {e}", s.at(key)))))
        .transpose()
}

fn count(s: &Scenario, key: &str, v: Option<u64>) -> Result<Option<u64>> {
    match v {
        Some(0) => Err(Error::usage(format!("{}: must be at least 1", s.at(key)))),
        v => Ok(v),
    }
}

/// Overwrite `slot` with a value that was given.
fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

pub fn layer(a: &RunArgs, file: Option<&Scenario>) -> Result<Settings> {
    let mut s = Settings::default();
    if let Some(f) = file {
        file_shop(&mut s, f)?;
        file_run(&mut s, f)?;
        shape::from_file(&mut s, f)?;
        s.name = Some(f.name.clone());
    }
    flags(&mut s, a);
    shape::check_model(&s, file)?;
    s.buyers = s.buyers_given.unwrap_or(s.buyers);
    s.expectations = expectations(a, file)?;
    if s.strategies.is_empty() {
        s.strategies = if s.reserve {
            DEFAULT_RESERVE_STRATEGIES.to_vec()
        } else {
            DEFAULT_STRATEGIES.to_vec()
        };
    }
    modes::check(&s, &given(a, file), file, !a.strategies.is_empty())?;
    (s.thresholds, s.regressions) = thresholds(a, file, &s.strategies)?;
    one_work(a, file)?;
    Ok(s)
}

/// `--gap` is app-lock's work when given: with `--app-work` beside it one of
/// the two would be silently ignored.
fn one_work(a: &RunArgs, f: Option<&Scenario>) -> Result<()> {
    if a.gap.is_some() && a.app_work.is_some() {
        return Err(Error::usage(
            "--gap and --app-work both set app-lock's work between read and write: give one",
        ));
    }
    match f {
        Some(f) if f.gap.is_some() && f.app_work.is_some() => Err(Error::usage(format!(
            "{}: gap and app_work both set app-lock's work between read and write: keep one",
            f.at("gap")
        ))),
        _ => Ok(()),
    }
}

/// What is on sale and who buys it, from the file.
fn file_shop(s: &mut Settings, f: &Scenario) -> Result<()> {
    let dur = |key: &str, raw: &Option<String>| from_file(f, key, raw.as_deref(), cli::duration);
    s.buyers_given = count(f, "buyers", f.buyers)?;
    match &f.stock {
        Some(StockValue::Units(n)) => {
            let units = u64::try_from(*n).map_err(|_| {
                Error::usage(format!(
                    "{}: must be 0 or more units, got {n}",
                    f.at("stock")
                ))
            })?;
            s.stock = StockSpec::Each(units);
        }
        Some(StockValue::List(l)) => {
            s.stock = StockSpec::from_str(l)
                .map_err(|e| Error::usage(format!("{}: {e}", f.at("stock"))))?
        }
        None => {}
    }
    s.products = count(f, "products", f.products)?;
    s.cart = from_file(f, "cart", f.cart.as_deref(), QtyRange::from_str)?;
    let skew = f.skew.map(|v| v.to_string());
    s.skew = from_file(f, "skew", skew.as_deref(), cli::non_negative)?;
    set(
        &mut s.qty,
        from_file(f, "qty", f.qty.as_deref(), QtyRange::from_str)?,
    );
    set(&mut s.reserve, f.reserve);
    set(&mut s.hold_ttl, dur("hold_ttl", &f.hold_ttl)?);
    set(
        &mut s.confirm_rate,
        rate(f, "confirm_rate", &f.confirm_rate)?,
    );
    set(&mut s.cancel_rate, rate(f, "cancel_rate", &f.cancel_rate)?);
    let think = f.hold_think.as_deref();
    s.hold_think = from_file(f, "hold_think", think, DurationRange::from_str)?;
    set(&mut s.rebuy, f.rebuy);
    set(&mut s.reapers, count(f, "reapers", f.reapers)?);
    Ok(())
}

/// How the run is driven and what it writes, from the file.
fn file_run(s: &mut Settings, f: &Scenario) -> Result<()> {
    file_strategies(s, f)?;
    let dur = |key: &str, raw: &Option<String>| from_file(f, key, raw.as_deref(), cli::duration);
    s.redis = f.redis.clone();
    s.seed = f.seed;
    s.concurrency = count(f, "concurrency", f.concurrency)?;
    set(&mut s.connections, count(f, "connections", f.connections)?);
    set(&mut s.max_retries, f.max_retries);
    set(&mut s.backoff_base, dur("backoff_base", &f.backoff_base)?);
    set(&mut s.backoff_max, dur("backoff_max", &f.backoff_max)?);
    set(&mut s.timeout, dur("timeout", &f.timeout)?);
    set(&mut s.lock_ttl, dur("lock_ttl", &f.lock_ttl)?);
    set(&mut s.hold_pause, dur("hold_pause", &f.hold_pause)?);
    set(
        &mut s.app_work,
        from_file(
            f,
            "app_work",
            f.app_work.as_deref(),
            DurationRange::from_str,
        )?,
    );
    set(&mut s.app_servers, count(f, "app_servers", f.app_servers)?);
    let gap = from_file(f, "gap", f.gap.as_deref(), DurationRange::from_str)?;
    s.gap = gap.map(|value| Named {
        value,
        name: f.at("gap"),
    });
    s.script = f.script.as_ref().map(|p| match f.shipped_script(p) {
        Some(text) => ScriptSource::Shipped { text },
        None => ScriptSource::File {
            path: f.resolve(p),
            name: f.at("script"),
        },
    });
    set(&mut s.keep, f.keep);
    set(&mut s.quiet, f.quiet);
    set(&mut s.details, f.details);
    let report = f.report.clone().unwrap_or_default();
    (s.json, s.junit, s.markdown) = (report.json, report.junit, report.markdown);
    s.faults = file_faults(f)?;
    s.appendfsync = from_file(f, "appendfsync", f.appendfsync.as_deref(), Fsync::from_str)?;
    set(&mut s.retry_unknown, f.retry_unknown);
    (s.csv, s.hdr, s.html) = (report.csv, report.hdr, report.html);
    file_link(s, f);
    if f.repeat == Some(0) {
        return Err(Error::usage(format!(
            "{}: must be at least 1 (one run)",
            f.at("repeat")
        )));
    }
    set(&mut s.repeat, f.repeat);
    Ok(())
}

/// The file's `strategies`: an empty list tests nothing, so it is refused.
fn file_strategies(s: &mut Settings, f: &Scenario) -> Result<()> {
    if let Some(names) = &f.strategies {
        if names.is_empty() {
            return Err(Error::usage(format!(
                "{}: names no strategy; an empty run tests nothing, so it cannot pass: \
                 name at least one, or leave the key out for the default pair",
                f.at("strategies")
            )));
        }
        let parsed: Result<Vec<_>, _> = names.iter().map(|n| StrategyKind::from_str(n)).collect();
        s.strategies = parsed.map_err(|e| Error::usage(format!("{}: {e}", f.at("strategies"))))?;
    }
    Ok(())
}

/// The file's `[[fault]]` tables; an error names the step by its number.
fn file_faults(f: &Scenario) -> Result<Vec<FaultStep>> {
    let step = |t: &FaultTable| -> Result<FaultStep, String> {
        let kind = FaultKind::parse(&t.kind, t.duration.as_deref())?;
        let at = cli::duration(&t.at).map_err(|e| format!("at = \"{}\": {e}", t.at))?;
        Ok(FaultStep::new(kind, at))
    };
    f.fault
        .iter()
        .enumerate()
        .map(|(i, t)| {
            step(t)
                .map_err(|e| Error::usage(format!("{}: {e}", f.at(&format!("fault[{}]", i + 1)))))
        })
        .collect()
}

/// Every flag given on the command line, over the file.
fn flags(s: &mut Settings, a: &RunArgs) {
    // `--buyers` and `--duration` both size the crowd: given on the command
    // line, either replaces the file's `buyers` and `load.duration` together.
    if a.buyers.is_some() || a.duration.is_some() {
        s.buyers_given = a.buyers;
        s.duration = a.duration.map(|value| Named {
            value,
            name: "--duration".into(),
        });
    }
    flag_shop(s, a);
    if !a.strategies.is_empty() {
        s.strategies = a.strategies.clone();
    }
    s.redis = a.redis.clone().or(s.redis.take());
    s.seed = a.seed.or(s.seed);
    s.concurrency = a.concurrency.or(s.concurrency);
    set(&mut s.connections, a.connections);
    set(&mut s.max_retries, a.max_retries);
    set(&mut s.backoff_base, a.backoff_base);
    set(&mut s.backoff_max, a.backoff_max);
    set(&mut s.timeout, a.timeout);
    set(&mut s.lock_ttl, a.lock_ttl);
    set(&mut s.hold_pause, a.hold_pause);
    set(&mut s.app_work, a.app_work);
    set(&mut s.app_servers, a.app_servers);
    if let Some(value) = a.gap {
        s.gap = Some(Named {
            value,
            name: "--gap".into(),
        });
    }
    if let Some(path) = &a.script {
        let name = format!("--script {}", path.display());
        s.script = Some(ScriptSource::File {
            path: path.clone(),
            name,
        });
    }
    shape::from_flags(s, a.rate, a.ramp.map(|r| r.0), a.arrivals, a.think);
    flag_output(s, a);
    s.expect_flags = a.expect.clone();
    if !a.faults.is_empty() {
        s.faults = a.faults.clone();
    }
    s.appendfsync = a.appendfsync.or(s.appendfsync);
    s.retry_unknown |= a.retry_unknown;
    s.history = a.history.clone();
    flag_link(s, a);
    set(&mut s.repeat, a.repeat);
    s.baseline = a.baseline.clone();
    s.max_regression = a.max_regression;
}

/// The shop's flags: stock, products, carts and reservations.
fn flag_shop(s: &mut Settings, a: &RunArgs) {
    set(&mut s.stock, a.stock.clone());
    s.products = a.products.or(s.products);
    s.cart = a.cart.or(s.cart);
    s.skew = a.skew.or(s.skew);
    s.reserve |= a.reserve;
    set(&mut s.hold_ttl, a.hold_ttl);
    set(&mut s.confirm_rate, a.confirm_rate);
    set(&mut s.cancel_rate, a.cancel_rate);
    s.hold_think = a.hold_think.or(s.hold_think);
    s.rebuy |= a.rebuy;
    set(&mut s.reapers, a.reapers);
    set(&mut s.qty, a.qty);
}

/// What the run prints and which report files it writes.
fn flag_output(s: &mut Settings, a: &RunArgs) {
    s.keep |= a.keep;
    s.quiet |= a.quiet;
    s.details |= a.details;
    s.live |= a.live;
    s.json = a.json.clone().or(s.json.take());
    s.junit = a.junit.clone().or(s.junit.take());
    s.markdown = a.markdown.clone().or(s.markdown.take());
    s.csv = a.csv.clone().or(s.csv.take());
    s.hdr = a.hdr.clone().or(s.hdr.take());
    s.html = a.html.clone().or(s.html.take());
}

/// The settings that only some runs use, and whether the flag or the
/// file's key gave them.
fn given(a: &RunArgs, f: Option<&Scenario>) -> Vec<Given> {
    let file = |pick: fn(&Scenario) -> bool| f.is_some_and(pick);
    vec![
        Given::new("--script", a.script.is_some(), file(|f| f.script.is_some())),
        Given::new(
            "--lock-ttl",
            a.lock_ttl.is_some(),
            file(|f| f.lock_ttl.is_some()),
        ),
        Given::new(
            "--hold-pause",
            a.hold_pause.is_some(),
            file(|f| f.hold_pause.is_some()),
        ),
        Given::new(
            "--app-servers",
            a.app_servers.is_some(),
            file(|f| f.app_servers.is_some()),
        ),
        Given::new(
            "--app-work",
            a.app_work.is_some(),
            file(|f| f.app_work.is_some()),
        ),
        Given::new(
            "--hold-ttl",
            a.hold_ttl.is_some(),
            file(|f| f.hold_ttl.is_some()),
        ),
        Given::new(
            "--confirm-rate",
            a.confirm_rate.is_some(),
            file(|f| f.confirm_rate.is_some()),
        ),
        Given::new(
            "--cancel-rate",
            a.cancel_rate.is_some(),
            file(|f| f.cancel_rate.is_some()),
        ),
        Given::new(
            "--hold-think",
            a.hold_think.is_some(),
            file(|f| f.hold_think.is_some()),
        ),
        Given::new(
            "--reapers",
            a.reapers.is_some(),
            file(|f| f.reapers.is_some()),
        ),
        Given::new("--rebuy", a.rebuy, file(|f| f.rebuy == Some(true))),
        Given::new("--gap", a.gap.is_some(), file(|f| f.gap.is_some())),
    ]
}

fn rate(f: &Scenario, key: &str, v: &Option<RateValue>) -> Result<Option<f64>> {
    let text = match v {
        None => return Ok(None),
        Some(RateValue::Share(x)) => x.to_string(),
        Some(RateValue::Text(t)) => t.clone(),
    };
    from_file(f, key, Some(&text), cli::rate)
}
