//! The peer row: the same purchase workload as workload 1, driven by a
//! Node.js client on one connection whose writes are coalesced per event
//! loop turn (bench/peer/lua-peer.js, built into this binary and written to
//! a temporary file), so the comparison with another generator is measured
//! in the same session rather than quoted from a note.

use std::ffi::OsString;
use std::io::Write;

use serde::Deserialize;
use tokio::process::Command;

use crate::error::{Error, Result};

const SCRIPT: &str = include_str!("../../bench/peer/lua-peer.js");

/// In flight at once: blackfriday's own default cap, so both generators
/// keep the same number of purchases outstanding.
pub const IN_FLIGHT: u32 = 10_000;

/// What the peer printed.
#[derive(Debug, Deserialize)]
pub struct PeerRun {
    pub purchased: u64,
    pub errors: u64,
    pub seconds: f64,
    pub cpu_s: f64,
}

impl PeerRun {
    pub fn rate(&self) -> f64 {
        self.purchased as f64 / self.seconds.max(1e-9)
    }
}

/// The Node.js binary: `BLACKFRIDAY_NODE`, or `node` on PATH.
pub fn node() -> OsString {
    std::env::var_os("BLACKFRIDAY_NODE").unwrap_or_else(|| "node".into())
}

/// Runs the peer against the server on `port`; `Ok(None)` when Node.js is
/// not installed (the row says it was skipped).
pub async fn measure(port: u16, sha: &str, prefix: &str, buyers: u32) -> Result<Option<PeerRun>> {
    let mut file = tempfile::Builder::new()
        .prefix("blackfriday-peer")
        .suffix(".js")
        .tempfile()
        .map_err(|e| Error::infra(format!("cannot write the peer script: {e}")))?;
    file.write_all(SCRIPT.as_bytes())
        .map_err(|e| Error::infra(format!("cannot write the peer script: {e}")))?;
    let out = Command::new(node())
        .arg(file.path())
        .args([&port.to_string(), sha, prefix, &buyers.to_string()])
        .arg(IN_FLIGHT.to_string())
        .kill_on_drop(true)
        .output()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::infra(format!("cannot run node: {e}"))),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).map(Some).map_err(|_| {
        Error::infra(format!(
            "the Node.js peer gave no figures ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_peer_prints() {
        let line = r#"{"purchased":200000,"sold_out":0,"errors":0,"seconds":2.0,"cpu_s":1.1}"#;
        let run: PeerRun = serde_json::from_str(line).unwrap();
        assert_eq!((run.purchased, run.errors), (200_000, 0));
        assert_eq!(run.rate(), 100_000.0);
    }
}
