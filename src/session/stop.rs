//! How a strategy's run, or the whole run, stops early: the checks that
//! the server outlived the strategy, and the hard stop of a second signal.

use std::time::Duration;

use fred::prelude::*;
use tokio_util::sync::CancellationToken;

use super::Session;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::redis::{self, Keys};
use crate::strategy::{Failure, StrategyKind};

/// After a second signal, the namespace of the strategy that was running
/// gets this long to be deleted before the run gives up on it.
const HARD_STOP_CLEANUP: Duration = Duration::from_millis(1500);

impl Session {
    /// A second signal: delete the running strategy's keys if the server
    /// lets it happen quickly, and say what may remain.
    pub(super) async fn hard_stop(&mut self, config: &RunConfig) -> Error {
        let mut error = Error::infra(
            "interrupted twice: stopped at once, without auditing the strategy that was running",
        );
        let Some((_, keys)) = &self.current else {
            return error;
        };
        if !config.keep {
            let cleaned = tokio::time::timeout(HARD_STOP_CLEANUP, twice(&self.admin, keys));
            if !matches!(cleaned.await, Ok(Ok(_))) {
                error = redis::clean::leftovers(error, keys, &self.meta.run_id);
            }
        }
        error
    }

    /// The server must have outlived the strategy for its state to mean
    /// anything.
    pub(super) fn still_answering(
        &mut self,
        kind: StrategyKind,
        abort: &CancellationToken,
        stopped: Option<Error>,
        fatal: Option<&Failure>,
    ) -> Result<()> {
        if let Some(server) = &mut self.managed {
            if !server.is_alive() {
                return Err(Error::infra(format!(
                    "the managed redis-server (pid {}) died while {kind} ran",
                    server.pid()
                )));
            }
        }
        // The watchdog's own account (a dead server, a stuck script) is
        // the most precise one.
        if let Some(stopped) = stopped {
            return Err(stopped);
        }
        self.no_fatal(kind, fatal)?;
        if abort.is_cancelled() {
            return Err(Error::infra(format!(
                "Redis at {} stopped answering while {kind} ran; the run was stopped\n\
                 fix: check the server (crashed, killed, out of memory, network) and run again",
                self.meta.redis_url
            )));
        }
        Ok(())
    }

    /// The driver stops on a reply every buyer would meet (see
    /// `load::DriveResult::fatal`): the run ends on it, blamed on the party
    /// the reply points at, instead of on the strategy.
    fn no_fatal(&self, kind: StrategyKind, fatal: Option<&Failure>) -> Result<()> {
        let Some(f) = fatal else { return Ok(()) };
        let e = redis::blame::from_failure(&f.message);
        let doing = format!("buyers ran {kind}; the run was stopped");
        Err(match kind {
            StrategyKind::Script => self.connector.fail_script(&doing, e),
            _ => self.connector.fail(&doing, e),
        })
    }
}

/// Delete a namespace buyers were writing to a moment ago. Buyers in
/// flight saw the abort at their next await, but a command already sent
/// (a lock release) can land after a first pass: a second one, shortly
/// after, removes it.
async fn twice(admin: &Client, keys: &Keys) -> Result<(), fred::error::Error> {
    tokio::time::sleep(Duration::from_millis(100)).await;
    redis::cleanup(admin, keys).await?;
    tokio::time::sleep(Duration::from_millis(250)).await;
    redis::cleanup(admin, keys).await.map(drop)
}
