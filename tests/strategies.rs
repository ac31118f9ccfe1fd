//! Strategies against a real redis-server: every assertion on correctness is
//! made on numbers this test reads back from Redis itself.

mod common;

use blackfriday::strategy::StrategyKind;
use common::*;
use fred::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_oversells_at_500_buyers_for_100_units() {
    let server = redis_server().await;
    let url = server.url();
    let report = blackfriday::run(&config(&["--redis", &url, "-s", "broken", "--keep"]))
        .await
        .unwrap();
    let s = state(&client(&url).await, &report.meta.run_id, "broken").await;
    assert!(
        s.sold > 100,
        "broken should oversell, server says sold {}",
        s.sold
    );
    assert!(
        s.stock < 0,
        "broken should drive stock negative, server says {}",
        s.stock
    );
    assert_eq!(
        s.stock + s.sold,
        100,
        "even a racy checkout conserves units"
    );
    let r = report.strategy(StrategyKind::Broken).unwrap();
    assert_eq!(r.server.oversold(), s.sold - 100);
    assert!(
        r.verdict.held,
        "broken is expected to oversell: {:?}",
        r.verdict
    );
}

async fn watch_sells_exactly(buyers: u32, stock: i64) {
    let server = redis_server().await;
    let url = server.url();
    let (b, st) = (buyers.to_string(), stock.to_string());
    let report = blackfriday::run(&config(&[
        "--redis", &url, "-s", "watch", "--buyers", &b, "--stock", &st, "--keep",
    ]))
    .await
    .unwrap();
    let s = state(&client(&url).await, &report.meta.run_id, "watch").await;
    assert_eq!(s.sold, stock, "server-side sold");
    assert_eq!(s.stock, 0, "server-side final stock");
    assert_eq!(s.orders, s.sold, "one order of one unit per unit sold");
    let r = report.strategy(StrategyKind::Watch).unwrap();
    assert_eq!(r.server.oversold(), 0);
    assert_eq!(
        r.figures.gave_up, 0,
        "default retries must sell out, not turn buyers away"
    );
    assert_eq!(r.figures.errors, 0);
    assert_eq!(r.figures.purchased as i64, s.sold);
    assert!(r.verdict.held, "{:?}", r.verdict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sells_exactly_the_stock_500_100() {
    watch_sells_exactly(500, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sells_exactly_the_stock_5000_1000() {
    watch_sells_exactly(5000, 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_with_mixed_quantities_never_oversells() {
    let server = redis_server().await;
    let url = server.url();
    let report = blackfriday::run(&config(&[
        "--redis", &url, "-s", "watch", "--buyers", "2000", "--stock", "500", "--qty", "1..4",
        "--keep",
    ]))
    .await
    .unwrap();
    let s = state(&client(&url).await, &report.meta.run_id, "watch").await;
    assert!(s.stock >= 0 && s.sold <= 500, "{s:?}");
    assert_eq!(s.stock + s.sold, 500);
    // Whoever was told "sold out" wanted more than what is left.
    let r = report.strategy(StrategyKind::Watch).unwrap();
    assert!(r.verdict.held, "{:?}", r.checks);
    assert!(
        s.stock < 4,
        "stock {} left although buyers wanting up to 4 were turned away",
        s.stock
    );
}

/// Thousands in line for one WATCH connection when the last unit goes: each
/// hears "sold out" from one read of its own on the shared connection, not
/// from a turn on the exclusive one (which would cost a WATCH and an
/// UNWATCH, two round trips, each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_buyers_in_line_learn_the_sell_out_from_one_read_each() {
    let server = redis_server().await;
    let url = server.url();
    let report = blackfriday::run(&config(&[
        "--redis",
        &url,
        "-s",
        "watch",
        "--buyers",
        "3000",
        "--stock",
        "10",
        "--connections",
        "1",
    ]))
    .await
    .unwrap();
    let r = report.strategy(StrategyKind::Watch).unwrap();
    assert!(r.verdict.held, "{:?}", r.checks);
    assert_eq!((r.figures.purchased, r.figures.sold_out), (10, 2990));
    assert_eq!(r.server.stock, 0);
    // One connection: no conflicts, so 10 buyers bought in two round trips
    // each; everyone else read once, but for the few handed the connection
    // before anyone read the stock at zero.
    let trips = r.figures.round_trips;
    assert!(trips < 3000 + 100, "{trips} round trips for 3,000 buyers");
}

/// The same seed is the same crowd: with stock for everyone, `decr` sells
/// exactly what the crowd asks for, so the server's `sold` is the crowd's demand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_crowd_on_the_server() {
    let server = redis_server().await;
    let url = server.url();
    let c = client(&url).await;
    let mut sold = Vec::new();
    for seed in ["7", "7", "8"] {
        let report = blackfriday::run(&config(&[
            "--redis", &url, "-s", "decr", "--buyers", "500", "--stock", "100000", "--qty", "1..9",
            "--seed", seed, "--keep",
        ]))
        .await
        .unwrap();
        assert_eq!(report.meta.seed.to_string(), seed);
        let s = state(&c, &report.meta.run_id, "decr").await;
        assert_eq!(s.sold as u64, report.meta.demand);
        sold.push(s.sold);
    }
    assert_eq!(sold[0], sold[1], "same seed, same demand");
    assert_ne!(sold[0], sold[2], "another seed, another crowd");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_namespace_is_touched_and_it_is_removed() {
    let server = redis_server().await;
    let url = server.url();
    let c = client(&url).await;
    let _: () = c
        .set("shop:precious", "keep me", None, None, false)
        .await
        .unwrap();
    let _: () = c
        .set("bf:someone-else", "not ours", None, None, false)
        .await
        .unwrap();
    let report = blackfriday::run(&config(&["--redis", &url, "-s", "broken,decr,watch"]))
        .await
        .unwrap();
    assert_eq!(report.strategies.len(), 3);
    let kept: Option<String> = c.get("shop:precious").await.unwrap();
    assert_eq!(kept.as_deref(), Some("keep me"));
    assert_eq!(
        bf_keys(&c).await,
        vec!["bf:someone-else".to_string()],
        "nothing of the run remains"
    );
}
