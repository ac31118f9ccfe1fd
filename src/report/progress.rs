//! Live progress on stderr: one indicatif bar per strategy with a live line
//! (arrivals/s, purchases/s, stock left). Hidden when stderr is not a
//! terminal or with --quiet, so CI logs stay clean. The bar only reads the
//! driver's [`Live`] counters: the session's side tasks fill in the stock.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use crate::load::Live;

/// Redraws per second.
const TICK: Duration = Duration::from_millis(100);
/// Rates are averaged over this window.
const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

pub struct Bar {
    bar: ProgressBar,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress { enabled }
    }

    pub fn hidden() -> Progress {
        Progress { enabled: false }
    }

    /// Whether anything is drawn: when nothing is, nothing needs polling.
    pub fn shown(&self) -> bool {
        self.enabled
    }

    /// A bar fed from the driver's live counters: the workers only bump
    /// atomics, and this ticker redraws ten times a second.
    pub fn start(&self, name: &str, buyers: u64, live: Arc<Live>) -> Bar {
        let bar = ProgressBar::with_draw_target(
            Some(buyers),
            if self.enabled {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template(
                // wide_msg: the line is cut to the terminal, never wrapped.
                "{prefix:>10} {bar:16.cyan/blue} {pos:>7}/{len} buyers {elapsed:>4} {wide_msg}",
            )
            .expect("static template")
            .progress_chars("█▉▊▋▌▍▎▏ "),
        );
        bar.set_prefix(name.to_string());
        let ticker = self.enabled.then(|| tokio::spawn(tick(bar.clone(), live)));
        Bar { bar, ticker }
    }
}

/// One sample of the counters, for rates over the last [`WINDOW`].
struct Sample {
    at: Instant,
    started: u64,
    purchased: u64,
}

async fn tick(bar: ProgressBar, live: Arc<Live>) {
    let mut window: VecDeque<Sample> = VecDeque::new();
    loop {
        let now = Instant::now();
        let s = Sample {
            at: now,
            started: live.started.load(Ordering::Relaxed),
            purchased: live.purchased.load(Ordering::Relaxed),
        };
        while window
            .front()
            .is_some_and(|o| now.duration_since(o.at) > WINDOW)
        {
            window.pop_front();
        }
        let rate = |f: fn(&Sample) -> u64| match window.front() {
            Some(o) if now > o.at => (f(&s) - f(o)) as f64 / now.duration_since(o.at).as_secs_f64(),
            _ => 0.0,
        };
        let left = match live.stock.load(Ordering::Relaxed) {
            i64::MIN => "?".to_string(),
            n => n.to_string(),
        };
        bar.set_position(live.done.load(Ordering::Relaxed));
        bar.set_message(format!(
            "· {:.0} arrivals/s · {:.0} purchases/s · {} purchased · stock {left}",
            rate(|s| s.started),
            rate(|s| s.purchased),
            s.purchased
        ));
        window.push_back(s);
        tokio::time::sleep(TICK).await;
    }
}

impl Bar {
    pub fn set_message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }

    /// Every buyer has an outcome: the counters stop, the audit begins.
    pub fn auditing(&mut self, done: u64, purchased: u64) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        self.bar.set_position(done);
        self.bar
            .set_message(format!("· {purchased} purchased · auditing"));
    }

    /// The audit read the server back: the bar ends on its numbers, not on
    /// "auditing".
    pub fn audited(&self, stock: i64) {
        // Short: at 80 columns the bar leaves about 25 for the message,
        // and a negative stock says the oversell on its own.
        self.bar
            .finish_with_message(format!("· audited: stock {stock}"));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        // Stopped before its audit (an error, a dead server): say so
        // rather than leave it "auditing".
        if !self.bar.is_finished() {
            self.bar.abandon_with_message("· stopped");
        }
    }
}
