//! The redis-server process itself: how it is started (and made to die with
//! blackfriday), and raw commands sent to it without a client.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use super::{io_err, Failed};
use crate::error::Error;
use crate::fault::Fsync;

/// Where a server process listens and keeps its files.
pub(super) struct Place<'a> {
    pub port: u16,
    pub socket: Option<&'a Path>,
    pub dir: &'a Path,
    pub log: &'a Path,
    /// A cluster node: its bus port (Redis 7's `cluster-port`).
    pub cluster_port: Option<u16>,
}

/// Start the server process; the log is appended to, so a restart keeps
/// the story of the previous run.
pub(super) fn spawn(binary: &OsStr, at: &Place<'_>, fsync: Option<Fsync>) -> Result<Child, Failed> {
    let out = File::options()
        .create(true)
        .append(true)
        .open(at.log)
        .map_err(|e| io_err("cannot create the redis-server log", e))?;
    let err = out
        .try_clone()
        .map_err(|e| io_err("cannot create the redis-server log", e))?;
    let mut cmd = Command::new(binary);
    cmd.arg("--port").arg(at.port.to_string()).args([
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--daemonize",
        "no",
    ]);
    match fsync {
        Some(policy) => cmd.args(["--appendonly", "yes", "--appendfsync", policy.name()]),
        None => cmd.args(["--appendonly", "no"]),
    };
    if let Some(bus) = at.cluster_port {
        // The node's own file in its own directory; the bus on a port
        // probed free like the client port (port + 10000 may not be).
        cmd.args([
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ])
        .arg("--cluster-port")
        .arg(bus.to_string())
        .args(["--cluster-node-timeout", "5000"]);
    }
    if let Some(path) = at.socket {
        // Owner only: no other local user may write to the sale.
        cmd.arg("--unixsocket")
            .arg(path)
            .args(["--unixsocketperm", "700"]);
    }
    cmd.arg("--dir")
        .arg(at.dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    die_with_parent(&mut cmd);
    cmd.spawn()
        .map_err(|e| Failed::Other(spawn_error(binary, e)))
}

pub(super) fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Send one raw command on a fresh connection (the socket when there is
/// one) and read up to `want` bytes of the reply.
pub(super) async fn exchange(
    port: u16,
    socket: Option<&Path>,
    command: &[u8],
    want: usize,
) -> io::Result<Vec<u8>> {
    async fn talk(
        mut s: impl AsyncReadExt + AsyncWriteExt + Unpin,
        command: &[u8],
        want: usize,
    ) -> io::Result<Vec<u8>> {
        s.write_all(command).await?;
        let mut buf = vec![0u8; want];
        let mut got = 0;
        while got < want {
            let n = s.read(&mut buf[got..]).await?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(got);
        Ok(buf)
    }
    match socket {
        Some(path) => talk(UnixStream::connect(path).await?, command, want).await,
        None => {
            talk(
                TcpStream::connect(("127.0.0.1", port)).await?,
                command,
                want,
            )
            .await
        }
    }
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
