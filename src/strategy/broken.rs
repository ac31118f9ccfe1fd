//! `broken`: GET the stock, compare, DECRBY, record. The gap between the read
//! and the write is the race every flash sale has lost money to; this is the
//! control group that proves the audit can see an oversell.
//!
//! `--gap` adds the application's own work inside that window, as a real
//! handler has: with it an open-model run at modest rates oversells too.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use tokio::time::Instant;

use super::gap::Gap;
use super::{queue_order, Attempt, Seen, Setup, Step, Strategy};
use super::{Commands, Facts};
use crate::crowd::{Buyer, DurationRange};
use crate::error::Result;
use crate::outcome::Expect;
use crate::redis::Keys;

pub(super) const FACTS: Facts = Facts {
    name: "broken",
    help: "GET, compare, DECRBY: the race flash sales lose (control group)",
    single: Some(|s| super::built(Broken::new(s))),
    cart: Some(super::cart::BROKEN),
    hold: None,
    control: |_| Some(Expect::Oversell),
    tolerates: |_| &[],
    commands: Commands {
        single: &["GET", "DECRBY", "HSET", "RPUSH", "INCRBY"],
        cart: &["GET", "DECRBY", "HSET", "RPUSH", "INCRBY", "MGET"],
        hold: &[],
    },
};

pub struct Broken {
    pool: Pool,
    keys: Keys,
    gap: Gap,
}

impl Broken {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let p = &setup.params;
        Ok(Broken {
            pool: setup.connector.shared(2).await?,
            gap: Gap::new(p.gap.unwrap_or(DurationRange::ZERO), p.seed),
            keys: setup.keys,
        })
    }
}

/// Check, wait out the gap, act: the race, with what the server answered.
pub(super) async fn check_then_act(
    pool: &Pool,
    keys: &Keys,
    buyer: Buyer,
    gap: &Gap,
    seen: &mut Option<Seen>,
) -> Result<Attempt, fred::error::Error> {
    let stock: Option<i64> = pool.get(keys.stock()).await?;
    let read = stock.unwrap_or(0);
    let mine = seen.insert(Seen {
        read,
        read_at: Instant::now(),
        wrote: None,
        server: None,
    });
    if read < i64::from(buyer.qty) {
        return Ok(Attempt::SoldOut);
    }
    // Another buyer can decrement right here, after our check.
    gap.pass(&buyer).await;
    let p = pool.next().pipeline();
    let _: () = p.decr_by(keys.stock(), i64::from(buyer.qty)).await?;
    queue_order(&p, keys, buyer).await?;
    let replies: Vec<Value> = p.all().await?;
    // The DECRBY reply is the stock this write left: the server's own order.
    if let Some(left) = replies.first().and_then(Value::as_i64) {
        mine.wrote = Some((left, Instant::now()));
    }
    Ok(Attempt::Purchased)
}

#[async_trait]
impl Strategy for Broken {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let mut race = None;
        let result = check_then_act(&self.pool, &self.keys, buyer, &self.gap, &mut race).await;
        Step {
            attempt: result.unwrap_or_else(Attempt::from),
            // The write's round trip only if the check let it happen.
            round_trips: if race.is_some_and(|s| s.read >= i64::from(buyer.qty)) {
                2
            } else {
                1
            },
            race,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
