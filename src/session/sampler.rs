//! The stock sampler: stock and sold read from the server every few
//! milliseconds while a strategy runs, so the report can draw the stock as
//! Redis held it (an unsound strategy's line dives below zero) rather than
//! as the clients believed it.

use std::time::Duration;

use tokio::time::Instant;

use fred::prelude::*;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::findings::StockSample;
use crate::load::Live;
use crate::redis::Keys;
use crate::report::live::{self, ClientCounts, ServerRead};

/// `--live`: every reading also goes to the view, as strategy `index`.
#[derive(Debug, Clone)]
pub(crate) struct Watcher {
    pub feed: live::Feed,
    pub index: usize,
}

impl Watcher {
    /// The server's pair as one MGET read it, with the clients' counters
    /// as they stand now.
    fn send(&self, s: StockSample, counts: &Live) {
        use std::sync::atomic::Ordering::Relaxed;
        self.feed.send(live::Update::Sample(live::Sample {
            index: self.index,
            t_s: s.t_s,
            server: ServerRead {
                stock: s.stock,
                sold: s.sold,
            },
            client: ClientCounts {
                done: counts.done.load(Relaxed),
                purchased: counts.purchased.load(Relaxed),
                attempts: counts.attempts.load(Relaxed),
                conflicts: counts.conflicts.load(Relaxed),
                p99: counts.latency.quantile(0.99),
            },
        }));
    }
}

/// How often the sampler reads the server: fine enough to see a burst that
/// sells out in a fraction of a second, cheap enough (one MGET) not to
/// weigh on the server being measured.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// Points kept at most. Past it every other point is dropped and the
/// sampling stride doubles, so a long run costs bounded memory and the
/// series still spans it evenly.
pub(crate) const MAX_POINTS: usize = 2_000;

/// A bounded series, decimated as it grows.
#[derive(Debug)]
pub(crate) struct Series {
    points: Vec<StockSample>,
    max: usize,
    /// Keep one reading in `stride`.
    stride: u32,
    seen: u32,
}

impl Series {
    pub fn new(max: usize) -> Series {
        Series {
            points: Vec::new(),
            // Even, so halving always drops the newest point (see `push`).
            max: (max.max(2) + 1) & !1,
            stride: 1,
            seen: 0,
        }
    }

    pub fn push(&mut self, s: StockSample) {
        self.seen += 1;
        if self.seen < self.stride {
            return;
        }
        self.seen = 0;
        self.points.push(s);
        if self.points.len() >= self.max {
            let mut i = 0;
            self.points.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            // The newest point was dropped, one old stride after the last
            // kept: the next one kept comes one more old stride on.
            self.seen = self.stride;
            self.stride *= 2;
        }
    }

    /// The last reading is always kept: it is the state the run ended in.
    pub fn finish(mut self, last: Option<StockSample>) -> Vec<StockSample> {
        if let Some(s) = last {
            if self.points.len() >= self.max {
                self.points.pop();
            }
            self.points.push(s);
        }
        self.points
    }
}

/// The keys one MGET reads: every product's stock, then every product's sold.
pub(crate) fn sample_keys(keys: &Keys) -> Vec<String> {
    let n = keys.products();
    let stock = (0..n).map(|p| keys.stock_of(p).to_string());
    let sold = (0..n).map(|p| keys.sold_of(p).to_string());
    stock.chain(sold).collect()
}

/// One reading; `None` when the read failed (the next one may not).
async fn read(admin: &Client, keys: &[String], release: Instant) -> Option<StockSample> {
    let t_s = release.elapsed().as_secs_f64();
    let values: Vec<Option<i64>> = admin.mget(keys.to_vec()).await.ok()?;
    let (stock, sold) = values.split_at(keys.len() / 2);
    let sum = |v: &[Option<i64>]| v.iter().flatten().sum();
    Some(StockSample {
        t_s,
        stock: sum(stock),
        sold: sum(sold),
    })
}

/// Sample from the release until `stop`, then read once more so the series
/// ends in the state the run left. After `abort` the server is gone: no
/// final read waits out its timeout.
pub(crate) async fn sample(
    admin: Client,
    keys: Vec<String>,
    live: std::sync::Arc<Live>,
    every: Duration,
    stop: CancellationToken,
    abort: CancellationToken,
    watcher: Option<Watcher>,
) -> Vec<StockSample> {
    let show = |s: StockSample| {
        if let Some(w) = &watcher {
            w.send(s, &live);
        }
        s
    };
    let mut series = Series::new(MAX_POINTS);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => break,
        }
        let Some(&release) = live.released.get() else {
            continue;
        };
        tokio::select! {
            s = read(&admin, &keys, release) => if let Some(s) = s { series.push(show(s)) },
            () = stop.cancelled() => break,
        }
    }
    let last = match live.released.get() {
        Some(&release) if !abort.is_cancelled() => read(&admin, &keys, release).await.map(show),
        _ => None,
    };
    series.finish(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: usize) -> StockSample {
        StockSample {
            t_s: t as f64,
            stock: -(t as i64),
            sold: t as i64,
        }
    }

    #[test]
    fn a_long_series_stays_bounded_spans_the_run_and_ends_on_the_last_reading() {
        let mut s = Series::new(100);
        for t in 0..10_000 {
            s.push(at(t));
        }
        let points = s.finish(Some(at(10_000)));
        assert!(points.len() <= 100, "{} points", points.len());
        assert!(points.len() >= 50, "{} points", points.len());
        assert_eq!(points[0], at(0));
        assert_eq!(*points.last().unwrap(), at(10_000));
        assert!(points.windows(2).all(|w| w[0].t_s < w[1].t_s));
        // Evenly spread: decimation keeps one reading in a power of two.
        let gaps: Vec<f64> = points[..points.len() - 1]
            .windows(2)
            .map(|w| w[1].t_s - w[0].t_s)
            .collect();
        assert!(gaps.iter().all(|g| *g == gaps[0]), "{gaps:?}");
    }
}
