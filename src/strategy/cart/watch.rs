//! Cart `watch`: WATCH every line's stock key, MGET them, and queue every
//! decrement and the order in one MULTI. A change to any watched product
//! aborts the EXEC (`Ok(None)`), and the driver retries the whole cart.
//!
//! As in the single-product `watch`, each attempt owns an exclusive
//! connection from WATCH to EXEC: a WATCH only holds on its connection.

use async_trait::async_trait;
use fred::clients::{ExclusivePool, Pool};
use fred::prelude::*;

use super::{cart_fits, queue_cart, stock_keys};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::Keys;
use crate::strategy::{on_own_connection, unwatch_on, watch_cmd, Attempt, Setup, Step, Strategy};

pub struct CartWatch {
    pool: ExclusivePool,
    shared: Pool,
    keys: Keys,
}

impl CartWatch {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Ok(CartWatch {
            pool: setup.connector.exclusive(setup.connections).await?,
            shared: setup.connector.shared(1).await?,
            keys: setup.keys,
        })
    }

    async fn checkout(
        &self,
        c: &Client,
        buyer: &Buyer,
        round_trips: &mut u32,
    ) -> Result<Attempt, fred::error::Error> {
        let stock_keys = stock_keys(&self.keys, buyer);
        // WATCH and MGET leave in one write, in order, on this connection:
        // the read happens under the watch.
        *round_trips += 1;
        let p = c.pipeline();
        let _: () = p.custom(watch_cmd(), stock_keys.clone()).await?;
        let _: () = p.mget(stock_keys.clone()).await?;
        let (watched, stocks): (String, Vec<Option<i64>>) = p.all().await?;
        if watched != "OK" {
            return Err(fred::error::Error::new(
                ErrorKind::Protocol,
                format!("WATCH answered {watched}"),
            ));
        }
        if !cart_fits(buyer, &stocks) {
            // Never hand back a connection with a WATCH still armed.
            *round_trips += 1;
            unwatch_on(c, &stock_keys[0]).await?;
            return Ok(Attempt::SoldOut);
        }
        let trx = c.multi();
        queue_cart(&trx, &self.keys, buyer).await?;
        *round_trips += 1;
        let committed: Option<Vec<Value>> = trx.exec(true).await?;
        Ok(match committed {
            Some(_) => Attempt::Purchased,
            None => Attempt::Conflict,
        })
    }
}

#[async_trait]
impl Strategy for CartWatch {
    async fn attempt(&self, buyer: Buyer) -> Step {
        // A cart whose lines are already short is sold out without taking an
        // exclusive connection: the same answer WATCH+MGET would give.
        match self
            .shared
            .mget::<Vec<Option<i64>>, _>(stock_keys(&self.keys, &buyer))
            .await
        {
            Ok(stocks) if !cart_fits(&buyer, &stocks) => {
                return Step {
                    attempt: Attempt::SoldOut,
                    round_trips: 1,
                    race: None,
                }
            }
            Ok(_) => {}
            Err(e) => {
                return Step {
                    attempt: Attempt::from(e),
                    round_trips: 1,
                    race: None,
                }
            }
        }
        let mut round_trips = 1;
        let attempt = on_own_connection(&self.pool, async |c| {
            self.checkout(c, &buyer, &mut round_trips).await
        })
        .await;
        Step {
            attempt,
            round_trips,
            race: None,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
        let _ = self.shared.quit().await;
    }
}
