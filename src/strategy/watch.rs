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
//! the buyers still racing for the last units. Buyers already in line when
//! the last unit goes read again on the shared connection as soon as any
//! buyer reads a stock below what they want (`queue.rs`).

use async_trait::async_trait;
use fred::prelude::*;

use super::queue::{Queue, Turn};
use super::{
    on_held_connection, queue_order, unwatch_on, watch_cmd, Attempt, Setup, Step, Strategy,
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
    queue: Queue,
    keys: Keys,
}

impl Watch {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let exclusive = setup.connector.exclusive(setup.connections).await?;
        let shared = setup.connector.shared(1).await?;
        let pipe = match setup.params.coalesce {
            true => Some(
                setup
                    .connector
                    .pipe(shared.next(), setup.keys.stock())
                    .await?,
            ),
            false => None,
        };
        Ok(Watch {
            queue: Queue::new(exclusive, shared, pipe),
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
        let stock = stock.unwrap_or(0);
        self.queue.saw(stock);
        if stock < qty {
            // Never hand back a connection with a WATCH still armed: the next
            // borrower's EXEC would abort for no reason.
            *round_trips += 1;
            unwatch_on(c, stock_key).await?;
            return Ok(Attempt::SoldOut);
        }
        // MULTI..EXEC as one pipeline: two writes where fred's transaction
        // flushes each of its six commands.
        let p = c.pipeline();
        let _: () = p.custom(raw_on(stock_key, "MULTI"), no_args()).await?;
        let _: () = p.decr_by(stock_key, qty).await?;
        queue_order(&p, &self.keys, buyer).await?;
        let _: () = p.custom(raw_on(stock_key, "EXEC"), no_args()).await?;
        *round_trips += 1;
        let replies: Vec<Value> = p.all().await?;
        // A nil EXEC: aborted, because the watched stock changed.
        Ok(match replies.last() {
            Some(Value::Array(_)) => Attempt::Purchased,
            Some(Value::Null) => Attempt::Conflict,
            other => {
                return Err(fred::error::Error::new(
                    ErrorKind::Protocol,
                    format!("EXEC answered {other:?}"),
                ))
            }
        })
    }
}

#[async_trait]
impl Strategy for Watch {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let mut round_trips = 0;
        let qty = i64::from(buyer.qty);
        // Every buyer in line holds this future: the WATCH round, far the
        // larger part, is boxed and exists only while a connection is held.
        let attempt = match self
            .queue
            .turn(self.keys.stock(), qty, &mut round_trips)
            .await
        {
            Ok(Turn::Own(c)) => {
                let round = on_held_connection(c, async |c| {
                    self.checkout(c, buyer, &mut round_trips).await
                });
                Box::pin(round).await
            }
            Ok(Turn::SoldOut) => Attempt::SoldOut,
            Err(e) => Attempt::from(e),
        };
        Step {
            attempt,
            round_trips,
            race: None,
        }
    }

    async fn close(&self) {
        self.queue.quit().await;
    }
}

/// A keyless command sent to the node that holds `key`.
fn raw_on(key: &str, name: &'static str) -> fred::types::CustomCommand {
    let slot = fred::util::redis_keyslot(key.as_bytes());
    fred::types::CustomCommand::new_static(name, fred::types::ClusterHash::Custom(slot), false)
}

fn no_args() -> Vec<Value> {
    Vec::new()
}
