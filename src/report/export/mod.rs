//! Machine-readable reports: one [`Exporter`] per format, and the plumbing
//! that puts their bytes in files (atomically), streams or on stdout
//! (`dest` decides which).
//!
//! A new format is one file here (its `Exporter`), its arm in [`Format`],
//! and the flag that asks for it in config.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub mod csv;
pub mod hdr;
pub mod html;
pub use dest::{write_atomic, Identity};

pub mod dest;
pub mod history;
pub mod json;
pub mod junit;
pub mod markdown;

use csv::Csv;
use html::Html;
use json::Json;
use junit::Junit;
use markdown::Markdown;

use crate::error::{Error, Result};
use crate::findings::Report;

/// Turns a finished (or partial) report into the bytes of one format.
pub trait Exporter {
    fn render(&self, report: &Report) -> io::Result<Vec<u8>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Junit,
    Markdown,
    Csv,
    /// A directory of `.hgrm` files; on stdout, all of them in turn.
    Hdr,
    Html,
}

impl Format {
    /// The flag that asks for this format: every message about a report
    /// file names it.
    pub fn flag(self) -> &'static str {
        match self {
            Format::Json => "--json",
            Format::Junit => "--junit",
            Format::Markdown => "--markdown",
            Format::Csv => "--csv",
            Format::Hdr => "--hdr",
            Format::Html => "--html",
        }
    }

    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Json => Box::new(Json),
            Format::Junit => Box::new(Junit::default()),
            Format::Markdown => Box::new(Markdown),
            Format::Csv => Box::new(Csv),
            Format::Hdr => Box::new(hdr::Concatenated),
            Format::Html => Box::new(Html),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `-`: written once, when the run is over.
    Stdout,
    /// A regular file, or a path with nothing there yet: rewritten after
    /// every strategy, atomically. The path is the resolved one, so the
    /// rename replaces the file the user meant, not a symlink to it.
    File(PathBuf),
    /// A device, FIFO, socket or `/dev/fd/N`: written through once, with
    /// the final report.
    Stream(PathBuf),
}

impl Target {
    /// Resolve a report flag's path; the error names the flag.
    pub fn resolve(flag: &str, path: PathBuf) -> Result<(Target, Identity)> {
        dest::resolve(&path).map_err(|e| cannot_write(flag, &path, e))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Stdout => f.write_str("-"),
            Target::File(path) | Target::Stream(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub target: Target,
}

/// Every report a run was asked to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    pub outputs: Vec<Output>,
    /// `GITHUB_STEP_SUMMARY`: the Markdown is appended to it once, at the end,
    /// since appending each snapshot would repeat the tables.
    pub step_summary: Option<PathBuf>,
}

impl Outputs {
    /// Whether a report takes stdout, in which case the tables go to stderr.
    pub fn uses_stdout(&self) -> bool {
        self.outputs.iter().any(|o| o.target == Target::Stdout)
    }

    /// Rewrite every report file with the report so far (streams take
    /// only the final report: a reader expects one document).
    pub fn write_files(&self, report: &Report) -> Result<()> {
        self.write_where(report, |t| matches!(t, Target::File(_)))
    }

    fn write_where(&self, report: &Report, which: impl Fn(&Target) -> bool) -> Result<()> {
        for o in self.outputs.iter().filter(|o| which(&o.target)) {
            let path = Path::new("-");
            let path = match &o.target {
                Target::File(p) | Target::Stream(p) => p,
                Target::Stdout => path,
            };
            if let (Format::Hdr, Target::File(dir)) = (o.format, &o.target) {
                hdr::write_dir(report, dir).map_err(|e| cannot_write("--hdr", dir, e))?;
                continue;
            }
            let bytes = render(o.format, report, path)?;
            dest::write(&o.target, &bytes).map_err(|e| cannot_write(o.format.flag(), path, e))?;
        }
        Ok(())
    }

    /// The final report: files and streams, then the step summary. Reports
    /// bound for stdout are returned, for the caller to print after the
    /// tables.
    pub fn write_final(&self, report: &Report) -> Result<Vec<u8>> {
        self.write_where(report, |t| !matches!(t, Target::Stdout))?;
        // Configuration lets at most one report take stdout.
        let stdout = match self.outputs.iter().find(|o| o.target == Target::Stdout) {
            Some(o) => render(o.format, report, Path::new("-"))?,
            None => Vec::new(),
        };
        if let Some(path) = &self.step_summary {
            let mut bytes = render(Format::Markdown, report, path)?;
            // A blank line keeps the next step's summary out of this one's verdict.
            bytes.push(b'\n');
            append(path, &bytes).map_err(|e| cannot_write("GITHUB_STEP_SUMMARY", path, e))?;
        }
        Ok(stdout)
    }
}

fn render(format: Format, report: &Report, path: &Path) -> Result<Vec<u8>> {
    format
        .exporter()
        .render(report)
        .map_err(|e| Error::usage(format!("{} {}: {e}", format.flag(), path.display())))
}

fn cannot_write(what: &str, path: &Path, e: io::Error) -> Error {
    Error::usage(format!(
        "{what} {}: cannot write the report there: {e}",
        path.display()
    ))
}

fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(bytes)
}

/// `--hdr DIR`: created when missing (like `mkdir -p`), and it must take
/// new files.
pub fn check_dir(flag: &str, dir: &Path) -> Result<()> {
    let fail = |e: io::Error| cannot_write(flag, dir, e);
    if dir.exists() && !dir.is_dir() {
        return Err(fail(io::Error::other("it is a file; give a directory")));
    }
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = tempfile::Builder::new()
        .prefix(".blackfriday-probe-")
        .tempfile_in(dir)
        .map_err(fail)?;
    drop(probe);
    Ok(())
}

/// `--hdr DIR` as a destination: the directory (created now), compared
/// with the others by what it resolves to.
pub fn hdr_target(flag: &str, path: PathBuf) -> Result<(Target, Identity)> {
    if path.as_os_str() == "-" {
        return Ok((Target::Stdout, Identity::Stdout));
    }
    check_dir(flag, &path)?;
    let real = std::fs::canonicalize(&path).map_err(|e| cannot_write(flag, &path, e))?;
    Ok((Target::File(path), Identity::Path(real)))
}
/// The step summary is appended to, never replaced: check it opens so.
pub fn check_appendable(path: &Path) -> Result<()> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(drop)
        .map_err(|e| cannot_write("GITHUB_STEP_SUMMARY", path, e))
}
