//! `--live`: a full-screen view for a room. One panel per strategy with a
//! big stock counter (red below zero), sold and oversold, the clients'
//! rates and a live p99; finished panels stay, and the last screen waits
//! for `q` before the normal summary prints.
//!
//! The session feeds it [`Update`]s over a channel ([`Feed`]): stock and
//! sold come from the stock sampler's one MGET per reading, so they always
//! agree with each other; nothing here reads Redis. The view runs on a
//! thread of its own, so a busy runtime never freezes the screen.

mod digits;
pub mod draw;
pub mod model;
mod term;

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

pub use model::{ClientCounts, Finished, Model, Panel, Phase, Sample, ServerRead, Update};
pub use term::{restore, show, Key, KeySource};

use crate::findings::StrategyReport;

/// The session's end of the view: cheap to clone, never blocks. Once every
/// clone is dropped the view knows the run is over.
#[derive(Debug, Clone)]
pub struct Feed {
    tx: Sender<Update>,
}

impl Feed {
    pub fn channel() -> (Feed, Receiver<Update>) {
        let (tx, rx) = mpsc::channel();
        (Feed { tx }, rx)
    }

    /// A view that has gone (its thread ended) is not the run's problem.
    pub fn send(&self, update: Update) {
        let _ = self.tx.send(update);
    }
}

/// The view on this terminal, on its own thread, and the feed to it.
/// `interrupt` is what Ctrl-C does while the run goes on.
pub fn start(interrupt: fn()) -> (Feed, JoinHandle<std::io::Result<Model>>) {
    let (feed, rx) = Feed::channel();
    let handle = std::thread::spawn(move || term::run(&rx, &interrupt));
    (feed, handle)
}

/// Wait for the view to be closed (`q`) and the terminal given back.
pub fn wait(handle: JoinHandle<std::io::Result<Model>>) {
    match handle.join() {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => eprintln!("warning: --live: the view stopped: {e}"),
        // The panic hook already gave the terminal back and said why.
        Err(_) => restore(),
    }
}

/// The audit's figures for strategy `index`: the panel ends on the server's
/// truth, not on the last sample.
pub fn finished(index: usize, r: &StrategyReport) -> Update {
    let f = &r.figures;
    Update::Finished(Finished {
        index,
        server: ServerRead {
            stock: r.server.stock,
            sold: r.server.sold,
        },
        oversold: r.server.oversold(),
        client: ClientCounts {
            done: f.purchased + f.sold_out + f.gave_up + f.errors,
            purchased: f.purchased,
            attempts: f.attempts,
            conflicts: f.conflicts,
            p99: (r.latency.count > 0).then(|| Duration::from_micros(r.latency.p99)),
        },
        held: r.verdict.held,
    })
}
