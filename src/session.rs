//! One run: a Redis to talk to, and each strategy in turn against the same
//! crowd: seed, drive, audit, clean up, judge.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::config::{RedisTarget, RunConfig};
use crate::crowd::Crowd;
use crate::error::{Error, Result};
use crate::findings::{Aborted, Report, RunMeta, StrategyReport, Unavailable};
use crate::gate::{self, Evidence};
use crate::redis::{self, redact, Connector, Keys, ManagedRedis, RedisUrl};
use crate::report::{live, Progress};
use crate::strategy::{Shape, StrategyKind};

mod drive;
mod faults;
mod meta;
mod sampler;
mod side;
mod signals;
mod stop;

pub use meta::not_opened;
pub use signals::request_stop;

pub struct Session {
    // Declared first so the server outlives nothing that talks to it... and
    // is killed last, after the clients below have been dropped.
    admin: Client,
    connector: Connector,
    meta: RunMeta,
    crowd: Arc<Crowd>,
    cancel: CancellationToken,
    /// A second signal: stop at once. Every strategy's abort token is a
    /// child of it, so buyers still in flight stop too and cannot write
    /// into the namespace after it is deleted.
    now: CancellationToken,
    managed: Option<Arc<ManagedRedis>>,
    /// The strategy running now and its keys: what a run stopped at once
    /// (a second signal) still has to delete.
    current: Option<(StrategyKind, Keys)>,
    /// `--live`: the view's feed, and the panel of the strategy running.
    live: Option<(live::Feed, usize)>,
}

/// A run that could not finish: the report so far, whose `aborted` says
/// why and with which exit status, and the error to print.
#[derive(Debug)]
pub struct Stopped {
    pub report: Report,
    pub error: Error,
}

impl Session {
    /// Get a Redis (the given URL or a managed redis-server), connect, and
    /// build the crowd. Everything that can fail for infrastructure reasons
    /// before the first buyer is released fails here.
    pub async fn open(config: &RunConfig) -> Result<Session> {
        let (managed, url) = match &config.redis {
            RedisTarget::Managed(binary) => {
                let server = Arc::new(
                    ManagedRedis::start_with(binary, config.listen, config.appendfsync).await?,
                );
                let url = RedisUrl::parse(&server.url()).map_err(Error::infra)?;
                (Some(server), url)
            }
            RedisTarget::External(url) => (None, url.clone()),
        };
        let mut connector = Connector::with_tls(url, config.command_timeout, &config.tls)?;
        if connector.link().tls_insecure {
            eprintln!(
                "warning: --tls-insecure: the server's certificate is not verified; \
                 this connection is encrypted, but to whoever answered"
            );
        }
        connector.name_script(config.script_file.clone());
        let admin = connector.admin().await?;
        let server_version = redis::server_version(&admin)
            .await
            .map_err(|e| connector.fail("reading INFO server", e))?;
        let crowd = Arc::new(Crowd::with_carts(
            config.seed,
            config.buyers,
            config.qty,
            config.shop.carts.as_ref(),
        ));
        let found = meta::Found {
            run_id: meta::new_run_id(),
            redis_url: connector.url().masked().to_string(),
            managed_pid: managed.as_ref().map(|m| m.pid()),
            server_version,
            link: connector.link(),
        };
        let meta = meta::run_meta(config, &crowd, found);
        // Before any key is written: a missing ACL permission stops here.
        let shape = Shape::of(config.shop.carts.is_some(), config.shop.reserve.is_some());
        let needs: Vec<(&str, Vec<&str>)> = config
            .strategies
            .iter()
            .map(|k| (k.name(), k.facts().preflight(shape)))
            .collect();
        connector.preflight(&admin, &meta.run_id, &needs).await?;
        Ok(Session {
            admin,
            connector,
            meta,
            crowd,
            cancel: CancellationToken::new(),
            now: CancellationToken::new(),
            managed,
            current: None,
            live: None,
        })
    }

    /// `--live`: feed the view the plan, every stock reading and each
    /// strategy's audited figures.
    pub fn watch_live(&mut self, feed: live::Feed) {
        self.live = Some((feed, 0));
    }

    /// The stock sampler's link to the view, for the strategy about to run.
    fn watcher(&self) -> Option<sampler::Watcher> {
        self.live.as_ref().map(|(feed, index)| sampler::Watcher {
            feed: feed.clone(),
            index: *index,
        })
    }

    /// What the run is about to do, for the header printed before it.
    pub fn meta(&self) -> &RunMeta {
        &self.meta
    }

    /// Run every strategy in turn. A signal stops releasing buyers; what
    /// ran is still audited, cleaned up and reported (exit 130). A second
    /// signal stops at once: the running strategy's keys get a bounded
    /// cleanup and the report so far is handed back.
    ///
    /// `observer` sees the report so far once before the first strategy and
    /// again after each one, so files written from it survive a crash later
    /// in the run. An error it returns stops the run (after cleanup).
    ///
    /// On every path the report says how the run ended: an error comes back
    /// as [`Stopped`], with `Report::aborted` set, for the caller to write
    /// the last version of each report before it exits.
    pub async fn run(
        mut self,
        config: &RunConfig,
        progress: Progress,
        observer: &mut (dyn FnMut(&Report) -> Result<()> + Send),
    ) -> Result<Report, Box<Stopped>> {
        let now = self.now.clone();
        let on_signal = tokio::spawn(signals::two_stages(self.cancel.clone(), now.clone()));
        let mut report = Report {
            meta: self.meta.clone(),
            strategies: Vec::new(),
            unavailable: Vec::new(),
            interrupted: false,
            finished: false,
            thresholds: Vec::new(),
            aborted: None,
            repetitions: Vec::new(),
        };
        let ran = tokio::select! {
            ran = self.run_all(&mut report, config, progress, observer) => ran,
            () = now.cancelled() => Err(self.hard_stop(config).await),
        };
        on_signal.abort();
        let _ = tokio::time::timeout(Duration::from_secs(1), self.admin.quit()).await;
        report.interrupted = self.cancel.is_cancelled();
        report.finished = true;
        if let Err(error) = ran {
            let running = self.current.take().map(|(kind, _)| kind);
            let mut aborted = Aborted::by(&error, running);
            aborted.message = redact(&aborted.message);
            if now.is_cancelled() {
                aborted.status = crate::error::ExitStatus::Interrupted;
            }
            report.aborted = Some(aborted);
            return Err(Box::new(Stopped { report, error }));
        }
        if report.interrupted && report.aborted.is_none() {
            report.aborted = Some(Aborted::interrupted(None, signals::INTERRUPTED));
        }
        report.thresholds = gate::evaluate(&config.thresholds, &report.strategies);
        Ok(report)
    }

    async fn run_all(
        &mut self,
        report: &mut Report,
        config: &RunConfig,
        progress: Progress,
        observer: &mut (dyn FnMut(&Report) -> Result<()> + Send),
    ) -> Result<()> {
        observer(report)?;
        if let Some((feed, _)) = &self.live {
            feed.send(live::Update::Planned {
                strategies: config.strategies.iter().map(|k| k.name().into()).collect(),
                stock: config.stock,
                buyers: u64::from(self.meta.buyers),
            });
        }
        for (index, &kind) in config.strategies.iter().enumerate() {
            if self.cancel.is_cancelled() {
                break;
            }
            if let Some((_, at)) = &mut self.live {
                *at = index;
            }
            match self.run_strategy(kind, config, progress).await {
                Ok(done) => {
                    if let Some((feed, _)) = &self.live {
                        feed.send(live::finished(index, &done));
                    }
                    report.strategies.push(done);
                    self.current = None;
                    if self.cancel.is_cancelled() {
                        report.aborted =
                            Some(Aborted::interrupted(Some(kind), signals::INTERRUPTED));
                    }
                }
                // The server lacks something this strategy needs: say so and
                // let the others run; the exit status still reports it.
                Err(Error::Unavailable(reason)) => {
                    self.current = None;
                    report.unavailable.push(Unavailable {
                        strategy: kind,
                        reason,
                    })
                }
                Err(e) => return Err(e),
            }
            report.interrupted = self.cancel.is_cancelled();
            observer(report)?;
        }
        Ok(())
    }

    async fn run_strategy(
        &mut self,
        kind: StrategyKind,
        config: &RunConfig,
        progress: Progress,
    ) -> Result<StrategyReport> {
        let keys = Keys::with_products(
            &self.meta.run_id,
            kind.name(),
            config.shop.products.len() as u16,
        );
        let meta = [
            ("strategy", kind.name().to_string()),
            ("run_id", self.meta.run_id.clone()),
            ("seed", self.meta.seed.to_string()),
            ("buyers", self.meta.buyers.to_string()),
            ("qty", self.meta.qty.to_string()),
        ];
        self.current = Some((kind, keys.clone()));
        let initial: Vec<u64> = config.shop.products.iter().map(|p| p.stock).collect();
        redis::seed(&self.admin, &keys, &initial, &meta)
            .await
            .map_err(|e| self.connector.fail("seeding stock", e))?;
        let outcome = self.drive_and_audit(kind, &keys, config, progress).await;
        let outcome = if config.keep {
            outcome
        } else {
            // Even when the run failed half-way.
            self.connector
                .clean_after(&self.admin, &keys, &self.meta.run_id, outcome)
                .await
        };
        let mut ran = outcome?;
        let contested = gate::contested(&self.crowd, &initial);
        let gate::Expected {
            mut expectation,
            tolerated,
            named,
        } = config.expected(kind, contested);
        // The verdict names the clean expectations the gate chose (no demand
        // can oversell, starved) rather than a bare `clean`.
        expectation.oversell = Some(named);
        let evidence = Evidence {
            tally: &ran.result.tally,
            elapsed: ran.result.elapsed,
            server: ran.server,
            cpu: ran.cpu,
            reaped: ran.side.reaped.as_ref(),
        };
        let mut done = gate::assess(kind, &expectation, &tolerated, evidence);
        done.faults = faults::with_losses(ran.side.faults, done.server.acked_lost);
        done.stock_series = std::mem::take(&mut ran.side.stock_series);
        Ok(done)
    }
}
