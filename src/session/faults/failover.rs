//! The `failover` fault: `CLUSTER FAILOVER` on a replica of the primary
//! that owns the strategy's keys, as an operator moving a primary would.
//! The replica first catches up with its primary (which holds writes
//! meanwhile), then takes its slots over; clients learn it from the MOVED
//! replies of the old primary. So an acknowledged write must survive it:
//! the audit's check is not excused, unlike after a kill without `always`.
//!
//! Through Sentinel it is `SENTINEL FAILOVER`: the sentinel promotes a
//! replica at once, without letting it catch up, and clients are not told;
//! buyers connected to the old primary keep writing there until the
//! sentinel turns it into a replica of the new one (several seconds
//! later) and drops its clients. What they wrote meanwhile is lost, by
//! Sentinel's design, and the audit counts it.

use std::time::Duration;

use fred::prelude::*;

use crate::error::Error;
use crate::redis::{Sentinel, SlotMap};

/// How long the promotion may take before the run stops (exit 3).
pub(super) const BUDGET: Duration = Duration::from_secs(15);
/// Sentinel turns the old primary into a replica only after it has
/// reported itself a primary for a while (8 s in Redis 7): wait for that,
/// so the audit reads the primary every client ends up on.
pub(super) const SENTINEL_BUDGET: Duration = Duration::from_secs(40);

/// Promote a replica of `slot`'s primary and wait until it serves as one.
pub(super) async fn promote(admin: &Client, slot: u16) -> Result<(), Error> {
    let failed = |what: String| Error::infra(format!("the planned failover failed: {what}"));
    let map = SlotMap::read(admin)
        .await
        .map_err(|e| failed(format!("reading CLUSTER SLOTS: {e}")))?;
    let shard = map
        .shards
        .iter()
        .find(|s| (s.first..=s.last).contains(&slot))
        .ok_or_else(|| failed(format!("no primary serves slot {slot}")))?;
    let Some(replica) = shard.replicas.first() else {
        return Err(Error::usage(format!(
            "--fault failover: the primary {} has no replica to promote\nfix: give every \
             primary a replica (--topology cluster:3x1), or drop the fault",
            shard.primary
        )));
    };
    let client = node(admin, replica)
        .await
        .map_err(|e| failed(format!("connecting to the replica {replica}: {e}")))?;
    let done = tokio::time::timeout(BUDGET, async {
        let _: Value = client
            .custom(fred::cmd!("CLUSTER"), vec!["FAILOVER"])
            .await?;
        until_role(&client, "master").await
    })
    .await;
    let _ = client.quit().await;
    match done {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(failed(format!("CLUSTER FAILOVER on {replica}: {e}"))),
        Err(_) => Err(failed(format!(
            "{replica} was not a primary {BUDGET:?} after CLUSTER FAILOVER"
        ))),
    }
}

/// A client on one node, with the admin's credentials and TLS. It
/// reconnects and gives up on a command after a second: the node it polls
/// may drop its clients as it changes role.
async fn node(admin: &Client, addr: &str) -> Result<Client, fred::error::Error> {
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "6379"));
    let mut config = admin.client_config();
    config.server = ServerConfig::new_centralized(host, port.parse().unwrap_or(6379));
    let client = Builder::from_config(config)
        .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(1))
        .set_policy(ReconnectPolicy::new_constant(0, 20))
        .build()?;
    client.init().await?;
    Ok(client)
}

/// Poll `ROLE` until the node calls itself `role` (`master`, `slave`). A
/// failed poll is tried again: the caller's budget bounds the wait.
async fn until_role(client: &Client, role: &str) -> Result<(), fred::error::Error> {
    loop {
        let reply: Result<Value, _> = client
            .custom(fred::cmd!("ROLE"), Vec::<String>::new())
            .await;
        let first = reply.ok().and_then(|r| r.into_array().into_iter().next());
        if first.and_then(|v| v.as_string()).as_deref() == Some(role) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ask a sentinel to fail the service over; wait until the sentinels name
/// the new primary and the old one serves as its replica.
pub(super) async fn via_sentinel(admin: &Client, s: &Sentinel) -> Result<(), Error> {
    let failed = |what: String| {
        Error::infra(format!(
            "the planned failover of Sentinel service '{}' failed: {what}",
            s.service
        ))
    };
    let sentinel = ask(admin, s)
        .await
        .map_err(|e| failed(format!("no sentinel answered: {e}")))?;
    let done = tokio::time::timeout(SENTINEL_BUDGET, async {
        let old = primary_of(&sentinel, &s.service).await?;
        let _: Value = sentinel
            .custom(fred::cmd!("SENTINEL"), vec!["FAILOVER", &s.service])
            .await?;
        while primary_of(&sentinel, &s.service).await? == old {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let demoted = node(admin, &old).await?;
        let done = until_role(&demoted, "slave").await;
        let _ = demoted.quit().await;
        done
    })
    .await;
    let _ = sentinel.quit().await;
    match done {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(_) => Err(failed(format!(
            "the old primary was not a replica of the new one {SENTINEL_BUDGET:?} after \
             SENTINEL FAILOVER"
        ))),
    }
}

/// The first sentinel that answers, asked without the primary's
/// credentials (as the run's own clients ask them).
async fn ask(admin: &Client, s: &Sentinel) -> Result<Client, fred::error::Error> {
    let mut last = None;
    for (host, port) in &s.hosts {
        let mut config = admin.client_config();
        config.server = ServerConfig::new_centralized(host, *port);
        (config.username, config.password, config.database) = (None, None, None);
        let client = Builder::from_config(config).build()?;
        match client.init().await {
            Ok(_) => return Ok(client),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| fred::error::Error::new(ErrorKind::Sentinel, "no sentinel listed")))
}

/// `host:port` of the service's primary, as the sentinel names it.
async fn primary_of(sentinel: &Client, service: &str) -> Result<String, fred::error::Error> {
    let addr: Vec<String> = sentinel
        .custom(
            fred::cmd!("SENTINEL"),
            vec!["get-master-addr-by-name", service],
        )
        .await?;
    Ok(addr.join(":"))
}
