//! How to reach Redis: the TLS and unix-socket settings layered from the
//! file and the flags, and the target they are checked against.

use super::settings::{Named, Settings};
use super::RedisTarget;
use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::redis::{
    default_binary, plaintext_refuses_tls, ClusterShape, RedisUrl, TlsFile, TlsOptions,
};
use crate::scenario::Scenario;

/// How to reach Redis, from the file: `[tls]` and `unix`.
pub(super) fn file_link(s: &mut Settings, f: &Scenario) {
    if f.unix == Some(true) {
        s.unix = Some(f.at("unix"));
    }
    s.per_call_writes |= f.per_call_writes == Some(true);
    if let Some(t) = &f.topology {
        s.topology = Some(Named {
            value: t.clone(),
            name: f.at("topology"),
        });
    }
    if f.spread == Some(true) {
        s.spread = Some(f.at("spread"));
    }
    let Some(t) = &f.tls else { return };
    let file = |key: &str, p: &Option<std::path::PathBuf>| {
        p.as_ref().map(|p| TlsFile {
            path: f.resolve(p),
            name: f.at(&format!("tls.{key}")),
        })
    };
    s.tls = TlsOptions {
        ca: file("ca", &t.ca),
        cert: file("cert", &t.cert),
        key: file("key", &t.key),
        server_name: t.server_name.clone(),
        insecure: t.insecure.unwrap_or(false),
    };
}

/// `--tls-*` and `--unix`, each over the file's value.
pub(super) fn flag_link(s: &mut Settings, a: &RunArgs) {
    let file = |flag: &str, p: &Option<std::path::PathBuf>| {
        p.as_ref().map(|p| TlsFile {
            path: p.clone(),
            name: flag.to_string(),
        })
    };
    let t = &mut s.tls;
    t.ca = file("--tls-ca", &a.tls_ca).or(t.ca.take());
    t.cert = file("--tls-cert", &a.tls_cert).or(t.cert.take());
    t.key = file("--tls-key", &a.tls_key).or(t.key.take());
    t.server_name = a.tls_server_name.clone().or(t.server_name.take());
    t.insecure |= a.tls_insecure;
    if a.unix {
        s.unix = Some("--unix".into());
    }
    s.per_call_writes |= a.per_call_writes;
    if let Some(t) = &a.topology {
        s.topology = Some(Named {
            value: t.clone(),
            name: "--topology".into(),
        });
    }
    if a.spread {
        s.spread = Some("--spread".into());
    }
}

/// `--redis`, `REDIS_URL` or the file's `redis`; a managed server without.
/// TLS settings and `--unix` are checked against it here, before anything
/// starts: a setting the target cannot honour would be silently ignored.
pub(super) fn redis(url: Option<&str>, v: &Settings) -> Result<RedisTarget> {
    let Some(url) = url.map(str::trim).filter(|s| !s.is_empty()) else {
        if let Some(flag) = v.tls.first_given() {
            return Err(Error::usage(format!(
                "{flag}: the managed redis-server speaks plaintext; TLS settings need an \
                 external server: --redis rediss://host:port"
            )));
        }
        return Ok(RedisTarget::Managed(default_binary()));
    };
    let parsed =
        RedisUrl::parse(url).map_err(|e| Error::usage(format!("--redis / REDIS_URL: {e}")))?;
    if let Some(t) = &v.topology {
        return Err(Error::usage(format!(
            "{}: the topology of the managed Redis, and this run uses {}, whose topology \
             is its own\nfix: drop --redis (or REDIS_URL) to let the run start a cluster, \
             or drop {}",
            t.name,
            parsed.masked(),
            t.name
        )));
    }
    if let Some(unix) = &v.unix {
        return Err(Error::usage(format!(
            "{unix} makes the managed redis-server listen on a socket, and this run uses {}: \
             for a server of your own, give its socket as --redis unix:///path/to/redis.sock",
            parsed.masked()
        )));
    }
    if !parsed.tls() {
        if let Some(flag) = v.tls.first_given() {
            return Err(plaintext_refuses_tls(flag, &parsed));
        }
    }
    // The files are read now, so a wrong path stops the run with exit 2.
    if parsed.tls() {
        v.tls.config()?;
    }
    Ok(RedisTarget::External(parsed))
}

/// `--topology`: None for one server, or the cluster to start. Checked
/// against the settings that only one managed server can honour.
pub(super) fn topology(v: &Settings) -> Result<Option<ClusterShape>> {
    let Some(t) = &v.topology else {
        return Ok(None);
    };
    let shape = parse_topology(&t.value).map_err(|e| Error::usage(format!("{}: {e}", t.name)))?;
    if shape.is_some() {
        let single = [
            v.unix.clone(),
            v.appendfsync.map(|_| "--appendfsync".to_string()),
            v.faults
                .iter()
                .find(|f| !f.kind.needs_replica())
                .map(|f| format!("--fault {f}")),
        ];
        if let Some(other) = single.into_iter().flatten().next() {
            return Err(Error::usage(format!(
                "{other} needs the single managed redis-server, and {} '{}' starts a cluster\n\
                 fix: drop one of them",
                t.name, t.value
            )));
        }
    }
    Ok(shape)
}

/// `standalone`, `cluster:N` or `cluster:NxR`.
fn parse_topology(s: &str) -> std::result::Result<Option<ClusterShape>, String> {
    const FORMS: &str =
        "expected standalone, cluster:N or cluster:NxR (e.g. cluster:3, cluster:3x1)";
    if s == "standalone" {
        return Ok(None);
    }
    let shape = s
        .strip_prefix("cluster:")
        .ok_or_else(|| format!("'{s}': {FORMS}"))?;
    let (n, r) = shape.split_once('x').unwrap_or((shape, "0"));
    let number = |x: &str, what: &str, max: u16| -> std::result::Result<u16, String> {
        match x.parse::<u16>() {
            Ok(v) if v <= max => Ok(v),
            _ => Err(format!(
                "'{s}': {what} must be a number up to {max}; {FORMS}"
            )),
        }
    };
    let primaries = number(n, "the primaries", 16)?;
    let replicas = number(r, "the replicas per primary", 4)?;
    if primaries == 0 {
        return Err(format!("'{s}': a cluster needs at least one primary"));
    }
    Ok(Some(ClusterShape {
        primaries,
        replicas,
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_topology;

    #[test]
    fn topology_forms() {
        assert_eq!(parse_topology("standalone"), Ok(None));
        let s = parse_topology("cluster:3x1").unwrap().unwrap();
        assert_eq!((s.primaries, s.replicas), (3, 1));
        let s = parse_topology("cluster:3").unwrap().unwrap();
        assert_eq!((s.primaries, s.replicas), (3, 0));
        for bad in [
            "cluster",
            "cluster:0",
            "cluster:x",
            "cluster:3x",
            "cluster:99",
            "ring:3",
        ] {
            assert!(parse_topology(bad).is_err(), "{bad}");
        }
    }
}
