//! What a run's Redis is made of: one server, or a cluster of primaries
//! (and their replicas), and the per-node work a cluster needs: every
//! primary's own connection, SCAN over all of them, UNLINK slot by slot.

use std::collections::BTreeMap;

use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand, Key};
use futures::{Stream, StreamExt};
use serde::Serialize;

/// The shape of the deployment, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Topology {
    Standalone,
    Cluster {
        primaries: usize,
        /// Replicas over all primaries.
        replicas: usize,
    },
}

impl Topology {
    /// `standalone`, `cluster, 3 primaries, 3 replicas`.
    pub fn describe(&self) -> String {
        match self {
            Topology::Standalone => "standalone".into(),
            Topology::Cluster {
                primaries,
                replicas,
            } => {
                let mut s = format!(
                    "cluster, {primaries} primar{}",
                    plural(*primaries, "y", "ies")
                );
                if *replicas > 0 {
                    s += &format!(", {replicas} replica{}", plural(*replicas, "", "s"));
                }
                s
            }
        }
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// One slot range of a cluster and the node serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub first: u16,
    pub last: u16,
    /// `host:port` of the primary.
    pub primary: String,
    pub replicas: Vec<String>,
}

/// The cluster's slot map, as `CLUSTER SLOTS` gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotMap {
    pub shards: Vec<Shard>,
}

impl SlotMap {
    /// Read the slot map from any node.
    pub async fn read(client: &Client) -> Result<SlotMap, Error> {
        let cmd = CustomCommand::new_static("CLUSTER", ClusterHash::Random, false);
        let reply: Value = client.custom(cmd, vec!["SLOTS"]).await?;
        let mut shards = Vec::new();
        for range in reply.into_array() {
            let mut parts = range.into_array().into_iter();
            let first = parts.next().and_then(|v| v.as_u64()).unwrap_or(0) as u16;
            let last = parts.next().and_then(|v| v.as_u64()).unwrap_or(0) as u16;
            let mut nodes = parts.map(|n| {
                let mut n = n.into_array().into_iter();
                let host = n.next().and_then(|v| v.as_string()).unwrap_or_default();
                let port = n.next().and_then(|v| v.as_u64()).unwrap_or(0);
                format!("{host}:{port}")
            });
            let Some(primary) = nodes.next() else {
                continue;
            };
            shards.push(Shard {
                first,
                last,
                primary,
                replicas: nodes.collect(),
            });
        }
        shards.sort_by_key(|s| s.first);
        Ok(SlotMap { shards })
    }

    /// The primary serving `slot`, if any.
    pub fn node_of(&self, slot: u16) -> Option<&str> {
        self.shards
            .iter()
            .find(|s| (s.first..=s.last).contains(&slot))
            .map(|s| s.primary.as_str())
    }

    pub fn topology(&self) -> Topology {
        let mut primaries: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.shards {
            let r = primaries.entry(&s.primary).or_default();
            *r = (*r).max(s.replicas.len());
        }
        Topology::Cluster {
            primaries: primaries.len(),
            replicas: primaries.values().sum(),
        }
    }
}

/// The slot a key hashes to (its hash tag's, when it has one).
pub fn slot_of(key: &str) -> u16 {
    fred::util::redis_keyslot(key.as_bytes())
}

/// A client on one primary, named `host:port` (or the URL for one server).
#[derive(Clone)]
pub struct Node {
    pub name: String,
    pub client: Client,
}

/// One connected client per primary: `admin` itself for one server, a
/// client of its own on each primary of a cluster (connected here).
pub async fn primaries(admin: &Client, name: &str) -> Result<Vec<Node>, Error> {
    if !admin.is_clustered() {
        return Ok(vec![Node {
            name: name.to_string(),
            client: admin.clone(),
        }]);
    }
    let mut nodes = Vec::new();
    for client in admin.split_cluster()? {
        client.init().await?;
        let name = match &client.client_config().server {
            ServerConfig::Centralized { server } => format!("{}:{}", server.host, server.port),
            _ => "?".to_string(),
        };
        nodes.push(Node { name, client });
    }
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nodes)
}

/// SCAN for `pattern` on every primary (on the one server otherwise).
pub fn scan_all(client: &Client, pattern: String) -> impl Stream<Item = Result<Key, Error>> {
    if client.is_clustered() {
        client
            .scan_cluster_buffered(pattern, Some(1000), None)
            .left_stream()
    } else {
        client
            .scan_buffered(pattern, Some(1000), None)
            .right_stream()
    }
}

/// UNLINK `keys`: in one command on one server, slot by slot on a cluster
/// (a command's keys must share a slot there).
pub async fn unlink_all(client: &Client, keys: Vec<Key>) -> Result<u64, Error> {
    if !client.is_clustered() {
        return client.unlink(keys).await;
    }
    let mut by_slot: BTreeMap<u16, Vec<Key>> = BTreeMap::new();
    for k in keys {
        by_slot
            .entry(fred::util::redis_keyslot(k.as_bytes()))
            .or_default()
            .push(k);
    }
    let mut n = 0;
    for batch in by_slot.into_values() {
        n += client.unlink::<u64, _>(batch).await?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_in_words() {
        assert_eq!(Topology::Standalone.describe(), "standalone");
        let c = Topology::Cluster {
            primaries: 3,
            replicas: 3,
        };
        assert_eq!(c.describe(), "cluster, 3 primaries, 3 replicas");
        let one = Topology::Cluster {
            primaries: 1,
            replicas: 0,
        };
        assert_eq!(one.describe(), "cluster, 1 primary");
        // The hash tag decides the slot: a namespace shares it.
        assert_eq!(slot_of("bf:x:{lua}:stock"), slot_of("lua"));
    }
}
