//! Files a run reads or writes, checked before any Redis work: the user's
//! checkout script, the report files, and the terminal `--live` draws on.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use super::{ScriptSource, Settings};
use crate::error::{Error, Result};
use crate::report::export::{self, Format, Identity, Output, Outputs, Target};
use crate::strategy::StrategyKind;

/// The user's checkout script, read now so a bad path fails before Redis.
pub(super) fn load_script(
    strategies: &[StrategyKind],
    source: Option<&ScriptSource>,
) -> Result<Option<Arc<str>>> {
    if !strategies.contains(&StrategyKind::Script) {
        return Ok(None);
    }
    let (path, name) =
        match source {
            None => return Err(Error::usage(
                "the `script` strategy needs --script FILE (or `script = \"...\"` in the scenario)",
            )),
            Some(ScriptSource::Shipped { text }) => return Ok(Some((*text).into())),
            Some(ScriptSource::File { path, name }) => (path, name),
        };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("{name}: cannot read {}: {e}", path.display())))?;
    if text.trim().is_empty() {
        return Err(Error::usage(format!("{name}: {} is empty", path.display())));
    }
    Ok(Some(text.into()))
}

/// `--json`, `--junit`, `--markdown`, `--csv`, `--hdr`, `--html` and
/// `GITHUB_STEP_SUMMARY`, each checked writable now so a bad path fails
/// before any Redis work.
pub(super) fn outputs<const N: usize>(asked: [(Format, Option<PathBuf>); N]) -> Result<Outputs> {
    let wants_markdown = asked
        .iter()
        .any(|(f, p)| *f == Format::Markdown && p.is_some());
    let mut outputs: Vec<Output> = Vec::new();
    let mut seen: Vec<(Identity, Format)> = Vec::new();
    for (format, path) in asked {
        let Some(path) = path else { continue };
        let shown = path.display().to_string();
        // Resolved before comparing: two names for one file (a symlink,
        // `./x` and `x`) are one destination.
        let (target, identity) = match format {
            Format::Hdr => export::hdr_target(format.flag(), path)?,
            _ => Target::resolve(format.flag(), path)?,
        };
        if let Some((_, other)) = seen.iter().find(|(id, _)| *id == identity) {
            return Err(Error::usage(format!(
                "{} {shown}: {} already writes there; give each report its own destination",
                format.flag(),
                other.flag()
            )));
        }
        seen.push((identity, format));
        outputs.push(Output { format, target });
    }
    let step_summary = match std::env::var_os("GITHUB_STEP_SUMMARY") {
        Some(p) if !p.is_empty() && wants_markdown => Some(PathBuf::from(p)),
        _ => None,
    };
    if let Some(path) = &step_summary {
        export::check_appendable(path)?;
    }
    Ok(Outputs {
        outputs,
        step_summary,
    })
}

/// `--live` takes the terminal on stdout for the whole run: refused where
/// there is none, or where stdout must carry a report, or where several
/// runs would each want the screen.
pub(super) fn live(v: &Settings, outputs: &Outputs) -> Result<bool> {
    if !v.live {
        return Ok(false);
    }
    if outputs.uses_stdout() {
        return Err(Error::usage(
            "--live draws on the terminal, and a report asked for stdout (`-`): \
             write the report to a file, or drop --live",
        ));
    }
    if v.repeat > 1 {
        return Err(Error::usage(
            "--live shows one run; --repeat runs several: drop one of them",
        ));
    }
    if !std::io::stdout().is_terminal() {
        return Err(Error::usage(
            "--live needs a terminal on stdout, and stdout is a pipe or a file: \
             run it in a terminal, or drop --live",
        ));
    }
    Ok(true)
}

/// `--history`: checked writable now, like the report files. It is written
/// as the run goes, so it needs a file (or a FIFO), not stdout, which holds
/// the tables.
pub(super) fn history(path: Option<&std::path::Path>) -> Result<Option<PathBuf>> {
    let Some(path) = path else {
        return Ok(None);
    };
    match Target::resolve("--history", path.to_path_buf())? {
        (Target::Stdout, _) => Err(Error::usage(
            "--history -: the history is written during the run and needs a file\nfix: \
             --history history.jsonl",
        )),
        (Target::File(p) | Target::Stream(p), _) => Ok(Some(p)),
    }
}
