//! `lua`: one EVALSHA per attempt of a script that checks, decrements and
//! records atomically. Redis runs scripts one at a time, so there is no
//! window between the check and the write: one round trip, no retries.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;

use super::{bought_or_sold_out, BuyScriptArgs, Setup, Step, Strategy};
use super::{Commands, Facts};
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

pub struct Lua {
    pool: Pool,
    script: Script,
    args: BuyScriptArgs,
}

impl Lua {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Lua::with_script(setup, BUY).await
    }

    /// A purchase script under the contract of `lua/buy.lua`: the built-in
    /// one, or the user's own (`script` strategy).
    pub async fn with_script(setup: Setup<'_>, lua: &str) -> Result<Self> {
        // One connection: Redis runs scripts one at a time anyway, and fred
        // pipelines every buyer's call onto it. Two measured slower here:
        // fred flushes after every script call, so more connections only
        // add writes and wake-ups per purchase, not server capacity.
        let pool = setup.connector.shared(1).await?;
        let script = Script::from_lua(lua.to_string());
        script
            .load(pool.next())
            .await
            .map_err(|e| setup.connector.fail("loading the purchase script", e))?;
        Ok(Lua {
            pool,
            script,
            args: BuyScriptArgs::new(setup.keys),
        })
    }
}

#[async_trait]
impl Strategy for Lua {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let (keys, args) = self.args.of(buyer);
        // After SCRIPT FLUSH, a restart or a failover the server forgets the
        // script: NOSCRIPT makes fred load it again and retry once.
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
