//! A purchase that is one script call: the script is loaded once on a
//! shared, pipelined connection, then every attempt is one EVALSHA of
//! `lua/buy.lua`'s contract (KEYS and ARGV from [`BuyScriptArgs`], plus
//! whatever a variant appends). `lua`, `script` and `idempotent` are this.

use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;
use fred::types::Key;

use super::{bought_or_sold_out, BuyScriptArgs, Setup, Step};
use crate::crowd::Buyer;
use crate::error::Result;

pub(super) struct ScriptedBuy {
    pool: Pool,
    script: Script,
    args: BuyScriptArgs,
}

impl ScriptedBuy {
    /// Load `lua`; a failure is blamed as `loading <what>`.
    pub(super) async fn load(setup: &Setup<'_>, lua: &str, what: &str) -> Result<Self> {
        // One connection: Redis runs scripts one at a time anyway, and fred
        // pipelines every buyer's call onto it. Two measured slower here:
        // fred flushes after every script call, so more connections only
        // add writes and wake-ups per purchase, not server capacity.
        let pool = setup.connector.shared(1).await?;
        let script = Script::from_lua(lua.to_string());
        script
            .load(pool.next())
            .await
            .map_err(|e| setup.connector.fail(&format!("loading {what}"), e))?;
        Ok(ScriptedBuy {
            pool,
            script,
            args: BuyScriptArgs::new(setup.keys.clone()),
        })
    }

    /// The buyer's KEYS and ARGV, for a variant to extend.
    pub(super) fn args(&self, buyer: Buyer) -> (Vec<Key>, Vec<Value>) {
        self.args.of(buyer)
    }

    /// One attempt: one EVALSHA, its reply read as bought or sold out.
    pub(super) async fn call(&self, keys: Vec<Key>, args: Vec<Value>) -> Step {
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

    pub(super) async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
