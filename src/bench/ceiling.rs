//! The server's own ceiling for the purchase script: the real
//! `redis-benchmark` binary firing EVALSHA of `buy.lua` at the server, once
//! one command per round trip and once pipelined 16 deep.

use std::ffi::OsStr;

use fred::prelude::*;
use fred::types::scripts::Script;

use tokio::process::Command;

use crate::error::{Error, Result};
use crate::strategy::BUY_SCRIPT;

/// Connections redis-benchmark opens: enough to keep the server busy.
pub const CLIENTS: u32 = 50;
/// Pipeline depth of the second measurement.
pub const PIPELINE: u32 = 16;

/// Load the script and seed a stock that cannot run out; returns the
/// arguments after `EVALSHA` for redis-benchmark. `__rand_int__` gives each
/// call its own order key, as distinct buyers would.
pub async fn prepare(admin: &Client, prefix: &str) -> Result<Vec<String>> {
    let fail = |doing: &str, e: fred::error::Error| Error::infra(format!("{doing}: {e}"));
    let script = Script::from_lua(BUY_SCRIPT);
    script
        .load(admin)
        .await
        .map_err(|e| fail("loading buy.lua for redis-benchmark", e))?;
    let stock = format!("{prefix}stock");
    let _: () = admin
        .set(&stock, i64::MAX / 2, None, None, false)
        .await
        .map_err(|e| fail("seeding the benchmark stock", e))?;
    Ok(vec![
        script.sha1().to_string(),
        "4".into(),
        stock,
        format!("{prefix}sold"),
        format!("{prefix}orders"),
        format!("{prefix}order:__rand_int__"),
        "1".into(),
        "__rand_int__".into(),
        "__rand_int__".into(),
        "0".into(),
    ])
}

/// Calls per second redis-benchmark achieved, `pipeline` commands per
/// round trip (1 = unpipelined).
pub async fn measure(
    binary: &OsStr,
    port: u16,
    requests: u64,
    pipeline: u32,
    evalsha: &[String],
) -> Result<f64> {
    let out = Command::new(binary)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", &CLIENTS.to_string(), "-n", &requests.to_string()])
        .args(["-P", &pipeline.to_string(), "-r", "1000000000", "--csv"])
        .arg("EVALSHA")
        .args(evalsha)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| {
            Error::infra(format!(
                "cannot run {}: {e}\nfix: install redis-benchmark (it comes with redis-server: \
                 apt-get install redis-tools / brew install redis) or name it with --redis-benchmark",
                binary.to_string_lossy()
            ))
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::infra(format!(
            "redis-benchmark failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse_csv_rps(&stdout).ok_or_else(|| {
        Error::infra(format!(
            "redis-benchmark printed no EVALSHA result:\n{stdout}"
        ))
    })
}

/// Requests per second of the EVALSHA line of `redis-benchmark --csv`:
///
/// ```text
/// "test","rps","avg_latency_ms",...
/// "EVALSHA 2e63… 4 k1 k2 …","28985.51","0.961",...
/// ```
pub fn parse_csv_rps(csv: &str) -> Option<f64> {
    csv.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("\"EVALSHA"))
        .find_map(|l| {
            // The test name is quoted and holds no quote itself: the second
            // quoted field follows the first `","`.
            let (_, rest) = l.split_once("\",\"")?;
            let (rps, _) = rest.split_once('"')?;
            rps.parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r > 0.0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::{default_binary, Connector, ManagedRedis, RedisUrl};

    /// The real binary against a real server: its output parses, and every
    /// call ran the purchase script (one order recorded per call).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_installed_redis_benchmark_runs_the_script_and_parses() {
        let server = match ManagedRedis::start(&default_binary()).await {
            Ok(s) => s,
            Err(e) => panic!("this test needs a real redis-server:\n{e}"),
        };
        let url = RedisUrl::parse(&server.url()).unwrap();
        let connector = Connector::new(url, std::time::Duration::from_secs(5)).unwrap();
        let admin = connector.admin().await.unwrap();
        let prefix = "bf:benchtest:{lua}:";
        let args = prepare(&admin, prefix).await.unwrap();
        let binary = std::env::var_os("BLACKFRIDAY_REDIS_BENCHMARK")
            .unwrap_or_else(|| "redis-benchmark".into());
        let rps = measure(&binary, server.port(), 500, 1, &args)
            .await
            .unwrap();
        assert!(rps > 0.0, "{rps}");
        let orders: i64 = admin.llen(format!("{prefix}orders")).await.unwrap();
        assert_eq!(orders, 500, "every EVALSHA recorded its order");
    }

    #[test]
    fn reads_the_rate_of_the_evalsha_line() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
                   \"EVALSHA 2e63aa21 4 bf:b:{lua}:stock bf:b:{lua}:sold bf:b:{lua}:orders bf:b:{lua}:order:__rand_int__ 1 __rand_int__ __rand_int__ 0\",\"28985.51\",\"0.961\",\"0.088\",\"0.959\",\"1.679\",\"1.943\",\"4.903\"\n";
        assert_eq!(parse_csv_rps(csv), Some(28985.51));
    }

    #[test]
    fn refuses_output_without_a_usable_rate() {
        assert_eq!(parse_csv_rps(""), None);
        assert_eq!(parse_csv_rps("\"test\",\"rps\"\n"), None);
        assert_eq!(parse_csv_rps("\"EVALSHA x\",\"nan\",\"1\"\n"), None);
        assert_eq!(parse_csv_rps("\"EVALSHA x\",\"0.00\",\"1\"\n"), None);
        // The interactive (non-CSV) format is not mistaken for a result.
        assert_eq!(
            parse_csv_rps("EVALSHA x: 148148.14 requests per second, p50=4.847 msec"),
            None
        );
    }
}
