//! Is the server still there? A probe on a connection of its own, with no
//! reconnect policy and a short timeout whatever `--timeout` says, so a PING
//! never queues behind the admin client's reconnect attempts (which made a
//! dead server noticed only after ~19 s). It also notices the other way a
//! server stops answering: a script stuck past the busy threshold, which it
//! stops with SCRIPT KILL.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fred::error::Error as FredError;
use fred::prelude::*;
use tokio_util::sync::CancellationToken;

use super::blame::{self, Blame, ScriptFault};
use super::redact;
use crate::error::Error;

/// Time between two PINGs.
const TICK: Duration = Duration::from_millis(250);
/// How long one PING (or one connection attempt) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Failed probes in a row, spanning at least [`SILENCE`], that mean "gone".
/// A killed server refuses at once: 3 probes 250 ms apart, then the second
/// of silence, puts the verdict about 1 s after the kill.
const MISSES: u32 = 3;
const SILENCE: Duration = Duration::from_secs(1);
/// How long to keep killing scripts: every call already queued on the
/// server runs the script again once the previous run is killed.
const KILL_LIMIT: Duration = Duration::from_secs(30);

/// A window in which the server is meant to be silent (a planned pause or
/// restart): the watchdog does not count silence inside it. Shared between
/// the probe's clones, so the fault steps can open it for the watchdog.
#[derive(Clone, Default)]
pub struct Planned {
    until: Arc<Mutex<Option<Instant>>>,
}

impl Planned {
    /// Silence is expected for `window` from now (replacing any window).
    pub fn open(&self, window: Duration) {
        *self.lock() = Some(Instant::now() + window);
    }

    /// The planned silence is over: the server answers again, so a grace
    /// of a few ticks lets the probe reconnect before silence counts.
    pub fn close(&self) {
        *self.lock() = Some(Instant::now() + TICK * MISSES);
    }

    fn covers(&self, now: Instant) -> bool {
        self.lock().is_some_and(|until| now < until)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.until.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A way to reach the server that shares nothing with the run's clients.
#[derive(Clone)]
pub struct Probe {
    /// Connected ahead of the run by [`Probe::ready`]: a server busy with a
    /// stuck script refuses the handshake of a new connection, so the one
    /// that will send SCRIPT KILL must exist before any script runs.
    client: Option<Client>,
    config: Config,
    url: String,
    script: Option<PathBuf>,
    planned: Planned,
}

impl Probe {
    pub(super) fn new(config: Config, url: String, script: Option<PathBuf>) -> Probe {
        Probe {
            client: None,
            config,
            url,
            script,
            planned: Planned::default(),
        }
    }

    /// The planned-silence window this probe (and its clones) honours.
    pub fn planned(&self) -> &Planned {
        &self.planned
    }

    async fn connect(&self) -> Result<Client, FredError> {
        let client = Builder::from_config(self.config.clone())
            .with_performance_config(|p| p.default_command_timeout = PROBE_TIMEOUT)
            .with_connection_config(|c| {
                c.connection_timeout = PROBE_TIMEOUT;
                c.internal_command_timeout = PROBE_TIMEOUT;
                c.max_command_attempts = 1;
            })
            // No reconnect policy on purpose: a dead server must fail the
            // next PING, not park it until a reconnect succeeds.
            .build()?;
        tokio::time::timeout(PROBE_TIMEOUT, client.init())
            .await
            .map_err(|_| FredError::new(fred::error::ErrorKind::Timeout, "connect timed out"))??;
        Ok(client)
    }

    /// One fresh connection and one PING, within about a second: whether
    /// cleanup is worth attempting.
    pub async fn answers(&self) -> bool {
        match self.connect().await {
            Ok(c) => {
                let ok = ping(&c).await.is_ok();
                let _ = tokio::time::timeout(PROBE_TIMEOUT, c.quit()).await;
                ok
            }
            Err(_) => false,
        }
    }

    /// PING until the server is gone or stuck in a script. Cancels `trouble`
    /// the moment it knows (so the driver stops releasing buyers), then
    /// returns the error the run ends with.
    pub async fn watch(mut self, trouble: CancellationToken) -> Error {
        let mut client = match self.client.take() {
            Some(c) => Some(c),
            None => self.connect().await.ok(),
        };
        let mut misses = 0;
        let mut last_answer = Instant::now();
        loop {
            tokio::time::sleep(TICK).await;
            let reply = self.probe_once(&mut client).await;
            match reply.as_ref().map_err(blame::classify) {
                Ok(()) => {
                    misses = 0;
                    last_answer = Instant::now();
                }
                Err(Blame::Script {
                    fault: ScriptFault::Busy,
                    ..
                }) => {
                    trouble.cancel();
                    let busy = reply.err().map(|e| e.details().to_string());
                    let busy = busy.unwrap_or_default();
                    return match &client {
                        Some(c) => self.stop_script(c, busy).await,
                        // The BUSY came from the handshake of a new connection.
                        None => self.unkillable(busy),
                    };
                }
                Err(Blame::Connectivity) => {
                    // Without a reconnect policy this client is done for:
                    // the next tick tries a fresh connection instead.
                    client = None;
                    if self.planned.covers(Instant::now()) {
                        // A planned pause or restart: silence is the plan.
                        misses = 0;
                        last_answer = Instant::now();
                        continue;
                    }
                    misses += 1;
                    if misses >= MISSES && last_answer.elapsed() >= SILENCE {
                        trouble.cancel();
                        return self.gone(last_answer.elapsed());
                    }
                }
                // Any other answer (an ACL refusing PING, LOADING) comes
                // from a live server.
                Err(_) => {
                    misses = 0;
                    last_answer = Instant::now();
                }
            }
        }
    }

    /// Connect now, before the run starts any script (see `client`).
    pub async fn ready(mut self) -> Probe {
        self.client = self.connect().await.ok();
        self
    }

    fn unkillable(&self, busy: String) -> Error {
        Error::infra(redact(&format!(
            "a Lua script ran past the busy threshold of Redis at {} ({busy}), and no \
             connection was left to stop it with SCRIPT KILL; the run was stopped\n\
             fix: stop it with `redis-cli SCRIPT KILL`, and make sure every path of the \
             script returns",
            self.url
        )))
    }

    async fn probe_once(&self, client: &mut Option<Client>) -> Result<(), FredError> {
        if client.is_none() {
            *client = Some(self.connect().await?);
        }
        match client {
            Some(c) => ping(c).await,
            None => unreachable!("connected above"),
        }
    }

    fn gone(&self, silent: Duration) -> Error {
        Error::infra(redact(&format!(
            "Redis at {} stopped answering (no reply for {:.1} s; the liveness probe's own \
             connection is refused or timing out); the run was stopped\n\
             fix: check the server is reachable and running (crashed, killed, out of memory, \
             network), then run again",
            self.url,
            silent.as_secs_f64()
        )))
    }

    /// Kill the stuck script, and the runs of it that calls already queued
    /// on the server start one after the other, until the server answers.
    async fn stop_script(&self, c: &Client, busy: String) -> Error {
        let name = self.script.as_ref().map_or_else(
            || "a Lua script".to_string(),
            |p| format!("the script {}", p.display()),
        );
        let kill = if busy.contains("FUNCTION KILL") {
            "FUNCTION"
        } else {
            "SCRIPT"
        };
        let started = Instant::now();
        let mut kills = 0u32;
        let outcome = loop {
            let killed: Result<String, _> = c.custom(fred::cmd!(kill), vec!["KILL"]).await;
            match killed {
                Ok(_) => kills += 1,
                Err(e) if e.details().starts_with("UNKILLABLE") => {
                    break Err(e.details().to_string())
                }
                Err(_) => {} // NOTBUSY: the run ended on its own; PING tells.
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            match ping(c).await {
                Ok(()) => break Ok(()),
                Err(_) if started.elapsed() > KILL_LIMIT => {
                    break Err(format!("still busy after {KILL_LIMIT:?} of {kill} KILL"))
                }
                Err(_) => {}
            }
        };
        let url = &self.url;
        Error::infra(redact(&match outcome {
            Ok(()) => format!(
                "{name} ran past the busy threshold of Redis at {url} (busy-reply-threshold, \
                 lua-time-limit): {busy}\nblackfriday stopped it with {kill} KILL ({kills} \
                 time(s): each call already queued ran it again), abandoned the buyers still \
                 queued and stopped the run\nfix: make sure every path of the script returns"
            ),
            Err(why) => format!(
                "{name} ran past the busy threshold of Redis at {url} and could not be stopped: \
                 {why}\nThe server stays busy until the script ends; only SHUTDOWN NOSAVE stops \
                 it sooner\nfix: make sure every path of the script returns"
            ),
        }))
    }
}

async fn ping(c: &Client) -> Result<(), FredError> {
    let _: String = c.ping(None).await?;
    Ok(())
}
