//! blackfriday's own driver under benchmark load: each workload runs this
//! very binary as a child (`blackfriday run … --json -`), so what is measured
//! is what a user runs, including its startup, and peak memory is the
//! child's alone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::process::Command;

use crate::error::{Error, Result};
use crate::probe;

/// One finished child run.
pub struct ChildRun {
    /// The JSON report the child wrote on stdout.
    pub report: Value,
    /// Its stderr: the tables, and the probe lines.
    pub stderr: String,
    /// Wall clock just before the child was spawned, ns since the epoch.
    pub spawned_unix_ns: u128,
    /// From spawning the child to its exit: the whole process.
    pub wall: Duration,
    /// The child's resident memory (VmRSS, kB) at each instant asked for
    /// after the spawn; None when it had exited by then.
    pub rss_kb: Vec<Option<u64>>,
}

impl ChildRun {
    /// The first strategy's entry of the report.
    pub fn strategy(&self) -> &Value {
        &self.report["strategies"][0]
    }

    pub fn figure(&self, name: &str) -> f64 {
        self.strategy()["figures"][name].as_f64().unwrap_or(0.0)
    }

    pub fn server(&self, name: &str) -> i64 {
        self.strategy()["server"][name].as_i64().unwrap_or(i64::MIN)
    }

    /// The verdict held and the audit found exactly `stock` units sold.
    pub fn sold_exactly(&self, stock: i64) -> bool {
        self.strategy()["verdict"]["held"] == true
            && self.server("sold") == stock
            && self.server("stock") == 0
    }

    /// Whole-process wall time over the run's own duration.
    pub fn wall_ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.figure("duration_s").max(1e-9)
    }

    /// CPU seconds per purchase of the generator and of the server, µs.
    pub fn cpu_per_purchase_us(&self) -> (Option<f64>, Option<f64>) {
        let cpu = &self.strategy()["cpu"];
        let n = self.figure("purchased").max(1.0);
        let per = |k: &str| cpu[k].as_f64().map(|s| s * 1e6 / n);
        (per("generator_s"), per("server_s"))
    }

    pub fn probe(&self, key: &str) -> Option<u64> {
        probe::parse(&self.stderr, key)
    }

    /// "server 0.93 / generator 0.81 cores", from the report's CPU figures.
    pub fn cores(&self) -> String {
        let cpu = &self.strategy()["cpu"];
        let wall = cpu["wall_s"].as_f64().unwrap_or(0.0);
        let share = |k: &str| match cpu[k].as_f64() {
            Some(s) if wall > 0.0 => format!("{:.2}", s / wall),
            _ => "n/a".into(),
        };
        format!(
            "server {} / generator {} cores",
            share("server_s"),
            share("generator_s")
        )
    }
}

/// Run `blackfriday ARGS --json -` with the probe on, against `redis` or a
/// managed server of its own.
pub async fn run(args: &[&str], redis: Option<&str>) -> Result<ChildRun> {
    run_sampled(args, redis, &[]).await
}

/// [`run`], reading the child's resident memory at each of `at` after the
/// spawn.
pub async fn run_sampled(args: &[&str], redis: Option<&str>, at: &[Duration]) -> Result<ChildRun> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::infra(format!("cannot find this program's own binary: {e}")))?;
    let mut cmd = Command::new(&exe);
    cmd.arg("run")
        .args(args)
        .args(["-q", "--json", "-"])
        .env(probe::ENV, "1")
        .env_remove("REDIS_URL")
        .env_remove("GITHUB_STEP_SUMMARY")
        .kill_on_drop(true);
    if let Some(url) = redis {
        cmd.args(["--redis", url]);
    }
    let spawned_unix_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let cannot = |e: std::io::Error| Error::infra(format!("cannot run {}: {e}", exe.display()));
    let started = std::time::Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(cannot)?;
    let pid = child.id();
    let sampler = tokio::spawn(rss_at(pid, started, at.to_vec()));
    let out = child.wait_with_output().await.map_err(cannot)?;
    let wall = started.elapsed();
    let rss_kb = sampler.await.unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout).map_err(|_| {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        Error::infra(format!(
            "blackfriday run {} exited {} without a report: {last}",
            args.join(" "),
            out.status
        ))
    })?;
    Ok(ChildRun {
        report,
        stderr,
        spawned_unix_ns,
        wall,
        rss_kb,
    })
}

/// VmRSS of process `pid` at each instant of `at` after `started`.
async fn rss_at(
    pid: Option<u32>,
    started: std::time::Instant,
    at: Vec<Duration>,
) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    for t in at {
        tokio::time::sleep_until((started + t).into()).await;
        let status = pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok());
        out.push(status.and_then(|s| probe::status_field_kb(&s, "VmRSS:")));
    }
    out
}

/// Milliseconds from spawning a child to its first release, managed
/// redis-server start included.
pub fn startup_ms(child: &ChildRun) -> Option<f64> {
    let released = u128::from(child.probe("released_unix_ns")?);
    let ns = released.checked_sub(child.spawned_unix_ns)?;
    Some(ns as f64 / 1e6)
}

/// The middle value (the lower of the two middles for an even count).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_samples() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0]), Some(3.0));
        assert_eq!(median(vec![9.0, 1.0, 5.0, 7.0, 2.0]), Some(5.0));
        assert_eq!(median(vec![4.0, 1.0]), Some(1.0));
    }

    #[test]
    fn reads_a_child_report() {
        let report = serde_json::json!({"strategies": [{
            "figures": {"purchases_per_s": 1234.5},
            "server": {"sold": 1000, "stock": 0},
            "verdict": {"held": true},
            "cpu": {"wall_s": 2.0, "server_s": 1.0, "generator_s": null}
        }]});
        let child = ChildRun {
            report,
            stderr: "x\nblackfriday-probe released_unix_ns=1500000000\n".into(),
            spawned_unix_ns: 1_000_000_000,
            wall: Duration::from_secs(3),
            rss_kb: Vec::new(),
        };
        assert_eq!(child.figure("purchases_per_s"), 1234.5);
        assert!(child.sold_exactly(1000) && !child.sold_exactly(999));
        assert_eq!(child.cores(), "server 0.50 / generator n/a cores");
        assert_eq!(startup_ms(&child), Some(500.0));
    }
}
