//! `decr`: DECRBY and record, with no check at all. Stock goes negative as soon
//! as demand exceeds it.

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
    name: "decr",
    help: "DECRBY with no check at all: stock goes negative (control group)",
    single: Some(|s| super::built(Decr::new(s))),
    cart: None,
    hold: None,
    control: |_| Some(Expect::Oversell),
    tolerates: |_| &[],
    commands: Commands {
        single: &["DECRBY", "HSET", "RPUSH", "INCRBY"],
        cart: &[],
        hold: &[],
    },
};

pub struct Decr {
    pool: Pool,
    keys: Keys,
}

impl Decr {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Ok(Decr {
            pool: setup.connector.shared(2).await?,
            keys: setup.keys,
        })
    }
}

#[async_trait]
impl Strategy for Decr {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let result = async {
            let p = self.pool.next().pipeline();
            let _: () = p.decr_by(self.keys.stock(), i64::from(buyer.qty)).await?;
            queue_order(&p, &self.keys, buyer).await?;
            let _: Vec<Value> = p.all().await?;
            Ok::<_, fred::error::Error>(Attempt::Purchased)
        }
        .await;
        Step {
            attempt: result.unwrap_or_else(Attempt::from),
            round_trips: 1,
            race: None,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
