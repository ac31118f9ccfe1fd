//! A small TCP proxy between the buyers and the server, for the network
//! faults: replies held back (latency), every connection reset (drop), or
//! nothing forwarded either way for a while (blackhole), without root or
//! `tc`. The admin, audit and liveness connections go direct, so a fault
//! here never blinds the tool itself.
//!
//! Every connection is two copy loops that read one shared control state
//! (a `watch` channel): the fault steps change the state, the loops obey
//! it from the next chunk on.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// Chunks read ahead of the writer: enough to keep a pipelined connection
/// streaming under latency, small enough to push back on the reader.
const QUEUE: usize = 256;
const CHUNK: usize = 16 * 1024;

/// What the proxy does to traffic right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Each reply chunk is held back a time drawn from this range.
    pub latency: Option<(Duration, Duration)>,
    /// Nothing is forwarded, either way.
    pub blackhole: bool,
    /// Bumped to reset every connection open at that moment.
    pub drops: u64,
}

/// The proxy's control: shared by the fault steps; cheap to clone.
#[derive(Clone)]
pub struct ProxyControl {
    state: Arc<watch::Sender<Conditions>>,
    rng: Arc<Mutex<ChaCha8Rng>>,
}

impl ProxyControl {
    /// Add latency to every reply from now on (`None`: no more).
    pub fn latency(&self, range: Option<(Duration, Duration)>) {
        self.state.send_modify(|c| c.latency = range);
    }

    pub fn blackhole(&self, on: bool) {
        self.state.send_modify(|c| c.blackhole = on);
    }

    /// Reset every connection open now; later ones are untouched.
    pub fn drop_all(&self) {
        self.state.send_modify(|c| c.drops += 1);
    }

    /// Back to a clean network, as at the start of each strategy's run.
    pub fn clear(&self) {
        self.state.send_modify(|c| {
            c.latency = None;
            c.blackhole = false;
        });
    }

    pub fn conditions(&self) -> Conditions {
        *self.state.borrow()
    }

    fn delay(&self, (min, max): (Duration, Duration)) -> Duration {
        if min == max {
            return min;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        rng.gen_range(min..=max)
    }
}

/// A running proxy: stops, with every connection through it, on drop.
pub struct Proxy {
    addr: SocketAddr,
    control: ProxyControl,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listen on 127.0.0.1 and a free port, forwarding to `upstream`.
    /// Latency draws come from `seed`.
    pub async fn start(upstream: SocketAddr, seed: u64) -> io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (state, _) = watch::channel(Conditions::default());
        let control = ProxyControl {
            state: Arc::new(state),
            rng: Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))),
        };
        let task = tokio::spawn(accept(listener, upstream, control.clone()));
        Ok(Proxy {
            addr,
            control,
            task,
        })
    }

    /// Where buyers connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn control(&self) -> ProxyControl {
        self.control.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The connection tasks live in the accept task's JoinSet: aborting
        // it drops the set, which aborts them.
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, control: ProxyControl) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((client, _)) = accepted {
                    connections.spawn(serve(client, upstream, control.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One buyer connection, until either side closes it or a drop resets it.
async fn serve(client: TcpStream, upstream: SocketAddr, control: ProxyControl) {
    let mut changes = control.state.subscribe();
    let born = changes.borrow().drops;
    let Ok(server) = TcpStream::connect(upstream).await else {
        reset(&client);
        return;
    };
    // Replies are small and pipelined: Nagle would add latency of its own.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = pump(&mut cr, &mut sw, &control, false);
    let down = pump(&mut sr, &mut cw, &control, true);
    let dropped = changes.wait_for(|c| c.drops != born);
    let clean = tokio::select! {
        r = async { tokio::try_join!(up, down) } => r.is_ok(),
        _ = dropped => false,
    };
    if !clean {
        // A reset, not a close: the far side sees the connection fail.
        // Dropping a write half would send a FIN first; forgetting it
        // leaves the close to the read half, which then resets.
        reset(cw.as_ref());
        reset(sw.as_ref());
        cw.forget();
        sw.forget();
    }
}

fn reset(s: &TcpStream) {
    let _ = s.set_zero_linger();
}

/// Copy one direction. Replies (`down`) are delayed per chunk by the
/// latency in force when they arrive, order kept: a reader stamps each
/// chunk with when it is due, a writer waits for it.
async fn pump(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    control: &ProxyControl,
    down: bool,
) -> io::Result<()> {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    let read = async move {
        let mut last_due = Instant::now();
        loop {
            let mut buf = vec![0u8; CHUNK];
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(), io::Error>(());
            }
            buf.truncate(n);
            let latency = control.conditions().latency.filter(|_| down);
            // Never before the chunk ahead of it: bytes stay in order.
            let due = latency.map_or(Instant::now(), |l| Instant::now() + control.delay(l));
            last_due = last_due.max(due);
            if tx.send((last_due, buf)).await.is_err() {
                return Ok(());
            }
        }
    };
    let write = async {
        let mut changes = control.state.subscribe();
        while let Some((due, buf)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            // A blackhole holds what arrived until it ends.
            let _ = changes.wait_for(|c| !c.blackhole).await;
            to.write_all(&buf).await?;
        }
        to.shutdown().await
    };
    tokio::try_join!(read, write).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server standing in for Redis: what the proxy does to bytes
    /// does not depend on what they say.
    async fn echo() -> SocketAddr {
        let l = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.into_split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    async fn round_trip(c: &mut TcpStream, msg: &[u8]) -> io::Result<Duration> {
        let t = Instant::now();
        c.write_all(msg).await?;
        let mut got = vec![0u8; msg.len()];
        c.read_exact(&mut got).await?;
        assert_eq!(got, msg);
        Ok(t.elapsed())
    }

    #[tokio::test]
    async fn forwards_delays_holds_and_resets() {
        let proxy = Proxy::start(echo().await, 1).await.unwrap();
        let ctl = proxy.control();
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip(&mut c, b"PING").await.unwrap();

        let d = Duration::from_millis(30);
        ctl.latency(Some((d, d)));
        assert!(round_trip(&mut c, b"slow").await.unwrap() >= d);
        ctl.clear();

        // Nothing comes back while the hole is open; all of it after.
        ctl.blackhole(true);
        c.write_all(b"held").await.unwrap();
        let mut got = [0u8; 4];
        let early = tokio::time::timeout(Duration::from_millis(100), c.read_exact(&mut got));
        assert!(early.await.is_err(), "a blackhole forwarded a reply");
        ctl.blackhole(false);
        c.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"held");

        // A drop resets the connection open now, and only that one.
        ctl.drop_all();
        let mut buf = [0u8; 1];
        let after = tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf)).await;
        let reset = after.expect("the drop reached the client");
        assert!(
            matches!(&reset, Err(e) if e.kind() == io::ErrorKind::ConnectionReset),
            "{reset:?}"
        );
        let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip(&mut fresh, b"again").await.unwrap();
    }

    #[tokio::test]
    async fn a_latency_range_draws_within_it_from_the_seed() {
        let draw = |seed| {
            let (state, _) = watch::channel(Conditions::default());
            let c = ProxyControl {
                state: Arc::new(state),
                rng: Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))),
            };
            let r = (Duration::from_millis(5), Duration::from_millis(20));
            (0..50).map(|_| c.delay(r)).collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert!(a.iter().all(|d| (5..=20).contains(&d.as_millis())));
        assert!(a.iter().any(|d| *d != a[0]));
    }
}
