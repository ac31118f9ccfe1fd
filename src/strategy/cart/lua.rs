//! Cart `lua`: one script checks every line and takes them all, or nothing.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;
use fred::types::Value::Integer;

use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::Keys;
use crate::strategy::{bought_or_sold_out, now_us, Setup, Step, Strategy};

const CART_BUY: &str = include_str!("../lua/cart_buy.lua");

pub struct CartLua {
    pool: Pool,
    script: Script,
    keys: Keys,
}

impl CartLua {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let pool = setup.connector.shared(2).await?;
        let script = Script::from_lua(CART_BUY);
        script
            .load(pool.next())
            .await
            .map_err(|e| setup.connector.fail("loading the cart script", e))?;
        Ok(CartLua {
            pool,
            script,
            keys: setup.keys,
        })
    }

    fn args(&self, buyer: &Buyer) -> (Vec<String>, Vec<Value>) {
        let home = super::home(buyer);
        let mut keys = vec![
            self.keys.orders_of(home).to_string(),
            self.keys.order_of(home, buyer.id),
        ];
        let mut args = vec![Integer(i64::from(buyer.id)), Integer(now_us())];
        for l in buyer.cart.lines() {
            keys.push(self.keys.stock_of(l.product).to_string());
            keys.push(self.keys.sold_of(l.product).to_string());
            args.push(Integer(i64::from(l.product)));
            args.push(Integer(i64::from(l.qty)));
        }
        (keys, args)
    }
}

#[async_trait]
impl Strategy for CartLua {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let (keys, args) = self.args(&buyer);
        // evalsha_with_reload: a flushed script cache costs one EVAL, not an error.
        let reply = self
            .script
            .evalsha_with_reload::<i64, _, _>(self.pool.next(), keys, args)
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
