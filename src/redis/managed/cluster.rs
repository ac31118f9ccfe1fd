//! A throwaway Redis Cluster on 127.0.0.1: N primaries, each with R
//! replicas, started from the same binary as the managed server, every node
//! in its own temp directory on free ports. The tool assigns the slots
//! itself (CLUSTER ADDSLOTSRANGE, MEET, REPLICATE), waits for
//! `cluster_state:ok` on every node and every replica in sync, and the guard
//! kills every node when dropped; each node also dies with blackfriday
//! (`PR_SET_PDEATHSIG`, as the managed server does).

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use fred::prelude::*;
use tempfile::TempDir;

use super::process::{exchange, free_port, spawn, Place};
use super::{io_err, Failed};
use crate::error::Error;

/// Redis Cluster's hash slots.
const SLOTS: u32 = 16_384;
/// Time for the whole cluster to form: nodes up, slots served, replicas synced.
const FORM_TIMEOUT: Duration = Duration::from_secs(30);

/// `--topology cluster:N` or `cluster:NxR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterShape {
    pub primaries: u16,
    /// Replicas of each primary.
    pub replicas: u16,
}

struct ClusterNode {
    child: Child,
    port: u16,
    bus: u16,
    log: PathBuf,
    // Held for its Drop: the node's files go with it.
    _dir: TempDir,
}

/// The guard: dropping it kills and reaps every node.
pub struct ManagedCluster {
    /// Primaries first, then each primary's replicas in turn.
    nodes: Vec<ClusterNode>,
    shape: ClusterShape,
}

impl ManagedCluster {
    /// Start and form the cluster; Err (exit 3) with the failing node's log.
    pub async fn start(binary: &OsStr, shape: ClusterShape) -> Result<ManagedCluster, Error> {
        let total = usize::from(shape.primaries) * (1 + usize::from(shape.replicas));
        let mut cluster = ManagedCluster {
            nodes: Vec::with_capacity(total),
            shape,
        };
        for _ in 0..total {
            cluster.nodes.push(start_node(binary).await?);
        }
        let clients = cluster.connect().await?;
        let formed = tokio::time::timeout(FORM_TIMEOUT, cluster.form(&clients)).await;
        for c in &clients {
            let _ = c.quit().await;
        }
        match formed {
            Ok(Ok(())) => Ok(cluster),
            Ok(Err(e)) => Err(cluster.failed(&format!("forming the cluster: {e}"))),
            Err(_) => Err(cluster.failed(&format!(
                "the cluster did not reach cluster_state:ok with its replicas in sync \
                 within {FORM_TIMEOUT:?}"
            ))),
        }
    }

    /// The seed URL: every primary.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self.nodes[..usize::from(self.shape.primaries)]
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis-cluster://{}", seeds.join(","))
    }

    /// Every node's process id, primaries first.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.child.id()).collect()
    }

    pub fn shape(&self) -> ClusterShape {
        self.shape
    }

    async fn connect(&self) -> Result<Vec<Client>, Error> {
        let mut clients = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let config = Config {
                server: ServerConfig::new_centralized("127.0.0.1", node.port),
                ..Config::default()
            };
            let client = Builder::from_config(config)
                .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(5))
                .build()
                .map_err(|e| self.failed(&format!("configuring a client: {e}")))?;
            client
                .init()
                .await
                .map_err(|e| self.failed(&format!("connecting to node {}: {e}", node.port)))?;
            clients.push(client);
        }
        Ok(clients)
    }

    /// Slots to the primaries, every node introduced to the first, replicas
    /// attached, then wait until every node agrees the cluster is whole.
    async fn form(&self, clients: &[Client]) -> Result<(), fred::error::Error> {
        let n = u32::from(self.shape.primaries);
        for (i, c) in clients[..n as usize].iter().enumerate() {
            let i = i as u32;
            let (first, last) = (SLOTS * i / n, SLOTS * (i + 1) / n - 1);
            cluster(c, &["ADDSLOTSRANGE", &first.to_string(), &last.to_string()]).await?;
        }
        for node in &self.nodes[1..] {
            // The bus port too: without it MEET assumes port + 10000.
            let (port, bus) = (node.port.to_string(), node.bus.to_string());
            cluster(&clients[0], &["MEET", "127.0.0.1", &port, &bus]).await?;
        }
        let total = self.nodes.len();
        wait_all(
            clients,
            |info| field(info, "cluster_known_nodes") == Some(total.to_string()),
            "INFO",
        )
        .await?;
        let mut ids = Vec::new();
        for c in &clients[..n as usize] {
            let id: String = c.custom(admin_cmd(), vec!["MYID"]).await?;
            ids.push(id);
        }
        for (r, c) in clients[n as usize..].iter().enumerate() {
            let primary = &ids[r / usize::from(self.shape.replicas.max(1))];
            replicate(c, primary).await?;
        }
        wait_all(
            clients,
            |info| field(info, "cluster_state").as_deref() == Some("ok"),
            "INFO",
        )
        .await?;
        for c in &clients[n as usize..] {
            wait_synced(c).await?;
        }
        // The slot map every node serves lists each replica once it is in sync.
        let want = usize::from(self.shape.replicas);
        wait_until(|| async {
            let slots: Value = clients[0].custom(admin_cmd(), vec!["SLOTS"]).await?;
            let shards = slots.into_array();
            Ok(shards.len() == n as usize
                && shards.into_iter().all(|s| s.into_array().len() == 3 + want))
        })
        .await
    }

    /// An infrastructure error that names what failed and shows the end of
    /// each node's log.
    fn failed(&self, what: &str) -> Error {
        let mut msg = format!("managed Redis Cluster: {what}");
        for node in &self.nodes {
            let log = std::fs::read_to_string(&node.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            msg += &format!("\nnode 127.0.0.1:{} log (last lines):", node.port);
            for line in tail.into_iter().rev() {
                msg += &format!("\n  {line}");
            }
        }
        Error::infra(msg)
    }
}

impl Drop for ManagedCluster {
    fn drop(&mut self) {
        // A throwaway cluster holds nothing worth a graceful shutdown.
        for node in &mut self.nodes {
            let _ = node.child.kill();
        }
        for node in &mut self.nodes {
            let _ = node.child.wait();
        }
    }
}

/// One node on fresh free ports, answering PING; a port taken between the
/// probe and the bind is retried on new ports.
async fn start_node(binary: &OsStr) -> Result<ClusterNode, Error> {
    for _ in 0..3 {
        let dir = tempfile::Builder::new()
            .prefix("blackfriday-cluster-")
            .tempdir()
            .map_err(|e| io_err("cannot create a temp dir for redis-server", e).into_error())?;
        let port = free_port().map_err(|e| io_err("no free port", e).into_error())?;
        let bus = loop {
            let p = free_port().map_err(|e| io_err("no free port", e).into_error())?;
            if p != port {
                break p;
            }
        };
        let log = dir.path().join("redis.log");
        let at = Place {
            port,
            socket: None,
            dir: dir.path(),
            log: &log,
            cluster_port: Some(bus),
        };
        let child = spawn(binary, &at, None).map_err(Failed::into_error)?;
        let mut node = ClusterNode {
            child,
            port,
            bus,
            log,
            _dir: dir,
        };
        match node_ready(&mut node).await {
            Ok(()) => return Ok(node),
            Err(Failed::PortTaken) => continue,
            Err(Failed::Other(e)) => return Err(e),
        }
    }
    Err(Error::infra(
        "managed Redis Cluster: a node could not bind free ports on 127.0.0.1 after 3 tries",
    ))
}

async fn node_ready(node: &mut ClusterNode) -> Result<(), Failed> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = node.child.try_wait() {
            let log = std::fs::read_to_string(&node.log).unwrap_or_default();
            if log.contains("Address already in use") {
                return Err(Failed::PortTaken);
            }
            return Err(Failed::Other(Error::infra(format!(
                "a managed cluster node exited during startup ({status}). Its log:\n{log}"
            ))));
        }
        let reply = exchange(node.port, None, b"PING\r\n", 7);
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_millis(250), reply).await {
            if r == b"+PONG\r\n" {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(Failed::Other(Error::infra(format!(
                "a managed cluster node did not answer PING on port {} within 10s",
                node.port
            ))));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn admin_cmd() -> fred::types::CustomCommand {
    fred::types::CustomCommand::new_static("CLUSTER", fred::types::ClusterHash::Random, false)
}

async fn cluster(c: &Client, args: &[&str]) -> Result<(), fred::error::Error> {
    let _: Value = c.custom(admin_cmd(), args.to_vec()).await?;
    Ok(())
}

/// CLUSTER REPLICATE, retried until the replica knows its primary's role.
async fn replicate(c: &Client, primary: &str) -> Result<(), fred::error::Error> {
    wait_until(|| async {
        let r: Result<Value, _> = c.custom(admin_cmd(), vec!["REPLICATE", primary]).await;
        Ok(r.is_ok())
    })
    .await
}

async fn wait_synced(c: &Client) -> Result<(), fred::error::Error> {
    wait_until(|| async {
        let info: String = c.info(Some(fred::types::InfoKind::Replication)).await?;
        Ok(field(&info, "master_link_status").as_deref() == Some("up")
            && field(&info, "master_sync_in_progress").as_deref() == Some("0"))
    })
    .await
}

/// Wait until `CLUSTER INFO` of every node satisfies `ok`.
async fn wait_all(
    clients: &[Client],
    ok: impl Fn(&str) -> bool,
    sub: &str,
) -> Result<(), fred::error::Error> {
    for c in clients {
        wait_until(|| async {
            let info: String = c.custom(admin_cmd(), vec![sub]).await?;
            Ok(ok(&info))
        })
        .await?;
    }
    Ok(())
}

/// Poll `check` every 20 ms until it holds (the caller bounds the time).
async fn wait_until<F, Fut>(check: F) -> Result<(), fred::error::Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool, fred::error::Error>>,
{
    loop {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `name:value` from an INFO-style reply.
fn field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}
