//! A throwaway `redis-server` on 127.0.0.1 and a free port (or on a unix
//! socket in its own directory), owned by a guard.
//!
//! Dropping the guard kills and reaps the server. On Linux the child also gets
//! `PR_SET_PDEATHSIG`, so it dies with blackfriday even when blackfriday itself
//! is killed with SIGKILL and no destructor runs.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::error::Error;

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
    child: Child,
    /// 0 when the server listens on a socket only.
    port: u16,
    socket: Option<PathBuf>,
    log: PathBuf,
    // Held for its Drop: the server's working directory goes with the server.
    _dir: TempDir,
}

enum Failed {
    PortTaken,
    Other(Error),
}

impl ManagedRedis {
    /// Start `binary` on a free TCP port and wait until it answers PING.
    pub async fn start(binary: &OsStr) -> Result<ManagedRedis, Error> {
        ManagedRedis::start_on(binary, Listen::Tcp).await
    }

    /// Start `binary` listening as `listen` says, and wait for PING.
    pub async fn start_on(binary: &OsStr, listen: Listen) -> Result<ManagedRedis, Error> {
        // Another process can grab the free port between our probe and the
        // server's bind; that race is rare, so a few fresh ports settle it.
        for _ in 0..3 {
            match Self::try_start(binary, listen).await {
                Ok(server) => return Ok(server),
                Err(Failed::PortTaken) => continue,
                Err(Failed::Other(e)) => return Err(e),
            }
        }
        Err(Error::infra(
            "managed redis-server could not bind a free port on 127.0.0.1 after 3 tries",
        ))
    }

    async fn try_start(binary: &OsStr, listen: Listen) -> Result<ManagedRedis, Failed> {
        let io_err = |what: &str, e: io::Error| Failed::Other(Error::infra(format!("{what}: {e}")));
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
        let out =
            File::create(&log).map_err(|e| io_err("cannot create the redis-server log", e))?;
        let err = out
            .try_clone()
            .map_err(|e| io_err("cannot create the redis-server log", e))?;
        let mut cmd = Command::new(binary);
        cmd.arg("--port")
            .arg(port.to_string())
            .args([
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .args(socket.iter().flat_map(|path| {
                // Owner only: no other local user may write to the sale.
                [
                    OsStr::new("--unixsocket"),
                    path.as_os_str(),
                    OsStr::new("--unixsocketperm"),
                    OsStr::new("700"),
                ]
            }))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Failed::Other(spawn_error(binary, e)))?;
        let mut server = ManagedRedis {
            child,
            port,
            socket,
            log,
            _dir: dir,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<(), Failed> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = self.log_text();
                if log.contains("Address already in use") {
                    return Err(Failed::PortTaken);
                }
                return Err(Failed::Other(Error::infra(format!(
                    "managed redis-server exited during startup ({status}). Its log:\n{log}"
                ))));
            }
            let answered = match &self.socket {
                Some(path) => ping_socket(path).await,
                None => ping(self.port).await,
            };
            if answered {
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

    pub fn url(&self) -> String {
        match &self.socket {
            Some(path) => format!("unix://{}", path.display()),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// False once the server has exited (crashed or killed).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ManagedRedis {
    fn drop(&mut self) {
        // A throwaway server holds nothing worth a graceful shutdown.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn ping(port: u16) -> bool {
    match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(s) => pong(s).await,
        Err(_) => false,
    }
}

async fn ping_socket(path: &Path) -> bool {
    match UnixStream::connect(path).await {
        Ok(s) => pong(s).await,
        Err(_) => false,
    }
}

async fn pong(mut s: impl AsyncReadExt + AsyncWriteExt + Unpin) -> bool {
    let probe = async {
        s.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).await?;
        Ok::<bool, io::Error>(&buf == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(250), probe).await,
        Ok(Ok(true))
    )
}

fn spawn_error(binary: &OsStr, e: io::Error) -> Error {
    if e.kind() != io::ErrorKind::NotFound {
        return Error::infra(format!("cannot start {}: {e}", binary.to_string_lossy()));
    }
    let named = std::env::var_os("BLACKFRIDAY_REDIS_SERVER").is_some();
    let what = if named {
        format!(
            "BLACKFRIDAY_REDIS_SERVER names '{}', which does not exist",
            binary.to_string_lossy()
        )
    } else {
        "redis-server was not found on PATH (set BLACKFRIDAY_REDIS_SERVER to its path if it is installed elsewhere)"
            .to_string()
    };
    Error::infra(format!(
        "{what}.\n\
         fix: install it:\n  \
           Debian/Ubuntu:  sudo apt-get install redis-server\n  \
           macOS:          brew install redis\n\
         or run Redis in Docker from this repository:\n  \
           docker compose up -d\n  \
           blackfriday run --redis redis://127.0.0.1:6379"
    ))
}

/// The binary to start: `BLACKFRIDAY_REDIS_SERVER` or `redis-server` on PATH.
pub fn default_binary() -> OsString {
    std::env::var_os("BLACKFRIDAY_REDIS_SERVER").unwrap_or_else(|| "redis-server".into())
}

#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}
