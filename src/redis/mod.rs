//! Everything that talks to Redis: URLs and connections, the managed
//! throwaway server, the key namespace, seeding and cleanup.

pub mod blame;
pub mod clean;
pub mod liveness;
mod managed;
mod namespace;
mod pipe;
pub mod preflight;
pub mod proxy;
mod redact;
mod tls;
mod topology;
mod url;

pub use managed::{default_binary, ClusterShape, Listen, ManagedCluster, ManagedRedis};
pub use namespace::{cleanup, glob_escape, meta_gone, seed, Keys, SAFETY_TTL};
pub use pipe::{encode, Pipe, Sent};
pub use redact::redact;
pub use tls::{TlsFile, TlsOptions};
pub use topology::{primaries, scan_all, slot_of, unlink_all, Node, SlotMap, Topology};
pub use url::{RedisUrl, Sentinel, Transport};

use std::path::PathBuf;
use std::time::Duration;

use fred::clients::{ExclusivePool, Pool};
use fred::prelude::*;
use serde::Serialize;

use crate::error::Error;

/// How a run reached its server, for the report: never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub transport: Transport,
    /// Whether the connection is encrypted.
    pub tls: bool,
    /// `--tls-insecure`: encrypted, but the server's certificate unchecked.
    pub tls_insecure: bool,
    /// The ACL user the connections log in as.
    pub user: String,
    /// One server, or a cluster and how many primaries it has.
    pub topology: Topology,
}

/// Opens connections to one Redis, each kind configured for its job.
pub struct Connector {
    config: Config,
    url: RedisUrl,
    insecure: bool,
    timeout: Duration,
    /// The user's checkout script (`--script`), named when it fails.
    script_file: Option<PathBuf>,
    /// A cluster's slot map, read once connected ([`Connector::learn_topology`]).
    slots: Option<SlotMap>,
}

impl Connector {
    /// A plaintext URL, or `rediss://` trusting the system's roots.
    pub fn new(url: RedisUrl, timeout: Duration) -> Result<Connector, Error> {
        Connector::with_tls(url, timeout, &TlsOptions::default())
    }

    /// As [`Connector::new`], with the run's TLS settings, which only a
    /// `rediss://` URL may carry.
    pub fn with_tls(
        url: RedisUrl,
        timeout: Duration,
        tls: &TlsOptions,
    ) -> Result<Connector, Error> {
        let mut config = url
            .fred_config()
            .map_err(|e| Error::usage(format!("--redis {}: {}", url.masked, e.details())))?;
        if url.tls {
            config.tls = Some(tls.config()?);
            if let (Some(name), ServerConfig::Centralized { server }) =
                (&tls.server_name, &mut config.server)
            {
                server.tls_server_name = Some(name.as_str().into());
            }
        } else if let Some(flag) = tls.first_given() {
            return Err(plaintext_refuses_tls(flag, &url));
        }
        Ok(Connector {
            config,
            insecure: url.tls && tls.insecure,
            url,
            timeout,
            script_file: None,
            slots: None,
        })
    }

    /// The same connections, made to `proxy` instead: buyers reach the
    /// server through it when a network fault is planned.
    pub fn via(&self, proxy: std::net::SocketAddr) -> Connector {
        let mut config = self.config.clone();
        config.server = ServerConfig::new_centralized(proxy.ip().to_string(), proxy.port());
        Connector {
            config,
            url: self.url.clone(),
            insecure: self.insecure,
            timeout: self.timeout,
            script_file: self.script_file.clone(),
            // A proxy stands in front of one server: no slots to route.
            slots: None,
        }
    }

    /// The server's address, for a proxy to forward to: plain TCP only
    /// (a proxy in front of TLS or a socket would change what is tested).
    pub async fn tcp_address(&self) -> Result<std::net::SocketAddr, String> {
        let ServerConfig::Centralized { server } = &self.config.server else {
            return Err("not a single server".into());
        };
        if self.url.tls || self.url.transport != Transport::Tcp {
            return Err("not a plain TCP connection".into());
        }
        let host = (server.host.to_string(), server.port);
        let mut found = tokio::net::lookup_host(host)
            .await
            .map_err(|e| format!("resolving {}: {e}", server.host))?;
        found
            .next()
            .ok_or_else(|| format!("{} resolves to nothing", server.host))
    }

    /// How this connector reaches its server, for the report.
    pub fn link(&self) -> Link {
        Link {
            transport: self.url.transport,
            tls: self.url.tls,
            tls_insecure: self.insecure,
            user: self.user().to_string(),
            topology: match (&self.slots, self.url.sentinel()) {
                (Some(map), _) => map.topology(),
                (None, Some(s)) => Topology::Sentinel {
                    service: s.service.clone(),
                },
                (None, None) => Topology::Standalone,
            },
        }
    }

    /// On a cluster, read which primary serves which slots, for the report
    /// and the cart planner. Nothing to learn about one server.
    pub async fn learn_topology(&mut self, admin: &Client) -> Result<(), Error> {
        if admin.is_clustered() {
            let map = SlotMap::read(admin)
                .await
                .map_err(|e| self.fail("reading CLUSTER SLOTS", e))?;
            self.slots = Some(map);
        }
        Ok(())
    }

    /// The cluster's slot map; None for one server.
    pub fn slots(&self) -> Option<&SlotMap> {
        self.slots.as_ref()
    }

    /// A client on every primary (the admin itself for one server).
    pub async fn primaries(&self, admin: &Client) -> Result<Vec<Node>, Error> {
        primaries(admin, &self.url.masked)
            .await
            .map_err(|e| self.fail("connecting to every primary", e))
    }

    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    /// Name the user's script file in the messages about it.
    pub fn name_script(&mut self, file: Option<PathBuf>) {
        self.script_file = file;
    }

    /// The ACL user connections log in as (`default` when the URL names none).
    pub fn user(&self) -> &str {
        self.config.username.as_deref().unwrap_or("default")
    }

    /// A liveness probe of this server, on connections of its own.
    pub fn liveness(&self) -> liveness::Probe {
        liveness::Probe::new(
            self.config.clone(),
            self.url.masked.clone(),
            self.script_file.clone(),
        )
    }

    /// Before anything is written: may this connection's ACL user run every
    /// command each strategy needs on its keys? `strategies` pairs each
    /// strategy's name with its commands (its `Facts`). See [`preflight`].
    /// On a cluster, every primary is asked: ACLs are per node.
    pub async fn preflight(
        &self,
        nodes: &[Node],
        run_id: &str,
        strategies: &[(&str, Vec<&str>)],
    ) -> Result<(), Error> {
        for node in nodes {
            for (strategy, commands) in strategies {
                let scratch = format!("{}preflight", Keys::new(run_id, strategy).prefix());
                preflight::preflight(&node.client, self.user(), commands, &scratch)
                    .await
                    .map_err(|e| {
                        let at = match nodes.len() {
                            1 => self.url.masked.clone(),
                            _ => format!("{} (node {})", self.url.masked, node.name),
                        };
                        Error::infra(format!("Redis at {at} ({strategy}): {e}"))
                    })?;
            }
        }
        Ok(())
    }

    /// Load the user's checkout script once on its own, so a compile error
    /// names the file and the line rather than a step of the run.
    pub async fn load_user_script(&self, lua: &str) -> Result<(), Error> {
        let client = self.admin().await?;
        let loaded: Result<String, _> = client.script_load(lua).await;
        let _ = client.quit().await;
        loaded
            .map(drop)
            .map_err(|e| self.fail_script("loading your script", e))
    }

    fn builder(&self, reconnect: bool) -> Builder {
        let mut b = Builder::from_config(self.config.clone());
        let timeout = self.timeout;
        // A command without a timeout hangs forever once the server is gone.
        b.with_performance_config(|p| p.default_command_timeout = timeout)
            .with_connection_config(|c| {
                c.connection_timeout = timeout.min(Duration::from_secs(2));
                c.internal_command_timeout = timeout;
                // Never replay a write after a reconnect: an error must mean
                // "unknown outcome", counted as such, not a silent double apply.
                c.max_command_attempts = 1;
                // Pipelined small writes under Nagle wait for delayed ACKs:
                // tens of ms of latency that belong to no real checkout.
                c.tcp = TcpConfig {
                    nodelay: Some(true),
                    ..TcpConfig::default()
                };
            });
        if reconnect {
            b.set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2));
        }
        b
    }

    /// A pipe to the server `client` reaches (on a cluster, to the owner of
    /// `key`), for the call every buyer repeats; see [`Pipe`].
    pub async fn pipe(&self, client: &Client, key: &str) -> Result<Pipe, Error> {
        Pipe::open(client.clone(), slot_of(key), self.timeout)
            .await
            .map_err(|e| self.fail("opening the purchase connection", e))
    }

    /// A client for setup, audit and cleanup.
    pub async fn admin(&self) -> Result<Client, Error> {
        let client = self
            .builder(true)
            .build()
            .map_err(|e| self.fail("configuring the client", e))?;
        client
            .init()
            .await
            .map_err(|e| self.fail("connecting", e))?;
        Ok(client)
    }

    /// A small multiplexed pool for strategies without per-connection state.
    pub async fn shared(&self, size: usize) -> Result<Pool, Error> {
        let pool = self
            .builder(true)
            .build_pool(size)
            .map_err(|e| self.fail("configuring the pool", e))?;
        pool.init()
            .await
            .map_err(|e| self.fail("connecting the shared pool", e))?;
        Ok(pool)
    }

    /// Dedicated connections, one borrower at a time. No reconnect policy on
    /// purpose: a silent reconnect between WATCH and EXEC would commit the
    /// transaction on a connection that watches nothing.
    pub async fn exclusive(&self, size: usize) -> Result<ExclusivePool, Error> {
        let pool = self
            .builder(false)
            .build_exclusive_pool(size)
            .map_err(|e| self.fail("configuring the exclusive pool", e))?;
        pool.init()
            .await
            .map_err(|e| self.fail("connecting the exclusive pool", e))?;
        Ok(pool)
    }

    /// Turn a Redis failure into an infrastructure error that names the
    /// (masked) URL, blames the party the reply points at and says what to do.
    pub fn fail(&self, doing: &str, e: fred::error::Error) -> Error {
        blame::explain(&self.context(None), doing, &e)
    }

    /// As [`Connector::fail`], for a failure of the user's own script.
    pub fn fail_script(&self, doing: &str, e: fred::error::Error) -> Error {
        blame::explain(&self.context(self.script_file.as_deref()), doing, &e)
    }

    fn context<'a>(&'a self, script: Option<&'a std::path::Path>) -> blame::Context<'a> {
        blame::Context {
            url: &self.url.masked,
            user: self.user(),
            script,
        }
    }
}

/// A TLS setting with a URL that does not use TLS would be silently
/// ignored, and the run would go out in plaintext.
pub fn plaintext_refuses_tls(flag: &str, url: &RedisUrl) -> Error {
    Error::usage(format!(
        "{flag} applies to TLS connections only, and {} is not one: \
         use a rediss:// URL (TLS), or leave {flag} out",
        url.masked
    ))
}

/// The server's `redis_version`, read from INFO.
pub async fn server_version(client: &Client) -> Result<String, fred::error::Error> {
    let info: String = client.info(Some(fred::types::InfoKind::Server)).await?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_honour() {
        // TLS settings on a plaintext URL would be ignored: refused, naming TLS.
        let tls = TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        };
        let plain = RedisUrl::parse("redis://h:6380").unwrap();
        let e = Connector::with_tls(plain, Duration::from_secs(1), &tls)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("TLS") && e.contains("--tls-insecure"), "{e}");
        let q = RedisUrl::parse("redis://h:6379?db=2").unwrap_err();
        assert!(q.contains("db") && q.contains("path"), "{q}");
        assert!(RedisUrl::parse("http://h:6379")
            .unwrap_err()
            .contains("scheme"));
        assert!(RedisUrl::parse("127.0.0.1:6379").is_err());
        let db = RedisUrl::parse("redis://:pw@h:6379/x").unwrap_err();
        assert!(db.contains("database") && !db.contains("pw@"), "{db}");
    }
}
