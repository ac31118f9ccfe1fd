//! `script`: the team's own checkout, in Lua, under the same driver, audit
//! and gate as the built-in strategies. The contract is the one of
//! `lua/buy.lua`, documented in the README:
//!   KEYS[1] stock, KEYS[2] sold, KEYS[3] orders list, KEYS[4] the order's hash;
//!   ARGV[1] qty, ARGV[2] order id, ARGV[3] buyer, ARGV[4] time in µs;
//!   return 1 when bought, 0 when sold out; any other reply is an error.

use async_trait::async_trait;

use super::scripted::ScriptedBuy;
use super::{Commands, Facts};
use super::{Setup, Step, Strategy};
use crate::crowd::Buyer;
use crate::error::{Error, Result};

pub(super) const FACTS: Facts = Facts {
    name: "script",
    help: "your own checkout in Lua (--script), under the same audit",
    single: Some(|s| super::built(UserScript::new(s))),
    cart: None,
    hold: None,
    control: |_| None,
    tolerates: |_| &[],
    commands: Commands {
        single: super::lua::BUY_COMMANDS,
        cart: &[],
        hold: &[],
    },
};

pub struct UserScript(ScriptedBuy);

impl UserScript {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let text = setup
            .params
            .script
            .clone()
            .ok_or_else(|| Error::usage("the `script` strategy needs --script FILE"))?;
        // Loaded once on its own first: a compile error names the file and line.
        setup.connector.load_user_script(&text).await?;
        let buy = ScriptedBuy::load(&setup, &text, "the purchase script").await?;
        Ok(UserScript(buy))
    }
}

#[async_trait]
impl Strategy for UserScript {
    async fn attempt(&self, buyer: Buyer) -> Step {
        self.0.buy(buyer, None).await
    }

    async fn close(&self) {
        self.0.close().await;
    }
}
