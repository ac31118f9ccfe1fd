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
        exit_now();
    });
    if stop_requested().await {
        exit_now();
    }
}

/// Ctrl-C pressed where no signal is raised: the `--live` view holds the
/// terminal in raw mode, which turns it into a key.
static ASKED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// What a Ctrl-C key does: the same as the signal.
pub fn request_stop() {
    ASKED.notify_one();
}

/// Exit now, giving the terminal back first if the live view holds it.
fn exit_now() -> ! {
    crate::report::live::restore();
    std::process::exit(130);
}

/// Ctrl-C, or SIGTERM (what CI runners and `timeout` send), or the live
/// view's Ctrl-C key: stop gracefully.
async fn stop_requested() -> bool {
    tokio::select! {
        s = signalled() => s,
        () = ASKED.notified() => true,
    }
}

async fn signalled() -> bool {
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
