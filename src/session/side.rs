//! Side work: tasks the session starts beside the driver for one strategy
//! and stops with it: the watchdog, the live stock poll, the reservation
//! reaper.
//!
//! Each task is a value of [`SideTask`]; [`plan`] lists the ones a run needs
//! and [`Side::start`] spawns them. A new kind of side work (fault steps, a
//! stock sampler) is one variant, its arm and function in `side/spawn.rs`,
//! and, when it hands something back, one [`Output`] variant and one
//! [`SideResults`] field.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod spawn;

use super::faults::FaultPlan;
use super::sampler;
use crate::config::RunConfig;
use crate::error::Error;
use crate::fault::FaultRecord;
use crate::findings::StockSample;
use crate::load::Live;
use crate::redis::liveness::Probe;
use crate::redis::Keys;
use crate::strategy::reserve::{ReapStats, Reaper, ReservePlan};
use crate::strategy::Strategy;
use spawn::spawn;

/// The live line's stock is read at most this often: the display must not
/// add measurable load to the server it is watching.
const STOCK_POLL_EVERY: Duration = Duration::from_millis(250);

/// One kind of side work, as data.
#[derive(Clone)]
pub(crate) enum SideTask {
    /// Ping the server; when it stops answering, trip [`Beside::abort`].
    Watchdog,
    /// Read every product's stock into [`Live::stock`] for the live line.
    StockPoll { every: Duration },
    /// Reservation runs: return expired holds to stock while the crowd
    /// shops, then drain the holds still open.
    Reaper {
        reaper: Arc<dyn Reaper>,
        plan: ReservePlan,
    },
    /// Break the server at planned times from the release.
    Faults(FaultPlan),
    /// Record stock and sold from the server over time, for the report.
    StockSampler { every: Duration },
}

impl SideTask {
    /// What the task still does once the crowd is done, when it finishes
    /// its own work rather than stopping at once; the progress bar shows it.
    fn drains(&self) -> Option<&'static str> {
        match self {
            SideTask::Reaper { .. } => Some("draining holds"),
            SideTask::Watchdog
            | SideTask::StockPoll { .. }
            | SideTask::Faults(_)
            | SideTask::StockSampler { .. } => None,
        }
    }
}

/// The side tasks one strategy's run needs. The watchdog always runs; the
/// stock is polled only when a live line shows it.
pub(crate) fn plan(strategy: &dyn Strategy, config: &RunConfig, shown: bool) -> Vec<SideTask> {
    let mut tasks = vec![
        SideTask::Watchdog,
        SideTask::StockSampler {
            every: sampler::SAMPLE_EVERY,
        },
    ];
    if shown {
        tasks.push(SideTask::StockPoll {
            every: STOCK_POLL_EVERY,
        });
    }
    if let (Some(plan), Some(reaper)) = (config.shop.reserve, strategy.reaper()) {
        tasks.push(SideTask::Reaper { reaper, plan });
    }
    tasks
}

/// What every side task may use. Side work talks to Redis on the admin
/// client, never on one of the strategy's connections.
pub(crate) struct Beside {
    pub admin: Client,
    /// The watchdog's own way to the server, sharing nothing with the run.
    pub probe: Probe,
    pub keys: Keys,
    pub live: Arc<Live>,
    /// Stops the driver and every side task: the server stopped answering.
    pub abort: CancellationToken,
    /// The user asked the run to stop (Ctrl-C, SIGTERM): work that would
    /// otherwise finish first (the drain of open holds, up to a TTL long)
    /// ends now, and the namespace is deleted with the holds still in it.
    pub interrupt: CancellationToken,
    /// `--live`: where the stock sampler's readings go too.
    pub watcher: Option<sampler::Watcher>,
}

/// What a task hands back when it ends.
enum Output {
    Nothing,
    Reaped(ReapStats),
    Sampled(Vec<StockSample>),
    /// The watchdog stopped the run: why.
    Stopped(Error),
    /// The fault steps' records, and the error of a server that did not
    /// come back.
    Faults(Vec<FaultRecord>, Option<Error>),
}

/// What the side tasks handed back, once stopped.
#[derive(Debug, Default)]
pub(crate) struct SideResults {
    /// Reservation runs: the reapers' work, summed.
    pub reaped: Option<ReapStats>,
    /// The watchdog found the server gone (or a script stuck) and stopped
    /// the run: its account of what happened.
    pub stopped: Option<Error>,
    /// A fault step failed (a server that did not come back after a
    /// planned restart): that explains the run's end better than the
    /// watchdog's silence or a dead process does.
    pub fault_failed: Option<Error>,
    /// What each planned fault did.
    pub faults: Vec<FaultRecord>,
    /// Stock and sold over time, as the sampler read them.
    pub stock_series: Vec<StockSample>,
}

impl SideResults {
    fn add(&mut self, output: Output) {
        match output {
            Output::Nothing => {}
            Output::Reaped(stats) => self.reaped = Some(stats),
            Output::Stopped(e) => self.stopped = Some(e),
            Output::Faults(records, failed) => {
                self.faults = records;
                self.fault_failed = failed;
            }
            Output::Sampled(series) => self.stock_series = series,
        }
    }
}

struct Running {
    drains: Option<&'static str>,
    /// Stop now, or for a draining task: the crowd is done, finish up.
    stop: CancellationToken,
    handle: JoinHandle<Output>,
}

/// The side tasks of one strategy's run, running.
pub(crate) struct Side {
    running: Vec<Running>,
}

impl Side {
    pub fn start(tasks: Vec<SideTask>, beside: &Beside) -> Side {
        let running = tasks
            .into_iter()
            .map(|task| {
                let stop = CancellationToken::new();
                Running {
                    drains: task.drains(),
                    handle: spawn(task, beside, stop.clone()),
                    stop,
                }
            })
            .collect();
        Side { running }
    }

    /// What is still being finished once the crowd is done, if anything.
    pub fn draining(&self) -> Option<&'static str> {
        self.running.iter().find_map(|r| r.drains)
    }

    /// Stop every task and collect what they hand back. Draining tasks go
    /// first and are awaited while the others (the watchdog among them)
    /// still run, so a server that dies during the drain still stops it.
    pub async fn stop(mut self) -> SideResults {
        let mut results = SideResults::default();
        let (draining, rest): (Vec<Running>, Vec<Running>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|r| r.drains.is_some());
        for group in [draining, rest] {
            for r in &group {
                r.stop.cancel();
            }
            for r in group {
                // A task that panicked hands back nothing; the run goes on.
                results.add(r.handle.await.unwrap_or(Output::Nothing));
            }
        }
        results
    }
}

impl Drop for Side {
    /// A run that fails half-way drops its side tasks: none may outlive it.
    fn drop(&mut self) {
        for r in &self.running {
            r.handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::redis::{default_binary, seed, Connector, ManagedRedis, RedisUrl};

    async fn stock_seen(live: &Live, want: i64) -> bool {
        for _ in 0..200 {
            if live.stock.load(Ordering::Relaxed) == want {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// The poll follows every product's stock on a real server, and
    /// stopping hands back promptly with nothing tripped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_stock_poll_follows_the_server_and_stops_with_the_run() {
        let server = match ManagedRedis::start(&default_binary()).await {
            Ok(s) => s,
            Err(e) => panic!("this test needs a real redis-server:\n{e}"),
        };
        let url = RedisUrl::parse(&server.url()).unwrap();
        let connector = Connector::new(url, Duration::from_secs(5)).unwrap();
        let admin = connector.admin().await.unwrap();
        let keys = Keys::with_products("sidetest", "lua", 2);
        seed(&admin, &keys, &[7, 5], &[]).await.unwrap();
        let beside = Beside {
            admin: admin.clone(),
            probe: connector.liveness(),
            keys: keys.clone(),
            live: Arc::new(Live::default()),
            abort: CancellationToken::new(),
            interrupt: CancellationToken::new(),
            watcher: None,
        };
        let tasks = vec![
            SideTask::Watchdog,
            SideTask::StockPoll {
                every: Duration::from_millis(10),
            },
        ];
        let side = Side::start(tasks, &beside);
        assert_eq!(side.draining(), None);
        assert!(stock_seen(&beside.live, 12).await, "7 + 5 read back");
        let _: i64 = admin.decr_by(keys.stock_of(1), 3).await.unwrap();
        assert!(stock_seen(&beside.live, 9).await, "the poll saw the sale");
        let stopped = tokio::time::timeout(Duration::from_secs(2), side.stop()).await;
        let results = stopped.expect("side tasks stop promptly");
        assert!(results.reaped.is_none());
        assert!(!beside.abort.is_cancelled(), "the watchdog did not trip");
    }
}
