//! `blackfriday sweep`: run every point in turn, each a full run through
//! the same session as `run`, collect its findings into the sweep, and
//! rewrite the sweep's files after every point.

use std::io::Write;

use crate::cli::SweepArgs;
use crate::config::{SweepConfig, SweepPoint};
use crate::error::{ExitStatus, Result};
use crate::redis::redact;
use crate::report::{sweep as show, Progress, View};
use crate::session::{Session, Stopped};
use crate::sweep::Sweep;

pub async fn sweep(args: SweepArgs) -> Result<ExitStatus> {
    let plan = SweepConfig::from_args(args)?;
    let first = &plan.points[0].config;
    let values = plan.points.iter().map(|p| p.value).collect();
    let mut sweep = Sweep::new(plan.param, plan.log, values, first.strategies.clone());
    let view = View::detect(plan.color, false, plan.outputs.uses_stdout());
    let say = |text: &str| {
        if !plan.quiet {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    };
    say(&show::header(&sweep, first.seed, &view));
    for (i, point) in plan.points.iter().enumerate() {
        say(&show::point_start(&sweep, i, &view));
        if let Err(e) = run_point(&mut sweep, point).await {
            let message = redact(&e.to_string());
            eprintln!("error: {message}");
            sweep.stopped = Some((e.status(), message));
            return Ok(finish(&plan, &view, &sweep));
        }
        say(&show::point_done(&sweep, &view));
        // Between points: a sweep that dies later still leaves these.
        if let Err(e) = show::write_files(&plan.outputs, &sweep) {
            eprintln!("error: {}", redact(&e.to_string()));
        }
        if sweep.points.last().map(|p| p.status) == Some(ExitStatus::Interrupted) {
            return Ok(finish(&plan, &view, &sweep));
        }
    }
    sweep.finished = true;
    Ok(finish(&plan, &view, &sweep))
}

/// One point, through the same session as `run`; an error that stopped
/// it comes back after what ran is in the sweep.
async fn run_point(sweep: &mut Sweep, point: &SweepPoint) -> Result<()> {
    let config = &point.config;
    let session = Session::open(config).await?;
    let progress = Progress::new(config.progress);
    match session.run(config, progress, &mut |_| Ok(())).await {
        Ok(report) => {
            sweep.push(point.value, &report);
            Ok(())
        }
        Err(stopped) => {
            let Stopped { report, error } = *stopped;
            if !report.strategies.is_empty() {
                sweep.push(point.value, &report);
            }
            Err(error)
        }
    }
}

/// The last version of every file, then the table and the verdict; the
/// report bound for stdout (`--json -`) last.
fn finish(plan: &SweepConfig, view: &View, sweep: &Sweep) -> ExitStatus {
    let mut status = sweep.status();
    let to_stdout = match show::write_final(&plan.outputs, sweep) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: {}", redact(&e.to_string()));
            status = e.status();
            Vec::new()
        }
    };
    let text = show::render(sweep, view);
    let _ = if plan.outputs.uses_stdout() {
        std::io::stderr().lock().write_all(text.as_bytes())
    } else {
        std::io::stdout().lock().write_all(text.as_bytes())
    };
    let _ = std::io::stdout().lock().write_all(&to_stdout);
    status
}
