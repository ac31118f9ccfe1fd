//! `lua` under `--reserve`: hold, confirm, cancel and expire, each one script.

use std::sync::Arc;

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;
use fred::types::Value::Integer;

use super::reaper::{Reaper, BATCH};
use super::Decision;
use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::Keys;
use crate::strategy::{now_us, Attempt, ErrorClass, Failure, Setup, Step, Strategy};

const RESERVE: &str = include_str!("lua/reserve.lua");
const SETTLE: &str = include_str!("lua/settle.lua");
const REAP: &str = include_str!("lua/reap.lua");

pub struct Atomic {
    pool: Pool,
    reserve: Script,
    settle: Script,
    keys: Keys,
    ttl_us: i64,
    reaper: Arc<AtomicReaper>,
}

struct AtomicReaper {
    pool: Pool,
    script: Script,
    keys: Keys,
}

impl Atomic {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let plan = super::plan_of(&setup)?;
        let pool = setup.connector.shared(1).await?;
        let mut scripts = Vec::new();
        for lua in [RESERVE, SETTLE, REAP] {
            let script = Script::from_lua(lua);
            script
                .load(pool.next())
                .await
                .map_err(|e| setup.connector.fail("loading the reservation scripts", e))?;
            scripts.push(script);
        }
        let reap = scripts.pop().expect("three scripts");
        let settle = scripts.pop().expect("three scripts");
        let reserve = scripts.pop().expect("three scripts");
        // The reaper gets a connection of its own: a slow reap never queues
        // behind the crowd's calls, nor theirs behind it.
        let reaper = Arc::new(AtomicReaper {
            pool: setup.connector.shared(plan.reapers as usize).await?,
            script: reap,
            keys: setup.keys.clone(),
        });
        Ok(Atomic {
            pool,
            reserve,
            settle,
            keys: setup.keys,
            ttl_us: i64::try_from(plan.hold_ttl.as_micros()).unwrap_or(i64::MAX),
            reaper,
        })
    }
}

#[async_trait]
impl Strategy for Atomic {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let cart = buyer.lines();
        let k = &self.keys;
        let mut keys = vec![
            k.holds().to_string(),
            k.deadlines().into(),
            k.placed().into(),
        ];
        let mut args = vec![
            Integer(i64::from(buyer.id)),
            Integer(self.ttl_us),
            Value::from(cart.encode()),
        ];
        for l in cart.lines() {
            keys.push(k.stock_of(l.product).into());
            keys.push(k.reserved_of(l.product).into());
            args.push(Integer(i64::from(l.qty)));
        }
        let reply = self
            .reserve
            .evalsha_with_reload::<i64, _, _>(self.pool.next(), keys, args)
            .await;
        let attempt = match reply {
            Ok(1) => Attempt::Purchased,
            Ok(0) => Attempt::SoldOut,
            Ok(-1) => Attempt::HeldElsewhere,
            Ok(other) => unexpected("reserve", other),
            Err(e) => Attempt::from(e),
        };
        Step {
            attempt,
            round_trips: 1,
            race: None,
        }
    }

    async fn settle(&self, buyer: Buyer, how: Decision) -> Step {
        let k = &self.keys;
        let tag = match how {
            Decision::Confirm => "c",
            _ => "x",
        };
        let mut keys = vec![
            k.holds().to_string(),
            k.deadlines().into(),
            k.ended().into(),
            k.orders().into(),
            k.order(buyer.id),
        ];
        let mut args = vec![
            Integer(i64::from(buyer.id)),
            Value::from(tag),
            Integer(now_us()),
        ];
        for l in buyer.lines().lines() {
            keys.push(k.stock_of(l.product).into());
            keys.push(k.sold_of(l.product).into());
            keys.push(k.reserved_of(l.product).into());
            args.push(Value::from(l.product.to_string()));
        }
        let reply = self
            .settle
            .evalsha_with_reload::<i64, _, _>(self.pool.next(), keys, args)
            .await;
        let attempt = match reply {
            Ok(1) => Attempt::Purchased,
            Ok(0) => Attempt::SoldOut,
            Ok(other) => unexpected("settle", other),
            Err(e) => Attempt::from(e),
        };
        Step {
            attempt,
            round_trips: 1,
            race: None,
        }
    }

    fn reaper(&self) -> Option<Arc<dyn Reaper>> {
        Some(self.reaper.clone())
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
        let _ = self.reaper.pool.quit().await;
    }
}

#[async_trait]
impl Reaper for AtomicReaper {
    async fn reap(&self) -> Result<Vec<u64>, fred::error::Error> {
        let k = &self.keys;
        let mut keys = vec![
            k.deadlines().to_string(),
            k.holds().into(),
            k.ended().into(),
        ];
        for p in 0..k.products() {
            keys.push(k.stock_of(p).into());
            keys.push(k.reserved_of(p).into());
        }
        let lags: Vec<i64> = self
            .script
            .evalsha_with_reload(self.pool.next(), keys, BATCH as i64)
            .await?;
        Ok(lags.into_iter().map(|l| l.max(0) as u64).collect())
    }

    async fn open(&self) -> Result<u64, fred::error::Error> {
        self.pool.next().zcard(self.keys.deadlines()).await
    }
}

fn unexpected(script: &str, reply: i64) -> Attempt {
    Attempt::Error(Failure {
        class: ErrorClass::Other,
        message: format!("the {script} script answered {reply}"),
    })
}
