//! Redis URLs: which forms are accepted, what each means, and the password
//! masked in everything shown.

use fred::prelude::{Config, Error as FredError};
use serde::Serialize;

use super::redact;

mod cluster;

/// How the client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Unix,
}

/// A validated Redis URL, with the password masked for every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub(super) raw: String,
    pub(super) masked: String,
    pub(super) transport: Transport,
    pub(super) tls: bool,
    /// `unix://` URLs: the socket's path is the URL's path, so the
    /// database comes from `?db=N`.
    db: Option<u8>,
    /// `redis-cluster://`: the seed nodes; None for a single server.
    seeds: Option<Vec<(String, u16)>>,
}

const FORMS: &str = "redis://[user:password@]host[:port][/db], rediss://... for TLS, \
                     redis-cluster://[user:password@]host:port[,host:port...] for a cluster, \
                     or unix:///path/to/redis.sock[?db=N]";

impl RedisUrl {
    /// Accepts `redis://` and `rediss://` (also `valkey[s]://`) with
    /// `[user:password@]host[:port][/db]`, and `unix://` (also
    /// `redis+unix://`) with a socket path and `?db=N`. Everything fred
    /// would accept silently but handle wrongly is refused here with a reason.
    pub fn parse(raw: &str) -> Result<RedisUrl, String> {
        for scheme in ["redis-cluster://", "valkey-cluster://"] {
            if let Some(rest) = raw.strip_prefix(scheme) {
                return cluster::parse(raw, rest);
            }
        }
        // Redacted as text: a URL that does not parse cannot be masked by the parser.
        let url = url::Url::parse(raw)
            .map_err(|e| redact(&format!("'{raw}' is not a URL ({e}); expected {FORMS}")))?;
        let (transport, tls) = match url.scheme() {
            "redis" | "valkey" => (Transport::Tcp, false),
            "rediss" | "valkeys" => (Transport::Tcp, true),
            "unix" | "redis+unix" | "valkey+unix" => (Transport::Unix, false),
            other => return Err(format!("unsupported scheme '{other}://'; expected {FORMS}")),
        };
        let db = match transport {
            Transport::Tcp => tcp_checks(&url)?,
            Transport::Unix => unix_checks(&url)?,
        };
        Ok(RedisUrl {
            raw: raw.to_string(),
            masked: mask(&url),
            transport,
            tls,
            db,
            seeds: None,
        })
    }

    /// The seed nodes of a `redis-cluster://` URL; None for one server.
    pub fn cluster_seeds(&self) -> Option<&[(String, u16)]> {
        self.seeds.as_deref()
    }

    pub fn masked(&self) -> &str {
        &self.masked
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    pub fn tls(&self) -> bool {
        self.tls
    }

    /// fred's configuration for this URL, before TLS is attached.
    pub(super) fn fred_config(&self) -> Result<Config, FredError> {
        if let Some(seeds) = &self.seeds {
            return cluster::fred_config(&self.raw, seeds);
        }
        if self.transport == Transport::Tcp {
            return Config::from_url(&self.raw);
        }
        // fred knows only `redis+unix://`, and reads no database from it.
        let mut url = url::Url::parse(&self.raw)?;
        url.set_query(None);
        let rest = &url.as_str()[url.scheme().len()..];
        let mut config = Config::from_url(&format!("redis+unix{rest}"))?;
        config.database = self.db;
        Ok(config)
    }
}

/// A TCP URL: a host, and the database as the path.
fn tcp_checks(url: &url::Url) -> Result<Option<u8>, String> {
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{}' has no host", mask(url)));
    }
    let db = url.path().trim_start_matches('/');
    if !db.is_empty() && db.parse::<u8>().is_err() {
        return Err(format!(
            "database '/{db}' in '{}' must be a number from 0 to 255",
            mask(url)
        ));
    }
    // fred reads the database from the path only: a `?db=2` would be
    // ignored while the banner printed it, and the run would write to db 0.
    if let Some(query) = url.query() {
        return Err(format!(
            "{}: query parameters ({}) are not honoured; \
             give the database as the path, e.g. redis://host:6379/2",
            mask(url),
            query_keys(query, |_| true)
        ));
    }
    Ok(None)
}

/// A socket URL: a path, no host but this one, and only `?db=N`.
fn unix_checks(url: &url::Url) -> Result<Option<u8>, String> {
    if !url
        .host_str()
        .is_none_or(|h| h.is_empty() || h == "localhost")
    {
        return Err(format!(
            "'{}': a unix socket is on this machine; write unix:///path/to/redis.sock \
             (or unix://user:password@localhost/path/to/redis.sock)",
            mask(url)
        ));
    }
    if url.path().trim_matches('/').is_empty() {
        return Err(format!(
            "'{}' names no socket; write unix:///path/to/redis.sock",
            mask(url)
        ));
    }
    if let Some(query) = url.query() {
        let other = query_keys(query, |k| k != "db");
        if !other.is_empty() {
            return Err(format!(
                "{}: query parameters ({other}) are not honoured; only ?db=N is",
                mask(url)
            ));
        }
    }
    let mut db = None;
    for (_, v) in url.query_pairs().filter(|(k, _)| k == "db") {
        db =
            Some(v.parse::<u8>().map_err(|_| {
                format!("?db={v} in '{}' must be a number from 0 to 255", mask(url))
            })?);
    }
    Ok(db)
}

/// The names of a query's parameters that `keep` selects, comma-separated.
fn query_keys(query: &str, keep: impl Fn(&str) -> bool) -> String {
    query
        .split('&')
        .map(|p| p.split('=').next().unwrap_or(p))
        .filter(|k| keep(k))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mask(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fred::types::config::ServerConfig;

    #[test]
    fn every_url_form_parses_to_its_transport() {
        let cases = [
            ("redis://h:6379/2", Transport::Tcp, false),
            ("valkey://h", Transport::Tcp, false),
            ("rediss://u:pw@h:6380/0", Transport::Tcp, true),
            ("valkeys://h:6380", Transport::Tcp, true),
            ("unix:///run/redis.sock", Transport::Unix, false),
            ("redis+unix:///run/redis.sock?db=3", Transport::Unix, false),
            (
                "unix://u:pw@localhost/run/redis.sock",
                Transport::Unix,
                false,
            ),
        ];
        for (raw, transport, tls) in cases {
            let u = RedisUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!((u.transport(), u.tls()), (transport, tls), "{raw}");
            assert!(!u.masked().contains("pw"), "{raw}");
        }
        let c = RedisUrl::parse("unix://alice:pw@localhost/run/redis.sock?db=3")
            .unwrap()
            .fred_config()
            .unwrap();
        assert_eq!(c.database, Some(3));
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert!(
            matches!(c.server, ServerConfig::Unix { ref path } if path.to_str() == Some("/run/redis.sock"))
        );
        for bad in [
            "unix://",
            "unix://db.example/run/r.sock",
            "unix:///r.sock?db=x",
            "unix:///r.sock?x=1",
        ] {
            assert!(RedisUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_shown() {
        let u = RedisUrl::parse("redis://alice:s3cret@db.example:6390/2").unwrap();
        assert_eq!(u.masked(), "redis://alice:***@db.example:6390/2");
        assert!(!u.masked().contains("s3cret"));
        let u = RedisUrl::parse("redis://127.0.0.1:6379").unwrap();
        assert_eq!(u.masked(), "redis://127.0.0.1:6379");
    }
}
