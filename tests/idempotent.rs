//! Unknown outcomes, retried: `--retry-unknown` makes `lua` buy twice for
//! a buyer whose reply a dropped connection swallowed, the audit's one
//! purchase per buyer check catches it, and `idempotent` never does it.
//! Then the `--history` file, checked by the linearizability checker: a
//! lua run's history is linearizable against a bounded stock counter,
//! broken's oversold one is not. Real redis-servers throughout.

mod common;

use blackfriday::audit::CheckId;
use blackfriday::check;
use blackfriday::strategy::StrategyKind;
use blackfriday::ExitStatus;
use common::{passed, run};

/// Seeds tried before the test gives up on seeing a duplicate.
const SEEDS: u64 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_unknown_outcomes_buys_twice_with_lua_and_never_with_idempotent() {
    let mut duplicated = None;
    for seed in 1..=SEEDS {
        let seed_arg = seed.to_string();
        let r = run(&[
            "-s",
            "lua,idempotent",
            "--rate",
            "3000/s",
            "--duration",
            "1500ms",
            "--stock",
            "100000",
            "--seed",
            &seed_arg,
            "--retry-unknown",
            // Every reply held 50 ms in the proxy, then every connection
            // reset twice: the replies held at that moment are lost after
            // their scripts ran, whatever the client's write pattern.
            "--fault",
            "latency:50ms@0s",
            "--fault",
            "drop@400ms",
            "--fault",
            "drop@900ms",
            "--quiet",
        ])
        .await;
        assert!(r.meta.retry_unknown);
        let idem = r
            .strategy(StrategyKind::Idempotent)
            .expect("idempotent ran");
        let s = &idem.server;
        assert_eq!(
            (s.buyers_with_duplicates, s.orders, s.sold),
            (0, s.distinct_orders, s.distinct_orders as i64),
            "seed {seed}: idempotent bought twice for a buyer"
        );
        assert!(passed(idem, CheckId::OnePerBuyer));
        assert!(idem.verdict.held, "seed {seed}: {:?}", idem.verdict);
        // Nobody left unknown: every retry was answered.
        assert_eq!(idem.figures.purchased, r.meta.buyers as u64, "seed {seed}");
        assert_eq!(idem.figures.errors, 0, "seed {seed}");
        // Every attempt is accounted for: a first try or a retry, and each
        // retry follows an unknown outcome (nothing else is retried here).
        let f = &idem.figures;
        assert_eq!(
            f.attempts,
            r.meta.buyers as u64 + f.unknown,
            "seed {seed}: {f:?}"
        );

        let lua = r.strategy(StrategyKind::Lua).expect("lua ran");
        let s = &lua.server;
        if s.buyers_with_duplicates == 0 {
            assert!(lua.verdict.held, "seed {seed}: {:?}", lua.verdict);
            continue;
        }
        // A purchase applied twice: the same order id listed twice, two
        // decrements, and the check that is there for it fails the gate.
        assert_eq!(s.orders - s.distinct_orders, s.duplicate_orders);
        assert_eq!(s.sold, s.orders as i64);
        assert_eq!(s.initial, s.stock + s.sold, "conservation still holds");
        assert!(!passed(lua, CheckId::OnePerBuyer));
        assert!(!lua.verdict.held);
        assert_eq!(r.status(), ExitStatus::ExpectationFailed);
        duplicated = Some((seed, s.duplicate_orders));
        break;
    }
    let Some((seed, extra)) = duplicated else {
        panic!(
            "lua never bought twice in {SEEDS} seeds of two connection resets \
             under a 50 ms reply latency with --retry-unknown: no reply was \
             lost after its script ran"
        );
    };
    eprintln!("seed {seed}: lua applied {extra} purchase(s) twice");
}

/// Run `args` with `--history` into a temporary file; the report and the
/// file's text.
async fn with_history(args: &[&str]) -> (blackfriday::Report, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.jsonl");
    let path_arg = path.to_str().expect("utf-8 path");
    let mut all = args.to_vec();
    all.extend(["--history", path_arg, "--quiet"]);
    let report = run(&all).await;
    let text = std::fs::read_to_string(&path).expect("the history file was written");
    (report, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lua_history_is_linearizable_against_a_stock_counter() {
    for seed in ["1", "2", "3"] {
        let args = [
            "-s", "lua", "--buyers", "30", "--stock", "10", "--seed", seed,
        ];
        let (r, text) = with_history(&args).await;
        let lua = r.strategy(StrategyKind::Lua).expect("lua ran");
        // One invoke and one completion per attempt, numbered in order.
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(lines.len() as u64, 2 * lua.figures.attempts, "seed {seed}");
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(l["index"], i as u64);
            assert_eq!((&l["f"], &l["strategy"]), (&"buy".into(), &"lua".into()));
        }
        let oks = lines.iter().filter(|l| l["type"] == "ok").count() as i64;
        assert_eq!(oks, lua.server.sold, "every ok is a unit the server sold");
        let calls = check::calls(&text, "lua").expect("history parses");
        assert_eq!(calls.len(), 30);
        let initial = lua.server.initial;
        assert_eq!(check::linearizable(initial, &calls), Ok(()), "seed {seed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversold_broken_history_is_not_linearizable() {
    for seed in ["1", "2", "3"] {
        let args = [
            "-s", "broken", "--buyers", "30", "--stock", "10", "--gap", "5ms", "--seed", seed,
        ];
        let (r, text) = with_history(&args).await;
        let broken = r.strategy(StrategyKind::Broken).expect("broken ran");
        if broken.server.oversold() == 0 {
            continue;
        }
        let calls = check::calls(&text, "broken").expect("history parses");
        let oks = calls
            .iter()
            .filter(|c| c.buy.result == check::Told::Bought)
            .count() as i64;
        assert_eq!(oks, broken.server.sold);
        let refused = check::linearizable(broken.server.initial, &calls)
            .expect_err("an oversell cannot be linearized");
        // No order can place more buys than the stock allows.
        assert!(refused.placed < calls.len(), "{refused:?}");
        let reads_recorded = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
            .filter(|l| l["type"] == "ok")
            .all(|l| l["value"]["stock_read"].is_i64());
        assert!(reads_recorded, "broken's ok events carry the stock it read");
        return;
    }
    panic!("broken never oversold 10 units to 30 buyers with --gap 5ms in 3 seeds");
}
