//! Fault steps, run beside the driver and timed from the release: kill,
//! restart or pause the managed server, drop every client connection,
//! pause writes, forget the scripts, or, through the proxy, slow, drop or
//! cut off the buyers' connections. Each step tells the watchdog how long
//! the server is meant to be silent, and is measured: when it began and
//! ended, and what the buyers got meanwhile.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::fault::{FaultKind, FaultRecord, FaultStep};
use crate::load::Live;
use crate::redis::liveness::Planned;
use crate::redis::proxy::ProxyControl;
use crate::redis::{ManagedRedis, Sentinel};

mod failover;

/// How long a restart may take before the server counts as gone (its AOF
/// replay included); past it the run stops with exit 3.
const RESTART_BUDGET: Duration = Duration::from_secs(15);
/// Errors a fault causes show up as buyers time out after it: the window
/// in which they are counted runs this long past its end, or until the
/// next step.
const AFTERMATH: Duration = Duration::from_secs(1);

/// The steps of a run, and the server process they may act on.
#[derive(Clone)]
pub(crate) struct FaultPlan {
    pub steps: Vec<FaultStep>,
    pub server: Option<Arc<ManagedRedis>>,
    /// The proxy buyers go through, for the network faults.
    pub proxy: Option<ProxyControl>,
    /// On a cluster, the slot of the strategy's keys: a failover promotes a
    /// replica of the primary that owns it.
    pub slot: Option<u16>,
    /// Through Sentinel, the sentinels and the service to fail over.
    pub sentinel: Option<Sentinel>,
}

/// What the steps need besides the plan.
pub(super) struct Tools {
    pub admin: Client,
    pub planned: Planned,
    pub live: Arc<Live>,
    pub abort: CancellationToken,
}

/// Run every step at its time, until `stop` (the crowd is done): a step in
/// progress always finishes, so a paused server is never left stopped.
/// Returns each step's record, and the error that stopped the run when a
/// server did not come back.
pub(super) async fn run(
    plan: FaultPlan,
    tools: Tools,
    stop: CancellationToken,
) -> (Vec<FaultRecord>, Option<Error>) {
    let mut records: Vec<FaultRecord> = plan.steps.iter().map(|s| unrun(*s)).collect();
    // Each strategy starts on a clean network, whatever the last one left.
    if let Some(p) = &plan.proxy {
        p.clear();
    }
    let Some(release) = released(&tools.live, &stop).await else {
        return (records, None);
    };
    let ran = steps(&plan, &tools, &stop, release, &mut records).await;
    if ran.is_ok() {
        until_done(&plan, &stop, release, &mut records).await;
    }
    (records, ran.err())
}

/// A latency without a length lasts until the crowd is done: it ends
/// there, and the network is clean again for whatever runs next.
async fn until_done(
    plan: &FaultPlan,
    stop: &CancellationToken,
    release: Instant,
    records: &mut [FaultRecord],
) {
    let open: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].began_us.is_some() && records[i].ended_us.is_none())
        .collect();
    if open.is_empty() {
        return;
    }
    stop.cancelled().await;
    if let Some(p) = &plan.proxy {
        p.clear();
    }
    for i in open {
        records[i].ended_us = Some(micros(release.elapsed()));
    }
}

async fn steps(
    plan: &FaultPlan,
    tools: &Tools,
    stop: &CancellationToken,
    release: Instant,
    records: &mut [FaultRecord],
) -> Result<(), Error> {
    for (i, step) in plan.steps.iter().enumerate() {
        tokio::select! {
            () = tokio::time::sleep_until(release + step.at) => {}
            () = stop.cancelled() => break,
        }
        if tools.abort.is_cancelled() {
            break;
        }
        let (errors, purchased) = counts(&tools.live);
        records[i].began_us = Some(micros(release.elapsed()));
        let done = perform(step.kind, plan, tools).await;
        if !step.kind.until_done() {
            records[i].ended_us = Some(micros(release.elapsed()));
        }
        if let Err(e) = done {
            // Silence from now on is not planned: let the watchdog see it.
            tools.planned.close();
            tools.abort.cancel();
            return Err(e);
        }
        // The aftermath window ends early when the next step is due, so a
        // step never runs late because of the one before it.
        let next = plan.steps.get(i + 1).map(|s| release + s.at);
        let until = next.map_or(Instant::now() + AFTERMATH, |n| {
            n.min(Instant::now() + AFTERMATH)
        });
        tokio::select! {
            () = tokio::time::sleep_until(until) => {}
            () = stop.cancelled() => {}
        }
        let (errors_after, purchased_after) = counts(&tools.live);
        records[i].errors = errors_after - errors;
        records[i].purchased = purchased_after - purchased;
    }
    Ok(())
}

fn unrun(step: FaultStep) -> FaultRecord {
    FaultRecord {
        step,
        began_us: None,
        ended_us: None,
        errors: 0,
        purchased: 0,
        acked_lost: None,
        pre_fault_per_s: None,
        recovery_us: None,
        loss_window_us: None,
    }
}

/// The release: the moment the first buyer starts.
async fn released(live: &Live, stop: &CancellationToken) -> Option<Instant> {
    while live.started.load(Ordering::Relaxed) == 0 {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(1)) => {}
            () = stop.cancelled() => return None,
        }
    }
    Some(Instant::now())
}

fn counts(live: &Live) -> (u64, u64) {
    (
        live.errors.load(Ordering::Relaxed),
        live.purchased.load(Ordering::Relaxed),
    )
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

async fn perform(kind: FaultKind, plan: &FaultPlan, t: &Tools) -> Result<(), Error> {
    if kind.needs_proxy() {
        let proxy = plan.proxy.as_ref().ok_or_else(|| {
            Error::infra(format!(
                "fault {kind} needs the proxy, and none was started"
            ))
        })?;
        network(kind, proxy).await;
        return Ok(());
    }
    let server = plan.server.as_deref();
    let process = || {
        server.ok_or_else(|| Error::infra(format!("fault {kind} needs the managed redis-server")))
    };
    let gone = |e: Error| {
        Error::infra(format!(
            "the managed redis-server did not come back after the planned {kind}: {e}"
        ))
    };
    match kind {
        FaultKind::Kill | FaultKind::Restart => {
            let server = process()?;
            t.planned.open(RESTART_BUDGET);
            let back = if kind == FaultKind::Kill {
                server.kill_and_restart().await
            } else {
                server.shutdown_and_restart().await
            };
            back.map_err(gone)?;
        }
        FaultKind::Pause(d) => {
            let server = process()?;
            t.planned.open(d + Duration::from_secs(2));
            server.freeze(true)?;
            tokio::time::sleep(d).await;
            server.freeze(false)?;
        }
        FaultKind::ClientKill => {
            t.planned.open(Duration::from_secs(1));
            let args = vec!["KILL", "TYPE", "normal", "SKIPME", "yes"];
            command(&t.admin, "CLIENT", args, kind).await?;
        }
        FaultKind::ClientPause(d) => {
            let ms = d.as_millis().max(1).to_string();
            command(&t.admin, "CLIENT", vec!["PAUSE", &ms, "WRITE"], kind).await?;
            tokio::time::sleep(d).await;
        }
        FaultKind::ScriptFlush => command(&t.admin, "SCRIPT", vec!["FLUSH"], kind).await?,
        FaultKind::Failover => promote(plan, t).await?,
        FaultKind::Latency { .. } | FaultKind::Drop | FaultKind::Blackhole(_) => {}
    }
    t.planned.close();
    Ok(())
}

/// A replica promoted: on a cluster, of the primary that owns the keys;
/// through Sentinel, the service's.
async fn promote(plan: &FaultPlan, t: &Tools) -> Result<(), Error> {
    match (plan.slot, &plan.sentinel) {
        (Some(slot), _) => {
            t.planned.open(failover::BUDGET);
            failover::promote(&t.admin, slot).await
        }
        (None, Some(sentinel)) => {
            t.planned.open(failover::SENTINEL_BUDGET);
            failover::via_sentinel(&t.admin, sentinel).await
        }
        (None, None) => Err(Error::infra("fault failover needs a replica")),
    }
}

/// The network faults: the watchdog is not told, since its probe goes
/// direct and the server itself stays well.
async fn network(kind: FaultKind, proxy: &ProxyControl) {
    match kind {
        FaultKind::Latency { min, max, window } => {
            proxy.latency(Some((min, max)));
            if let Some(w) = window {
                tokio::time::sleep(w).await;
                proxy.latency(None);
            }
        }
        FaultKind::Drop => proxy.drop_all(),
        FaultKind::Blackhole(d) => {
            proxy.blackhole(true);
            tokio::time::sleep(d).await;
            proxy.blackhole(false);
        }
        _ => {}
    }
}

async fn command(
    admin: &Client,
    cmd: &'static str,
    args: Vec<&str>,
    kind: FaultKind,
) -> Result<(), Error> {
    let args: Vec<String> = args.into_iter().map(str::to_string).collect();
    let reply: Result<Value, _> = admin.custom(fred::cmd!(cmd), args).await;
    reply.map(drop).map_err(|e| {
        Error::infra(format!(
            "the planned fault {kind} failed: {e}\nfix: the user needs the {cmd} command \
             (an ACL may refuse it), or drop the fault"
        ))
    })
}
