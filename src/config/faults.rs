//! Fault steps and the durability setting, checked against the server the
//! run gets; and the checks a planned fault excuses.

use super::{RedisTarget, RunConfig, Settings};
use crate::error::{Error, Result};
use crate::fault::FaultStep;
use crate::outcome::CheckId;
use crate::redis::{Listen, Transport};

/// The steps in time order, refused when the server cannot take them.
pub(super) fn check(v: &Settings, redis: &RedisTarget, listen: Listen) -> Result<Vec<FaultStep>> {
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

/// What keeps the proxy out: TLS (it would have to end the encryption) or
/// a unix socket.
fn not_plain_tcp(redis: &RedisTarget, listen: Listen) -> Option<&'static str> {
    match redis {
        RedisTarget::External(url) if url.tls() => Some("TLS"),
        RedisTarget::External(url) if url.transport() != Transport::Tcp => Some("a unix socket"),
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
    if restarts && !c.appendfsync.is_some_and(|f| f.durable()) {
        out.extend([CheckId::NoAckLost, CheckId::ClientAgrees]);
    }
    out
}
