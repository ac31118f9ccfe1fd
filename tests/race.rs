//! How the first oversold unit was sold, checked against the server: every
//! buyer the explainer names has its order in Redis, and its decrements
//! agree with the stock the server holds at the end.

mod common;

use blackfriday::metrics::Race;
use blackfriday::strategy::StrategyKind;
use common::*;
use fred::prelude::*;

/// Every named buyer has its order; results fall in the order listed; the
/// last one is the first below zero and the stock only fell after it.
async fn agrees_with_redis(c: &Client, run_id: &str, name: &str, race: &Race, final_stock: i64) {
    let key = |k: &str| format!("bf:{run_id}:{{{name}}}:{k}");
    let orders: Vec<u32> = c.lrange(key("orders"), 0, -1).await.unwrap();
    for step in &race.steps {
        let qty: Option<u32> = c
            .hget(key(&format!("order:{}", step.buyer)), "qty")
            .await
            .unwrap();
        assert_eq!(qty, Some(step.qty), "#{} has its order", step.buyer);
        assert!(
            orders.contains(&step.buyer),
            "#{} in the orders list",
            step.buyer
        );
        assert!(
            step.read >= i64::from(step.qty),
            "#{} passed its check",
            step.buyer
        );
        assert!(
            step.result < step.read,
            "#{} wrote after it read",
            step.buyer
        );
    }
    let results: Vec<i64> = race.steps.iter().map(|s| s.result).collect();
    assert!(results.windows(2).all(|w| w[0] > w[1]), "{results:?}");
    let last = race.last();
    assert!(last.result < 0, "the last step went below zero");
    assert!(
        results[..results.len() - 1].iter().all(|r| *r >= 0),
        "only the last step is below zero: {results:?}"
    );
    assert!(
        final_stock <= last.result,
        "the server ended at {final_stock}, at or below the first negative result {}",
        last.result
    );
}

async fn explained(strategy: &str, extra: &[&str]) {
    let server = redis_server().await;
    let url = server.url();
    let mut args = vec![
        "--redis", &url, "-s", strategy, "--buyers", "300", "--stock", "50", "--keep", "--seed",
        "13",
    ];
    args.extend_from_slice(extra);
    let report = blackfriday::run(&config(&args)).await.unwrap();
    let c = client(&url).await;
    let s = state(&c, &report.meta.run_id, strategy).await;
    assert!(s.stock < 0, "{strategy} oversold: stock {}", s.stock);
    let kind: StrategyKind = strategy.parse().unwrap();
    let r = report.strategy(kind).unwrap();
    assert_eq!(
        r.server.oversold(),
        s.sold - 50,
        "the audit read what we read"
    );
    let race = r.race.as_ref().expect("an oversold run explains its race");
    agrees_with_redis(&c, &report.meta.run_id, strategy, race, s.stock).await;
    if kind == StrategyKind::AppLock {
        assert!(race.steps.iter().all(|s| s.app_server.is_some()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_explains_its_first_oversold_unit_as_redis_recorded_it() {
    explained("broken", &["--gap", "1ms..3ms"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_lock_names_the_app_servers_whose_sections_overlapped() {
    explained("app-lock", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_run_has_no_race_to_explain() {
    let server = redis_server().await;
    let url = server.url();
    let report = blackfriday::run(&config(&[
        "--redis",
        &url,
        "-s",
        "lua,app-lock",
        "--app-servers",
        "1",
        "--buyers",
        "200",
        "--stock",
        "50",
    ]))
    .await
    .unwrap();
    for s in &report.strategies {
        assert_eq!(s.server.oversold(), 0, "{}", s.strategy);
        assert!(s.race.is_none(), "{} has nothing to explain", s.strategy);
    }
}
