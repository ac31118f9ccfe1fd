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
pub mod check;
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
pub mod sweep;

use std::io::Write;
use std::ops::ControlFlow;

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
        Command::Sweep(args) => commands::sweep::sweep(args).await,
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
    let configs = RunConfig::repetitions(args)?;
    let config = &configs[0];
    let view = View::detect(config.color, config.details, config.outputs.uses_stdout());
    let mut runs = Vec::with_capacity(configs.len());
    for c in &configs {
        match run_once(c, &view).await {
            ControlFlow::Continue(report) => runs.push(report),
            ControlFlow::Break(status) => return status,
        }
    }
    // `--repeat`: the repetition that decides, keeping them all.
    let mut report = match runs.len() {
        1 => runs.remove(0),
        _ => findings::repeat::combine(runs),
    };
    match &config.baseline {
        Some(baseline) => {
            let results = baseline.compare(&report, config.max_regression, &config.regressions);
            report.thresholds.extend(results);
        }
        None if !config.regressions.is_empty() => eprintln!(
            "warning: the scenario's [[threshold]] max_regression limits compare \
             against --baseline PREVIOUS.json, which was not given: not compared"
        ),
        None => {}
    }
    let to_stdout = config.outputs.write_final(&report)?;
    finish(config, &view, &report, &to_stdout);
    probe::exiting();
    Ok(report.status())
}

/// One run of `config`: its report, or the exit status of a run that
/// stopped (its last report already written).
async fn run_once(config: &RunConfig, view: &View) -> ControlFlow<Result<ExitStatus>, Report> {
    let outputs = &config.outputs;
    let mut session = match session::Session::open(config).await {
        Ok(session) => session,
        // Nothing ran, and the report files say so rather than keep what an
        // earlier run left there.
        Err(e) => {
            let report = session::not_opened(config, &e);
            return ControlFlow::Break(Err(last_word(config, view, &report, e)));
        }
    };
    // What is about to happen, before the first buyer is released.
    print(config, &table::header(session.meta(), view));
    let mut write_files = |partial: &Report| outputs.write_files(partial);
    let progress = Progress::new(config.progress);
    let screen = config.live.then(|| {
        let (feed, screen) = report::live::start(session::request_stop);
        session.watch_live(feed);
        screen
    });
    let ran = session.run(config, progress, &mut write_files).await;
    // The summary prints once the view has given the terminal back (`q`).
    if let Some(screen) = screen {
        let _ = tokio::task::spawn_blocking(|| report::live::wait(screen)).await;
    }
    match ran {
        Ok(report) => ControlFlow::Continue(report),
        Err(stopped) => {
            let session::Stopped { report, error } = *stopped;
            let status = report.status();
            let error = last_word(config, view, &report, error);
            if status == error.status() {
                return ControlFlow::Break(Err(error));
            }
            // A second signal: the error explains, the status is 130.
            eprintln!("error: {}", redis::redact(&error.to_string()));
            ControlFlow::Break(Ok(status))
        }
    }
}

/// Text for the terminal: on stderr when a report takes stdout. A closed
/// stdout (piped into `head`) is not worth a panic.
fn print(config: &RunConfig, text: &str) {
    let _ = if config.outputs.uses_stdout() {
        std::io::stderr().lock().write_all(text.as_bytes())
    } else {
        std::io::stdout().lock().write_all(text.as_bytes())
    };
}

/// The tables, the report bound for stdout after them, and the CI
/// annotations.
fn finish(config: &RunConfig, view: &View, report: &Report, to_stdout: &[u8]) {
    print(config, &table::render(report, view));
    if config.outputs.uses_stdout() {
        let _ = std::io::stdout().lock().write_all(to_stdout);
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let _ = std::io::stderr()
            .lock()
            .write_all(report::github_annotations(report).as_bytes());
    }
}

/// A run that ends in `error`: write the last version of every report
/// (with the real exit status and the message), show what ran, and hand
/// the error back. A report that cannot be written is said on stderr; the
/// run's own error stays the one that decides the exit status.
fn last_word(config: &RunConfig, view: &View, report: &Report, error: Error) -> Error {
    match config.outputs.write_final(report) {
        Ok(to_stdout) if !report.strategies.is_empty() => finish(config, view, report, &to_stdout),
        Ok(to_stdout) => {
            let _ = std::io::stdout().lock().write_all(&to_stdout);
        }
        Err(e) => eprintln!("error: {}", redis::redact(&e.to_string())),
    }
    error
}

/// Run a resolved configuration without printing or writing files: the
/// entry point for tests.
pub async fn run(config: &RunConfig) -> Result<Report> {
    session::Session::open(config)
        .await?
        .run(config, Progress::hidden(), &mut |_| Ok(()))
        .await
        .map_err(|stopped| stopped.error)
}
