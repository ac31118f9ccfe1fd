//! The commands that do not run a sale: `check` and `scenarios`.

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
