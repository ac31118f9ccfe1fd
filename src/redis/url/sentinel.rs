//! `redis-sentinel://[user:password@]host:port[,host:port…]/service[/db]`:
//! the sentinels to ask, and the name of the service they watch. The client
//! asks a sentinel for the service's current primary and connects to it;
//! after a failover it asks again.

use fred::prelude::{Config, Error as FredError, ServerConfig};

use super::cluster::{credentials, HostList};
use super::{RedisUrl, Transport};

const FORM: &str = "redis-sentinel://[user:password@]host:port[,host:port...]/service[/db]";

/// Where the sentinels are, and the service's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentinel {
    pub hosts: Vec<(String, u16)>,
    pub service: String,
}

/// `raw` is the whole URL, `rest` what follows the scheme.
pub(super) fn parse(raw: &str, rest: &str) -> Result<RedisUrl, String> {
    let list = HostList::split(raw, rest, FORM)?;
    let masked = list.masked;
    if list.path.contains(['?', '#']) {
        return Err(format!(
            "{masked}: query parameters are not honoured; expected {FORM}"
        ));
    }
    let mut parts = list.path.trim_start_matches('/').split('/');
    let service = parts.next().unwrap_or_default();
    if service.is_empty() {
        return Err(format!(
            "{masked}: no service name; the sentinels watch a primary by its name, e.g. \
             redis-sentinel://127.0.0.1:26379/mymaster (expected {FORM})"
        ));
    }
    let db =
        match (parts.next(), parts.next()) {
            (None, _) => None,
            (Some(db), None) => Some(db.parse::<u8>().map_err(|_| {
                format!("{masked}: database '/{db}' must be a number from 0 to 255")
            })?),
            (Some(_), Some(_)) => return Err(format!("{masked}: expected {FORM}")),
        };
    Ok(RedisUrl {
        raw: raw.to_string(),
        masked,
        transport: Transport::Tcp,
        tls: false,
        db,
        seeds: None,
        sentinel: Some(Sentinel {
            hosts: list.hosts,
            service: service.to_string(),
        }),
    })
}

/// fred's Sentinel configuration. The URL's credentials are the primary's;
/// the sentinels are asked without them, as they usually run without ACLs.
pub(super) fn fred_config(raw: &str, s: &Sentinel, db: Option<u8>) -> Result<Config, FredError> {
    let mut config = credentials(raw, &s.hosts[0])?;
    config.server = ServerConfig::new_sentinel(s.hosts.clone(), s.service.clone());
    config.database = db;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinels_service_database_and_mask() {
        let u = RedisUrl::parse("redis-sentinel://shop:s3cret@10.0.0.1:26379,10.0.0.2/mymaster/2")
            .unwrap();
        assert_eq!(
            u.masked(),
            "redis-sentinel://shop:***@10.0.0.1:26379,10.0.0.2/mymaster/2"
        );
        let s = u.sentinel().unwrap();
        assert_eq!(s.service, "mymaster");
        assert_eq!(
            s.hosts,
            [("10.0.0.1".into(), 26379), ("10.0.0.2".into(), 6379)]
        );
        assert!(u.cluster_seeds().is_none());
        let c = u.fred_config().unwrap();
        assert_eq!(c.username.as_deref(), Some("shop"));
        assert_eq!(c.password.as_deref(), Some("s3cret"));
        assert_eq!(c.database, Some(2));
        assert!(
            matches!(c.server, ServerConfig::Sentinel { ref service_name, ref hosts, .. }
                if service_name == "mymaster" && hosts.len() == 2)
        );
        for (bad, says) in [
            ("redis-sentinel://h:26379", "no service name"),
            ("redis-sentinel://h:26379/", "no service name"),
            ("redis-sentinel://h:26379/m/x", "database"),
            ("redis-sentinel://h:26379/m/1/2", "expected"),
            (
                "redis-sentinel://u:pw@h:26379/m?sentinelServiceName=n",
                "query",
            ),
            ("redis-sentinel://u:pw@h:x/m", "host:port"),
        ] {
            let e = RedisUrl::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(!e.contains("pw@"), "{bad}: {e}");
        }
    }
}
