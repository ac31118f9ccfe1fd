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

use super::broken::check_then_act;
use super::gap::Gap;
use super::{Attempt, Seen, Setup, Step, Strategy};
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
    work: Gap,
}

impl AppLock {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        let p = &setup.params;
        Ok(AppLock {
            pool: setup.connector.shared(2).await?,
            servers: (0..p.app_servers.max(1)).map(|_| Mutex::new(())).collect(),
            work: Gap::new(p.gap.unwrap_or(p.app_work), p.seed),
            keys: setup.keys,
        })
    }
}

#[async_trait]
impl Strategy for AppLock {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let index = buyer.id as usize % self.servers.len();
        let _held = self.servers[index].lock().await;
        let mut race = None;
        let result = check_then_act(&self.pool, &self.keys, buyer, &self.work, &mut race).await;
        Step {
            attempt: result.unwrap_or_else(Attempt::from),
            round_trips: 2,
            // Which server's lock it held: sections of different servers
            // overlapping is the whole flaw.
            race: race.map(|s| Seen {
                server: u32::try_from(index + 1).ok(),
                ..s
            }),
        }
    }

    async fn close(&self) {
        let _ = self.pool.quit().await;
    }
}
