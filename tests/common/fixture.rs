//! A deterministic report built by hand from fixed figures: every
//! presentation test formats this one, so their snapshots cannot move with
//! timing.

use std::time::Duration;

use blackfriday::audit::ServerFacts;
use blackfriday::config::Settings;
use blackfriday::cpu::{CpuSample, CpuUse};
use blackfriday::crowd::{Product, QtyRange};
use blackfriday::gate::{self, Evidence, Expect, Expectation};
use blackfriday::load::DurationRange;
use blackfriday::metrics::{Outcome, Tally};
use blackfriday::redis::{Link, Topology, Transport};
use blackfriday::report::{Report, RunMeta, StrategyReport};
use blackfriday::schedule::LoadShape;
use blackfriday::strategy::{ErrorClass, Failure, StrategyKind};

pub fn strategy(
    kind: StrategyKind,
    expect: Expect,
    tally: &Tally,
    server: ServerFacts,
) -> StrategyReport {
    // Fixed CPU figures: the server near its ceiling; the generator cheaper
    // per purchase for broken, dearer for watch (so both warnings show).
    let generator_s = if kind == StrategyKind::Broken {
        2.1
    } else {
        2.5
    };
    let cpu = CpuUse::between(
        CpuSample {
            server_s: Some(10.0),
            generator_s: Some(2.0),
            nodes: Vec::new(),
        },
        CpuSample {
            server_s: Some(10.235),
            generator_s: Some(generator_s),
            nodes: Vec::new(),
        },
        Duration::from_millis(250),
        tally.purchased,
    );
    gate::assess(
        kind,
        &Expectation {
            oversell: Some(expect),
            ..Expectation::default()
        },
        (kind.facts().tolerates)(&Settings::default().params(None)),
        Evidence {
            tally,
            elapsed: Duration::from_millis(250),
            server,
            cpu,
            reaped: None,
        },
    )
}

pub fn crowd(purchased: u64, sold_out: u64, errors: u64) -> Tally {
    let mut t = Tally::default();
    for i in 0..purchased {
        t.attempts += 2;
        t.conflicts += 1;
        t.purchase_retries += 1;
        t.round_trips += 4;
        t.purchase_round_trips += 4;
        t.record(1, Outcome::Purchased, Duration::from_micros(100 + i));
        t.record_service(Duration::from_micros(60 + i));
        t.record_purchase(Duration::from_micros(100 + i), 1);
        t.timeline.attempts(0, 2);
    }
    for i in 0..sold_out {
        t.attempts += 1;
        t.record(1, Outcome::SoldOut, Duration::from_micros(5_000 + i));
        t.record_service(Duration::from_micros(40 + i));
        t.timeline.attempts(1, 1);
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
        t.record_service(Duration::from_secs(5));
        t.timeline.attempts(5, 1);
    }
    t
}

/// What the server holds after selling `sold` single units out of 100.
pub fn facts(stock: i64, sold: i64) -> ServerFacts {
    ServerFacts::single(100, stock, sold, sold as u64, sold)
}

/// Three strategies: `broken` oversells as expected, `watch` is clean, and a
/// second `watch` lost units to unknown outcomes (two checks fail that its
/// expectation wants to pass).
pub fn report() -> Report {
    Report {
        meta: RunMeta {
            run_id: "0badcafe".into(),
            scenario: None,
            seed: 7,
            strategies: vec![StrategyKind::Broken, StrategyKind::Watch],
            buyers: 500,
            load: LoadShape::BURST,
            think: DurationRange::ZERO,
            stock: 100,
            products: vec![Product {
                name: "item".into(),
                stock: 100,
            }],
            carts: None,
            reserve: None,
            qty: QtyRange::ONE,
            demand: 500,
            concurrency: 500,
            connections: 4,
            max_retries: 100,
            retry_unknown: false,
            redis_url: "redis://shop:***@127.0.0.1:6379/2".into(),
            managed_pid: None,
            managed_pids: Vec::new(),
            server_version: "7.0.15".into(),
            faults: Vec::new(),
            appendfsync: None,
            started: None,
            link: Link {
                transport: Transport::Tcp,
                tls: false,
                tls_insecure: false,
                user: "shop".into(),
                topology: Topology::Standalone,
            },
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
        finished: true,
        thresholds: Vec::new(),
        aborted: None,
        repetitions: Vec::new(),
    }
}
