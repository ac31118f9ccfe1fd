//! The truth, read back from Redis after a strategy has run.
//!
//! Nothing here trusts the client's counters for correctness: the facts come
//! from the server, and the checks compare them with what buyers were told.

use std::collections::HashSet;

use fred::prelude::*;
use serde::Serialize;

use crate::metrics::Tally;
use crate::redis::Keys;

const PAGE: i64 = 10_000;

/// What the server holds once every buyer has an outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerFacts {
    /// Stock seeded at the start (from the namespace's meta hash).
    pub initial: i64,
    /// Stock left.
    pub stock: i64,
    /// The `sold` counter: units recorded as sold.
    pub sold: i64,
    /// Entries on the orders list.
    pub orders: u64,
    /// Distinct order ids on the list.
    pub distinct_orders: u64,
    /// Sum of `qty` over the distinct orders' hashes.
    pub order_units: i64,
    /// Listed orders whose hash is missing.
    pub orders_without_hash: u64,
}

impl ServerFacts {
    /// Units sold beyond the initial stock, by the `sold` counter, by the
    /// orders on the list, or by the stock gone negative, whichever shows
    /// more: a checkout that forgets to count `sold` still cannot hide.
    pub fn oversold(&self) -> i64 {
        (self.sold.max(self.order_units) - self.initial)
            .max(-self.stock)
            .max(0)
    }
}

pub async fn read_facts(c: &Client, keys: &Keys) -> Result<ServerFacts, Error> {
    let initial: Option<i64> = c.hget(keys.meta(), "initial").await?;
    let stock: Option<i64> = c.get(keys.stock()).await?;
    let sold: Option<i64> = c.get(keys.sold()).await?;
    let mut facts = ServerFacts {
        initial: initial
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "the namespace's meta hash is gone"))?,
        stock: stock.unwrap_or(0),
        sold: sold.unwrap_or(0),
        ..ServerFacts::default()
    };
    let mut seen = HashSet::new();
    let mut start = 0;
    loop {
        let ids: Vec<u32> = c.lrange(keys.orders(), start, start + PAGE - 1).await?;
        if ids.is_empty() {
            break;
        }
        start += ids.len() as i64;
        facts.orders += ids.len() as u64;
        let fresh: Vec<u32> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        let p = c.pipeline();
        for id in &fresh {
            let _: () = p.hget(keys.order(*id), "qty").await?;
        }
        let qtys: Vec<Option<i64>> = if fresh.is_empty() {
            Vec::new()
        } else {
            p.all().await?
        };
        for q in qtys {
            match q {
                Some(q) => facts.order_units += q,
                None => facts.orders_without_hash += 1,
            }
        }
    }
    facts.distinct_orders = seen.len() as u64;
    Ok(facts)
}

/// The audit checks, each its own line in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    NoOversell,
    Conservation,
    OrdersMatch,
    ClientAgrees,
    NoLostSales,
    NoUndersell,
    // Thresholds a scenario can set; evaluated by the gate.
    MaxP99,
    MinPurchasesPerS,
    MaxGaveUp,
    MaxErrors,
    MaxFalseSoldOut,
    SoldOut,
}

impl CheckId {
    /// The stable identifier, as serialized.
    pub fn key(self) -> &'static str {
        match self {
            CheckId::NoOversell => "no_oversell",
            CheckId::Conservation => "conservation",
            CheckId::OrdersMatch => "orders_match",
            CheckId::ClientAgrees => "client_agrees",
            CheckId::NoLostSales => "no_lost_sales",
            CheckId::NoUndersell => "no_undersell",
            CheckId::MaxP99 => "max_p99",
            CheckId::MinPurchasesPerS => "min_purchases_per_s",
            CheckId::MaxGaveUp => "max_gave_up",
            CheckId::MaxErrors => "max_errors",
            CheckId::MaxFalseSoldOut => "max_false_sold_out",
            CheckId::SoldOut => "sold_out",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CheckId::NoOversell => "no oversell",
            CheckId::Conservation => "conservation",
            CheckId::OrdersMatch => "orders match sold",
            CheckId::ClientAgrees => "client agrees",
            CheckId::NoLostSales => "no lost sales",
            CheckId::NoUndersell => "no undersell",
            CheckId::MaxP99 => "p99 within budget",
            CheckId::MinPurchasesPerS => "purchases/s at least",
            CheckId::MaxGaveUp => "gave up at most",
            CheckId::MaxErrors => "errors at most",
            CheckId::MaxFalseSoldOut => "false sold-outs at most",
            CheckId::SoldOut => "sold out",
        }
    }

    pub fn rule(self) -> &'static str {
        match self {
            CheckId::NoOversell => "sold <= initial and final stock >= 0",
            CheckId::Conservation => "initial = stock + sold",
            CheckId::OrdersMatch => "units in order hashes = sold; no duplicate or dangling orders",
            CheckId::ClientAgrees => "acknowledged <= server orders <= acknowledged + unknown outcomes",
            CheckId::NoLostSales => "nobody told 'sold out' while their quantity is still in stock",
            CheckId::NoUndersell => {
                "nobody gave up (retries exhausted) or failed (unknown outcome) while their quantity is still in stock"
            }
            CheckId::MaxP99 => "p99 latency of all buyers <= max_p99_ms (no samples fails)",
            CheckId::MinPurchasesPerS => "purchases/s >= min_purchases_per_s",
            CheckId::MaxGaveUp => "buyers who gave up <= max_gave_up",
            CheckId::MaxErrors => "buyers with an unknown outcome <= max_errors",
            CheckId::MaxFalseSoldOut => "false sold-outs <= max_false_sold_out",
            CheckId::SoldOut => "final stock read back from Redis is 0",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub passed: bool,
    /// The numbers behind the result.
    pub detail: String,
}

pub fn checks(f: &ServerFacts, t: &Tally) -> Vec<Check> {
    let check = |id, passed, detail: String| Check { id, passed, detail };
    let away = t.turned_away_with_stock(f.stock);
    let duplicates = f.orders - f.distinct_orders;
    vec![
        check(
            CheckId::NoOversell,
            f.oversold() == 0,
            format!(
                "sold {} of {}, stock left {}, oversold {}",
                f.sold,
                f.initial,
                f.stock,
                f.oversold()
            ),
        ),
        check(
            CheckId::Conservation,
            f.initial == f.stock + f.sold,
            format!("{} = {} + {}", f.initial, f.stock, f.sold),
        ),
        check(
            CheckId::OrdersMatch,
            f.order_units == f.sold && duplicates == 0 && f.orders_without_hash == 0,
            format!(
                "{} orders, {} units vs sold {}; {} duplicate, {} without hash",
                f.distinct_orders, f.order_units, f.sold, duplicates, f.orders_without_hash
            ),
        ),
        check(
            CheckId::ClientAgrees,
            t.purchased <= f.distinct_orders && f.distinct_orders <= t.purchased + t.errors,
            format!(
                "{} acknowledged, {} on server, {} unknown",
                t.purchased, f.distinct_orders, t.errors
            ),
        ),
        check(
            CheckId::NoLostSales,
            away.sold_out == 0,
            format!(
                "{} of {} sold-out answers while stock {} remained",
                away.sold_out,
                t.sold_out,
                f.stock.max(0)
            ),
        ),
        check(
            CheckId::NoUndersell,
            away.gave_up + away.errors == 0,
            format!(
                "{} gave up, {} failed while stock {} remained",
                away.gave_up,
                away.errors,
                f.stock.max(0)
            ),
        ),
    ]
}
