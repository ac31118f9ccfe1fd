//! Everything that talks to Redis: URLs and connections, the managed
//! throwaway server, the key namespace, seeding and cleanup.

pub mod blame;
pub mod clean;
pub mod liveness;
mod managed;
mod namespace;
pub mod preflight;
mod redact;

pub use managed::{default_binary, ManagedRedis};
pub use namespace::{cleanup, meta_gone, seed, Keys, SAFETY_TTL};
pub use redact::redact;

use std::path::PathBuf;
use std::time::Duration;

use fred::clients::{ExclusivePool, Pool};
use fred::prelude::*;

use crate::error::Error;

/// A validated Redis URL, with the password masked for every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    raw: String,
    masked: String,
}

impl RedisUrl {
    /// Accepts `redis://[user:password@]host[:port][/db]`. Everything fred
    /// would accept silently but handle wrongly is refused here with a reason.
    pub fn parse(raw: &str) -> Result<RedisUrl, String> {
        // Redacted as text: a URL that does not parse cannot be masked by the parser.
        let url = url::Url::parse(raw).map_err(|e| {
            redact(&format!(
                "'{raw}' is not a URL ({e}); expected redis://[user:password@]host[:port][/db]"
            ))
        })?;
        match url.scheme() {
            "redis" | "valkey" => {}
            "rediss" | "valkeys" => {
                return Err("TLS (rediss://) is not supported yet: use a redis:// URL, \
                            for example through a local TLS tunnel such as stunnel"
                    .into())
            }
            other => {
                return Err(format!(
                    "unsupported scheme '{other}://'; expected redis://[user:password@]host[:port][/db]"
                ))
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("'{}' has no host", mask(&url)));
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u8>().is_err() {
            return Err(format!(
                "database '/{db}' in '{}' must be a number from 0 to 255",
                mask(&url)
            ));
        }
        Ok(RedisUrl {
            raw: raw.to_string(),
            masked: mask(&url),
        })
    }

    pub fn masked(&self) -> &str {
        &self.masked
    }
}

fn mask(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// Opens connections to one Redis, each kind configured for its job.
pub struct Connector {
    config: Config,
    url: RedisUrl,
    timeout: Duration,
    /// The user's checkout script (`--script`), named when it fails.
    script_file: Option<PathBuf>,
}

impl Connector {
    pub fn new(url: RedisUrl, timeout: Duration) -> Result<Connector, Error> {
        let config = Config::from_url(&url.raw)
            .map_err(|e| Error::usage(format!("--redis {}: {}", url.masked, e.details())))?;
        Ok(Connector {
            config,
            url,
            timeout,
            script_file: None,
        })
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
    pub async fn preflight(
        &self,
        admin: &Client,
        run_id: &str,
        strategies: &[(&str, Vec<&str>)],
    ) -> Result<(), Error> {
        for (strategy, commands) in strategies {
            let scratch = format!("{}preflight", Keys::new(run_id, strategy).prefix());
            preflight::preflight(admin, self.user(), commands, &scratch)
                .await
                .map_err(|e| {
                    Error::infra(format!("Redis at {} ({strategy}): {e}", self.url.masked))
                })?;
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
    fn passwords_never_shown() {
        let u = RedisUrl::parse("redis://alice:s3cret@db.example:6390/2").unwrap();
        assert_eq!(u.masked(), "redis://alice:***@db.example:6390/2");
        assert!(!u.masked().contains("s3cret"));
        let u = RedisUrl::parse("redis://127.0.0.1:6379").unwrap();
        assert_eq!(u.masked(), "redis://127.0.0.1:6379");
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        let tls = RedisUrl::parse("rediss://h:6380").unwrap_err();
        assert!(tls.contains("TLS"), "{tls}");
        assert!(RedisUrl::parse("http://h:6379")
            .unwrap_err()
            .contains("scheme"));
        assert!(RedisUrl::parse("127.0.0.1:6379").is_err());
        let db = RedisUrl::parse("redis://:pw@h:6379/x").unwrap_err();
        assert!(db.contains("database") && !db.contains("pw@"), "{db}");
    }
}
