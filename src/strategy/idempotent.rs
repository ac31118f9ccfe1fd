//! `idempotent`: `lua`'s purchase behind the buyer's idempotency key. A
//! buyer whose attempt ended in an unknown outcome (a dropped connection, a
//! timeout) and who tries again with `--retry-unknown` gets the first
//! attempt's result replayed when that attempt did run, so a retry can never
//! buy twice, and the unknown outcome is resolved by the answer.

use async_trait::async_trait;

use super::scripted::{Extra, ScriptedBuy};
use super::{Commands, Facts, Setup, Step, Strategy};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::{Keys, SAFETY_TTL};

const BUY: &str = include_str!("lua/idempotent_buy.lua");

pub(super) const FACTS: Facts = Facts {
    name: "idempotent",
    help: "as lua, keyed by the buyer's idempotency key: a retry replays the first result",
    single: Some(|s| super::built(Idempotent::new(s))),
    cart: None,
    hold: None,
    control: |_| None,
    tolerates: |_| &[],
    commands: Commands {
        single: &[
            "GET",
            "SET",
            "DECRBY",
            "EVALSHA",
            "SCRIPT|LOAD",
            "HSET",
            "RPUSH",
            "INCRBY",
        ],
        cart: &[],
        hold: &[],
    },
};

pub struct Idempotent {
    buy: ScriptedBuy,
    keys: Keys,
}

impl Idempotent {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let buy = ScriptedBuy::load(&setup, BUY, "the idempotent purchase script").await?;
        Ok(Idempotent {
            buy,
            keys: setup.keys,
        })
    }
}

#[async_trait]
impl Strategy for Idempotent {
    async fn attempt(&self, buyer: Buyer) -> Step {
        // The buyer id is the idempotency key: a buyer checks out once per
        // run, and every retry of that checkout carries the same key.
        let extra = Extra {
            key: self.keys.idem(buyer.id),
            arg: SAFETY_TTL.as_secs() as i64,
        };
        self.buy.buy(buyer, Some(extra)).await
    }

    async fn close(&self) {
        self.buy.close().await;
    }
}
