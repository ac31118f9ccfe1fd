//! `compensate`: DECRBY first; if the result went below zero, INCRBY the
//! units back and answer "sold out". It never ends oversold, but while one
//! buyer's decrement is in flight the stock reads negative, so a concurrent
//! buyer can be told "sold out" for units that come back a moment later:
//! false sold-outs, which the audit counts whenever stock remains at the end.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;

use super::{queue_order, Attempt, Setup, Step, Strategy};
use super::{Commands, Facts};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::outcome::CheckId;
use crate::redis::Keys;

pub(super) const FACTS: Facts = Facts {
    name: "compensate",
    help: "DECRBY first, INCRBY back when below zero: safe, with false sold-outs",
    single: Some(|s| super::built(Compensate::new(s))),
    cart: None,
    hold: None,
    control: |_| None,
    // A transient negative makes concurrent buyers see "sold out" although
    // the units come back: false sold-outs, by design.
    tolerates: |_| &[CheckId::NoLostSales],
    commands: Commands {
        single: &["DECRBY", "INCRBY", "HSET", "RPUSH"],
        cart: &[],
        hold: &[],
    },
};

pub struct Compensate {
    pool: Pool,
    keys: Keys,
}

impl Compensate {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Ok(Compensate {
            pool: setup.connector.shared(2).await?,
            keys: setup.keys,
        })
    }

    async fn buy(&self, buyer: Buyer) -> Result<Attempt, fred::error::Error> {
        let qty = i64::from(buyer.qty);
        let left: i64 = self.pool.decr_by(self.keys.stock(), qty).await?;
        if left < 0 {
            let _: i64 = self.pool.incr_by(self.keys.stock(), qty).await?;
            return Ok(Attempt::SoldOut);
        }
        let p = self.pool.next().pipeline();
        queue_order(&p, &self.keys, buyer).await?;
        let _: Vec<Value> = p.all().await?;
        Ok(Attempt::Purchased)
    }
}

#[async_trait]
impl Strategy for Compensate {
    async fn attempt(&self, buyer: Buyer) -> Step {
        Step {
            attempt: self.buy(buyer).await.unwrap_or_else(Attempt::from),
            round_trips: 2,
            race: None,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
