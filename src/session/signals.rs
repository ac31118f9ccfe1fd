//! What stops a run early: the server going silent, or the user asking.

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

/// Ctrl-C, or SIGTERM (what CI runners and `timeout` send): stop gracefully.
pub(super) async fn stop_requested() -> bool {
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
