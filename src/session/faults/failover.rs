//! The `failover` fault: `CLUSTER FAILOVER` on a replica of the primary
//! that owns the strategy's keys, as an operator moving a primary would.
//! The replica first catches up with its primary (which holds writes
//! meanwhile), then takes its slots over; clients learn it from the MOVED
//! replies of the old primary. So an acknowledged write must survive it:
//! the audit's check is not excused, unlike after a kill without `always`.

use std::time::Duration;

use fred::prelude::*;

use crate::error::Error;
use crate::redis::SlotMap;

/// How long the promotion may take before the run stops (exit 3).
pub(super) const BUDGET: Duration = Duration::from_secs(15);

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
        until_primary(&client).await
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

/// A client on one node, with the admin's credentials and TLS.
async fn node(admin: &Client, addr: &str) -> Result<Client, fred::error::Error> {
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "6379"));
    let mut config = admin.client_config();
    config.server = ServerConfig::new_centralized(host, port.parse().unwrap_or(6379));
    let client = Builder::from_config(config).build()?;
    client.init().await?;
    Ok(client)
}

/// Poll `ROLE` until the node calls itself a primary.
async fn until_primary(client: &Client) -> Result<(), fred::error::Error> {
    loop {
        let role: Value = client
            .custom(fred::cmd!("ROLE"), Vec::<String>::new())
            .await?;
        let first = role.into_array().into_iter().next();
        if first.and_then(|v| v.as_string()).as_deref() == Some("master") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
