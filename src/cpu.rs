//! CPU time spent during one strategy, by the Redis server (INFO cpu) and by
//! this process (getrusage), so a reader can tell which side was the
//! bottleneck and whether a throughput figure sits at a CPU ceiling.

use std::time::Duration;

use fred::prelude::*;
use serde::Serialize;

use crate::redis::Node;

/// Share of one core above which the server is taken to be saturated: its
/// throughput figure is then the ceiling of this machine, not of the strategy.
pub const SERVER_CEILING: f64 = 0.9;

/// CPU seconds used so far by the server and by this process.
#[derive(Debug, Clone, Default)]
pub struct CpuSample {
    /// Summed over every primary of a cluster.
    pub server_s: Option<f64>,
    pub generator_s: Option<f64>,
    /// A cluster's primaries, each with its own CPU (empty for one server).
    pub nodes: Vec<(String, f64)>,
}

impl CpuSample {
    /// Server CPU (`used_cpu_sys + used_cpu_user`) of every primary, and our
    /// own. A server that does not report CPU leaves its side unknown rather
    /// than failing the run.
    pub async fn take(nodes: &[Node]) -> CpuSample {
        let mut each = Vec::with_capacity(nodes.len());
        for node in nodes {
            let info: Option<String> = node
                .client
                .info(Some(fred::types::InfoKind::Cpu))
                .await
                .ok();
            match info.as_deref().and_then(server_cpu_s) {
                Some(s) => each.push((node.name.clone(), s)),
                None => {
                    return CpuSample {
                        generator_s: own_cpu_s(),
                        ..CpuSample::default()
                    }
                }
            }
        }
        CpuSample {
            server_s: (!each.is_empty()).then(|| each.iter().map(|(_, s)| s).sum()),
            generator_s: own_cpu_s(),
            nodes: if each.len() > 1 { each } else { Vec::new() },
        }
    }
}

/// One primary's CPU while a strategy ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeCpu {
    /// `host:port`.
    pub node: String,
    pub server_s: f64,
}

/// `used_cpu_sys + used_cpu_user` from an INFO reply.
pub fn server_cpu_s(info: &str) -> Option<f64> {
    let field = |name: &str| -> Option<f64> {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?
            .trim()
            .parse()
            .ok()
    };
    Some(field("used_cpu_sys")? + field("used_cpu_user")?)
}

/// User + system CPU of every thread of this process.
#[cfg(target_os = "linux")]
pub fn own_cpu_s() -> Option<f64> {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(secs(ru.ru_utime) + secs(ru.ru_stime))
}

#[cfg(not(target_os = "linux"))]
pub fn own_cpu_s() -> Option<f64> {
    None
}

/// CPU used by each side while one strategy ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CpuUse {
    /// Wall time between the two samples.
    pub wall_s: f64,
    /// Server CPU seconds; null when the server does not report it.
    pub server_s: Option<f64>,
    /// This process's CPU seconds (the load generator).
    pub generator_s: Option<f64>,
    pub server_us_per_purchase: Option<f64>,
    pub generator_us_per_purchase: Option<f64>,
    /// The generator spent more CPU per purchase than the server: the
    /// figures measure the generator at least as much as the strategy.
    pub generator_bound: bool,
    /// The server (on a cluster: its busiest primary) used at least
    /// [`SERVER_CEILING`] of one core: its single-threaded command loop was
    /// saturated.
    pub server_at_ceiling: bool,
    /// A cluster's primaries one by one; absent for one server.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server_nodes: Vec<NodeCpu>,
}

impl CpuUse {
    pub fn between(before: CpuSample, after: CpuSample, wall: Duration, purchased: u64) -> CpuUse {
        let delta = |a: Option<f64>, b: Option<f64>| Some((b? - a?).max(0.0));
        let server_s = delta(before.server_s, after.server_s);
        let generator_s = delta(before.generator_s, after.generator_s);
        let per = |s: Option<f64>| {
            s.filter(|_| purchased > 0)
                .map(|s| s * 1e6 / purchased as f64)
        };
        let wall_s = wall.as_secs_f64();
        let (server_per, generator_per) = (per(server_s), per(generator_s));
        let server_nodes: Vec<NodeCpu> = after
            .nodes
            .iter()
            .filter_map(|(node, a)| {
                let (_, b) = before.nodes.iter().find(|(n, _)| n == node)?;
                Some(NodeCpu {
                    node: node.clone(),
                    server_s: (a - b).max(0.0),
                })
            })
            .collect();
        // One command loop per node: the busiest node is the one that saturates.
        let busiest = match server_nodes.is_empty() {
            true => server_s,
            false => server_nodes.iter().map(|n| n.server_s).reduce(f64::max),
        };
        CpuUse {
            wall_s,
            server_s,
            generator_s,
            server_us_per_purchase: server_per,
            generator_us_per_purchase: generator_per,
            generator_bound: matches!((generator_per, server_per), (Some(g), Some(s)) if g > s),
            server_at_ceiling: wall_s > 0.0
                && busiest.is_some_and(|s| s / wall_s >= SERVER_CEILING),
            server_nodes,
        }
    }

    /// Cores' worth of CPU a side used on average: CPU seconds / wall seconds.
    pub fn cores(&self, cpu_s: Option<f64>) -> Option<f64> {
        cpu_s.filter(|_| self.wall_s > 0.0).map(|s| s / self.wall_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_info_cpu() {
        let info = "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:2.250000\r\nused_cpu_sys_children:9\r\n";
        assert_eq!(server_cpu_s(info), Some(3.75));
        assert_eq!(server_cpu_s("# CPU\r\nused_cpu_sys:1\r\n"), None);
    }

    #[test]
    fn per_purchase_figures_and_warnings() {
        let s = |server, generator| CpuSample {
            server_s: Some(server),
            generator_s: Some(generator),
            nodes: Vec::new(),
        };
        let u = CpuUse::between(s(1.0, 2.0), s(1.95, 2.5), Duration::from_secs(1), 1000);
        assert!(u.server_nodes.is_empty());
        assert!((u.server_us_per_purchase.unwrap() - 950.0).abs() < 1e-6);
        assert!((u.generator_us_per_purchase.unwrap() - 500.0).abs() < 1e-6);
        assert!(u.server_at_ceiling && !u.generator_bound);
        let u = CpuUse::between(s(1.0, 2.0), s(1.2, 3.0), Duration::from_secs(1), 1000);
        assert!(u.generator_bound && !u.server_at_ceiling);
        assert!((u.cores(u.generator_s).unwrap() - 1.0).abs() < 1e-9);
        let none = CpuUse::between(s(1.0, 2.0), s(1.2, 3.0), Duration::from_secs(1), 0);
        assert_eq!(none.server_us_per_purchase, None);
        assert!(
            !none.generator_bound,
            "no purchase, no per-purchase comparison"
        );
        let unknown = CpuUse::between(CpuSample::default(), s(1.0, 1.0), Duration::from_secs(1), 5);
        assert_eq!((unknown.server_s, unknown.server_at_ceiling), (None, false));
    }
}
