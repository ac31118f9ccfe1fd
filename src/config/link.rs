//! How to reach Redis: the TLS and unix-socket settings layered from the
//! file and the flags, and the target they are checked against.

use super::settings::Settings;
use super::RedisTarget;
use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::redis::{default_binary, plaintext_refuses_tls, RedisUrl, TlsFile, TlsOptions};
use crate::scenario::Scenario;

/// How to reach Redis, from the file: `[tls]` and `unix`.
pub(super) fn file_link(s: &mut Settings, f: &Scenario) {
    if f.unix == Some(true) {
        s.unix = Some(f.at("unix"));
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
