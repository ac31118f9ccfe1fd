//! One run: a Redis to talk to, and each strategy in turn against the same
//! crowd: seed, drive, audit, clean up, judge.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::config::RunConfig;
use crate::crowd::Crowd;
use crate::error::{Error, Result};
use crate::findings::{Aborted, Report, RunMeta, StrategyReport, Unavailable};
use crate::gate::{self, Evidence};
use crate::metrics::HistorySink;
use crate::redis::{self, redact, Connector, Keys, ManagedRedis};
use crate::report::export::history::HistoryWriter;
use crate::report::{live, Progress};
use crate::strategy::{Shape, StrategyKind};

mod drive;
mod faults;
mod meta;
mod plan;
mod sampler;
mod server;
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
    /// Network faults: the proxy buyers connect through, and a connector
    /// that reaches the server through it.
    proxy: Option<(redis::proxy::Proxy, Connector)>,
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
    /// `--history`: the run's end of the channel, and its writer.
    history: Option<(HistorySink, HistoryWriter)>,
    /// A client on every primary (the admin itself for one server): server
    /// CPU is read from each.
    nodes: Vec<redis::Node>,
    /// The managed cluster's nodes, killed when the session goes: declared
    /// last so every client above is dropped first.
    cluster: Option<redis::ManagedCluster>,
}

/// The proxy for network faults, when one is planned; the server the
/// proxy forwards to is the one the admin connection reached.
async fn start_proxy(
    config: &RunConfig,
    connector: &Connector,
) -> Result<Option<(redis::proxy::Proxy, Connector)>> {
    if !config.faults.iter().any(|s| s.kind.needs_proxy()) {
        return Ok(None);
    }
    let upstream = connector.tcp_address().await.map_err(|e| {
        Error::usage(format!(
            "--fault: network faults need a plain TCP connection to proxy: {e}"
        ))
    })?;
    let proxy = redis::proxy::Proxy::start(upstream, config.seed)
        .await
        .map_err(|e| Error::infra(format!("starting the fault proxy on 127.0.0.1: {e}")))?;
    let via = connector.via(proxy.addr());
    Ok(Some((proxy, via)))
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
        let acquired = server::acquire(config).await?;
        let pids = acquired.pids();
        let mut connector =
            Connector::with_tls(acquired.url.clone(), config.command_timeout, &config.tls)?;
        if connector.link().tls_insecure {
            eprintln!(
                "warning: --tls-insecure: the server's certificate is not verified; \
                 this connection is encrypted, but to whoever answered"
            );
        }
        connector.name_script(config.script_file.clone());
        let admin = connector.admin().await?;
        connector.learn_topology(&admin).await?;
        let nodes = connector.primaries(&admin).await?;
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
            managed_pid: pids.first().copied(),
            managed_pids: pids,
            server_version,
            link: connector.link(),
        };
        let meta = meta::run_meta(config, &crowd, found);
        // Before any key is written: carts a cluster would refuse.
        plan::check(config, &crowd, &meta.run_id, connector.slots())?;
        plan::replicas_for_failover(config, connector.slots())?;
        // Before any key is written: a missing ACL permission stops here.
        connector
            .preflight(&nodes, &meta.run_id, &commands_needed(config))
            .await?;
        let proxy = start_proxy(config, &connector).await?;
        Ok(Session {
            admin,
            connector,
            proxy,
            meta,
            crowd,
            cancel: CancellationToken::new(),
            now: CancellationToken::new(),
            managed: acquired.managed,
            current: None,
            live: None,
            history: open_history(config)?,
            nodes,
            cluster: acquired.cluster,
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

    /// How buyers reach the server: through the proxy when there is one.
    fn buyers(&self) -> &Connector {
        self.proxy.as_ref().map_or(&self.connector, |(_, c)| c)
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
        let ran = ran.and(self.close_history(config).await);
        let _ = tokio::time::timeout(Duration::from_secs(1), self.admin.quit()).await;
        if self.cluster.is_some() || self.nodes.len() > 1 {
            for node in &self.nodes {
                let _ = tokio::time::timeout(Duration::from_secs(1), node.client.quit()).await;
            }
        }
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

    /// Every event in the file before the report is written: the drivers'
    /// sinks are gone with them, the run's own goes now. Buyers a second
    /// signal cut short may still hold one: not waited for beyond a moment.
    async fn close_history(&mut self, config: &RunConfig) -> Result<()> {
        let (Some((sink, writer)), Some(path)) = (self.history.take(), &config.history) else {
            return Ok(());
        };
        drop(sink);
        match tokio::time::timeout(Duration::from_secs(2), writer.finish()).await {
            Ok(Ok(_)) | Err(_) => Ok(()),
            Ok(Err(e)) => Err(history_error(path, e)),
        }
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

    /// The strategy's stock, and the meta hash that says whose keys these are.
    async fn seed(&self, kind: StrategyKind, keys: &Keys, initial: &[u64]) -> Result<()> {
        let meta = [
            ("strategy", kind.name().to_string()),
            ("run_id", self.meta.run_id.clone()),
            ("seed", self.meta.seed.to_string()),
            ("buyers", self.meta.buyers.to_string()),
            ("qty", self.meta.qty.to_string()),
        ];
        redis::seed(&self.admin, keys, initial, &meta)
            .await
            .map_err(|e| self.connector.fail("seeding stock", e))
    }

    async fn run_strategy(
        &mut self,
        kind: StrategyKind,
        config: &RunConfig,
        progress: Progress,
    ) -> Result<StrategyReport> {
        let keys = Keys::layout(
            &self.meta.run_id,
            kind.name(),
            config.shop.products.len() as u16,
            config.spread,
        );
        self.current = Some((kind, keys.clone()));
        let initial: Vec<u64> = config.shop.products.iter().map(|p| p.stock).collect();
        self.seed(kind, &keys, &initial).await?;
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
        done.faults = crate::findings::faults::measure(
            ran.side.faults,
            &ran.result.tally.acked_at,
            &done.server.order_ids,
            done.server.acked_lost,
            u32::try_from(ran.result.elapsed.as_millis()).unwrap_or(u32::MAX),
        );
        done.stock_series = std::mem::take(&mut ran.side.stock_series);
        Ok(done)
    }
}

/// `--history`: the file created and its writer started before any buyer.
fn open_history(config: &RunConfig) -> Result<Option<(HistorySink, HistoryWriter)>> {
    let Some(path) = &config.history else {
        return Ok(None);
    };
    HistoryWriter::start(path)
        .map(Some)
        .map_err(|e| history_error(path, e))
}

fn history_error(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::usage(format!(
        "--history {}: cannot write the history there: {e}",
        path.display()
    ))
}

/// Every command each strategy of the run sends, for the ACL preflight.
fn commands_needed(config: &RunConfig) -> Vec<(&'static str, Vec<&'static str>)> {
    let shape = Shape::of(config.shop.carts.is_some(), config.shop.reserve.is_some());
    config
        .strategies
        .iter()
        .map(|k| (k.name(), k.facts().preflight(shape)))
        .collect()
}
