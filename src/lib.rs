//! blackfriday: recreate a flash-sale stampede against a real Redis and prove,
//! with numbers read back from the server, whether a purchase strategy
//! oversells, undersells or loses orders, and how fast it is.
//!
//! Layout: `cli` (flags) is resolved into `config` before any work starts.
//! `session` gets a Redis (`redis`: URL or a managed redis-server) and runs each
//! strategy (`strategy`) through the one driver (`load`) on the same seeded
//! `crowd`, recording `metrics`. The `audit` reads the truth back from Redis,
//! the `gate` decides pass or fail and builds the finished result as data
//! (`findings`), and `report` only formats it.

pub mod audit;
pub mod bench;
pub mod clean;
pub mod cli;
mod commands;
pub mod config;
pub mod cpu;
pub mod crowd;
pub mod error;
pub mod fault;
pub mod findings;
pub mod gate;
pub mod load;
pub mod metrics;
pub mod outcome;
pub mod probe;
pub mod redis;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod session;
pub mod strategy;

use std::io::Write;

pub use config::RunConfig;
pub use error::{Error, ExitStatus, Result};
pub use findings::Report;

use cli::{Cli, Command};
use report::{table, Progress, View};

/// Run a parsed command line to its exit status, printing as it goes.
///
/// Report files are rewritten from the session after every strategy. The
/// tables go to stdout, or to stderr when a report was asked for on stdout
/// (`--json -`), so that stdout holds nothing but the report.
pub async fn execute(cli: Cli) -> Result<ExitStatus> {
    match cli.command {
        Command::Run(args) => run_and_print(args).await,
        Command::Check { files } => Ok(commands::check(&files)),
        Command::Scenarios => Ok(commands::scenarios()),
        Command::Clean(args) => clean::clean(args).await,
        Command::Completions { shell } => Ok(commands::completions(shell)),
        Command::Man => commands::man(),
        Command::Bench(args) => {
            bench::run(&bench::BenchOptions {
                requests: args.requests,
                redis_benchmark: args.redis_benchmark,
                startup_runs: u32::try_from(args.startup_runs).unwrap_or(u32::MAX),
                markdown: args.markdown,
            })
            .await
        }
    }
}

async fn run_and_print(args: cli::RunArgs) -> Result<ExitStatus> {
    let config = RunConfig::from_args(args)?;
    let outputs = &config.outputs;
    let on_stderr = outputs.uses_stdout();
    let view = View::detect(config.color, config.details, on_stderr);
    // A closed stdout (piped into `head`) is not worth a panic.
    let print = |text: &str| {
        let _ = if on_stderr {
            std::io::stderr().lock().write_all(text.as_bytes())
        } else {
            std::io::stdout().lock().write_all(text.as_bytes())
        };
    };
    let session = session::Session::open(&config).await?;
    // What is about to happen, before the first buyer is released.
    print(&table::header(session.meta(), &view));
    let mut write_files = |partial: &Report| outputs.write_files(partial);
    let report = session
        .run(&config, Progress::new(config.progress), &mut write_files)
        .await?;
    let to_stdout = outputs.write_final(&report)?;
    print(&table::render(&report, &view));
    if on_stderr {
        let _ = std::io::stdout().lock().write_all(&to_stdout);
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let _ = std::io::stderr()
            .lock()
            .write_all(report::github_annotations(&report).as_bytes());
    }
    probe::exiting();
    Ok(report.status())
}

/// Run a resolved configuration without printing or writing files: the
/// entry point for tests.
pub async fn run(config: &RunConfig) -> Result<Report> {
    session::Session::open(config)
        .await?
        .run(config, Progress::hidden(), &mut |_| Ok(()))
        .await
}
