//! Measurement hooks for `blackfriday bench`, which runs this binary as a
//! child. With `BLACKFRIDAY_PROBE=1` in the environment, the process prints
//! on stderr, prefixed `blackfriday-probe`:
//!
//! - `released_unix_ns=N` when the first crowd is released (wall clock, so
//!   the parent can compare it with the instant it spawned the child);
//! - `vmhwm_kb=N` at exit: peak resident memory, VmHWM from /proc/self/status.
//!
//! Off by default: a normal run prints nothing extra and pays one cached
//! environment lookup per strategy.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

pub const ENV: &str = "BLACKFRIDAY_PROBE";
pub const PREFIX: &str = "blackfriday-probe";

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os(ENV).is_some_and(|v| v == "1"))
}

/// Called by the driver at each release; reports the first one only.
pub fn released() {
    static ONCE: OnceLock<()> = OnceLock::new();
    if enabled() && ONCE.set(()).is_ok() {
        let ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        eprintln!("{PREFIX} released_unix_ns={ns}");
    }
}

/// Called once the run is over.
pub fn exiting() {
    if enabled() {
        if let Some(kb) = peak_rss_kb() {
            eprintln!("{PREFIX} vmhwm_kb={kb}");
        }
    }
}

/// Peak resident set size of this process, in kB (Linux only).
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_field_kb(&status, "VmHWM:")
}

/// `VmHWM:    123456 kB` → 123456.
pub fn status_field_kb(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// The value of `key=` on a probe line of a child's stderr.
pub fn parse(stderr: &str, key: &str) -> Option<u64> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(PREFIX))
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_file_and_probe_lines() {
        let status =
            "Name:\tblackfriday\nVmPeak:\t  900 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(status_field_kb(status, "VmHWM:"), Some(12345));
        assert_eq!(status_field_kb(status, "VmSwap:"), None);
        let err = "noise\nblackfriday-probe released_unix_ns=42\nblackfriday-probe vmhwm_kb=7\n";
        assert_eq!(parse(err, "released_unix_ns"), Some(42));
        assert_eq!(parse(err, "vmhwm_kb"), Some(7));
        assert_eq!(parse(err, "vmhwm"), None);
        #[cfg(target_os = "linux")]
        assert!(peak_rss_kb().is_some_and(|kb| kb > 0));
    }
}
