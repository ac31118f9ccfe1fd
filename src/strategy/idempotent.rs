//! `idempotent`: `lua`'s purchase behind the buyer's idempotency key. A
//! buyer whose attempt ended in an unknown outcome (a dropped connection, a
//! timeout) and who tries again with `--retry-unknown` gets the first
//! attempt's result replayed when that attempt did run, so a retry can never
//! buy twice, and the unknown outcome is resolved by the answer.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;

use super::{bought_or_sold_out, BuyScriptArgs, Setup, Step, Strategy};
use super::{Commands, Facts};
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
    pool: Pool,
    script: Script,
    args: BuyScriptArgs,
    keys: Keys,
}

impl Idempotent {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        // One pipelined connection, as `lua`: the server runs scripts one at
        // a time, more connections add no capacity.
        let pool = setup.connector.shared(1).await?;
        let script = Script::from_lua(BUY.to_string());
        script.load(pool.next()).await.map_err(|e| {
            setup
                .connector
                .fail("loading the idempotent purchase script", e)
        })?;
        Ok(Idempotent {
            pool,
            script,
            args: BuyScriptArgs::new(setup.keys.clone()),
            keys: setup.keys,
        })
    }
}

#[async_trait]
impl Strategy for Idempotent {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let (mut keys, mut args) = self.args.of(buyer);
        // The buyer id is the idempotency key: a buyer checks out once per
        // run, and every retry of that checkout carries the same key.
        keys.push(self.keys.idem(buyer.id).into());
        args.push(Value::Integer(SAFETY_TTL.as_secs() as i64));
        let reply = self
            .script
            .evalsha_with_reload(self.pool.next(), keys, args)
            .await;
        Step {
            attempt: bought_or_sold_out(reply),
            round_trips: 1,
            race: None,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
