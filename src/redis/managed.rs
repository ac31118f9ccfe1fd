//! A throwaway `redis-server` on 127.0.0.1 and a free port (or on a unix
//! socket in its own directory), owned by a guard.
//!
//! Dropping the guard kills and reaps the server. On Linux the child also gets
//! `PR_SET_PDEATHSIG`, so it dies with blackfriday even when blackfriday itself
//! is killed with SIGKILL and no destructor runs.

mod cluster;
mod process;

pub use cluster::{ClusterShape, ManagedCluster};

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::PathBuf;
use std::process::Child;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::Error;
use crate::fault::Fsync;
use process::{exchange, free_port, spawn, Place};

const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the managed server listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Listen {
    #[default]
    Tcp,
    /// A socket in the server's temp directory, and no TCP port at all.
    Unix,
}

pub struct ManagedRedis {
    /// Replaced in place by a restart; shared with the fault steps, so
    /// behind a lock (never held across an await).
    child: Mutex<Child>,
    /// 0 when the server listens on a socket only.
    port: u16,
    socket: Option<PathBuf>,
    log: PathBuf,
    binary: OsString,
    fsync: Option<Fsync>,
    // Held for its Drop: the server's working directory (and its AOF) goes
    // with the server, and outlives every restart.
    dir: TempDir,
}

enum Failed {
    PortTaken,
    Other(Error),
}

impl ManagedRedis {
    /// Start `binary` without persistence and wait until it answers PING.
    pub async fn start(binary: &OsStr) -> Result<ManagedRedis, Error> {
        ManagedRedis::start_with(binary, Listen::Tcp, None).await
    }

    /// Start `binary` listening as `listen` says, with AOF on and `fsync` as
    /// its policy when given, and wait for PING.
    pub async fn start_with(
        binary: &OsStr,
        listen: Listen,
        fsync: Option<Fsync>,
    ) -> Result<ManagedRedis, Error> {
        // Another process can grab the free port between our probe and the
        // server's bind; that race is rare, so a few fresh ports settle it.
        for _ in 0..3 {
            match Self::try_start(binary, listen, fsync).await {
                Ok(server) => return Ok(server),
                Err(Failed::PortTaken) => continue,
                Err(Failed::Other(e)) => return Err(e),
            }
        }
        Err(Error::infra(
            "managed redis-server could not bind a free port on 127.0.0.1 after 3 tries",
        ))
    }

    async fn try_start(
        binary: &OsStr,
        listen: Listen,
        fsync: Option<Fsync>,
    ) -> Result<ManagedRedis, Failed> {
        let dir = tempfile::Builder::new()
            .prefix("blackfriday-redis-")
            .tempdir()
            .map_err(|e| io_err("cannot create a temp dir for redis-server", e))?;
        let (port, socket) = match listen {
            Listen::Tcp => (
                free_port().map_err(|e| io_err("cannot find a free port on 127.0.0.1", e))?,
                None,
            ),
            Listen::Unix => (0, Some(dir.path().join("redis.sock"))),
        };
        let log = dir.path().join("redis.log");
        let at = Place {
            port,
            socket: socket.as_deref(),
            dir: dir.path(),
            log: &log,
            cluster_port: None,
        };
        let child = spawn(binary, &at, fsync)?;
        let server = ManagedRedis {
            child: Mutex::new(child),
            port,
            socket,
            log,
            binary: binary.to_os_string(),
            fsync,
            dir,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&self) -> Result<(), Failed> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let exited = self.lock().try_wait();
            if let Ok(Some(status)) = exited {
                let log = self.log_text();
                if log.contains("Address already in use") {
                    return Err(Failed::PortTaken);
                }
                return Err(Failed::Other(Error::infra(format!(
                    "managed redis-server exited during startup ({status}). Its log:\n{log}"
                ))));
            }
            if self.answers().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Failed::Other(Error::infra(format!(
                    "managed redis-server did not answer PING on {} within {:?}. Its log:\n{}",
                    self.url(),
                    READY_TIMEOUT,
                    self.log_text()
                ))));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Child> {
        // A panic while holding it leaves a Child that is still valid.
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn url(&self) -> String {
        match &self.socket {
            Some(path) => format!("unix://{}", path.display()),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    async fn answers(&self) -> bool {
        let reply = exchange(self.port, self.socket.as_deref(), b"PING\r\n", 7);
        matches!(
            tokio::time::timeout(Duration::from_millis(250), reply).await,
            Ok(Ok(r)) if r == b"+PONG\r\n"
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The current process; a restart changes it.
    pub fn pid(&self) -> u32 {
        self.lock().id()
    }

    /// The AOF fsync policy it runs with, if persistence is on.
    pub fn fsync(&self) -> Option<Fsync> {
        self.fsync
    }

    /// False once the server has exited (crashed or killed).
    pub fn is_alive(&self) -> bool {
        matches!(self.lock().try_wait(), Ok(None))
    }

    /// SIGKILL the server, as a crash would, and start it again on the same
    /// port and directory so it replays its AOF.
    pub async fn kill_and_restart(&self) -> Result<(), Error> {
        {
            let mut child = self.lock();
            let _ = child.kill();
            let _ = child.wait();
        }
        self.respawn().await
    }

    /// A clean SHUTDOWN (the server saves per its persistence setting), then
    /// a start on the same port and directory.
    pub async fn shutdown_and_restart(&self) -> Result<(), Error> {
        // SHUTDOWN replies only when it fails: wait briefly for the
        // connection to close or answer.
        let sent = exchange(self.port, self.socket.as_deref(), b"SHUTDOWN\r\n", 1);
        let _ = tokio::time::timeout(READY_TIMEOUT, sent).await;
        let deadline = Instant::now() + READY_TIMEOUT;
        while self.is_alive() {
            if Instant::now() > deadline {
                // It would not stop: stop it the hard way, as a kill.
                return self.kill_and_restart().await;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.respawn().await
    }

    /// SIGSTOP (`stop`) or SIGCONT: the server is alive but silent.
    pub fn freeze(&self, stop: bool) -> Result<(), Error> {
        let pid = i32::try_from(self.pid()).map_err(Error::infra)?;
        let signal = if stop { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: kill(2) on our own child's pid, which we have not reaped.
        if unsafe { libc::kill(pid, signal) } != 0 {
            return Err(Error::infra(format!(
                "cannot signal the managed redis-server (pid {pid}): {}",
                io::Error::last_os_error()
            )));
        }
        Ok(())
    }

    async fn respawn(&self) -> Result<(), Error> {
        let at = Place {
            port: self.port,
            socket: self.socket.as_deref(),
            dir: self.dir.path(),
            log: &self.log,
            cluster_port: None,
        };
        let child = spawn(&self.binary, &at, self.fsync).map_err(Failed::into_error)?;
        *self.lock() = child;
        self.wait_ready().await.map_err(|f| match f {
            Failed::PortTaken => Error::infra(format!(
                "the managed redis-server could not come back on port {}: another process took it",
                self.port
            )),
            Failed::Other(e) => e,
        })
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Failed {
    fn into_error(self) -> Error {
        match self {
            Failed::PortTaken => Error::infra("the managed redis-server's port was taken"),
            Failed::Other(e) => e,
        }
    }
}

fn io_err(what: &str, e: io::Error) -> Failed {
    Failed::Other(Error::infra(format!("{what}: {e}")))
}

impl Drop for ManagedRedis {
    fn drop(&mut self) {
        // A throwaway server holds nothing worth a graceful shutdown; a
        // stopped one dies of SIGKILL all the same.
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The binary to start: `BLACKFRIDAY_REDIS_SERVER` or `redis-server` on PATH.
pub fn default_binary() -> OsString {
    std::env::var_os("BLACKFRIDAY_REDIS_SERVER").unwrap_or_else(|| "redis-server".into())
}
