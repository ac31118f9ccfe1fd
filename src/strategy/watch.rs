//! `watch`: optimistic locking with WATCH/MULTI/EXEC.
//!
//! A WATCH only holds on the connection that sent it, so every attempt
//! borrows a connection of its own from an exclusive pool and keeps it from
//! WATCH to EXEC. An aborted EXEC is `Ok(None)`: someone changed the stock
//! after our read, and the driver backs off and retries.
//!
//! A buyer first reads the stock on a shared, pipelined connection. If it is
//! already too low the answer is "sold out" without taking an exclusive
//! connection: the same answer WATCH+GET would give, at a fraction of the
//! cost, so the crowd that arrives after the sell-out does not queue behind
//! the buyers still racing for the last units.

use async_trait::async_trait;
use fred::clients::{ExclusivePool, Pool};
use fred::prelude::*;

use super::{
    on_own_connection, queue_order, sold_out_already, unwatch_on, watch_cmd, Attempt, Setup, Step,
    Strategy,
};
use super::{Commands, Facts};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::Keys;

pub(super) const FACTS: Facts = Facts {
    name: "watch",
    help: "optimistic locking: WATCH, read, MULTI/EXEC, retry when it aborts",
    single: Some(|s| super::built(Watch::new(s))),
    cart: Some(super::cart::WATCH),
    hold: None,
    control: |_| None,
    tolerates: |_| &[],
    commands: Commands {
        single: &[
            "GET", "DECRBY", "WATCH", "UNWATCH", "MULTI", "EXEC", "HSET", "RPUSH", "INCRBY",
        ],
        cart: &[
            "GET", "DECRBY", "WATCH", "UNWATCH", "MULTI", "EXEC", "HSET", "RPUSH", "INCRBY", "MGET",
        ],
        hold: &[],
    },
};

pub struct Watch {
    pool: ExclusivePool,
    shared: Pool,
    keys: Keys,
}

impl Watch {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Ok(Watch {
            pool: setup.connector.exclusive(setup.connections).await?,
            shared: setup.connector.shared(1).await?,
            keys: setup.keys,
        })
    }

    /// One WATCH..EXEC round on a connection nobody else is using.
    async fn checkout(
        &self,
        c: &Client,
        buyer: Buyer,
        round_trips: &mut u32,
    ) -> Result<Attempt, fred::error::Error> {
        let stock_key = self.keys.stock();
        let qty = i64::from(buyer.qty);
        // Buyers who queued for a connection while the last units went find
        // out with one plain read, without arming a WATCH that would then
        // need an UNWATCH round trip to disarm.
        *round_trips += 1;
        let stock: Option<i64> = c.get(stock_key).await?;
        if stock.unwrap_or(0) < qty {
            return Ok(Attempt::SoldOut);
        }
        // WATCH and GET leave in one write: one round trip, same connection,
        // in order, so the read happens under the watch. (fred's typed
        // `watch` insists on an immediate OK, which a pipeline cannot give;
        // the raw command can.)
        *round_trips += 1;
        let p = c.pipeline();
        let _: () = p.custom(watch_cmd(), vec![stock_key]).await?;
        let _: () = p.get(stock_key).await?;
        let (watched, stock): (String, Option<i64>) = p.all().await?;
        if watched != "OK" {
            return Err(fred::error::Error::new(
                ErrorKind::Protocol,
                format!("WATCH answered {watched}"),
            ));
        }
        if stock.unwrap_or(0) < qty {
            // Never hand back a connection with a WATCH still armed: the next
            // borrower's EXEC would abort for no reason.
            *round_trips += 1;
            unwatch_on(c, stock_key).await?;
            return Ok(Attempt::SoldOut);
        }
        let trx = c.multi();
        let _: () = trx.decr_by(stock_key, qty).await?;
        queue_order(&trx, &self.keys, buyer).await?;
        // None = EXEC aborted because the watched stock changed.
        *round_trips += 1;
        let committed: Option<Vec<i64>> = trx.exec(true).await?;
        Ok(match committed {
            Some(_) => Attempt::Purchased,
            None => Attempt::Conflict,
        })
    }
}

#[async_trait]
impl Strategy for Watch {
    async fn attempt(&self, buyer: Buyer) -> Step {
        if let Some(answer) = sold_out_already(&self.shared, &self.keys, buyer).await {
            return answer;
        }
        let mut round_trips = 1;
        let attempt = on_own_connection(&self.pool, async |c| {
            self.checkout(c, buyer, &mut round_trips).await
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
    }
}
