//! What stops a run early: the server going silent, or the user asking.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::redis::liveness::Probe;

/// Watch the server on a connection of its own (see `redis::liveness`): when
/// it dies, or a script sticks past the busy threshold, `abort` is cancelled
/// at once, so the run stops instead of letting every buyer in flight wait
/// out its own timeout, and the task ends with the error to report.
pub(super) async fn watchdog(probe: Probe, abort: CancellationToken) -> Error {
    probe.watch(abort).await
}

/// What a report says of a run a signal stopped.
pub(super) const INTERRUPTED: &str =
    "interrupted by a signal (Ctrl-C or SIGTERM): buyers still retrying stopped and count as \
     gave up; the checks describe what ran";

/// A run stopped by a second signal that still has not exited after this
/// long (a report destination that blocks, a server that never answers)
/// exits anyway: the user asked twice.
const LAST_RESORT: Duration = Duration::from_secs(5);

/// The first signal cancels `graceful` (stop releasing buyers, audit what
/// ran); the second cancels `now` (stop at once, write the reports). A
/// third, or a hard stop that overruns [`LAST_RESORT`], exits 130.
pub(super) async fn two_stages(graceful: CancellationToken, now: CancellationToken) {
    if !stop_requested().await {
        return;
    }
    graceful.cancel();
    if !stop_requested().await {
        return;
    }
    now.cancel();
    // A plain thread: the runtime may be too busy, or gone, to run a timer.
    std::thread::spawn(|| {
        std::thread::sleep(LAST_RESORT);
        std::process::exit(130);
    });
    if stop_requested().await {
        std::process::exit(130);
    }
}

/// Ctrl-C, or SIGTERM (what CI runners and `timeout` send): stop gracefully.
async fn stop_requested() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            c = tokio::signal::ctrl_c() => c.is_ok(),
            t = term.recv() => t.is_some(),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}
