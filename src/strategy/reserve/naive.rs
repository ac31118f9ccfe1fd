//! `reserve-naive`: the seed's reservations, kept as the control group.
//!
//! Holding is sound (WATCH on the stock, on a connection of its own). Ending
//! a hold is not: confirm, cancel and the reaper each read the hold with
//! HGETALL, then write with a MULTI that nothing guards. Two of them that
//! read the same hold before either writes both act on it: the units go
//! back to stock twice, or a hold the reaper already returned is confirmed.
//! Deadlines come from the client's clock, as in the seed.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use fred::clients::{ExclusivePool, Pool};
use fred::prelude::*;

use super::reaper::{Reaper, BATCH};
use super::Decision;
use crate::crowd::{Buyer, Cart};
use crate::error::Result;
use crate::redis::Keys;
use crate::strategy::{
    now_us, on_own_connection, unwatch_on, watch_cmd, Attempt, Setup, Step, Strategy,
};

pub struct Naive {
    exclusive: ExclusivePool,
    shared: Pool,
    keys: Keys,
    ttl_us: i64,
    reaper: Arc<NaiveReaper>,
}

struct NaiveReaper {
    client: Pool,
    keys: Keys,
}

impl Naive {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let plan = super::plan_of(&setup)?;
        Ok(Naive {
            exclusive: setup.connector.exclusive(setup.connections).await?,
            shared: setup.connector.shared(1).await?,
            reaper: Arc::new(NaiveReaper {
                client: setup.connector.shared(plan.reapers as usize).await?,
                keys: setup.keys.clone(),
            }),
            keys: setup.keys,
            ttl_us: i64::try_from(plan.hold_ttl.as_micros()).unwrap_or(i64::MAX),
        })
    }

    /// The seed's `reserveInventory`: WATCH, read, MULTI, EXEC.
    async fn hold(&self, c: &Client, cart: &Cart, id: u32) -> Result<Attempt, Error> {
        let k = &self.keys;
        let stock: Vec<&str> = cart.lines().iter().map(|l| k.stock_of(l.product)).collect();
        let reserved: Vec<&str> = cart
            .lines()
            .iter()
            .map(|l| k.reserved_of(l.product))
            .collect();
        let p = c.pipeline();
        let _: () = p.custom(watch_cmd(), stock.clone()).await?;
        let _: () = p.mget(stock.clone()).await?;
        let _: () = p.mget(reserved).await?;
        let (_, stocks, held): (String, Vec<Option<i64>>, Vec<Option<i64>>) = p.all().await?;
        let short = cart
            .lines()
            .iter()
            .zip(&stocks)
            .any(|(l, s)| s.unwrap_or(0) < i64::from(l.qty));
        if short {
            unwatch_on(c, stock[0]).await?;
            let elsewhere = held.iter().any(|h| h.unwrap_or(0) > 0);
            return Ok(if elsewhere {
                Attempt::HeldElsewhere
            } else {
                Attempt::SoldOut
            });
        }
        let trx = c.multi();
        let mut lines = Vec::new();
        for l in cart.lines() {
            let _: () = trx.decr_by(k.stock_of(l.product), i64::from(l.qty)).await?;
            let _: () = trx
                .incr_by(k.reserved_of(l.product), i64::from(l.qty))
                .await?;
            lines.push((format!("p:{}", l.product), i64::from(l.qty)));
        }
        let _: () = trx.hset(k.hold(id), lines).await?;
        let deadline = (now_us() + self.ttl_us) as f64;
        let _: () = trx
            .zadd(k.deadlines(), None, None, false, false, (deadline, id))
            .await?;
        let _: () = trx.incr(k.placed()).await?;
        let done: Option<Vec<Value>> = trx.exec(true).await?;
        Ok(match done {
            Some(_) => Attempt::Purchased,
            None => Attempt::Conflict,
        })
    }

    /// The seed's `confirmReservation` / `cancelReservation`: read the
    /// hold, then write without checking it is still there.
    async fn end(&self, id: u32, how: Decision) -> Result<Attempt, Error> {
        let k = &self.keys;
        let hold: HashMap<String, i64> = self.shared.hgetall(k.hold(id)).await?;
        if hold.is_empty() {
            return Ok(Attempt::SoldOut);
        }
        // Another ender can read the same hold right here.
        let c = self.exclusive.acquire().await;
        let trx = c.multi();
        let tag = end_writes(&trx, k, id, &hold, how).await?;
        let _: () = trx.rpush(k.ended(), format!("{id}:{tag}")).await?;
        let _: Option<Vec<Value>> = trx.exec(true).await?;
        Ok(Attempt::Purchased)
    }
}

/// Queue the stock movements of ending `hold` and the order of a confirm;
/// returns the log tag.
async fn end_writes(
    trx: &fred::clients::Transaction,
    k: &Keys,
    id: u32,
    hold: &HashMap<String, i64>,
    how: Decision,
) -> Result<&'static str, Error> {
    let mut total = 0;
    let mut order: Vec<(String, i64)> = vec![("buyer".into(), i64::from(id))];
    for (field, qty) in hold {
        let Some(p) = field.strip_prefix("p:").and_then(|p| p.parse::<u16>().ok()) else {
            continue;
        };
        let back = match how {
            Decision::Confirm => k.sold_of(p),
            _ => k.stock_of(p),
        };
        let _: () = trx.incr_by(back, *qty).await?;
        let _: () = trx.decr_by(k.reserved_of(p), *qty).await?;
        order.push((field.clone(), *qty));
        total += qty;
    }
    let _: () = trx.zrem(k.deadlines(), id).await?;
    let _: () = trx.del(k.hold(id)).await?;
    Ok(match how {
        Decision::Confirm => {
            order.push(("qty".into(), total));
            order.push(("at_us".into(), now_us()));
            let _: () = trx.hset(k.order(id), order).await?;
            let _: () = trx.rpush(k.orders(), id).await?;
            "c"
        }
        Decision::Cancel => "x",
        Decision::Abandon => "e",
    })
}

#[async_trait]
impl Strategy for Naive {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let attempt = on_own_connection(&self.exclusive, async |c| {
            self.hold(c, &buyer.lines(), buyer.id).await
        })
        .await;
        Step {
            attempt,
            round_trips: 2,
            race: None,
        }
    }

    async fn settle(&self, buyer: Buyer, how: Decision) -> Step {
        Step {
            attempt: self.end(buyer.id, how).await.unwrap_or_else(Attempt::from),
            round_trips: 2,
            race: None,
        }
    }

    fn reaper(&self) -> Option<Arc<dyn Reaper>> {
        Some(self.reaper.clone())
    }

    async fn close(&self) {
        let _ = self.exclusive.quit().await;
        let _ = self.shared.quit().await;
        let _ = self.reaper.client.quit().await;
    }
}

#[async_trait]
impl Reaper for NaiveReaper {
    /// The seed's background worker: due ids, then per id read and write.
    async fn reap(&self) -> Result<Vec<u64>, Error> {
        let k = &self.keys;
        let c = self.client.next();
        let now = now_us();
        let due: Value = c
            .zrangebyscore(
                k.deadlines(),
                "-inf",
                now as f64,
                true,
                Some((0, BATCH as i64)),
            )
            .await?;
        let mut lags = Vec::new();
        for (id, deadline) in pairs(due) {
            let hold: HashMap<String, i64> = c.hgetall(k.hold(id)).await?;
            if hold.is_empty() {
                let _: () = c.zrem(k.deadlines(), id).await?;
                continue;
            }
            // A cancel or confirm can read the same hold right here.
            let trx = c.multi();
            end_writes(&trx, k, id, &hold, Decision::Abandon).await?;
            let _: () = trx.rpush(k.ended(), format!("{id}:e")).await?;
            let _: Option<Vec<Value>> = trx.exec(true).await?;
            lags.push((now_us() - deadline).max(0) as u64);
        }
        Ok(lags)
    }

    async fn open(&self) -> Result<u64, Error> {
        self.client.next().zcard(self.keys.deadlines()).await
    }
}

/// ZRANGEBYSCORE … WITHSCORES as (id, deadline µs), flat or paired.
fn pairs(v: Value) -> Vec<(u32, i64)> {
    let mut flat = Vec::new();
    if let Value::Array(items) = v {
        for item in items {
            match item {
                Value::Array(pair) => flat.extend(pair),
                other => flat.push(other),
            }
        }
    }
    flat.chunks(2)
        .filter_map(|c| {
            let id = c.first()?.as_string()?.parse().ok()?;
            let score = c.get(1)?.as_f64()?;
            Some((id, score as i64))
        })
        .collect()
}
