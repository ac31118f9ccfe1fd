//! One run: a Redis to talk to, and each strategy in turn against the same
//! crowd: seed, drive, audit, clean up, judge.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::audit;
use crate::config::{RedisTarget, RunConfig};
use crate::cpu::{CpuSample, CpuUse};
use crate::crowd::Crowd;
use crate::error::{Error, Result};
use crate::findings::{Report, RunMeta, StrategyReport, Unavailable};
use crate::gate::{self, Evidence};
use crate::load::{self, DriveOptions, Live};
use crate::redis::{self, Connector, Keys, ManagedRedis, RedisUrl};
use crate::report::Progress;
use crate::strategy::{self, Failure, Setup, Shape, StrategyKind};

mod faults;
mod sampler;
mod side;
mod signals;

use side::{Beside, Side, SideResults};
use signals::stop_requested;

pub struct Session {
    // Declared first so the server outlives nothing that talks to it... and
    // is killed last, after the clients below have been dropped.
    admin: Client,
    connector: Connector,
    meta: RunMeta,
    crowd: Arc<Crowd>,
    cancel: CancellationToken,
    managed: Option<Arc<ManagedRedis>>,
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
        let meta = RunMeta {
            run_id: format!("{:08x}", rand::random::<u32>()),
            scenario: config.name.clone(),
            seed: config.seed,
            strategies: config.strategies.clone(),
            buyers: config.buyers,
            load: config.load,
            think: config.retry.think,
            stock: config.stock,
            products: config.shop.products.clone(),
            carts: config.shop.carts,
            reserve: config.shop.reserve,
            qty: config.qty,
            demand: crowd.demand(),
            concurrency: config.concurrency.min(crowd.len()),
            connections: config.connections,
            max_retries: config.retry.max_retries,
            redis_url: connector.url().masked().to_string(),
            managed_pid: managed.as_ref().map(|m| m.pid()),
            server_version,
            faults: config.faults.clone(),
            appendfsync: config.appendfsync,
            started: Some(std::time::SystemTime::now()),
            link: connector.link(),
        };
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
            managed,
        })
    }

    /// What the run is about to do, for the header printed before it.
    pub fn meta(&self) -> &RunMeta {
        &self.meta
    }

    /// Run every strategy in turn. Ctrl-C stops releasing buyers; what ran
    /// is still audited, cleaned up and reported.
    ///
    /// `observer` sees the report so far once before the first strategy and
    /// again after each one, so files written from it survive a crash later
    /// in the run. An error it returns stops the run (after cleanup).
    pub async fn run(
        mut self,
        config: &RunConfig,
        progress: Progress,
        observer: &mut (dyn FnMut(&Report) -> Result<()> + Send),
    ) -> Result<Report> {
        let cancel = self.cancel.clone();
        let on_ctrl_c = tokio::spawn(async move {
            if stop_requested().await {
                cancel.cancel();
                // A second one means now. The managed server dies with us
                // (PR_SET_PDEATHSIG); keys on an external server under
                // bf:<run-id>: may be left, and their prefix is in the header.
                if stop_requested().await {
                    std::process::exit(130);
                }
            }
        });
        let mut report = Report {
            meta: self.meta.clone(),
            strategies: Vec::new(),
            unavailable: Vec::new(),
            interrupted: false,
            finished: false,
            thresholds: Vec::new(),
        };
        let ran = self.run_all(&mut report, config, progress, observer).await;
        on_ctrl_c.abort();
        let _ = tokio::time::timeout(Duration::from_secs(1), self.admin.quit()).await;
        ran?;
        report.interrupted = self.cancel.is_cancelled();
        report.finished = true;
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
        for &kind in &config.strategies {
            if self.cancel.is_cancelled() {
                break;
            }
            match self.run_strategy(kind, config, progress).await {
                Ok(done) => report.strategies.push(done),
                // The server lacks something this strategy needs: say so and
                // let the others run; the exit status still reports it.
                Err(Error::Unavailable(reason)) => report.unavailable.push(Unavailable {
                    strategy: kind,
                    reason,
                }),
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

    /// Drive the crowd, with each side's CPU sampled just before and after.
    async fn drive(
        &self,
        strategy: Arc<dyn strategy::Strategy>,
        config: &RunConfig,
        live: Arc<Live>,
        abort: &CancellationToken,
    ) -> (load::DriveResult, CpuUse) {
        let opts = DriveOptions {
            concurrency: config.concurrency,
            retry: config.retry,
            seed: config.seed,
            abort: abort.clone(),
            reserve: config.shop.reserve,
        };
        let before = CpuSample::take(&self.admin).await;
        let started = std::time::Instant::now();
        let result = load::drive(
            strategy,
            self.crowd.clone(),
            config.schedule.clone(),
            &opts,
            live,
            self.cancel.clone(),
        )
        .await;
        let wall = started.elapsed();
        // After an abort the server may be gone: INFO would wait out --timeout.
        let after = if abort.is_cancelled() {
            CpuSample {
                server_s: None,
                generator_s: crate::cpu::own_cpu_s(),
            }
        } else {
            CpuSample::take(&self.admin).await
        };
        let cpu = CpuUse::between(before, after, wall, result.tally.purchased);
        (result, cpu)
    }

    /// Prepare the strategy, drive the crowd with the side tasks running
    /// beside it, stop them, and read the truth back from the server.
    async fn drive_and_audit(
        &mut self,
        kind: StrategyKind,
        keys: &Keys,
        config: &RunConfig,
        progress: Progress,
    ) -> Result<Ran> {
        let strategy = strategy::prepare(kind, self.setup(keys, config)).await?;
        let live = Arc::new(Live::default());
        let mut bar = progress.start(kind.name(), u64::from(self.meta.buyers), live.clone());
        let beside = Beside {
            admin: self.admin.clone(),
            probe: self.connector.liveness().ready().await,
            keys: keys.clone(),
            live: live.clone(),
            abort: CancellationToken::new(),
        };
        let mut tasks = side::plan(strategy.as_ref(), config, progress.shown());
        if !config.faults.is_empty() {
            tasks.push(side::SideTask::Faults(faults::FaultPlan {
                steps: config.faults.clone(),
                server: self.managed.clone(),
            }));
        }
        let running = Side::start(tasks, &beside);
        let abort = &beside.abort;
        let (result, cpu) = self.drive(strategy.clone(), config, live, abort).await;
        if let Some(what) = running.draining() {
            bar.set_message(&format!("· {what}"));
        }
        let mut side = running.stop().await;
        // Closing connections to a dead server would wait out their timeouts.
        if !abort.is_cancelled() {
            strategy.close().await;
        }
        bar.auditing(result.tally.buyers(), result.tally.purchased);
        let fatal = result.fatal.as_ref();
        self.still_answering(kind, abort, side.stopped.take(), fatal)?;
        let mut server = self.audit(kind, keys, config).await?;
        // Order ids are buyer ids outside reservations, whose orders come
        // from holds; there the durability check is not made.
        let durability = !config.faults.is_empty() || config.appendfsync.is_some();
        if durability && config.shop.reserve.is_none() {
            server.count_acked_lost(&result.tally.acked);
        }
        bar.audited(server.stock);
        Ok(Ran {
            result,
            server,
            cpu,
            side,
        })
    }

    fn setup<'a>(&'a self, keys: &Keys, config: &RunConfig) -> Setup<'a> {
        Setup {
            connector: &self.connector,
            keys: keys.clone(),
            run_id: &self.meta.run_id,
            server_version: &self.meta.server_version,
            connections: config.connections,
            params: config.params.clone(),
            carts: config.shop.carts.is_some(),
            reserve: config.shop.reserve,
        }
    }

    /// The server must have outlived the strategy for its state to mean
    /// anything.
    fn still_answering(
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

    async fn audit(
        &self,
        kind: StrategyKind,
        keys: &Keys,
        config: &RunConfig,
    ) -> Result<audit::ServerFacts> {
        let shape = audit::Shape {
            carts: self.crowd.has_carts().then_some(self.crowd.as_ref()),
            reserve: config.shop.reserve.is_some(),
        };
        if redis::meta_gone(&self.admin, keys)
            .await
            .map_err(|e| self.connector.fail("auditing the server state", e))?
        {
            return Err(Error::infra(format!(
                "Redis at {}: the namespace's meta hash {} is gone while {kind} ran: the server \
                 restarted without persistence, was flushed or failed over, and the run's data \
                 with it; nothing can be audited\nfix: run against a server nothing else flushes \
                 or restarts during the run",
                self.meta.redis_url,
                keys.meta()
            )));
        }
        audit::read_facts(&self.admin, keys, shape)
            .await
            .map_err(|e| self.connector.fail("auditing the server state", e))
    }
}

/// What one strategy's run left behind, before the gate judges it.
struct Ran {
    result: load::DriveResult,
    server: audit::ServerFacts,
    cpu: CpuUse,
    side: SideResults,
}
