//! Fault steps and the durability setting, checked against the server the
//! run gets; and the checks a planned fault excuses.

use super::{RedisTarget, RunConfig, Settings};
use crate::error::{Error, Result};
use crate::fault::FaultStep;
use crate::outcome::CheckId;
use crate::redis::{ClusterShape, Listen, Transport};

/// The steps in time order, refused when the server cannot take them.
pub(super) fn check(
    v: &Settings,
    redis: &RedisTarget,
    listen: Listen,
    cluster: Option<ClusterShape>,
) -> Result<Vec<FaultStep>> {
    let external = matches!(redis, RedisTarget::External(_));
    if external && v.appendfsync.is_some() {
        return Err(Error::usage(
            "--appendfsync configures the managed redis-server; with --redis the server's \
             own persistence applies\nfix: drop --redis (or REDIS_URL), or drop --appendfsync",
        ));
    }
    for step in &v.faults {
        if external && step.kind.needs_process() {
            return Err(Error::usage(format!(
                "fault {step}: {} acts on the redis-server process, which only the managed \
                 server gives\nfix: drop --redis (or REDIS_URL), or use client-kill, \
                 client-pause:D or script-flush",
                step.kind.name()
            )));
        }
        if step.kind.needs_proxy() {
            if let Some(link) = not_plain_tcp(redis, listen) {
                return Err(Error::usage(format!(
                    "--fault {step}: network faults go through a local TCP proxy, which stands \
                     in for a plain TCP connection only, and this run uses {link}\nfix: use a \
                     redis:// URL (or the managed server without --unix), or drop the fault"
                )));
            }
        }
        if step.kind.needs_replica() {
            no_replicas(step, redis, cluster)?;
        }
        if step.kind.restarts() && v.appendfsync.is_none() {
            return Err(Error::usage(format!(
                "fault {step}: without persistence the restarted server comes back empty and \
                 nothing can be audited\nfix: add --appendfsync always (or everysec, no)"
            )));
        }
    }
    let mut steps = v.faults.clone();
    steps.sort_by_key(|s| s.at);
    Ok(steps)
}

/// A failover promotes a replica: refused where there is certainly none (a
/// single server, a managed cluster without replicas). A `redis-cluster://`
/// URL's replicas are looked for when the session reads its slot map; a
/// Sentinel service's, by the sentinel when it is asked to fail over.
fn no_replicas(step: &FaultStep, redis: &RedisTarget, cluster: Option<ClusterShape>) -> Result<()> {
    let has = match redis {
        RedisTarget::External(url) => url.cluster_seeds().is_some() || url.sentinel().is_some(),
        RedisTarget::Managed(_) => cluster.is_some_and(|c| c.replicas > 0),
    };
    if has {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--fault {step}: a failover promotes a replica, and this run has none
fix: add \
         --topology cluster:3x1 (three primaries, one replica each), or use a \
         redis-cluster:// URL whose primaries have replicas, or a redis-sentinel:// URL"
    )))
}

/// What keeps the proxy out: TLS (it would have to end the encryption), a
/// unix socket, or servers the client finds for itself (a cluster's nodes,
/// the primary a sentinel names), which would bypass it.
fn not_plain_tcp(redis: &RedisTarget, listen: Listen) -> Option<&'static str> {
    match redis {
        RedisTarget::External(url) if url.tls() => Some("TLS"),
        RedisTarget::External(url) if url.transport() != Transport::Tcp => Some("a unix socket"),
        RedisTarget::External(url) if url.cluster_seeds().is_some() => Some("a cluster"),
        RedisTarget::External(url) if url.sentinel().is_some() => Some("a Sentinel service"),
        RedisTarget::Managed(_) if listen == Listen::Unix => Some("a unix socket (--unix)"),
        _ => None,
    }
}

/// Checks a planned fault may fail without failing the verdict. Errors a
/// fault causes leave buyers turned away with stock left; an fsync policy
/// short of `always` may lose acknowledged orders in a kill, which the
/// client then counts as bought but the server does not hold. Both are
/// shown, counted, and not the strategy's fault. With `always` nothing
/// acknowledged may go missing: that stays a failure.
pub(super) fn tolerated(c: &RunConfig) -> Vec<CheckId> {
    let mut out = Vec::new();
    if c.faults.is_empty() {
        return out;
    }
    out.push(CheckId::NoUndersell);
    let restarts = c.faults.iter().any(|s| s.kind.restarts());
    // Sentinel promotes a replica without letting it catch up, and clients
    // go on writing to the old primary until it is turned into a replica:
    // what they wrote there is lost, by Sentinel's design.
    let sentinel = matches!(&c.redis, RedisTarget::External(u) if u.sentinel().is_some());
    let sentinel_failover = sentinel && c.faults.iter().any(|s| s.kind.needs_replica());
    if sentinel_failover || restarts && !c.appendfsync.is_some_and(|f| f.durable()) {
        out.extend([CheckId::NoAckLost, CheckId::ClientAgrees]);
    }
    out
}
