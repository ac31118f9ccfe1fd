//! Defaults < scenario file < command-line flags, one setting at a time.
//!
//! Values from a file go through the same parsers as the flags, and an error
//! names the file and the key it came from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::cli::{self, RunArgs};
use crate::crowd::{QtyRange, StockSpec};
use crate::error::{Error, Result};
use crate::gate::{Expect, Expectation};
use crate::load::DurationRange;
use crate::scenario::{ExpectTable, Scenario};
use crate::scenario::{RateValue, StockValue};
use crate::strategy::StrategyKind;

/// Every setting of a run, layered, before cross-field checks.
pub struct Settings {
    pub buyers: u64,
    /// `--buyers` or the file's `buyers`, if either was given: an open-model
    /// ramp alone otherwise decides the crowd.
    pub buyers_given: Option<u64>,
    pub stock: StockSpec,
    pub products: Option<u64>,
    pub cart: Option<QtyRange>,
    pub skew: Option<f64>,
    pub reserve: bool,
    pub hold_ttl: Duration,
    pub confirm_rate: f64,
    pub cancel_rate: f64,
    pub hold_think: Option<DurationRange>,
    pub rebuy: bool,
    pub reapers: u64,
    pub qty: QtyRange,
    pub strategies: Vec<StrategyKind>,
    pub redis: Option<String>,
    pub seed: Option<u64>,
    pub concurrency: Option<u64>,
    pub connections: u64,
    pub max_retries: u64,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub timeout: Duration,
    pub lock_ttl: Duration,
    pub hold_pause: Duration,
    pub app_work: Duration,
    pub app_servers: u64,
    pub script: Option<PathBuf>,
    pub expectations: BTreeMap<StrategyKind, Expectation>,
    /// The scenario's name, for report titles.
    pub name: Option<String>,
}

/// Parse a value from the scenario file with the flag's own parser.
fn from_file<T>(
    s: &Scenario,
    key: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    raw.map(|v| parse(v).map_err(|e| Error::usage(format!("{}: {e}", s.at(key)))))
        .transpose()
}

fn count(s: &Scenario, key: &str, v: Option<u64>, at_least_one: bool) -> Result<Option<u64>> {
    match v {
        Some(0) if at_least_one => Err(Error::usage(format!("{}: must be at least 1", s.at(key)))),
        v => Ok(v),
    }
}

pub fn layer(a: &RunArgs, file: Option<&Scenario>) -> Result<Settings> {
    let empty = Scenario::default();
    let f = file.unwrap_or(&empty);
    let dur = |key: &str, raw: &Option<String>| from_file(f, key, raw.as_deref(), cli::duration);
    let reserve = a.reserve || f.reserve.unwrap_or(false);
    let strategies = if !a.strategies.is_empty() {
        a.strategies.clone()
    } else if let Some(names) = &f.strategies {
        let parsed: Result<Vec<_>, _> = names.iter().map(|n| StrategyKind::from_str(n)).collect();
        parsed.map_err(|e| Error::usage(format!("{}: {e}", f.at("strategies"))))?
    } else if reserve {
        vec![StrategyKind::Lua, StrategyKind::ReserveNaive]
    } else {
        vec![StrategyKind::Broken, StrategyKind::Watch]
    };
    let buyers_given = a.buyers.or(count(f, "buyers", f.buyers, true)?);
    Ok(Settings {
        buyers: buyers_given.unwrap_or(500),
        buyers_given,
        stock: match (&a.stock, &f.stock) {
            (Some(s), _) => s.clone(),
            (None, Some(StockValue::Units(n))) => StockSpec::Each(*n),
            (None, Some(StockValue::List(l))) => StockSpec::from_str(l)
                .map_err(|e| Error::usage(format!("{}: {e}", f.at("stock"))))?,
            (None, None) => StockSpec::Each(100),
        },
        products: a.products.or(count(f, "products", f.products, true)?),
        cart: a
            .cart
            .or(from_file(f, "cart", f.cart.as_deref(), QtyRange::from_str)?),
        skew: a.skew.or(from_file(
            f,
            "skew",
            f.skew.map(|v| v.to_string()).as_deref(),
            cli::non_negative,
        )?),
        reserve,
        hold_ttl: a
            .hold_ttl
            .or(dur("hold_ttl", &f.hold_ttl)?)
            .unwrap_or(Duration::from_secs(2)),
        confirm_rate: a
            .confirm_rate
            .or(rate(f, "confirm_rate", &f.confirm_rate)?)
            .unwrap_or(0.5),
        cancel_rate: a
            .cancel_rate
            .or(rate(f, "cancel_rate", &f.cancel_rate)?)
            .unwrap_or(0.2),
        hold_think: a.hold_think.or(from_file(
            f,
            "hold_think",
            f.hold_think.as_deref(),
            DurationRange::from_str,
        )?),
        rebuy: a.rebuy || f.rebuy.unwrap_or(false),
        reapers: a
            .reapers
            .or(count(f, "reapers", f.reapers, true)?)
            .unwrap_or(2),
        qty: a
            .qty
            .or(from_file(f, "qty", f.qty.as_deref(), QtyRange::from_str)?)
            .unwrap_or(QtyRange::ONE),
        strategies,
        redis: a.redis.clone().or_else(|| f.redis.clone()),
        seed: a.seed.or(f.seed),
        concurrency: a
            .concurrency
            .or(count(f, "concurrency", f.concurrency, true)?),
        connections: a
            .connections
            .or(count(f, "connections", f.connections, true)?)
            .unwrap_or(4),
        max_retries: a.max_retries.or(f.max_retries).unwrap_or(1000),
        backoff_base: a
            .backoff_base
            .or(dur("backoff_base", &f.backoff_base)?)
            .unwrap_or(Duration::from_micros(500)),
        backoff_max: a
            .backoff_max
            .or(dur("backoff_max", &f.backoff_max)?)
            .unwrap_or(Duration::from_millis(20)),
        timeout: a
            .timeout
            .or(dur("timeout", &f.timeout)?)
            .unwrap_or(Duration::from_secs(5)),
        lock_ttl: a
            .lock_ttl
            .or(dur("lock_ttl", &f.lock_ttl)?)
            .unwrap_or(Duration::from_secs(1)),
        hold_pause: a
            .hold_pause
            .or(dur("hold_pause", &f.hold_pause)?)
            .unwrap_or(Duration::ZERO),
        app_work: a
            .app_work
            .or(dur("app_work", &f.app_work)?)
            .unwrap_or(Duration::from_millis(1)),
        app_servers: a
            .app_servers
            .or(count(f, "app_servers", f.app_servers, true)?)
            .unwrap_or(3),
        script: a
            .script
            .clone()
            .or_else(|| f.script.as_ref().map(|p| f.resolve(p))),
        expectations: expectations(a, f)?,
        name: file.map(|s| s.name.clone()),
    })
}

fn rate(f: &Scenario, key: &str, v: &Option<RateValue>) -> Result<Option<f64>> {
    let text = match v {
        None => return Ok(None),
        Some(RateValue::Share(x)) => x.to_string(),
        Some(RateValue::Text(t)) => t.clone(),
    };
    from_file(f, key, Some(&text), cli::rate)
}

/// The file's `[expect.<strategy>]` tables, then `--expect` on top.
fn expectations(a: &RunArgs, f: &Scenario) -> Result<BTreeMap<StrategyKind, Expectation>> {
    let mut out = BTreeMap::new();
    for (name, table) in &f.expect {
        let key = format!("expect.{name}");
        let kind = StrategyKind::from_str(name)
            .map_err(|e| Error::usage(format!("{}: {e}", f.at(&key))))?;
        out.insert(kind, expectation(f, &key, table)?);
    }
    for o in &a.expect {
        out.entry(o.strategy)
            .or_insert_with(Expectation::default)
            .oversell = Some(o.expect);
    }
    Ok(out)
}

fn expectation(f: &Scenario, key: &str, t: &ExpectTable) -> Result<Expectation> {
    let oversell = match t.oversell.as_deref() {
        None => None,
        Some("none") => Some(Expect::Clean),
        Some("expected") => Some(Expect::Oversell),
        Some(other) => {
            return Err(Error::usage(format!(
                "{}: oversell = \"{other}\" (expected \"none\" or \"expected\")",
                f.at(key)
            )))
        }
    };
    let oversell = match t.double_restock.as_deref() {
        None => oversell,
        Some("expected") => Some(Expect::DoubleRestock),
        Some("none") => oversell.or(Some(Expect::Clean)),
        Some(other) => {
            return Err(Error::usage(format!(
                "{}: double_restock = \"{other}\" (expected \"none\" or \"expected\")",
                f.at(key)
            )))
        }
    };
    for (name, v) in [
        ("max_p99_ms", t.max_p99_ms),
        ("min_purchases_per_s", t.min_purchases_per_s),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(Error::usage(format!(
                "{}: {name} must be a number of 0 or more",
                f.at(key)
            )));
        }
    }
    Ok(Expectation {
        oversell,
        max_p99_ms: t.max_p99_ms,
        min_purchases_per_s: t.min_purchases_per_s,
        max_gave_up: t.max_gave_up,
        max_errors: t.max_errors,
        max_false_sold_out: t.max_false_sold_out,
        sold_out: t.sold_out,
        conservation: t.conservation,
    })
}
