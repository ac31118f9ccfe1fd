//! One strategy's run proper: prepare it, drive the crowd with the side
//! tasks beside it, stop them, and read the truth back from the server.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::side::{self, Beside, Side, SideResults};
use super::{faults, Session};
use crate::audit;
use crate::config::RunConfig;
use crate::cpu::{CpuSample, CpuUse};
use crate::error::{Error, Result};
use crate::load::{self, DriveOptions, Live};
use crate::metrics::HistorySink;
use crate::redis::{self, Keys};
use crate::report::Progress;
use crate::strategy::{self, Setup, StrategyKind};

impl Session {
    /// Drive the crowd, with each side's CPU sampled just before and after.
    async fn drive(
        &self,
        strategy: Arc<dyn strategy::Strategy>,
        config: &RunConfig,
        live: Arc<Live>,
        abort: &CancellationToken,
        history: Option<HistorySink>,
    ) -> (load::DriveResult, CpuUse) {
        let opts = DriveOptions {
            concurrency: config.concurrency,
            retry: config.retry,
            seed: config.seed,
            abort: abort.clone(),
            reserve: config.shop.reserve,
            history,
            ack_times: !config.faults.is_empty(),
        };
        let before = CpuSample::take(&self.nodes).await;
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
                generator_s: crate::cpu::own_cpu_s(),
                ..CpuSample::default()
            }
        } else {
            CpuSample::take(&self.nodes).await
        };
        let cpu = CpuUse::between(before, after, wall, result.tally.purchased);
        (result, cpu)
    }

    /// Prepare the strategy, drive the crowd with the side tasks running
    /// beside it, stop them, and read the truth back from the server.
    pub(super) async fn drive_and_audit(
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
            abort: self.now.child_token(),
            interrupt: self.cancel.clone(),
            watcher: self.watcher(),
        };
        let mut tasks = side::plan(strategy.as_ref(), config, progress.shown());
        tasks.extend(self.fault_plan(config, keys));
        let running = Side::start(tasks, &beside);
        let abort = &beside.abort;
        let history = self
            .history
            .as_ref()
            .map(|(h, _)| h.for_strategy(kind.name()));
        let (mut result, cpu) = self
            .drive(strategy.clone(), config, live, abort, history)
            .await;
        result.tally.undone = strategy.undone();
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
        if let Some(e) = side.fault_failed.take() {
            return Err(e);
        }
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

    /// The fault steps as side work, when the run has any.
    fn fault_plan(&self, config: &RunConfig, keys: &Keys) -> Option<side::SideTask> {
        (!config.faults.is_empty()).then(|| {
            side::SideTask::Faults(faults::FaultPlan {
                steps: config.faults.clone(),
                server: self.managed.clone(),
                proxy: self.proxy.as_ref().map(|(p, _)| p.control()),
                slot: self
                    .connector
                    .slots()
                    .map(|_| crate::redis::slot_of(keys.stock())),
                sentinel: self.connector.url().sentinel().cloned(),
            })
        })
    }

    fn setup<'a>(&'a self, keys: &Keys, config: &RunConfig) -> Setup<'a> {
        Setup {
            connector: self.buyers(),
            keys: keys.clone(),
            run_id: &self.meta.run_id,
            server_version: &self.meta.server_version,
            connections: config.connections,
            params: config.params.clone(),
            carts: config.shop.carts.is_some(),
            reserve: config.shop.reserve,
        }
    }

    async fn audit(
        &self,
        kind: StrategyKind,
        keys: &Keys,
        config: &RunConfig,
    ) -> Result<audit::ServerFacts> {
        // The orders read back in one write per page: a pipe of the
        // audit's own, or fred's pipeline if none can be opened.
        let pipe = self.connector.pipe(&self.admin, keys.orders()).await.ok();
        let shape = audit::Shape {
            carts: self.crowd.has_carts().then_some(self.crowd.as_ref()),
            reserve: config.shop.reserve.is_some(),
            pipe: pipe.as_ref(),
            consume: !config.keep,
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
pub(super) struct Ran {
    pub result: load::DriveResult,
    pub server: audit::ServerFacts,
    pub cpu: CpuUse,
    pub side: SideResults,
}
