//! Cart `broken`: read every line's stock, then take every line. Between the
//! read and the writes other carts take the same units: products oversell.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;

use super::{cart_fits, queue_cart, stock_keys};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::Keys;
use crate::strategy::{Attempt, Setup, Step, Strategy};

pub struct CartBroken {
    pool: Pool,
    keys: Keys,
}

impl CartBroken {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Ok(CartBroken {
            pool: setup.connector.shared(2).await?,
            keys: setup.keys,
        })
    }
}

#[async_trait]
impl Strategy for CartBroken {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let mut round_trips = 1;
        let result = async {
            // One GET per line in one write: MGET would need every line in
            // one slot, which spread products on a cluster are not.
            let reads = self.pool.next().pipeline();
            for key in stock_keys(&self.keys, &buyer) {
                let _: () = reads.get(key).await?;
            }
            let stocks: Vec<Option<i64>> = reads.all().await?;
            if !cart_fits(&buyer, &stocks) {
                return Ok(Attempt::SoldOut);
            }
            // Other carts take the same units right here, after our check.
            round_trips += 1;
            let p = self.pool.next().pipeline();
            queue_cart(&p, &self.keys, &buyer).await?;
            let _: Vec<Value> = p.all().await?;
            Ok::<_, fred::error::Error>(Attempt::Purchased)
        }
        .await;
        Step {
            attempt: result.unwrap_or_else(Attempt::from),
            round_trips,
            race: None,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
