//! `saga`: a cart taken line by line, each line one atomic script on its
//! own product's keys, so a cart's products may sit on different nodes of a
//! cluster (`--spread`), where no one script or MULTI can hold them all.
//! When a later line is sold out, the lines already taken are given back,
//! last first; then the buyer is told "sold out". When every line is taken,
//! the order is written beside the first line's product.
//!
//! Nothing fails, nothing ends half-bought: no oversell, no partial cart.
//! Meanwhile a half-taken cart holds units that may come back, so another
//! buyer can be told "sold out" for them (false sold-outs, by design). The
//! carts that were undone and the lines given back are counted. A failure
//! between its steps (a kill, a lost connection) can leave lines taken and
//! no order: the audit's orders-against-sold check catches that.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;

use super::cart::home;
use super::{now_us, Attempt, Commands, Facts, Setup, Step, Strategy};
use crate::crowd::{Buyer, Line};
use crate::error::Result;
use crate::metrics::Undone;
use crate::outcome::CheckId;
use crate::redis::Keys;

pub(super) const FACTS: Facts = Facts {
    name: "saga",
    help: "carts line by line, each line atomic on its own product, undone on a sold-out line",
    single: None,
    cart: Some(|s| super::built(Saga::new(s))),
    hold: None,
    control: |_| None,
    // Units a half-taken cart holds come back when it is undone: buyers
    // told "sold out" meanwhile were told so falsely, by design.
    tolerates: |_| &[CheckId::NoLostSales],
    commands: Commands {
        single: &[],
        cart: &[
            "EVALSHA",
            "EVAL",
            "SCRIPT|LOAD",
            "GET",
            "DECRBY",
            "INCRBY",
            "HSET",
            "RPUSH",
        ],
        hold: &[],
    },
};

const TAKE: &str = include_str!("lua/saga_take.lua");
const GIVE: &str = include_str!("lua/saga_give.lua");

pub struct Saga {
    pool: Pool,
    take: Script,
    give: Script,
    keys: Keys,
    undone_carts: AtomicU64,
    undone_lines: AtomicU64,
}

impl Saga {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let pool = setup.connector.shared(2).await?;
        let (take, give) = (Script::from_lua(TAKE), Script::from_lua(GIVE));
        for (script, what) in [
            (&take, "the saga's take script"),
            (&give, "its undo script"),
        ] {
            script
                .load(pool.next())
                .await
                .map_err(|e| setup.connector.fail(&format!("loading {what}"), e))?;
        }
        Ok(Saga {
            pool,
            take,
            give,
            keys: setup.keys,
            undone_carts: AtomicU64::new(0),
            undone_lines: AtomicU64::new(0),
        })
    }

    /// Take or give back one line: one script call on its product's keys.
    /// NOSCRIPT (a flush, a restart, a failover) loads it again.
    async fn line(&self, script: &Script, l: &Line) -> Result<i64, fred::error::Error> {
        let keys = vec![self.keys.stock_of(l.product), self.keys.sold_of(l.product)];
        let args = vec![i64::from(l.qty)];
        script
            .evalsha_with_reload(self.pool.next(), keys, args)
            .await
    }

    async fn buy(&self, buyer: &Buyer, trips: &mut u32) -> Result<Attempt, fred::error::Error> {
        let lines = buyer.cart.lines();
        for (i, l) in lines.iter().enumerate() {
            *trips += 1;
            let taken = match self.line(&self.take, l).await {
                Ok(took) => took == 1,
                Err(e) => {
                    // This line's fate is unknown; the ones before it
                    // were taken for sure, so they go back.
                    self.undo(&lines[..i], trips).await;
                    return Err(e);
                }
            };
            if !taken {
                self.undo(&lines[..i], trips).await;
                return Ok(Attempt::SoldOut);
            }
        }
        *trips += 1;
        let home = home(buyer);
        let mut fields: Vec<(String, i64)> = vec![
            ("buyer".into(), i64::from(buyer.id)),
            ("qty".into(), i64::from(buyer.qty)),
            ("at_us".into(), now_us()),
        ];
        fields.extend(
            lines
                .iter()
                .map(|l| (format!("p:{}", l.product), i64::from(l.qty))),
        );
        let p = self.pool.next().pipeline();
        let _: () = p.hset(self.keys.order_of(home, buyer.id), fields).await?;
        let _: () = p.rpush(self.keys.orders_of(home), buyer.id).await?;
        let _: Vec<Value> = p.all().await?;
        Ok(Attempt::Purchased)
    }

    /// Give back `taken`, last first. A give that fails leaves its line
    /// taken, for the audit to find.
    async fn undo(&self, taken: &[Line], trips: &mut u32) {
        if taken.is_empty() {
            return;
        }
        self.undone_carts.fetch_add(1, Ordering::Relaxed);
        for l in taken.iter().rev() {
            *trips += 1;
            if self.line(&self.give, l).await.is_ok() {
                self.undone_lines.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[async_trait]
impl Strategy for Saga {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let mut round_trips = 0;
        let attempt = self
            .buy(&buyer, &mut round_trips)
            .await
            .unwrap_or_else(Attempt::from);
        Step {
            attempt,
            round_trips,
            race: None,
        }
    }

    fn undone(&self) -> Option<Undone> {
        Some(Undone {
            carts: self.undone_carts.load(Ordering::Relaxed),
            lines: self.undone_lines.load(Ordering::Relaxed),
        })
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
