//! Waiting for a connection of one's own without waiting out the sell-out.
//!
//! A strategy that needs an exclusive connection per attempt (a WATCH only
//! holds on the connection that sent it) queues its buyers for a handful
//! of connections. When the last unit goes, thousands may still be in that
//! queue, each about to spend a turn on a connection only to read a stock
//! of zero. [`Queue`] lets them find out sooner, from the server all the
//! same: every stock a buyer reads is reported to it, and a buyer waiting
//! in line whose quantity is above the lowest stock read *since it read
//! the stock itself* leaves the line to read it again, on the shared
//! pipelined connection. The answer "sold out" still comes from a read of
//! Redis, made by that buyer; the queue only says when to make it.

use std::sync::atomic::{AtomicI64, Ordering};

use fred::clients::{ExclusivePool, Pool};
use fred::interfaces::KeysInterface;
use tokio::sync::watch;
use tokio::sync::OwnedMutexGuard;

/// The exclusive connections, the shared one, and the lowest stock read.
pub struct Queue {
    exclusive: ExclusivePool,
    shared: Pool,
    /// The lowest stock read that is below some buyer's quantity.
    low: watch::Sender<i64>,
    /// The largest quantity a buyer has come to the queue for: a stock at
    /// or above it wakes nobody, so each sale does not wake the whole line.
    most_wanted: AtomicI64,
}

/// What a buyer gets from the queue.
pub enum Turn {
    /// A connection nobody else is using, held until dropped.
    Own(OwnedMutexGuard<fred::clients::Client>),
    /// The stock, read on the shared connection, is below the quantity.
    SoldOut,
}

impl Queue {
    pub fn new(exclusive: ExclusivePool, shared: Pool) -> Queue {
        Queue {
            exclusive,
            shared,
            low: watch::Sender::new(i64::MAX),
            most_wanted: AtomicI64::new(0),
        }
    }

    /// A stock some buyer read from the server: wakes the buyers in line
    /// who want more than it, when it is the lowest read so far.
    pub fn saw(&self, stock: i64) {
        // A buyer counted in `most_wanted` after this load reads the stock
        // itself after this read was made.
        if stock >= self.most_wanted.load(Ordering::SeqCst) {
            return;
        }
        self.low.send_if_modified(|low| {
            let lower = stock < *low;
            if lower {
                *low = stock;
            }
            lower
        });
    }

    /// Wait for a connection of one's own. A buyer whose quantity is
    /// above the lowest stock read, when it comes or while it waits, reads
    /// the stock itself on the shared connection first, and is sold out
    /// when that read says so. `round_trips` counts those reads.
    pub async fn turn(
        &self,
        key: &str,
        qty: i64,
        round_trips: &mut u32,
    ) -> Result<Turn, fred::error::Error> {
        self.most_wanted.fetch_max(qty, Ordering::SeqCst);
        let mut low = self.low.subscribe();
        loop {
            if *low.borrow_and_update() < qty {
                *round_trips += 1;
                // Boxed: a fred call is large, and the buyers in line are many.
                let read = Box::pin(self.shared.get::<Option<i64>, _>(key));
                let stock = read.await?.unwrap_or(0);
                self.saw(stock);
                if stock < qty {
                    return Ok(Turn::SoldOut);
                }
            }
            // A stock that rose since it was read low: wait in line until
            // a lower one is read.
            tokio::select! {
                own = self.exclusive.acquire() => return Ok(Turn::Own(own)),
                _ = below(&mut low, qty) => {}
            }
        }
    }

    pub async fn quit(&self) {
        let _ = self.exclusive.quit().await;
    }
}

/// Until a stock below `qty` is read (never, if the queue is gone).
async fn below(low: &mut watch::Receiver<i64>, qty: i64) {
    loop {
        if low.changed().await.is_err() {
            return std::future::pending().await;
        }
        if *low.borrow() < qty {
            return;
        }
    }
}
