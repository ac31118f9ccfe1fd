//! The open model: buyers start on schedule (checked in virtual time with a
//! paused tokio clock), latency counts from the intended start, and a real
//! run makes the arrivals its schedule promises.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use blackfriday::crowd::{Buyer, Crowd, QtyRange};
use blackfriday::load::{self, DriveOptions, DurationRange, Live, RetryPolicy};
use blackfriday::schedule::{Arrivals, Curve, Extent, Schedule};
use blackfriday::strategy::{Attempt, Step, Strategy, StrategyKind};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Not a stand-in for Redis: a stopwatch. Each attempt notes when it began
/// and ended on the (paused) clock, takes `work` of virtual time, and ends
/// the buyer. The driver's timing is what is under test.
struct Stopwatch {
    work: Duration,
    seen: Mutex<Vec<(u32, Instant, Instant)>>,
}

#[async_trait]
impl Strategy for Stopwatch {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let began = Instant::now();
        tokio::time::sleep(self.work).await;
        self.seen
            .lock()
            .unwrap()
            .push((buyer.id, began, Instant::now()));
        Step {
            attempt: Attempt::SoldOut,
            round_trips: 1,
            race: None,
        }
    }
}

struct Drove {
    release: Instant,
    /// Every buyer's intended start after the release.
    offsets: Vec<Duration>,
    tally: blackfriday::metrics::Tally,
    seen: Vec<(u32, Instant, Instant)>,
}

async fn drive(schedule: Schedule, concurrency: usize, work: Duration) -> Drove {
    let schedule = Arc::new(schedule);
    let crowd = Arc::new(Crowd::generate(1, schedule.len() as u32, QtyRange::ONE));
    let watch = Arc::new(Stopwatch {
        work,
        seen: Mutex::new(Vec::new()),
    });
    let opts = DriveOptions {
        concurrency,
        retry: RetryPolicy {
            max_retries: 0,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
            think: DurationRange::ZERO,
            unknown: false,
        },
        seed: 1,
        abort: Default::default(),
        reserve: None,
        history: None,
        ack_times: false,
    };
    // The clock is paused and nothing sleeps before the release: the
    // driver releases at this very instant.
    let release = Instant::now();
    let result = load::drive(
        watch.clone(),
        crowd,
        schedule.clone(),
        &opts,
        Arc::new(Live::default()),
        CancellationToken::new(),
    )
    .await;
    let seen = std::mem::take(&mut *watch.seen.lock().unwrap());
    Drove {
        release,
        offsets: schedule.offsets().collect(),
        tally: result.tally,
        seen,
    }
}

fn constant(per_s: f64, buyers: u32) -> Schedule {
    Schedule::open(
        Curve::Constant { per_s },
        Arrivals::Constant,
        Extent::Buyers(buyers),
        7,
        1_000_000,
    )
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn with_room_every_buyer_starts_at_its_intended_time() {
    let d = drive(constant(1000.0, 200), 1000, Duration::from_millis(3)).await;
    assert_eq!(d.seen.len(), 200);
    assert_eq!(d.tally.late_starts, 0);
    for &(id, began, _) in &d.seen {
        let intended = d.release + d.offsets[id as usize];
        // Timers tick in whole milliseconds: never early, at most a tick late.
        assert!(began >= intended, "buyer {id} started early");
        assert!(
            began - intended <= Duration::from_millis(1),
            "buyer {id} started {:?} late",
            began - intended
        );
    }
    assert_eq!(d.tally.latency.len(), 200);
    assert_eq!(d.tally.service.len(), 200);
}

#[tokio::test(start_paused = true)]
async fn a_poisson_ramp_is_followed_in_virtual_time() {
    let schedule = Schedule::open(
        "0..2000/s:1s"
            .parse::<blackfriday::schedule::RampSpec>()
            .unwrap()
            .0,
        Arrivals::Poisson,
        Extent::Within(Duration::from_secs(2)),
        3,
        1_000_000,
    )
    .unwrap();
    let n = schedule.len();
    let d = drive(schedule, 10_000, Duration::from_millis(2)).await;
    assert_eq!(d.seen.len(), n);
    for &(id, began, _) in &d.seen {
        let intended = d.release + d.offsets[id as usize];
        assert!(began >= intended && began - intended <= Duration::from_millis(1));
    }
    // The last buyer arrives near the end of the 2 s, not at the release.
    let last = d.seen.iter().map(|s| s.1).max().unwrap();
    assert!(last - d.release > Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn late_buyers_keep_their_intended_start_for_latency() {
    // 1000 arrivals/s, each taking 5 ms, at most 2 in flight: the driver
    // falls behind and must say so, and latency must include the wait.
    let d = drive(constant(1000.0, 100), 2, Duration::from_millis(5)).await;
    assert_eq!(d.seen.len(), 100);
    assert!(d.tally.late_starts > 50, "late: {}", d.tally.late_starts);
    let mut max_lag = Duration::ZERO;
    for &(id, began, ended) in &d.seen {
        let intended = d.release + d.offsets[id as usize];
        assert!(began >= intended, "buyer {id} started before its time");
        // Corrected latency (end − intended) ≥ service time (end − start).
        assert!(ended - intended >= ended - began, "buyer {id}");
        max_lag = max_lag.max(began - intended);
    }
    assert!(max_lag > Duration::from_millis(100), "lag {max_lag:?}");
    let (lat, svc) = (&d.tally.latency, &d.tally.service);
    assert_eq!((lat.len(), svc.len()), (100, 100));
    for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
        assert!(
            lat.value_at_quantile(q) >= svc.value_at_quantile(q),
            "q{q}: latency below service time"
        );
    }
    // Service time stays the 5 ms of work; latency carries the queue.
    assert!(svc.max() <= 6_000, "service max {}µs", svc.max());
    assert!(lat.max() >= max_lag.as_micros() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_seconds_at_1000_per_s_makes_2000_arrivals_on_a_real_server() {
    let server = common::redis_server().await;
    let url = server.url();
    let base = [
        "--redis",
        &url,
        "-s",
        "lua",
        "--stock",
        "500",
        "--rate",
        "1000/s",
        "--duration",
        "2s",
        "--seed",
        "11",
        "--keep",
    ];
    let constant = common::config(&[&base[..], &["--arrivals", "constant"]].concat());
    assert_eq!(constant.buyers, 2000, "constant arrivals: exact count");
    let poisson = common::config(&base);
    // Mean 2000, sd ≈ 45: a bound no seed can break.
    assert!(
        (1600..=2400).contains(&poisson.buyers),
        "{}",
        poisson.buyers
    );
    let c = common::client(&url).await;
    for config in [constant, poisson] {
        let report = blackfriday::run(&config).await.unwrap();
        let doc = open_model_json(&report);
        assert_eq!(doc["run"]["load"]["model"], "open");
        assert_eq!(doc["run"]["load"]["curve"]["per_s"], 1000.0);
        assert_eq!(doc["run"]["load"]["duration_s"], 2.0);
        assert_eq!(doc["run"]["buyers"], config.buyers);
        let r = report.strategy(StrategyKind::Lua).unwrap();
        let truth = common::state(&c, &report.meta.run_id, "lua").await;
        assert_eq!(truth.sold, 500, "server-side sold");
        assert_eq!(truth.stock, 0);
        assert_eq!(
            r.latency.count,
            u64::from(config.buyers),
            "every arrival ran"
        );
        assert_eq!(r.service.count, r.latency.count);
        assert!(r.latency.max >= r.service.max);
        // Arrivals span the two seconds: the timeline has a bucket for each.
        assert!(r.timeline.attempts.len() >= 2, "{:?}", r.timeline);
        assert_eq!(r.timeline.purchases.iter().sum::<u64>(), 500);
        assert_eq!(r.timeline.attempts.iter().sum::<u64>(), r.figures.attempts);
        assert!(r.verdict.held, "{:?}", r.verdict);
    }
}

/// The report as JSON, checked against the committed schema.
fn open_model_json(report: &blackfriday::Report) -> serde_json::Value {
    use blackfriday::report::{json::Json, Exporter};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report-v1.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&Json.render(report).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema violations: {errors:?}");
    doc
}
