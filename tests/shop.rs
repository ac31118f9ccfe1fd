//! Carts and reservations against a real redis-server. Every correctness
//! assertion is on numbers this test reads back from Redis itself.

mod common;

use std::collections::HashMap;

use blackfriday::audit::{self, Shape};
use blackfriday::crowd::{Crowd, QtyRange};
use blackfriday::redis::{self as bf_redis, Keys};
use blackfriday::strategy::StrategyKind;
use blackfriday::RunConfig;
use common::*;
use fred::prelude::*;

/// One product's counters, read straight from Redis.
#[derive(Debug)]
struct Product {
    initial: i64,
    stock: i64,
    sold: i64,
    reserved: i64,
}

async fn products(c: &Client, run: &str, strategy: &str, n: u16) -> Vec<Product> {
    let key = |k: String| format!("bf:{run}:{{{strategy}}}:{k}");
    let mut out = Vec::new();
    for p in 0..n {
        let name = |what: &str| {
            if n == 1 {
                what.to_string()
            } else {
                format!("{what}:{p}")
            }
        };
        let initial: i64 = c
            .hget(key("meta".into()), format!("initial:{p}"))
            .await
            .unwrap();
        let stock: Option<i64> = c.get(key(name("stock"))).await.unwrap();
        let sold: Option<i64> = c.get(key(name("sold"))).await.unwrap();
        let reserved: Option<i64> = c.get(key(name("reserved"))).await.unwrap();
        out.push(Product {
            initial,
            stock: stock.expect("stock kept (--keep)"),
            sold: sold.unwrap_or(0),
            reserved: reserved.unwrap_or(0),
        });
    }
    out
}

/// Every order's `p:<product>` items, by order id.
async fn order_items(c: &Client, run: &str, strategy: &str) -> HashMap<u32, Vec<(u16, i64)>> {
    let key = |k: &str| format!("bf:{run}:{{{strategy}}}:{k}");
    let ids: Vec<u32> = c.lrange(key("orders"), 0, -1).await.unwrap();
    let mut out = HashMap::new();
    for id in ids {
        let hash: HashMap<String, i64> = c.hgetall(key(&format!("order:{id}"))).await.unwrap();
        let mut items: Vec<(u16, i64)> = hash
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("p:")?.parse().ok()?, *v)))
            .collect();
        items.sort_unstable();
        assert!(out.insert(id, items).is_none(), "order {id} listed twice");
    }
    out
}

/// The crowd the run faced, rebuilt from its configuration.
fn crowd_of(cfg: &RunConfig) -> Crowd {
    Crowd::with_carts(cfg.seed, cfg.buyers, cfg.qty, cfg.shop.carts.as_ref())
}

const CARTS: &[&str] = &[
    "--buyers",
    "5000",
    "--products",
    "5",
    "--stock",
    "200",
    "--cart",
    "1..3",
    "--qty",
    "1..2",
    "--seed",
    "11",
    "--keep",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_and_lua_carts_never_oversell_nor_split_a_cart() {
    let server = redis_server().await;
    let url = server.url();
    let mut args = vec!["--redis", &url, "-s", "watch,lua"];
    args.extend_from_slice(CARTS);
    let cfg = config(&args);
    let report = blackfriday::run(&cfg).await.unwrap();
    let c = client(&url).await;
    let crowd = crowd_of(&cfg);
    for name in ["watch", "lua"] {
        let state = products(&c, &report.meta.run_id, name, 5).await;
        let orders = order_items(&c, &report.meta.run_id, name).await;
        let mut in_orders = [0i64; 5];
        for (id, items) in &orders {
            let cart = crowd.buyer(*id as usize).cart;
            let wanted: Vec<(u16, i64)> = cart
                .lines()
                .iter()
                .map(|l| (l.product, i64::from(l.qty)))
                .collect();
            assert_eq!(
                items, &wanted,
                "{name}: order {id} is not its buyer's whole cart"
            );
            for (p, q) in items {
                in_orders[usize::from(*p)] += q;
            }
        }
        for (p, s) in state.iter().enumerate() {
            assert!(
                s.sold <= s.initial && s.stock >= 0,
                "{name} oversold product {p}: {s:?}"
            );
            assert_eq!(
                s.stock + s.sold,
                s.initial,
                "{name}: product {p} not conserved"
            );
            assert_eq!(
                in_orders[p], s.sold,
                "{name}: orders' items vs sold of product {p}"
            );
        }
        assert!(!orders.is_empty(), "{name} sold nothing");
        let r = report
            .strategy(name.parse::<StrategyKind>().unwrap())
            .unwrap();
        assert_eq!(r.server.partial_orders, Some(0));
        assert!(r.verdict.held, "{name}: {:?}", r.verdict);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_cart_oversells_some_product() {
    let server = redis_server().await;
    let url = server.url();
    let mut args = vec!["--redis", &url, "-s", "broken"];
    args.extend_from_slice(CARTS);
    let report = blackfriday::run(&config(&args)).await.unwrap();
    let state = products(&client(&url).await, &report.meta.run_id, "broken", 5).await;
    assert!(
        state.iter().any(|s| s.sold > s.initial && s.stock < 0),
        "broken carts should oversell a product: {state:?}"
    );
    let r = report.strategy(StrategyKind::Broken).unwrap();
    assert!(r.server.oversold() > 0 && r.verdict.held, "{:?}", r.verdict);
}

/// The audit itself: an order holding only part of its buyer's cart is
/// counted as a partial cart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_sees_a_partial_cart() {
    let server = redis_server().await;
    let c = client(&server.url()).await;
    let keys = Keys::with_products("partial", "cart", 3);
    bf_redis::seed(&c, &keys, &[10, 10, 10], &[]).await.unwrap();
    let plan = blackfriday::crowd::CartPlan {
        products: 3,
        lines: QtyRange { min: 2, max: 2 },
        skew: 0.0,
    };
    let crowd = Crowd::with_carts(5, 4, QtyRange::ONE, Some(&plan));
    let buyer = crowd.buyer(1);
    let first = buyer.cart.lines()[0];
    // Only the first of the buyer's two lines was taken.
    let _: () = c
        .hset(
            keys.order(1),
            [("qty", 1i64), (format!("p:{}", first.product).as_str(), 1)],
        )
        .await
        .unwrap();
    let _: () = c.rpush(keys.orders(), 1).await.unwrap();
    let _: () = c.decr_by(keys.stock_of(first.product), 1).await.unwrap();
    let _: () = c.incr_by(keys.sold_of(first.product), 1).await.unwrap();
    let shape = Shape {
        carts: Some(&crowd),
        reserve: false,
        pipe: None,
        consume: false,
    };
    let facts = audit::read_facts(&c, &keys, shape).await.unwrap();
    assert_eq!(facts.partial_orders, Some(1));
    assert_eq!(facts.products[usize::from(first.product)].order_units, 1);
    bf_redis::cleanup(&c, &keys).await.unwrap();
}

/// How the holds ended, from the server's log: id -> every end.
async fn ends(c: &Client, run: &str, strategy: &str) -> HashMap<u32, Vec<char>> {
    let entries: Vec<String> = c
        .lrange(format!("bf:{run}:{{{strategy}}}:ended"), 0, -1)
        .await
        .unwrap();
    let mut out: HashMap<u32, Vec<char>> = HashMap::new();
    for e in entries {
        let (id, how) = e.split_once(':').unwrap();
        out.entry(id.parse().unwrap())
            .or_default()
            .push(how.chars().next().unwrap());
    }
    out
}

async fn placed_and_open(c: &Client, run: &str, strategy: &str) -> (u64, u64, u64) {
    let key = |k: &str| format!("bf:{run}:{{{strategy}}}:{k}");
    let placed: Option<u64> = c.get(key("placed")).await.unwrap();
    let open: u64 = c.zcard(key("deadlines")).await.unwrap();
    let live: u64 = c.hlen(key("holds")).await.unwrap();
    (placed.unwrap_or(0), open, live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_conserve_and_end_each_hold_once() {
    let server = redis_server().await;
    let url = server.url();
    let report = blackfriday::run(&config(&[
        "--redis",
        &url,
        "-s",
        "lua",
        "--reserve",
        "--buyers",
        "3000",
        "--products",
        "3",
        "--stock",
        "150",
        "--confirm-rate",
        "50%",
        "--cancel-rate",
        "20%",
        "--hold-ttl",
        "200ms",
        "--rebuy",
        "--seed",
        "5",
        "--keep",
    ]))
    .await
    .unwrap();
    let c = client(&url).await;
    let run = &report.meta.run_id;
    for (p, s) in products(&c, run, "lua", 3).await.iter().enumerate() {
        assert_eq!(s.reserved, 0, "product {p}: the reaper drained every hold");
        assert_eq!(
            s.stock + s.reserved + s.sold,
            s.initial,
            "product {p}: {s:?}"
        );
        assert!(s.stock >= 0 && s.sold <= s.initial, "product {p}: {s:?}");
    }
    let (placed, open, live) = placed_and_open(&c, run, "lua").await;
    let ends = ends(&c, run, "lua").await;
    assert!(
        placed > 150,
        "holds were placed, expired and placed again: {placed}"
    );
    assert_eq!((open, live), (0, 0), "no hold left open");
    assert_eq!(ends.len() as u64, placed, "every hold placed has ended");
    let twice: Vec<_> = ends.iter().filter(|(_, e)| e.len() != 1).collect();
    assert!(
        twice.is_empty(),
        "holds that ended more than once: {twice:?}"
    );
    for how in ['c', 'x', 'e'] {
        assert!(
            ends.values().any(|e| e[0] == how),
            "no hold ended as '{how}'"
        );
    }
    let r = report.strategy(StrategyKind::Lua).unwrap();
    assert!(r.verdict.held, "{:?}", r.verdict);
}

/// Every holder confirms around its hold's deadline (thinking 20..80ms on a
/// 50ms hold, with three reapers), so confirms race the expiry: each hold
/// still ends once, confirmed or returned, and both happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_expiring_while_its_confirm_is_in_flight_ends_once() {
    let server = redis_server().await;
    let url = server.url();
    let report = blackfriday::run(&config(&[
        "--redis",
        &url,
        "-s",
        "lua",
        "--reserve",
        "--buyers",
        "1000",
        "--stock",
        "1000",
        "--confirm-rate",
        "1",
        "--cancel-rate",
        "0",
        "--hold-ttl",
        "50ms",
        "--hold-think",
        "20ms..80ms",
        "--reapers",
        "3",
        "--seed",
        "9",
        "--keep",
    ]))
    .await
    .unwrap();
    let c = client(&url).await;
    let run = &report.meta.run_id;
    let ends = ends(&c, run, "lua").await;
    let s = &products(&c, run, "lua", 1).await[0];
    let confirmed = ends.values().filter(|e| e == &&vec!['c']).count() as i64;
    let expired = ends.values().filter(|e| e == &&vec!['e']).count() as i64;
    assert_eq!(ends.len(), 1000, "every buyer held, every hold ended");
    assert_eq!(
        confirmed + expired,
        1000,
        "each hold confirmed or returned, never both"
    );
    assert!(
        confirmed > 0 && expired > 0,
        "the race went both ways: {confirmed} / {expired}"
    );
    assert_eq!(
        (s.sold, s.stock, s.reserved),
        (confirmed, 1000 - confirmed, 0)
    );
}

/// The seed's reservations: cancels and one reaper each read a hold, then
/// write. In at least one of these seeded runs some hold is both cancelled
/// and expired, its units returned twice, as the server's log shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserve_naive_restocks_a_hold_twice() {
    let server = redis_server().await;
    let url = server.url();
    let c = client(&url).await;
    let mut seen = Vec::new();
    for seed in ["1", "2", "3", "4"] {
        let report = blackfriday::run(&config(&[
            "--redis",
            &url,
            "-s",
            "reserve-naive",
            "--reserve",
            "--buyers",
            "3000",
            "--stock",
            "300",
            "--confirm-rate",
            "50%",
            "--cancel-rate",
            "20%",
            "--hold-ttl",
            "200ms",
            "--rebuy",
            "--reapers",
            "1",
            "--seed",
            seed,
            "--keep",
        ]))
        .await
        .unwrap();
        let ends = ends(&c, &report.meta.run_id, "reserve-naive").await;
        let cancelled_and_expired = ends
            .values()
            .filter(|e| e.contains(&'x') && e.contains(&'e'))
            .count();
        let s = &products(&c, &report.meta.run_id, "reserve-naive", 1).await[0];
        let r = report.strategy(StrategyKind::ReserveNaive).unwrap();
        let logged = r.server.holds.as_ref().unwrap().restocked_twice;
        seen.push((
            seed,
            cancelled_and_expired,
            logged,
            s.stock + s.reserved + s.sold - s.initial,
        ));
        if cancelled_and_expired > 0 {
            assert!(logged > 0, "the audit counts what the log shows");
            assert!(
                r.verdict.held,
                "a double restock is what reserve-naive must show"
            );
            return;
        }
    }
    panic!("no seeded run showed a hold both cancelled and expired: {seen:?}");
}
