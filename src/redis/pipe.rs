//! A connection whose writes are coalesced, for the one call a buyer makes
//! thousands of times a second (the purchase script's EVALSHA).
//!
//! fred flushes the socket after every EVAL, EVALSHA and FCALL
//! (`CommandKind::should_flush`), so each purchase cost its own write
//! system call, and with it the kernel's whole loopback path, on the
//! generator's CPU. A pipe sends whatever calls were queued since its last
//! write in one write, as Node's and redis-rs's clients do. It is not a
//! client: it sends commands already encoded, reads their replies in order,
//! and for everything else defers to fred:
//!
//! - it reaches the server fred reached (the same URL, TLS, unix socket,
//!   credentials and database; the primary a Sentinel named; on a cluster,
//!   the primary that owns the call's slot, read from `CLUSTER SLOTS`);
//! - a reply that means "not run here" (`NOSCRIPT`, `MOVED`, `ASK`,
//!   `READONLY`, `LOADING`, `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`) or a
//!   call that was never written comes back as [`Sent::Redo`]: nothing was
//!   applied, so the caller sends it through fred, which reloads the script
//!   or follows the cluster; a moved slot or a demoted primary also makes
//!   the pipe find its server again;
//! - a connection that fails takes its unanswered calls with it as unknown
//!   outcomes (the same as fred's with one attempt per command), and the
//!   pipe reconnects in the background while calls go through fred.

mod link;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::BytesMut;
use fred::error::{Error, ErrorKind};
use fred::prelude::*;
use redis_protocol::resp2::encode::extend_encode_borrowed;
use redis_protocol::resp2::types::{BorrowedFrame, BytesFrame};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use link::{Call, Gone, Hello, Link, Slot, Target};

/// What became of one call.
#[derive(Debug)]
pub enum Sent {
    /// The server's reply (an error reply becomes an `Err`).
    Reply(Result<BytesFrame, Error>),
    /// Not applied: send it another way.
    Redo,
}

/// Coalesced writes to one server; see the module's text.
pub struct Pipe {
    shared: Arc<Shared>,
}

struct Shared {
    link: RwLock<Option<Link>>,
    /// The fred client whose server the pipe follows.
    client: Client,
    /// The calls' slot: on a cluster, the pipe talks to its owner.
    slot: u16,
    timeout: Duration,
    /// A background reconnect is under way.
    reopening: AtomicBool,
    closed: CancellationToken,
}

impl Pipe {
    /// A pipe to the server `client` talks to (on a cluster, the owner of
    /// `slot`), or fred's error when it cannot be reached.
    pub async fn open(client: Client, slot: u16, timeout: Duration) -> Result<Pipe, Error> {
        let shared = Arc::new(Shared {
            link: RwLock::new(None),
            client,
            slot,
            timeout,
            reopening: AtomicBool::new(false),
            closed: CancellationToken::new(),
        });
        let link = shared.connect().await?;
        *shared.link.write().expect("pipe lock") = Some(link);
        Ok(Pipe { shared })
    }

    /// Send one encoded command and wait (at most the command timeout) for
    /// its reply.
    pub async fn call(&self, bytes: BytesMut) -> Sent {
        let (reply, answer) = oneshot::channel();
        let reply = Slot::One(reply);
        if !self.shared.send(Call { bytes, reply }) {
            self.shared.reopen();
            return Sent::Redo;
        }
        match tokio::time::timeout(self.shared.timeout, answer).await {
            Err(_) => Sent::Reply(Err(Error::new(ErrorKind::Timeout, "Request timed out."))),
            Ok(Err(_)) | Ok(Ok(Err(Gone::NotSent))) => Sent::Redo,
            Ok(Ok(Err(Gone::Lost(e)))) => {
                self.shared.reopen();
                Sent::Reply(Err(e))
            }
            Ok(Ok(Ok(BytesFrame::Error(e)))) => match redo(&e) {
                Redo::No => Sent::Reply(Err(server_error(&e))),
                Redo::Here => Sent::Redo,
                Redo::Elsewhere => {
                    self.shared.drop_link();
                    self.shared.reopen();
                    Sent::Redo
                }
            },
            Ok(Ok(Ok(frame))) => Sent::Reply(Ok(frame)),
        }
    }

    /// Send `count` encoded commands in one write and wait for all their
    /// replies (error replies included, as frames). None when the batch
    /// could not be sent or answered whole: the caller goes another way.
    pub async fn batch(&self, bytes: BytesMut, count: usize) -> Option<Vec<BytesFrame>> {
        if count == 0 {
            return Some(Vec::new());
        }
        let (to, answer) = oneshot::channel();
        let got = Vec::with_capacity(count);
        let reply = Slot::Many {
            left: count,
            got,
            to,
        };
        if !self.shared.send(Call { bytes, reply }) {
            self.shared.reopen();
            return None;
        }
        match tokio::time::timeout(self.shared.timeout, answer).await {
            Ok(Ok(Ok(frames))) => Some(frames),
            _ => None,
        }
    }

    /// Close the connection and stop reconnecting.
    pub fn close(&self) {
        self.shared.closed.cancel();
        self.shared.drop_link();
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.close();
    }
}

impl Shared {
    /// Queue a call on the live link; false when there is none.
    fn send(&self, call: Call) -> bool {
        let link = self.link.read().expect("pipe lock");
        link.as_ref().is_some_and(|l| l.tx.send(call).is_ok())
    }

    /// Whether a link is up: a failed one has cancelled its `stop`.
    fn live(&self) -> bool {
        let link = self.link.read().expect("pipe lock");
        link.as_ref().is_some_and(|l| !l.stop.is_cancelled())
    }

    fn drop_link(&self) {
        self.link.write().expect("pipe lock").take();
    }

    /// Reconnect in the background, once at a time, backing off from 50 ms
    /// to 1 s, until it works or the pipe is closed. A link that is up is
    /// never replaced: a caller late to hear of the last failure must not
    /// take the calls in flight on the new link down with it.
    fn reopen(self: &Arc<Self>) {
        if self.closed.is_cancelled() || self.reopening.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(50);
            while !me.closed.is_cancelled() {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = me.closed.cancelled() => break,
                }
                if me.live() {
                    break;
                }
                if let Ok(link) = me.connect().await {
                    if !me.closed.is_cancelled() {
                        *me.link.write().expect("pipe lock") = Some(link);
                    }
                    break;
                }
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            me.reopening.store(false, Ordering::Release);
        });
    }

    async fn connect(&self) -> Result<Link, Error> {
        let config = self.client.client_config();
        let target = self.target(&config).await?;
        let hello = Hello {
            username: config.username.clone(),
            password: config.password.clone(),
            database: config.database,
        };
        link::open(&target, &hello, self.timeout).await
    }

    /// The server fred reaches: on a cluster the slot's owner now.
    async fn target(&self, config: &Config) -> Result<Target, Error> {
        let (host, port, name) = match &config.server {
            ServerConfig::Unix { path } => return Ok(Target::Unix(path.clone())),
            ServerConfig::Clustered { .. } => {
                let slot = self.slot;
                let map = super::SlotMap::read(&self.client).await?;
                let node = map.node_of(slot).ok_or_else(|| {
                    Error::new(ErrorKind::Cluster, format!("no primary serves slot {slot}"))
                })?;
                let (host, port) = node
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_string(), p.parse().ok()?)))
                    .ok_or_else(|| Error::new(ErrorKind::Cluster, format!("node {node}")))?;
                (host, port, None)
            }
            _ => {
                // The one server fred is connected to: the URL's, or the
                // primary a Sentinel named.
                let server = self
                    .client
                    .active_connections()
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::new(ErrorKind::IO, "the client is not connected"))?;
                let name = server.tls_server_name.as_ref().map(|n| n.to_string());
                (server.host.to_string(), server.port, name)
            }
        };
        let tls = config.tls.as_ref().map(|t| {
            let name = name.unwrap_or_else(|| host.clone());
            (t.connector.clone(), name)
        });
        Ok(Target::Tcp { host, port, tls })
    }
}

/// Where a refused call can go.
enum Redo {
    /// A real answer: the call failed.
    No,
    /// Not run, but this server is still the right one.
    Here,
    /// Not run, and the server is no longer the one to ask.
    Elsewhere,
}

fn redo(error: &str) -> Redo {
    match error.split_whitespace().next().unwrap_or("") {
        "NOSCRIPT" | "LOADING" | "TRYAGAIN" | "ASK" | "BUSY" => Redo::Here,
        "MOVED" | "READONLY" | "CLUSTERDOWN" | "MASTERDOWN" => Redo::Elsewhere,
        _ => Redo::No,
    }
}

/// An error reply as fred would have returned it (its `pretty_error`).
fn server_error(reply: &str) -> Error {
    let kind = match reply.split_whitespace().next().unwrap_or("") {
        "WRONGTYPE" => ErrorKind::InvalidArgument,
        "NOAUTH" | "WRONGPASS" => ErrorKind::Auth,
        "MOVED" | "ASK" | "CLUSTERDOWN" => ErrorKind::Cluster,
        _ => ErrorKind::Unknown,
    };
    Error::new(kind, reply.to_string())
}

/// Append one command to `out`: its parts as bulk strings (integers too,
/// as Redis wants them).
pub fn encode(out: &mut BytesMut, parts: &[BorrowedFrame<'_>]) {
    // Only a buffer too small fails, and extend_encode grows the buffer.
    let _ = extend_encode_borrowed(out, &BorrowedFrame::Array(parts), true);
}
