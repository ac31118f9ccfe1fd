//! `redis-cluster://[user:password@]host:port[,host:port…]`: seed nodes of a
//! Redis Cluster. The client discovers every other node from any one of them.
//!
//! A host list is not a URL host, so the list is split here and each seed is
//! checked as a URL of its own; the credentials are read by the same parser
//! as every other form, so percent-encoding and masking behave alike.

use fred::prelude::{Config, Error as FredError, ServerConfig};

use super::{mask, RedisUrl, Transport};

const FORM: &str = "redis-cluster://[user:password@]host:port[,host:port...]";

/// `raw` is the whole URL, `rest` what follows the scheme.
pub(super) fn parse(raw: &str, rest: &str) -> Result<RedisUrl, String> {
    let (userinfo, hosts) = match rest.rsplit_once('@') {
        Some((user, hosts)) => (Some(user), hosts),
        None => (None, rest),
    };
    let (hosts, path) = match hosts.find(['/', '?', '#']) {
        Some(at) => hosts.split_at(at),
        None => (hosts, ""),
    };
    let credentials = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    // Masked first: every later message may show the URL.
    let first = hosts.split(',').next().unwrap_or_default();
    let single = url::Url::parse(&format!("redis://{credentials}{first}"))
        .map_err(|e| super::redact(&format!("'{raw}' is not a URL ({e}); expected {FORM}")))?;
    let masked_user = mask(&single)
        .strip_prefix("redis://")
        .and_then(|r| r.rsplit_once('@').map(|(u, _)| format!("{u}@")))
        .unwrap_or_default();
    let masked = format!(
        "{}://{masked_user}{hosts}{path}",
        raw.split("://").next().unwrap_or("redis-cluster")
    );
    // A cluster has one database, 0; anything else would be ignored.
    if !matches!(path, "" | "/" | "/0") {
        return Err(format!(
            "{masked}: a cluster has database 0 only, and takes no query parameters; \
             expected {FORM}"
        ));
    }
    let seeds = hosts
        .split(',')
        .map(|h| seed(h, &masked))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RedisUrl {
        raw: raw.to_string(),
        masked,
        transport: Transport::Tcp,
        tls: false,
        db: None,
        seeds: Some(seeds),
    })
}

/// One `host:port` of the list.
fn seed(host: &str, masked: &str) -> Result<(String, u16), String> {
    let bad = || format!("{masked}: '{host}' is not host:port; expected {FORM}");
    if host.is_empty() || host.contains('@') {
        return Err(bad());
    }
    let url = url::Url::parse(&format!("redis://{host}")).map_err(|_| bad())?;
    let name = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    // url keeps IPv6 brackets in host_str; fred wants the bare address.
    let name = name.trim_start_matches('[').trim_end_matches(']');
    Ok((name.to_string(), url.port().unwrap_or(6379)))
}

/// fred's clustered configuration: the credentials as a one-host URL would
/// give them, and every seed as a known node.
pub(super) fn fred_config(raw: &str, seeds: &[(String, u16)]) -> Result<Config, FredError> {
    let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
    let credentials = rest
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    let (host, port) = &seeds[0];
    let mut config = Config::from_url(&format!("redis://{credentials}{host}:{port}"))?;
    config.server = ServerConfig::new_clustered(seeds.to_vec());
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_credentials_and_mask() {
        let u = RedisUrl::parse("redis-cluster://shop:s3cret@10.0.0.1:7001,10.0.0.2:7002").unwrap();
        assert_eq!(
            u.masked(),
            "redis-cluster://shop:***@10.0.0.1:7001,10.0.0.2:7002"
        );
        let seeds = u.cluster_seeds().unwrap();
        assert_eq!(
            seeds,
            [("10.0.0.1".into(), 7001), ("10.0.0.2".into(), 7002)]
        );
        let c = u.fred_config().unwrap();
        assert_eq!(c.username.as_deref(), Some("shop"));
        assert_eq!(c.password.as_deref(), Some("s3cret"));
        assert!(matches!(c.server, ServerConfig::Clustered { ref hosts, .. } if hosts.len() == 2));
        let one = RedisUrl::parse("redis-cluster://h").unwrap();
        assert_eq!(one.cluster_seeds().unwrap(), [("h".into(), 6379)]);
        for bad in [
            "redis-cluster://",
            "redis-cluster://h:1,,h:2",
            "redis-cluster://h:1/2",
            "redis-cluster://h:1?node=h:2",
            "redis-cluster://u:pw@h:x",
        ] {
            let e = RedisUrl::parse(bad).unwrap_err();
            assert!(!e.contains("pw@"), "{bad}: {e}");
        }
    }
}
