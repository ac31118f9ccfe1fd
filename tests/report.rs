//! The terminal report is a pure function of a finished `Report`: snapshot it
//! from fixed figures, so any change to what users read is reviewed.

use std::time::Duration;

use blackfriday::audit::{self, ServerFacts};
use blackfriday::crowd::QtyRange;
use blackfriday::gate::{self, Expect};
use blackfriday::metrics::{Outcome, Percentiles, Tally};
use blackfriday::report::{table, Figures, Report, RunMeta, StrategyReport};
use blackfriday::strategy::{ErrorClass, Failure, StrategyKind};

fn strategy(
    kind: StrategyKind,
    expect: Expect,
    tally: &Tally,
    server: ServerFacts,
) -> StrategyReport {
    let checks = audit::checks(&server, tally);
    StrategyReport {
        strategy: kind,
        figures: Figures::new(tally, Duration::from_millis(250), &server),
        latency: Percentiles::of(&tally.latency),
        verdict: gate::judge(expect, kind.tolerated(), &checks),
        checks,
        server,
    }
}

fn crowd(purchased: u64, sold_out: u64, errors: u64) -> Tally {
    let mut t = Tally::default();
    for i in 0..purchased {
        t.attempts += 2;
        t.conflicts += 1;
        t.record(1, Outcome::Purchased, Duration::from_micros(100 + i));
    }
    for i in 0..sold_out {
        t.attempts += 1;
        t.record(1, Outcome::SoldOut, Duration::from_micros(5_000 + i));
    }
    for _ in 0..errors {
        t.attempts += 1;
        t.sample_error(Failure {
            class: ErrorClass::Timeout,
            message: "Timeout: Request timed out.".into(),
        });
        t.record(
            1,
            Outcome::Error(ErrorClass::Timeout),
            Duration::from_secs(5),
        );
    }
    t
}

fn report() -> Report {
    let facts = |stock: i64, sold: i64| ServerFacts {
        initial: 100,
        stock,
        sold,
        orders: sold as u64,
        distinct_orders: sold as u64,
        order_units: sold,
        orders_without_hash: 0,
    };
    Report {
        meta: RunMeta {
            run_id: "0badcafe".into(),
            seed: 7,
            buyers: 500,
            stock: 100,
            qty: QtyRange::ONE,
            demand: 500,
            concurrency: 500,
            connections: 4,
            max_retries: 100,
            redis_url: "redis://shop:***@127.0.0.1:6379/2".into(),
            managed_pid: None,
            server_version: "7.0.15".into(),
        },
        strategies: vec![
            strategy(
                StrategyKind::Broken,
                Expect::Oversell,
                &crowd(480, 20, 0),
                facts(-380, 480),
            ),
            strategy(
                StrategyKind::Watch,
                Expect::Clean,
                &crowd(100, 400, 0),
                facts(0, 100),
            ),
            // A safe strategy that lost units to unknown outcomes: undersold.
            strategy(
                StrategyKind::Watch,
                Expect::Clean,
                &crowd(90, 400, 10),
                facts(10, 90),
            ),
        ],
        unavailable: Vec::new(),
        interrupted: false,
    }
}

#[test]
fn tables_snapshot() {
    insta::assert_snapshot!(table::render(&report(), false));
}

#[test]
fn exit_status_follows_the_verdicts() {
    let r = report();
    assert!(r.strategies[0].verdict.held, "broken oversold as expected");
    assert!(r.strategies[1].verdict.held);
    assert!(
        !r.strategies[2].verdict.held,
        "units left while buyers failed is an undersell"
    );
    assert_eq!(r.status(), blackfriday::ExitStatus::ExpectationFailed);
}
