//! What stops a run early: the server going silent, or the user asking.

use std::time::Duration;

use fred::prelude::*;
use tokio_util::sync::CancellationToken;

/// Ping the server twice a second on the admin connection; three misses in
/// a row mean it is gone, and the run stops instead of letting every buyer
/// in flight wait out its own timeout (for hours, with thousands queued).
pub(super) async fn watchdog(admin: Client, abort: CancellationToken) {
    let quick = Options {
        timeout: Some(Duration::from_secs(1)),
        ..Options::default()
    };
    let mut misses = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let pong: Result<String, _> = admin
            .with_options(&quick)
            .custom(fred::cmd!("PING"), Vec::<String>::new())
            .await;
        misses = if pong.is_ok() { 0 } else { misses + 1 };
        if misses >= 3 {
            abort.cancel();
            return;
        }
    }
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
