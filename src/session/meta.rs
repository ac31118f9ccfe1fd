//! What a run was, as recorded in every report: built once the server
//! answers, or, when it never did, from the configuration alone so that the
//! report left on disk says the run could not start.

use crate::config::{RedisTarget, RunConfig};
use crate::crowd::Crowd;
use crate::error::Error;
use crate::findings::{Aborted, Report, RunMeta};
use crate::redis::{redact, Link, Topology, Transport};

/// What only the server (or the session) knows.
pub(super) struct Found {
    pub run_id: String,
    pub redis_url: String,
    pub managed_pid: Option<u32>,
    pub managed_pids: Vec<u32>,
    pub server_version: String,
    pub link: Link,
}

pub(super) fn new_run_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}

pub(super) fn run_meta(config: &RunConfig, crowd: &Crowd, found: Found) -> RunMeta {
    RunMeta {
        run_id: found.run_id,
        scenario: config.name.clone(),
        seed: config.seed,
        strategies: config.strategies.clone(),
        buyers: config.buyers,
        load: config.load,
        think: config.retry.think,
        stock: config.stock,
        products: config.shop.products.clone(),
        carts: config.shop.carts,
        reserve: config.shop.reserve,
        qty: config.qty,
        demand: crowd.demand(),
        concurrency: config.concurrency.min(crowd.len()),
        connections: config.connections,
        max_retries: config.retry.max_retries,
        retry_unknown: config.retry.unknown,
        redis_url: found.redis_url,
        managed_pid: found.managed_pid,
        managed_pids: found.managed_pids,
        server_version: found.server_version,
        faults: config.faults.clone(),
        appendfsync: config.appendfsync,
        started: Some(std::time::SystemTime::now()),
        link: found.link,
    }
}

/// The topology the configuration asked for, as far as it tells without a
/// connection (a cluster URL's shape is unknown: 0 primaries).
fn asked_topology(config: &RunConfig) -> Topology {
    let url = match &config.redis {
        RedisTarget::External(u) => Some(u),
        RedisTarget::Managed(_) => None,
    };
    if config.cluster.is_some() || url.is_some_and(|u| u.cluster_seeds().is_some()) {
        return Topology::Cluster {
            primaries: config.cluster.map_or(0, |c| usize::from(c.primaries)),
            replicas: config
                .cluster
                .map_or(0, |c| usize::from(c.primaries * c.replicas)),
        };
    }
    match url.and_then(|u| u.sentinel()) {
        Some(s) => Topology::Sentinel {
            service: s.service.clone(),
        },
        None => Topology::Standalone,
    }
}

/// The report of a run that failed before any strategy started (the server
/// unreachable, a permission missing): no strategy ran, and it says why.
/// Written over any file an earlier run left, which would otherwise pass
/// for this run's verdict.
pub fn not_opened(config: &RunConfig, error: &Error) -> Report {
    let crowd = Crowd::with_carts(
        config.seed,
        config.buyers,
        config.qty,
        config.shop.carts.as_ref(),
    );
    let (redis_url, transport, tls) = match &config.redis {
        RedisTarget::External(url) => (url.masked().to_string(), url.transport(), url.tls()),
        RedisTarget::Managed(_) => (
            "redis://127.0.0.1 (managed redis-server)".to_string(),
            Transport::Tcp,
            false,
        ),
    };
    let found = Found {
        run_id: new_run_id(),
        redis_url,
        managed_pid: None,
        managed_pids: Vec::new(),
        server_version: String::new(),
        link: Link {
            transport,
            tls,
            tls_insecure: config.tls.insecure,
            // Not known without a connection; never the password.
            user: String::new(),
            topology: asked_topology(config),
        },
    };
    Report {
        meta: run_meta(config, &crowd, found),
        strategies: Vec::new(),
        unavailable: Vec::new(),
        interrupted: false,
        // The last version: nothing more is coming.
        finished: true,
        thresholds: Vec::new(),
        aborted: Some(Aborted {
            message: redact(&error.to_string()),
            ..Aborted::by(error, None)
        }),
        repetitions: Vec::new(),
    }
}
