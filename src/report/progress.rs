//! Live progress on stderr: one indicatif bar per strategy. Hidden when
//! stderr is not a terminal or with --quiet, so CI logs stay clean.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use crate::load::Live;

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
                "{prefix:>10} {bar:30.cyan/blue} {pos:>8}/{len} buyers {elapsed:>4} {msg}",
            )
            .expect("static template")
            .progress_chars("█▉▊▋▌▍▎▏ "),
        );
        bar.set_prefix(name.to_string());
        let ticker = self.enabled.then(|| {
            let bar = bar.clone();
            tokio::spawn(async move {
                loop {
                    bar.set_position(live.done.load(Ordering::Relaxed));
                    bar.set_message(format!(
                        "· {} purchased",
                        live.purchased.load(Ordering::Relaxed)
                    ));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        });
        Bar { bar, ticker }
    }
}

impl Bar {
    pub fn set_message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }

    pub fn finish(self, done: u64, msg: String) {
        if let Some(t) = &self.ticker {
            t.abort();
        }
        self.bar.set_position(done);
        self.bar.finish_with_message(msg);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
    }
}
