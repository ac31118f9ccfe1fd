//! Starting side tasks: one function per kind of [`SideTask`], and the
//! small loops they run.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Beside, Output, SideTask};
use crate::load::Live;
use crate::redis::Keys;
use crate::session::faults::{self, FaultPlan};
use crate::session::sampler;
use crate::session::signals::watchdog;
use crate::strategy::reserve::{self, ReapStats, Reaper, ReservePlan};

/// Starts one task; each kind has its own function below.
pub(super) fn spawn(
    task: SideTask,
    beside: &Beside,
    stop: CancellationToken,
) -> JoinHandle<Output> {
    match task {
        SideTask::Watchdog => spawn_watchdog(beside, stop),
        SideTask::StockPoll { every } => until_stopped(
            stop,
            poll_stock(
                beside.admin.clone(),
                stock_keys(&beside.keys),
                beside.live.clone(),
                every,
            ),
        ),
        SideTask::Faults(plan) => spawn_faults(plan, beside, stop),
        SideTask::StockSampler { every } => spawn_sampler(every, beside, stop),
        SideTask::Reaper { reaper, plan } => spawn_reaper(reaper, plan, beside, stop),
    }
}

fn spawn_watchdog(beside: &Beside, stop: CancellationToken) -> JoinHandle<Output> {
    let (probe, abort) = (beside.probe.clone(), beside.abort.clone());
    tokio::spawn(async move {
        // A token of its own, relayed to `abort`: the driver trips
        // `abort` too (a fatal reply), and then the watchdog has no
        // story to finish and must not be waited for.
        let tripped = CancellationToken::new();
        let watching = watchdog(probe, tripped.clone());
        tokio::pin!(watching);
        let relay = async {
            tripped.cancelled().await;
            abort.cancel();
            std::future::pending::<()>().await;
        };
        tokio::select! {
            e = &mut watching => {
                abort.cancel();
                Output::Stopped(e)
            }
            () = relay => Output::Nothing,
            // Once it has tripped the abort, the watchdog may still
            // be killing a stuck script: let it finish its story.
            () = stop.cancelled() => if tripped.is_cancelled() {
                Output::Stopped(watching.await)
            } else {
                Output::Nothing
            },
        }
    })
}

fn spawn_faults(plan: FaultPlan, beside: &Beside, stop: CancellationToken) -> JoinHandle<Output> {
    let tools = faults::Tools {
        admin: beside.admin.clone(),
        planned: beside.probe.planned().clone(),
        live: beside.live.clone(),
        abort: beside.abort.clone(),
    };
    tokio::spawn(async move {
        let (records, failed) = faults::run(plan, tools, stop).await;
        Output::Faults(records, failed)
    })
}

fn spawn_sampler(every: Duration, beside: &Beside, stop: CancellationToken) -> JoinHandle<Output> {
    let sampling = sampler::sample(
        beside.admin.clone(),
        sampler::sample_keys(&beside.keys),
        beside.live.clone(),
        every,
        stop,
        beside.abort.clone(),
        beside.watcher.clone(),
    );
    tokio::spawn(async move { Output::Sampled(sampling.await) })
}

fn spawn_reaper(
    reaper: Arc<dyn Reaper>,
    plan: ReservePlan,
    beside: &Beside,
    stop: CancellationToken,
) -> JoinHandle<Output> {
    let abort = beside.abort.clone();
    let interrupt = beside.interrupt.clone();
    tokio::spawn(async move {
        tokio::select! {
            stats = reap(reaper, plan, stop) => Output::Reaped(stats),
            // The server is gone: nothing the reaper did can be read back.
            () = abort.cancelled() => Output::Reaped(ReapStats::default()),
            // Stopped by the user: no wait may outlast the signal.
            () = interrupt.cancelled() => Output::Reaped(ReapStats::default()),
        }
    })
}

/// Run `work` until it ends or `stop` fires.
fn until_stopped(
    stop: CancellationToken,
    work: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<Output> {
    tokio::spawn(async move {
        tokio::select! {
            () = work => {}
            () = stop.cancelled() => {}
        }
        Output::Nothing
    })
}

fn stock_keys(keys: &Keys) -> Vec<String> {
    (0..keys.products())
        .map(|p| keys.stock_of(p).to_string())
        .collect()
}

/// Every product's stock left, summed; `None` when the read failed.
async fn read_stock(admin: &Client, keys: &[String]) -> Option<i64> {
    let left: Vec<Option<i64>> = admin.mget(keys.to_vec()).await.ok()?;
    Some(left.into_iter().flatten().sum())
}

async fn poll_stock(admin: Client, keys: Vec<String>, live: Arc<Live>, every: Duration) {
    loop {
        if let Some(left) = read_stock(&admin, &keys).await {
            live.stock.store(left, Ordering::Relaxed);
        }
        tokio::time::sleep(every).await;
    }
}

/// The plan's reapers side by side until `done`, then a drain bounded by a
/// TTL plus ten seconds (abandoned holds expire up to a TTL later).
async fn reap(reaper: Arc<dyn Reaper>, plan: ReservePlan, done: CancellationToken) -> ReapStats {
    let drain = plan.hold_ttl + Duration::from_secs(10);
    let tick = reserve::reaper::tick(plan.hold_ttl);
    let all =
        (0..plan.reapers).map(|_| reserve::reaper::run(reaper.clone(), tick, done.clone(), drain));
    let mut sum = ReapStats::default();
    for s in &futures::future::join_all(all).await {
        sum += s;
    }
    sum
}
