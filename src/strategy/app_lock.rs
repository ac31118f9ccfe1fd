//! `app-lock`: the check-then-act of `broken`, guarded by an in-memory mutex
//! in the application process. `--app-servers K` simulates K processes, each
//! with its own mutex, buyers spread over them round-robin. With K=1 the
//! mutex serialises every buyer and it is correct; with K>1 the processes
//! exclude nobody but themselves, and it oversells like `broken`.
//!
//! `--app-work` is the request's own work between the read and the write
//! (validation, pricing). Without it the window between one server's read and
//! its write is a single round trip and the oversell a matter of luck; with
//! a millisecond of work, as any real handler has, the other servers read
//! inside it and the last units go twice.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;
use tokio::sync::Mutex;

use super::{queue_order, Attempt, Setup, Step, Strategy};
use super::{Commands, Facts};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::outcome::Expect;
use crate::redis::Keys;

pub(super) const FACTS: Facts = Facts {
    name: "app-lock",
    help: "a mutex in each app server (--app-servers): oversells with several",
    single: Some(|s| super::built(AppLock::new(s))),
    cart: None,
    hold: None,
    // K processes with K private mutexes exclude nobody across them.
    control: |p| (p.app_servers > 1).then_some(Expect::Oversell),
    tolerates: |_| &[],
    commands: Commands {
        single: &["GET", "DECRBY", "HSET", "RPUSH", "INCRBY"],
        cart: &[],
        hold: &[],
    },
};

pub struct AppLock {
    pool: Pool,
    keys: Keys,
    /// One mutex per simulated app server.
    servers: Vec<Mutex<()>>,
    work: std::time::Duration,
}

impl AppLock {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        Ok(AppLock {
            pool: setup.connector.shared(2).await?,
            keys: setup.keys,
            servers: (0..setup.params.app_servers.max(1))
                .map(|_| Mutex::new(()))
                .collect(),
            work: setup.params.app_work,
        })
    }

    async fn buy(&self, buyer: Buyer) -> Result<Attempt, fred::error::Error> {
        let server = &self.servers[buyer.id as usize % self.servers.len()];
        let _held = server.lock().await;
        let stock: Option<i64> = self.pool.get(self.keys.stock()).await?;
        if stock.unwrap_or(0) < i64::from(buyer.qty) {
            return Ok(Attempt::SoldOut);
        }
        if !self.work.is_zero() {
            tokio::time::sleep(self.work).await;
        }
        let p = self.pool.next().pipeline();
        let _: () = p.decr_by(self.keys.stock(), i64::from(buyer.qty)).await?;
        queue_order(&p, &self.keys, buyer).await?;
        let _: Vec<Value> = p.all().await?;
        Ok(Attempt::Purchased)
    }
}

#[async_trait]
impl Strategy for AppLock {
    async fn attempt(&self, buyer: Buyer) -> Step {
        Step {
            attempt: self.buy(buyer).await.unwrap_or_else(Attempt::from),
            round_trips: 2,
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
