//! One connection of a [`Pipe`](super::Pipe): opened (TCP, unix socket or
//! TLS, then AUTH and SELECT as the URL says), then split into a writer
//! task and a reader task.
//!
//! The writer takes every call queued since its last write and sends them
//! in one write: that is the whole point. Before writing, it hands the
//! callers' reply slots to the reader in the same order, so the reader
//! matches the n-th reply with the n-th call (Redis answers in order).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use bytes::BytesMut;
use fred::error::{Error, ErrorKind};
use fred::types::config::TlsConnector;
use redis_protocol::resp2::decode::decode_bytes_mut;
use redis_protocol::resp2::types::BorrowedFrame::{BulkString, Integer};
use redis_protocol::resp2::types::BytesFrame;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What a call hears back.
pub(super) type Answer = Result<BytesFrame, Gone>;

/// What a batch of commands hears back: one reply per command, in order.
pub(super) type Answers = Result<Vec<BytesFrame>, Gone>;

/// Why a call got no reply.
#[derive(Debug)]
pub(super) enum Gone {
    /// Never written: nothing reached the server.
    NotSent,
    /// Written (maybe partly), then the connection failed: unknown outcome.
    Lost(Error),
}

/// One command, or a batch, encoded, and where the reply goes.
pub(super) struct Call {
    pub bytes: BytesMut,
    pub reply: Slot,
}

/// Where replies go: one call's, or the whole batch's at once.
pub(super) enum Slot {
    One(oneshot::Sender<Answer>),
    Many {
        left: usize,
        got: Vec<BytesFrame>,
        to: oneshot::Sender<Answers>,
    },
}

impl Slot {
    /// Take one reply; the slot back if it waits for more.
    fn take(self, frame: BytesFrame) -> Option<Slot> {
        match self {
            // A caller that timed out has gone: its late reply is dropped.
            Slot::One(to) => drop(to.send(Ok(frame))),
            Slot::Many { left, mut got, to } => {
                got.push(frame);
                if left > 1 {
                    return Some(Slot::Many {
                        left: left - 1,
                        got,
                        to,
                    });
                }
                let _ = to.send(Ok(got));
            }
        }
        None
    }

    fn fail(self, why: Gone) {
        let _ = match self {
            Slot::One(to) => to.send(Err(why)).is_ok(),
            Slot::Many { to, .. } => to.send(Err(why)).is_ok(),
        };
    }
}

/// Where a connection goes.
#[derive(Clone)]
pub(super) enum Target {
    Tcp {
        host: String,
        port: u16,
        /// The connector and the name the certificate must carry.
        tls: Option<(TlsConnector, String)>,
    },
    Unix(PathBuf),
}

/// What a connection says first.
#[derive(Clone, Default)]
pub(super) struct Hello {
    pub username: Option<String>,
    pub password: Option<String>,
    pub database: Option<u8>,
}

/// A live connection: calls go in through `tx`; `stop` ends both tasks.
pub(super) struct Link {
    pub tx: mpsc::UnboundedSender<Call>,
    pub stop: CancellationToken,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Open a connection to `target`, say hello, start its tasks.
pub(super) async fn open(target: &Target, hello: &Hello, timeout: Duration) -> Result<Link, Error> {
    let connect = async {
        let mut io = connect(target).await?;
        greet(&mut io, hello).await?;
        Ok::<_, Error>(io)
    };
    let io = tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| Error::new(ErrorKind::Timeout, "connecting timed out"))??;
    let (read, write) = tokio::io::split(io);
    let (tx, rx) = mpsc::unbounded_channel();
    let (order_tx, order_rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    tokio::spawn(write_loop(rx, write, order_tx, stop.clone()));
    tokio::spawn(read_loop(read, order_rx, stop.clone()));
    Ok(Link { tx, stop })
}

async fn connect(target: &Target) -> Result<Box<dyn Stream>, Error> {
    let io_err = |e: std::io::Error| Error::new(ErrorKind::IO, e.to_string());
    match target {
        Target::Unix(path) => Ok(Box::new(
            tokio::net::UnixStream::connect(path)
                .await
                .map_err(io_err)?,
        )),
        Target::Tcp { host, port, tls } => {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(io_err)?;
            // Small writes must leave at once: Nagle would hold them for
            // the server's delayed ACK.
            tcp.set_nodelay(true).map_err(io_err)?;
            let Some((connector, name)) = tls else {
                return Ok(Box::new(tcp));
            };
            let TlsConnector::Rustls(connector) = connector;
            let name = fred::rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(|e| Error::new(ErrorKind::Tls, e.to_string()))?;
            let tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| Error::new(ErrorKind::Tls, e.to_string()))?;
            Ok(Box::new(tls))
        }
    }
}

/// AUTH and SELECT, one reply each, before any call is let through.
async fn greet(io: &mut Box<dyn Stream>, hello: &Hello) -> Result<(), Error> {
    let mut out = BytesMut::new();
    let mut expected = 0;
    if let Some(password) = &hello.password {
        let mut args = vec![BulkString(b"AUTH")];
        if let Some(user) = &hello.username {
            args.push(BulkString(user.as_bytes()));
        }
        args.push(BulkString(password.as_bytes()));
        super::encode(&mut out, &args);
        expected += 1;
    }
    if let Some(db) = hello.database {
        super::encode(&mut out, &[BulkString(b"SELECT"), Integer(i64::from(db))]);
        expected += 1;
    }
    if expected == 0 {
        return Ok(());
    }
    let io_err = |e: std::io::Error| Error::new(ErrorKind::IO, e.to_string());
    io.write_all(&out).await.map_err(io_err)?;
    let mut buf = BytesMut::with_capacity(256);
    while expected > 0 {
        match decode_bytes_mut(&mut buf)
            .map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?
        {
            Some((BytesFrame::Error(e), _, _)) => return Err(super::server_error(&e)),
            Some(_) => expected -= 1,
            None => {
                if io.read_buf(&mut buf).await.map_err(io_err)? == 0 {
                    return Err(Error::new(
                        ErrorKind::IO,
                        "the server closed the connection",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Turns the writer lets other tasks run, while they queue calls, before
/// it writes.
const MAX_TURNS: usize = 4;

/// Everything queued goes out in one write.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut rx: mpsc::UnboundedReceiver<Call>,
    mut write: W,
    order: mpsc::UnboundedSender<Vec<Slot>>,
    stop: CancellationToken,
) {
    let mut calls = Vec::with_capacity(1024);
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut calls, 4096) => n,
            () = stop.cancelled() => 0,
        };
        if n == 0 {
            break;
        }
        // Let the buyers that are ready run first, as Node's clients write
        // once per event-loop turn: fuller writes cost the server fewer
        // reads per call. Again while calls keep coming, a few turns at
        // most: the buyers woken by one read of replies run on every
        // worker thread, not all before this task's next turn.
        for _ in 0..MAX_TURNS {
            tokio::task::yield_now().await;
            let before = calls.len();
            while calls.len() < 4096 {
                match rx.try_recv() {
                    Ok(call) => calls.push(call),
                    Err(_) => break,
                }
            }
            if calls.len() == before || calls.len() >= 4096 {
                break;
            }
        }
        out.clear();
        let mut slots = Vec::with_capacity(calls.len());
        for call in calls.drain(..) {
            out.extend_from_slice(&call.bytes);
            slots.push(call.reply);
        }
        // The reader learns the order before the server can answer.
        if let Err(back) = order.send(slots) {
            fail(back.0, || Gone::NotSent);
            break;
        }
        let written = tokio::select! {
            r = write.write_all(&out) => r,
            () = stop.cancelled() => Err(std::io::ErrorKind::ConnectionAborted.into()),
        };
        if written.is_err() {
            break;
        }
    }
    stop.cancel();
    // Calls still queued were never written: the caller may send them again.
    rx.close();
    while let Ok(call) = rx.try_recv() {
        call.reply.fail(Gone::NotSent);
    }
}

/// Replies, in order, to the calls the writer sent.
async fn read_loop<R: AsyncRead + Unpin>(
    mut read: R,
    mut order: mpsc::UnboundedReceiver<Vec<Slot>>,
    stop: CancellationToken,
) {
    let mut waiting: VecDeque<Slot> = VecDeque::new();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let why = loop {
        let got = tokio::select! {
            r = read.read_buf(&mut buf) => r,
            () = stop.cancelled() => break "the connection was closed",
        };
        match got {
            Ok(0) => break "the server closed the connection",
            Err(_) => break "the connection failed",
            Ok(_) => {}
        }
        if let Err(why) = answer(&mut buf, &mut waiting, &mut order) {
            break why;
        }
    };
    stop.cancel();
    order.close();
    while let Ok(more) = order.try_recv() {
        waiting.extend(more);
    }
    fail(waiting, || Gone::Lost(Error::new(ErrorKind::IO, why)));
}

/// Hand every whole reply in `buf` to its caller.
fn answer(
    buf: &mut BytesMut,
    waiting: &mut VecDeque<Slot>,
    order: &mut mpsc::UnboundedReceiver<Vec<Slot>>,
) -> Result<(), &'static str> {
    while let Some((frame, _, _)) =
        decode_bytes_mut(buf).map_err(|_| "a reply could not be read")?
    {
        if waiting.is_empty() {
            while let Ok(more) = order.try_recv() {
                waiting.extend(more);
            }
        }
        let slot = waiting
            .pop_front()
            .ok_or("a reply came that nothing asked for")?;
        if let Some(more) = slot.take(frame) {
            waiting.push_front(more);
        }
    }
    Ok(())
}

fn fail(slots: impl IntoIterator<Item = Slot>, why: impl Fn() -> Gone) {
    for slot in slots {
        slot.fail(why());
    }
}
