//! Getting a Redis for the run: the URL given, one managed redis-server, or
//! a managed local cluster; and the guards that stop what was started.

use std::sync::Arc;

use crate::config::{RedisTarget, RunConfig};
use crate::error::{Error, Result};
use crate::redis::{ManagedCluster, ManagedRedis, RedisUrl};

/// What the run talks to, and the guards of what it started.
pub(super) struct Acquired {
    pub url: RedisUrl,
    pub managed: Option<Arc<ManagedRedis>>,
    pub cluster: Option<ManagedCluster>,
}

impl Acquired {
    /// Every process the run started: the managed server, or each node of
    /// the managed cluster (primaries first).
    pub fn pids(&self) -> Vec<u32> {
        match (&self.managed, &self.cluster) {
            (Some(m), _) => vec![m.pid()],
            (_, Some(c)) => c.pids(),
            _ => Vec::new(),
        }
    }
}

pub(super) async fn acquire(config: &RunConfig) -> Result<Acquired> {
    let binary = match &config.redis {
        RedisTarget::External(url) => {
            return Ok(Acquired {
                url: url.clone(),
                managed: None,
                cluster: None,
            })
        }
        RedisTarget::Managed(binary) => binary,
    };
    if let Some(shape) = config.cluster {
        let cluster = ManagedCluster::start(binary, shape).await?;
        let url = RedisUrl::parse(&cluster.url()).map_err(Error::infra)?;
        return Ok(Acquired {
            url,
            managed: None,
            cluster: Some(cluster),
        });
    }
    let server =
        Arc::new(ManagedRedis::start_with(binary, config.listen, config.appendfsync).await?);
    let url = RedisUrl::parse(&server.url()).map_err(Error::infra)?;
    Ok(Acquired {
        url,
        managed: Some(server),
        cluster: None,
    })
}
