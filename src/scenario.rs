//! Scenario files: a run, its load and its expectations, checked into a repo.
//!
//! TOML with every unknown key rejected, so a typo can never silently turn a
//! threshold off. Errors name the file, the line and the key. Precedence is
//! defaults < scenario < command-line flags (resolved in `config.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The scenarios shipped with the tool, usable by name: `--scenario ci-gate`.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "ps5-midnight",
        include_str!("../scenarios/ps5-midnight.toml"),
    ),
    (
        "flash-sale-10k",
        include_str!("../scenarios/flash-sale-10k.toml"),
    ),
    (
        "cart-checkout",
        include_str!("../scenarios/cart-checkout.toml"),
    ),
    (
        "reservations",
        include_str!("../scenarios/reservations.toml"),
    ),
    ("ci-gate", include_str!("../scenarios/ci-gate.toml")),
    ("doors-open", include_str!("../scenarios/doors-open.toml")),
    (
        "failover-always",
        include_str!("../scenarios/failover-always.toml"),
    ),
    ("chaos", include_str!("../scenarios/chaos.toml")),
];

/// Scripts the shipped scenarios name, by their path relative to the
/// scenario, embedded so `--scenario ci-gate` works from any directory and
/// after `cargo install`.
const SHIPPED_SCRIPTS: &[(&str, &str)] = &[
    (
        "scripts/checkout.lua",
        include_str!("../scenarios/scripts/checkout.lua"),
    ),
    (
        "scripts/broken-checkout.lua",
        include_str!("../scenarios/scripts/broken-checkout.lua"),
    ),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub redis: Option<String>,
    pub seed: Option<u64>,
    pub buyers: Option<u64>,
    /// Units per product, or a list: "ps5=100,xbox=50".
    pub stock: Option<StockValue>,
    pub products: Option<u64>,
    /// Lines per cart: "2" or "1..3".
    pub cart: Option<String>,
    pub skew: Option<f64>,
    pub reserve: Option<bool>,
    pub hold_ttl: Option<String>,
    /// 0..1 or "50%".
    pub confirm_rate: Option<RateValue>,
    pub cancel_rate: Option<RateValue>,
    pub hold_think: Option<String>,
    pub rebuy: Option<bool>,
    pub reapers: Option<u64>,
    /// "2" or "1..3".
    pub qty: Option<String>,
    /// How buyers arrive: a burst, or the open model with its rate.
    pub load: Option<LoadTable>,
    /// The older spelling of `[load] model = "burst"`, still accepted.
    pub arrival: Option<Arrival>,
    pub strategies: Option<Vec<String>>,
    /// The user's checkout script for `strategy = "script"`, relative to
    /// the scenario file.
    pub script: Option<PathBuf>,
    pub concurrency: Option<u64>,
    pub connections: Option<u64>,
    pub max_retries: Option<u64>,
    pub backoff_base: Option<String>,
    pub backoff_max: Option<String>,
    pub timeout: Option<String>,
    pub lock_ttl: Option<String>,
    pub hold_pause: Option<String>,
    pub app_servers: Option<u64>,
    pub app_work: Option<String>,
    /// `--gap`: "5ms" or "1ms..10ms".
    pub gap: Option<String>,
    /// `--keep`: leave each strategy's keys for inspection.
    pub keep: Option<bool>,
    /// `--quiet`: no progress bars.
    pub quiet: Option<bool>,
    /// Report files, as `--json`, `--junit`, `--markdown`, `--csv`, `--hdr`, `--html`.
    pub report: Option<ReportTable>,
    /// Per strategy: `[expect.watch]`.
    #[serde(default)]
    pub expect: BTreeMap<String, ExpectTable>,
    /// `[[fault]]` tables, as `--fault`.
    #[serde(default)]
    pub fault: Vec<FaultTable>,
    /// `--appendfsync`: "always", "everysec" or "no".
    pub appendfsync: Option<String>,
    /// `--retry-unknown`: retry purchases whose outcome is unknown.
    pub retry_unknown: Option<bool>,
    /// Where it was read from; relative paths inside resolve against it.
    #[serde(skip)]
    pub source: PathBuf,
    /// Shipped with the tool: its scripts are embedded, not read from disk.
    #[serde(skip)]
    pub shipped: bool,
    /// `--details`: every measurement table, not only the verdict.
    pub details: Option<bool>,
    /// `[[threshold]]`: `expr = "watch.p99 <= 25ms"`, as `--threshold`.
    #[serde(default)]
    pub threshold: Vec<ThresholdTable>,
    /// `[tls]`: as `--tls-ca`, `--tls-cert`, `--tls-key`,
    /// `--tls-server-name`, `--tls-insecure`.
    pub tls: Option<TlsTable>,
    /// `--unix`: the managed redis-server listens on a unix socket.
    pub unix: Option<bool>,
    /// `--per-call-writes`: one write per purchase-script call.
    pub per_call_writes: Option<bool>,
    /// `--topology`: `standalone`, `cluster:N` or `cluster:NxR`.
    pub topology: Option<String>,
    /// `--spread`: a hash tag per product.
    pub spread: Option<bool>,
    /// `--repeat`: the whole run N times on seeds seed, seed+1, …
    pub repeat: Option<u32>,
}

/// `[[threshold]]`: one expression, as `--threshold` takes it, or one
/// figure's allowed regression against `--baseline` (`figure` and
/// `max_regression`, a percent).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ThresholdTable {
    pub expr: Option<String>,
    pub figure: Option<String>,
    pub max_regression: Option<f64>,
    /// The same as a `warn:` prefix: shown, never fails the run.
    #[serde(default)]
    pub warn: bool,
}

/// `[tls]`: files relative to the scenario file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsTable {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub server_name: Option<String>,
    pub insecure: Option<bool>,
}

/// `[load]`: the same load shape as `--rate`/`--ramp`, `--arrivals`,
/// `--duration` and `--think`, with the same value syntax.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadTable {
    /// "burst" (everyone at once) or "open" (arrivals at `rate`/`ramp`).
    /// Optional: a rate or a ramp alone means "open".
    pub model: Option<LoadModel>,
    /// "5000/s".
    pub rate: Option<String>,
    /// "0..20000/s:10s".
    pub ramp: Option<String>,
    /// "poisson" or "constant".
    pub arrivals: Option<String>,
    /// "2s": the crowd is whoever arrives within it (instead of `buyers`).
    pub duration: Option<String>,
    /// "1ms" or "1ms..20ms": a shopper's pause before each retry.
    pub think: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadModel {
    Burst,
    Open,
}

/// `[report]`: paths as the flags take them, relative to the directory
/// blackfriday runs in (where CI collects them), not to the scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportTable {
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub csv: Option<PathBuf>,
    /// A directory for the `.hgrm` files.
    pub hdr: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// `stock = 100` or `stock = "ps5=100,xbox=50"`. Units are read signed so
/// that `stock = -5` reaches the resolver, whose message names the key
/// (an unsigned field would fail inside serde's untagged matching).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StockValue {
    Units(i64),
    List(String),
}

/// `confirm_rate = 0.5` or `confirm_rate = "50%"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RateValue {
    Share(f64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    /// Only "burst" (every buyer at the same instant) for now.
    pub model: String,
}

/// `[[fault]]`: one planned fault, as `--fault KIND[:D]@AT`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultTable {
    pub kind: String,
    /// From the release: "1500ms", "2s".
    pub at: String,
    /// Pauses: how long.
    pub duration: Option<String>,
}

/// What one strategy must do. Every threshold given is evaluated, even on a
/// metric that recorded nothing.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpectTable {
    /// "none" or "expected".
    pub oversell: Option<String>,
    /// Reservations: "expected" for a control group that must restock a
    /// hold twice (reserve-naive), "none" otherwise.
    pub double_restock: Option<String>,
    pub max_p99_ms: Option<f64>,
    pub min_purchases_per_s: Option<f64>,
    pub max_gave_up: Option<u64>,
    pub max_errors: Option<u64>,
    pub max_false_sold_out: Option<u64>,
    /// The stock must sell out completely (final stock 0).
    pub sold_out: Option<bool>,
    /// The conservation check must hold (default true; false tolerates it).
    pub conservation: Option<bool>,
}

impl Scenario {
    /// Read a scenario from a path, or a shipped one by name.
    pub fn load(path_or_name: &Path) -> Result<Scenario> {
        if let Some(name) = path_or_name.to_str() {
            if let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name) {
                let s = Scenario::parse(text, Path::new(&format!("scenarios/{name}.toml")))?;
                return Ok(Scenario { shipped: true, ..s });
            }
        }
        let text = std::fs::read_to_string(path_or_name).map_err(|e| {
            let shipped: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
            Error::usage(format!(
                "--scenario {}: cannot read it: {e} (shipped scenarios: {})",
                path_or_name.display(),
                shipped.join(", ")
            ))
        })?;
        Scenario::parse(&text, path_or_name)
    }

    pub fn parse(text: &str, source: &Path) -> Result<Scenario> {
        let s: Scenario = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                let col = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(":{line}:{col}")
            });
            Error::usage(format!(
                "{}{}: {}",
                source.display(),
                at.unwrap_or_default(),
                e.message().trim()
            ))
        })?;
        if s.name.trim().is_empty() {
            return Err(Error::usage(format!(
                "{}: `name` must not be empty",
                source.display()
            )));
        }
        if let Some(a) = &s.arrival {
            if a.model != "burst" {
                return Err(Error::usage(format!(
                    "{}: arrival.model = \"{}\": [arrival] only knows \"burst\"; \
                     describe an open model in a [load] table (model = \"open\", rate = \"5000/s\")",
                    source.display(),
                    a.model
                )));
            }
            if s.load.is_some() {
                return Err(Error::usage(format!(
                    "{}: [arrival] and [load] both describe the load: keep [load]",
                    source.display()
                )));
            }
        }
        Ok(Scenario {
            source: source.to_path_buf(),
            ..s
        })
    }

    /// The embedded text of a script a shipped scenario names.
    pub fn shipped_script(&self, path: &Path) -> Option<&'static str> {
        let wanted = path.to_str()?;
        self.shipped
            .then(|| SHIPPED_SCRIPTS.iter().find(|(p, _)| *p == wanted))
            .flatten()
            .map(|(_, text)| *text)
    }

    /// A path from the file, resolved against the file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match self.source.parent() {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// Prefix for messages about a value from this file.
    pub fn at(&self, key: &str) -> String {
        format!("{} ({key})", self.source.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_names_the_file_the_line_and_the_key() {
        let text = "name = \"x\"\nbuyers = 10\nbuyerz = 5\n";
        let e = Scenario::parse(text, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml:3:1:"), "{e}");
        assert!(e.contains("buyerz"), "{e}");
        let text = "name = \"x\"\n[expect.watch]\nmax_p99 = 5\n";
        let e = Scenario::parse(text, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml:3:1:") && e.contains("max_p99"), "{e}");
    }

    #[test]
    fn shipped_scenarios_parse() {
        for (name, text) in SHIPPED {
            let s = Scenario::parse(text, Path::new(name)).unwrap();
            assert_eq!(&s.name, name);
            assert!(!s.description.is_empty(), "{name} has no description");
        }
    }
}
