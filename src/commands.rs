//! The commands that do not run a sale: `check`, `scenarios`, `completions`
//! and `man`; and `sweep`, which runs many.

pub mod sweep;

use std::path::PathBuf;

use crate::cli::RunArgs;
use crate::config::RunConfig;
use crate::error::ExitStatus;
use crate::scenario::{Scenario, SHIPPED};

/// Validate scenario files without touching Redis: parse each one and
/// resolve it exactly as `run --scenario` would, so cross-field mistakes are
/// caught too. One line per file; exit 0 when all are valid, 2 otherwise.
pub fn check(files: &[PathBuf]) -> ExitStatus {
    if files.is_empty() {
        eprintln!(
            "error: check needs at least one FILE (a scenario file or a shipped scenario name); \
             see blackfriday check --help"
        );
        return ExitStatus::Usage;
    }
    let mut status = ExitStatus::Held;
    for file in files {
        match resolve(file) {
            Ok(name) => println!("{}: ok ({name})", file.display()),
            Err(e) => {
                // Every problem on its own line, so a CI log lists them all.
                for line in e.to_string().lines() {
                    println!("{}", crate::redis::redact(line));
                }
                status = ExitStatus::Usage;
            }
        }
    }
    status
}

fn resolve(file: &std::path::Path) -> crate::Result<String> {
    let scenario = Scenario::load(file)?;
    // Resolve with no flags at all (not even REDIS_URL): the file alone
    // must make a valid run.
    RunConfig::resolve(RunArgs::default(), Some(&scenario))?;
    Ok(scenario.name)
}

/// List the shipped scenarios, usable by name with `run --scenario NAME`.
pub fn scenarios() -> ExitStatus {
    for (name, text) in SHIPPED {
        let description = Scenario::parse(text, std::path::Path::new(name))
            .map(|s| s.description)
            .unwrap_or_else(|e| format!("(invalid: {e})"));
        println!("{name:<16} {description}");
    }
    println!("\nRun one with: blackfriday run --scenario NAME (flags given on the command line override it)");
    ExitStatus::Held
}

/// `completions SHELL`: the script on stdout, for the install lines in the
/// README.
pub fn completions(shell: clap_complete::Shell) -> ExitStatus {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    // Into memory first: clap_complete panics on a closed stdout (`| head`).
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "blackfriday", &mut out);
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &out);
    ExitStatus::Held
}

/// `man`: the roff page on stdout (`blackfriday man > blackfriday.1`).
pub fn man() -> crate::Result<ExitStatus> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_mangen::Man::new(crate::cli::Cli::command())
        .render(&mut out)
        .map_err(|e| crate::Error::infra(format!("man: cannot render the page: {e}")))?;
    // A closed stdout (piped into `head`) is not worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &out);
    Ok(ExitStatus::Held)
}
