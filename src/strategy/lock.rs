//! `lock` and `lock-fenced`: a Redis lock around a check-then-act.
//!
//! Acquire with SET NX PX (a lock that expires on its own if its holder
//! dies), read and check the stock, take the units and record the order,
//! release with a script that deletes the lock only if it is still ours.
//! A contended acquisition is a conflict: the driver backs off and retries.
//!
//! The lock is only as good as its TTL. `--hold-pause` stalls the holder
//! between its read and its write; past the TTL the lock expires, a second
//! buyer acquires it and reads the same stock, and both sell the last units.
//! `lock-fenced` takes a fencing token at acquisition and writes through a
//! script that refuses a token which is no longer the latest issued, so the
//! stale holder's write is rejected (and retried) instead of overselling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;

use super::{now_us, queue_order, sold_out_already, Attempt, Setup, Step, Strategy};
use super::{Commands, Facts};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::outcome::CheckId;
use crate::outcome::Expect;
use crate::redis::Keys;

const UNLOCK: &str = include_str!("lua/unlock.lua");
const ACQUIRE_FENCED: &str = include_str!("lua/lock_fenced.lua");
const FENCED_BUY: &str = include_str!("lua/fenced_buy.lua");

/// Both locks send the same commands: the fence is one more script.
const COMMANDS: Commands = Commands {
    single: &[
        "GET",
        "DECRBY",
        "SET",
        "DEL",
        "INCR",
        "EVALSHA",
        "SCRIPT|LOAD",
        "HSET",
        "RPUSH",
        "INCRBY",
    ],
    cart: &[],
    hold: &[],
};

pub(super) const FACTS: Facts = Facts {
    name: "lock",
    help: "SET NX PX around check-then-act: oversells when a holder outlives it",
    single: Some(|s| super::built(Lock::new(s, false))),
    cart: None,
    hold: None,
    // A holder paused past its TTL writes after the next one read.
    control: |p| pauses_past_ttl(p).then_some(Expect::Oversell),
    tolerates: |_| &[],
    commands: COMMANDS,
};

pub(super) const FENCED_FACTS: Facts = Facts {
    name: "lock-fenced",
    help: "the lock plus a fencing token: writes of stale holders are refused",
    single: Some(|s| super::built(Lock::new(s, true))),
    cart: None,
    hold: None,
    // Sound, but holders stalled past their TTL have every stale write
    // refused: safe, yet starved, the refusals outlasting the buyers'
    // retries (undersell, shown and tolerated).
    control: |p| pauses_past_ttl(p).then_some(Expect::Starved),
    tolerates: |p| {
        if pauses_past_ttl(p) {
            &[CheckId::NoUndersell]
        } else {
            &[]
        }
    },
    commands: COMMANDS,
};

/// A holder paused as long as its lock lives, or longer: the lease set
/// with PX ttl has expired by the time the holder writes (its pause starts
/// after the acquisition and the read), so a second holder can get in.
pub(crate) fn pauses_past_ttl(p: &super::Params) -> bool {
    !p.hold_pause.is_zero() && p.hold_pause >= p.lock_ttl
}

pub struct Lock {
    /// Stock pre-checks and acquisition attempts: the contended traffic.
    pool: Pool,
    /// The holder's own commands, so a critical section never queues behind
    /// thousands of other buyers' acquisition attempts on the same pipeline.
    holder: Pool,
    keys: Keys,
    ttl: Duration,
    pause: Duration,
    fenced: bool,
    unlock: Script,
    acquire_fenced: Script,
    fenced_buy: Script,
    /// Makes every lock token unique, so a release never frees a lock
    /// taken by a later attempt of the same buyer.
    nonce: AtomicU64,
}

impl Lock {
    pub async fn new(setup: Setup<'_>, fenced: bool) -> Result<Self> {
        let pool = setup.connector.shared(2).await?;
        let scripts = [
            Script::from_lua(UNLOCK),
            Script::from_lua(ACQUIRE_FENCED),
            Script::from_lua(FENCED_BUY),
        ];
        for s in &scripts {
            s.load(pool.next())
                .await
                .map_err(|e| setup.connector.fail("loading the lock scripts", e))?;
        }
        let [unlock, acquire_fenced, fenced_buy] = scripts;
        Ok(Lock {
            pool,
            holder: setup.connector.shared(1).await?,
            keys: setup.keys,
            ttl: setup.params.lock_ttl,
            pause: setup.params.hold_pause,
            fenced,
            unlock,
            acquire_fenced,
            fenced_buy,
            nonce: AtomicU64::new(0),
        })
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis())
            .unwrap_or(i64::MAX)
            .max(1)
    }

    /// Take the lock: Some(fencing token, 0 when unfenced) or None if held.
    async fn acquire(&self, token: &str) -> Result<Option<i64>, fred::error::Error> {
        if self.fenced {
            let keys = vec![self.keys.lock().to_string(), self.keys.fence().to_string()];
            let fence: i64 = self
                .acquire_fenced
                .evalsha_with_reload(
                    self.pool.next(),
                    keys,
                    vec![token.to_string(), self.ttl_ms().to_string()],
                )
                .await?;
            return Ok((fence > 0).then_some(fence));
        }
        let set: Option<String> = self
            .pool
            .set(
                self.keys.lock(),
                token,
                Some(Expiration::PX(self.ttl_ms())),
                Some(SetOptions::NX),
                false,
            )
            .await?;
        Ok(set.map(|_| 0))
    }

    async fn critical(
        &self,
        buyer: Buyer,
        fence: i64,
        round_trips: &mut u32,
    ) -> Result<Attempt, fred::error::Error> {
        *round_trips += 1;
        let stock: Option<i64> = self.holder.get(self.keys.stock()).await?;
        if stock.unwrap_or(0) < i64::from(buyer.qty) {
            return Ok(Attempt::SoldOut);
        }
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        *round_trips += 1;
        if self.fenced {
            let k = &self.keys;
            let keys = vec![
                k.fence().to_string(),
                k.stock().to_string(),
                k.sold().to_string(),
                k.orders().to_string(),
                k.order(buyer.id),
            ];
            let id = buyer.id.to_string();
            let args = vec![
                fence.to_string(),
                buyer.qty.to_string(),
                id.clone(),
                id,
                now_us().to_string(),
            ];
            let written: i64 = self
                .fenced_buy
                .evalsha_with_reload(self.holder.next(), keys, args)
                .await?;
            return Ok(if written == 1 {
                Attempt::Purchased
            } else {
                Attempt::Conflict
            });
        }
        let p = self.holder.next().pipeline();
        let _: () = p.decr_by(self.keys.stock(), i64::from(buyer.qty)).await?;
        queue_order(&p, &self.keys, buyer).await?;
        let _: Vec<Value> = p.all().await?;
        Ok(Attempt::Purchased)
    }
}

#[async_trait]
impl Strategy for Lock {
    async fn attempt(&self, buyer: Buyer) -> Step {
        // Once the stock is gone, one read answers: no lock needed to learn
        // that, and no acquisition storm from buyers who cannot buy anyway.
        if let Some(answer) = sold_out_already(&self.pool, &self.keys, buyer).await {
            return answer;
        }
        let token = format!(
            "{}:{}",
            buyer.id,
            self.nonce.fetch_add(1, Ordering::Relaxed)
        );
        let mut round_trips = 2;
        let attempt = match self.acquire(&token).await {
            Ok(None) => Attempt::Conflict,
            Err(e) => {
                // The SET NX may have landed before the error: release with
                // our token, or everyone else waits out the whole TTL.
                let _: Result<i64, _> = self
                    .unlock
                    .evalsha_with_reload(self.holder.next(), self.keys.lock(), token)
                    .await;
                Attempt::from(e)
            }
            Ok(Some(fence)) => {
                let attempt = self
                    .critical(buyer, fence, &mut round_trips)
                    .await
                    .unwrap_or_else(Attempt::from);
                // Release on every path. If it fails the lock still expires
                // with its TTL; the purchase outcome stands either way.
                round_trips += 1;
                let _: Result<i64, _> = self
                    .unlock
                    .evalsha_with_reload(self.holder.next(), self.keys.lock(), token)
                    .await;
                attempt
            }
        };
        Step {
            attempt,
            round_trips,
            race: None,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
        let _ = self.holder.quit().await;
    }
}
