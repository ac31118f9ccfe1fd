//! Waiting for a connection of one's own without waiting out the sell-out.
//!
//! A strategy that needs an exclusive connection per attempt (a WATCH only
//! holds on the connection that sent it) queues its buyers for a handful
//! of connections. When the last unit goes, thousands may still be in that
//! queue, each about to spend a turn on a connection only to read a stock
//! of zero. [`Queue`] lets them find out sooner, from the server all the
//! same: every stock a buyer reads is reported to it, and a buyer whose
//! quantity is above the lowest stock read so far, when it arrives or
//! while it waits, reads the stock itself on the shared connection
//! (through a pipe: the thousands who read at the sell-out go out in a few
//! writes). The answer "sold out" still comes from a read of Redis, made
//! by that buyer; the queue only says when to make it.

use std::sync::atomic::{AtomicI64, Ordering};

use bytes::BytesMut;
use fred::clients::{ExclusivePool, Pool};
use fred::interfaces::KeysInterface;
use redis_protocol::resp2::types::BytesFrame;
use tokio::sync::watch;
use tokio::sync::OwnedMutexGuard;

use crate::redis::{encode, Pipe, Sent};

/// The exclusive connections, the shared one, and the lowest stock read.
pub struct Queue {
    exclusive: ExclusivePool,
    shared: Pool,
    /// The shared connection's reads coalesced (None: `--per-call-writes`).
    pipe: Option<Pipe>,
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
    pub fn new(exclusive: ExclusivePool, shared: Pool, pipe: Option<Pipe>) -> Queue {
        Queue {
            exclusive,
            shared,
            pipe,
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
                let stock = self.read(key).await?;
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

    /// One GET of the stock: through the pipe, one write for all the
    /// buyers reading at once; through fred when there is no pipe or it
    /// could not send the read.
    async fn read(&self, key: &str) -> Result<i64, fred::error::Error> {
        use redis_protocol::resp2::types::BorrowedFrame::BulkString;
        if let Some(pipe) = &self.pipe {
            let mut out = BytesMut::with_capacity(32 + key.len());
            encode(&mut out, &[BulkString(b"GET"), BulkString(key.as_bytes())]);
            match pipe.call(out).await {
                Sent::Reply(reply) => return reply.and_then(stock),
                Sent::Redo => {}
            }
        }
        // Boxed: a fred call is large, and the buyers in line are many.
        let read = Box::pin(self.shared.get::<Option<i64>, _>(key));
        Ok(read.await?.unwrap_or(0))
    }

    pub async fn quit(&self) {
        if let Some(pipe) = &self.pipe {
            pipe.close();
        }
        let _ = self.exclusive.quit().await;
    }
}

/// A GET's reply as a stock: a missing key holds none.
fn stock(frame: BytesFrame) -> Result<i64, fred::error::Error> {
    let parsed = match &frame {
        BytesFrame::Null => Some(0),
        BytesFrame::BulkString(b) => std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()),
        _ => None,
    };
    parsed.ok_or_else(|| {
        let what = format!("the stock read back as {frame:?}, not a number");
        fred::error::Error::new(fred::error::ErrorKind::Parse, what)
    })
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
