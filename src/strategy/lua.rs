//! `lua`: one EVALSHA per attempt of a script that checks, decrements and
//! records atomically. Redis runs scripts one at a time, so there is no
//! window between the check and the write: one round trip, no retries.

use async_trait::async_trait;

use super::scripted::ScriptedBuy;
use super::{Commands, Facts, Setup, Step, Strategy};
use crate::crowd::Buyer;
use crate::error::Result;

pub(crate) const BUY: &str = include_str!("lua/buy.lua");

/// What one single-item purchase sends: the same for `script`, which runs
/// the user's checkout through this strategy.
pub(super) const BUY_COMMANDS: &[&str] = &[
    "GET",
    "DECRBY",
    "EVALSHA",
    "SCRIPT|LOAD",
    "HSET",
    "RPUSH",
    "INCRBY",
];

pub(super) const FACTS: Facts = Facts {
    name: "lua",
    help: "one script checks, decrements and records atomically",
    single: Some(|s| super::built(Lua::new(s))),
    cart: Some(super::cart::LUA),
    hold: Some(super::reserve::ATOMIC),
    control: |_| None,
    tolerates: |_| &[],
    commands: Commands {
        single: BUY_COMMANDS,
        cart: &[
            "GET",
            "DECRBY",
            "EVALSHA",
            "SCRIPT|LOAD",
            "HSET",
            "RPUSH",
            "INCRBY",
            "MGET",
        ],
        hold: &[
            "GET",
            "DECRBY",
            "EVALSHA",
            "SCRIPT|LOAD",
            "HSET",
            "RPUSH",
            "INCRBY",
            "MGET",
            "INCR",
            "HGET",
            "HDEL",
            "HGETALL",
            "HLEN",
            "DEL",
            "ZADD",
            "ZREM",
            "ZSCORE",
            "ZCARD",
            "ZRANGEBYSCORE",
            "TIME",
        ],
    },
};

pub struct Lua(ScriptedBuy);

impl Lua {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let buy = ScriptedBuy::load(&setup, BUY, "the purchase script").await?;
        Ok(Lua(buy))
    }
}

#[async_trait]
impl Strategy for Lua {
    async fn attempt(&self, buyer: Buyer) -> Step {
        self.0.buy(buyer, None).await
    }

    async fn close(&self) {
        self.0.close().await;
    }
}
