//! Resolving flags into a configuration, and the rules that tie them.

use super::*;
use crate::cli::{Cli, Command};
use crate::gate::Expect;
use clap::Parser;

fn resolve(args: &[&str]) -> Result<RunConfig> {
    let cli = Cli::try_parse_from(["blackfriday", "run"].iter().chain(args)).expect("clap accepts");
    let Command::Run(a) = cli.command else {
        panic!("not a run")
    };
    RunConfig::from_args(a)
}

#[test]
fn defaults_compare_broken_and_watch_with_a_printed_seed() {
    let c = resolve(&[]).unwrap();
    assert_eq!(
        c.strategies,
        vec![StrategyKind::Broken, StrategyKind::Watch]
    );
    assert_eq!((c.buyers, c.stock, c.concurrency), (500, 100, 500));
    assert_eq!(
        c.expectation(StrategyKind::Broken, 500).oversell,
        Some(Expect::Oversell)
    );
    assert_eq!(
        c.expectation(StrategyKind::Broken, 100).oversell,
        Some(Expect::Clean)
    );
    assert_eq!(
        c.expectation(StrategyKind::Watch, 500).oversell,
        Some(Expect::Clean)
    );
    assert_eq!(
        c.expectation(StrategyKind::AppLock, 500).oversell,
        Some(Expect::Oversell)
    );
    assert_eq!(
        c.expectation(StrategyKind::Lock, 500).oversell,
        Some(Expect::Clean)
    );
}

#[test]
fn the_pause_and_the_servers_decide_what_locks_must_do() {
    let c = resolve(&[
        "-s",
        "app-lock,lock,lock-fenced",
        "--app-servers",
        "1",
        "--hold-pause",
        "50ms",
        "--lock-ttl",
        "20ms",
    ])
    .unwrap();
    assert_eq!(
        c.expectation(StrategyKind::AppLock, 500).oversell,
        Some(Expect::Clean)
    );
    assert_eq!(
        c.expectation(StrategyKind::Lock, 500).oversell,
        Some(Expect::Oversell)
    );
    assert_eq!(
        c.expectation(StrategyKind::LockFenced, 500).oversell,
        Some(Expect::Clean)
    );
}

#[test]
fn cross_field_rules_name_the_flag() {
    let e = resolve(&["--expect", "decr=clean"]).unwrap_err();
    assert!(e.to_string().contains("--expect decr=clean"), "{e}");
    let e = resolve(&["--backoff-base", "1s", "--backoff-max", "1ms"]).unwrap_err();
    assert!(e.to_string().contains("--backoff-base"), "{e}");
    let e = resolve(&["--json", "-", "--junit", "-"]).unwrap_err();
    assert!(e.to_string().starts_with("--junit -: --json"), "{e}");
    let e = resolve(&["--markdown", "/nonexistent-dir/r.md"]).unwrap_err();
    assert!(
        matches!(e, Error::Usage(_)) && e.to_string().contains("--markdown /nonexistent-dir/r.md"),
        "{e}"
    );
    let e = resolve(&["--redis", "redis://x:1", "--tls-ca", "ca.pem"]).unwrap_err();
    assert!(
        matches!(e, Error::Usage(_)) && e.to_string().contains("TLS"),
        "{e}"
    );
    let e = resolve(&["--tls-insecure"]).unwrap_err();
    assert!(
        e.to_string().starts_with("--tls-insecure: the managed"),
        "{e}"
    );
    let e = resolve(&["--unix", "--redis", "redis://x:1"]).unwrap_err();
    assert!(e.to_string().contains("unix:///path"), "{e}");
    let e = resolve(&["--redis", "rediss://x:1", "--tls-cert", "c.pem"]).unwrap_err();
    assert!(e.to_string().contains("--tls-key"), "{e}");
}

#[test]
fn the_open_model_sizes_its_crowd_from_the_schedule() {
    let c = resolve(&[
        "--rate",
        "1000/s",
        "--duration",
        "2s",
        "--arrivals",
        "constant",
    ])
    .unwrap();
    assert!(c.schedule.is_open() && c.load.is_open());
    assert_eq!((c.buyers, c.concurrency), (2000, 2000));
    // A ramp alone: whoever arrives while it climbs (Λ(10s) = 5000).
    let c = resolve(&["--ramp", "0..1000/s:10s", "--arrivals", "constant"]).unwrap();
    assert_eq!(c.buyers, 5000);
    let c = resolve(&["--rate", "100/s", "--buyers", "30"]).unwrap();
    assert_eq!((c.buyers, c.schedule.len()), (30, 30));
    assert_eq!(c.load.arrivals, Some(crate::schedule::Arrivals::Poisson));
    let c = resolve(&["--think", "1ms..3ms"]).unwrap();
    assert_eq!(c.retry.think.max, Duration::from_millis(3));
    assert!(!c.schedule.is_open());
}

#[test]
fn open_model_flags_need_a_rate() {
    for flag in [&["--duration", "2s"][..], &["--arrivals", "constant"][..]] {
        let e = resolve(flag).unwrap_err();
        assert!(
            matches!(e, Error::Usage(_)) && e.to_string().contains(flag[0]),
            "{e}"
        );
    }
    let e = resolve(&["--rate", "0.001/s", "--duration", "1ms", "--seed", "1"]).unwrap_err();
    assert!(e.to_string().contains("no buyer would arrive"), "{e}");
}
