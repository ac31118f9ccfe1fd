//! Where a report goes, decided once before any work: replaced atomically
//! when it is a regular file (or nothing yet), written through when it is a
//! stream (a terminal, `/dev/null`, a FIFO, a socket, `/dev/fd/N`).
//!
//! Why the distinction matters: renaming a temporary file over a path
//! replaces whatever the path named. Run as root, `--json /dev/null` would
//! swap the machine's null device for a regular file, and `--json >(jq .)`
//! would point the rename at a pipe that cannot be renamed over. A stream is
//! opened and written instead, once, with the final report, so a reader at
//! the other end sees one document.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Target;

/// What two destinations are compared by: the same object under two names
/// (a symlink, `./x` and `x`) is one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Stdout,
    Inode { dev: u64, ino: u64 },
    Path(PathBuf),
}

/// A FIFO whose reader has not opened it yet (`>(jq .)` starting up) is
/// waited for this long when the report is written, then given up on.
const READER_WAIT: Duration = Duration::from_secs(10);

/// Resolve `path` (as given to `--json` and its siblings). Errors are the
/// reason in words; the caller names the flag. Nothing is left behind,
/// whether the path is accepted or refused.
pub fn resolve(path: &Path) -> io::Result<(Target, Identity)> {
    if path.as_os_str() == "-" {
        return Ok((Target::Stdout, Identity::Stdout));
    }
    match fs::metadata(path) {
        Ok(meta) => existing(path, &meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => absent(path),
        Err(e) => Err(e),
    }
}

/// Write a whole report to a file or stream destination.
pub fn write(target: &Target, bytes: &[u8]) -> io::Result<()> {
    match target {
        Target::Stdout => io::stdout().lock().write_all(bytes),
        Target::File(path) => write_atomic(path, bytes),
        Target::Stream(path) => open_stream(path)?.write_all(bytes),
    }
}

fn existing(path: &Path, meta: &fs::Metadata) -> io::Result<(Target, Identity)> {
    let id = inode(meta);
    if meta.is_dir() {
        return Err(io::Error::other("it is a directory"));
    }
    // `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` name an open file of
    // this process: replacing what they resolve to would cut it loose.
    if meta.is_file() && !names_a_descriptor(path) {
        let real = fs::canonicalize(path)?;
        // Renaming over it needs only the directory, but an unwritable file
        // is a sign the user did not mean it to be replaced.
        OpenOptions::new().append(true).open(&real)?;
        writable_dir(dir_of(&real))?;
        return Ok((Target::File(real), id));
    }
    check_stream(path)?;
    Ok((Target::Stream(path.to_path_buf()), id))
}

fn absent(path: &Path) -> io::Result<(Target, Identity)> {
    let real_dir = fs::canonicalize(dir_of(path))?;
    if !real_dir.is_dir() {
        return Err(io::Error::other(format!(
            "{} is not a directory",
            real_dir.display()
        )));
    }
    writable_dir(&real_dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("the path names no file"))?;
    let real = real_dir.join(name);
    Ok((Target::File(real.clone()), Identity::Path(real)))
}

/// The path, or the link it is, names a file descriptor.
fn names_a_descriptor(path: &Path) -> bool {
    let is_fd = |p: &Path| {
        let p = p.to_string_lossy();
        p.starts_with("/dev/fd/") || p.starts_with("/dev/std") || p.starts_with("/proc/")
    };
    is_fd(path) || fs::read_link(path).is_ok_and(|link| is_fd(&link))
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity::Inode {
        dev: meta.dev(),
        ino: meta.ino(),
    }
}

#[cfg(not(unix))]
fn inode(_: &fs::Metadata) -> Identity {
    Identity::Path(PathBuf::new())
}

/// A device, FIFO or socket must be writable now. Asked with access(2),
/// not by opening it: opening and closing a FIFO's write end would hand its
/// reader (`>(jq .)`) an end-of-file before the report is written.
#[cfg(unix)]
fn check_stream(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("the path holds a NUL byte"))?;
    // SAFETY: a NUL-terminated path that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn check_stream(path: &Path) -> io::Result<()> {
    OpenOptions::new().write(true).open(path).map(drop)
}

/// Open a stream for writing: no create, no truncate (it is not a file).
/// A FIFO without a reader is retried for [`READER_WAIT`] rather than
/// blocking the exit forever.
#[cfg(unix)]
fn open_stream(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let deadline = Instant::now() + READER_WAIT;
    loop {
        let opened = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path);
        match opened {
            Ok(f) => {
                // Back to blocking writes: a pipe takes a large report in turns.
                // SAFETY: fcntl on a descriptor this function owns.
                unsafe {
                    let flags = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
                    libc::fcntl(f.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
                }
                return Ok(f);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                return Err(io::Error::other(format!(
                    "no reader opened the FIFO within {READER_WAIT:?}"
                )))
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(not(unix))]
fn open_stream(path: &Path) -> io::Result<fs::File> {
    OpenOptions::new().write(true).open(path)
}

/// A new file can be created in `dir`: made and removed at once, so a
/// refused path leaves nothing behind (the probe is removed explicitly,
/// and its removal checked, rather than left to a drop that ignores errors).
fn writable_dir(dir: &Path) -> io::Result<()> {
    let probe = tempfile::Builder::new()
        .prefix(".blackfriday-probe-")
        .tempfile_in(dir)?;
    probe.close()
}

/// The directory a report file lands in; a bare file name means the
/// current directory.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Write to a temporary file beside `path`, then rename it over `path`: a
/// reader (or a crash) sees the old report or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".blackfriday-").suffix(".tmp");
    // A temporary file is private by default; a report is meant to be read
    // by CI artifacts and colleagues, like any file the user creates.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir_of(path))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
