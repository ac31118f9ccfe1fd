//! `broken`: GET the stock, compare, DECRBY, record. The gap between the read
//! and the write is the race every flash sale has lost money to; this is the
//! control group that proves the audit can see an oversell.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;

use super::{queue_order, Attempt, Setup, Step, Strategy};
use super::{Commands, Facts};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::outcome::Expect;
use crate::redis::Keys;

pub(super) const FACTS: Facts = Facts {
    name: "broken",
    help: "GET, compare, DECRBY: the race flash sales lose (control group)",
    single: Some(|s| super::built(Broken::new(s))),
    cart: Some(super::cart::BROKEN),
    hold: None,
    control: |_| Some(Expect::Oversell),
    tolerates: |_| &[],
    commands: Commands {
        single: &["GET", "DECRBY", "HSET", "RPUSH", "INCRBY"],
        cart: &["GET", "DECRBY", "HSET", "RPUSH", "INCRBY", "MGET"],
        hold: &[],
    },
};

pub struct Broken {
    pool: Pool,
    keys: Keys,
}

impl Broken {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Ok(Broken {
            pool: setup.connector.shared(2).await?,
            keys: setup.keys,
        })
    }
}

#[async_trait]
impl Strategy for Broken {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let mut round_trips = 1;
        let result = async {
            let stock: Option<i64> = self.pool.get(self.keys.stock()).await?;
            if stock.unwrap_or(0) < i64::from(buyer.qty) {
                return Ok(Attempt::SoldOut);
            }
            // Another buyer can decrement right here, after our check.
            round_trips += 1;
            let p = self.pool.next().pipeline();
            let _: () = p.decr_by(self.keys.stock(), i64::from(buyer.qty)).await?;
            queue_order(&p, &self.keys, buyer).await?;
            let _: Vec<Value> = p.all().await?;
            Ok::<_, fred::error::Error>(Attempt::Purchased)
        }
        .await;
        Step {
            attempt: result.unwrap_or_else(Attempt::from),
            round_trips,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
