//! `blackfriday clean`: remove the namespaces of runs that died without
//! cleaning up (SIGKILL, a lost server, `--keep` forgotten), and only them.

use std::time::Duration;

use fred::interfaces::ClientLike;

use crate::cli::CleanArgs;
use crate::error::{Error, ExitStatus, Result};
use crate::redis::clean::{self, Select};
use crate::redis::{Connector, RedisUrl};

/// How old a run must be before `clean` takes it without `--run`.
const DEFAULT_AGE: Duration = Duration::from_secs(60 * 60);

pub async fn clean(args: CleanArgs) -> Result<ExitStatus> {
    let raw = args
        .redis
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::usage("clean needs --redis URL (or REDIS_URL): the server to clean")
        })?;
    let url =
        RedisUrl::parse(raw).map_err(|e| Error::usage(format!("--redis / REDIS_URL: {e}")))?;
    let select = match args.run {
        Some(id) => {
            let valid = id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return Err(Error::usage(format!(
                    "--run {id}: a run id is 8 hex digits, as in bf:0a1b2c3d:"
                )));
            }
            Select::Run(id.to_ascii_lowercase())
        }
        None => Select::OlderThan(args.older_than.unwrap_or(DEFAULT_AGE)),
    };
    let connector = Connector::new(url, Duration::from_secs(5))?;
    let admin = connector.admin().await?;
    let found = clean::find(&admin, &select)
        .await
        .map_err(|e| connector.fail("scanning for abandoned runs", e))?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut total = 0;
    for ns in &found {
        let n = clean::remove(&admin, &ns.namespace, args.dry_run)
            .await
            .map_err(|e| connector.fail("removing an abandoned run's keys", e))?;
        total += n;
        let age = ns
            .started
            .map(started_ago)
            .unwrap_or_else(|| "start not recorded".into());
        println!("{verb} {}* ({n} keys, {age})", ns.namespace.prefix());
    }
    println!(
        "{verb} {total} keys of {} abandoned namespace(s) at {}",
        found.len(),
        connector.url().masked()
    );
    let _ = admin.quit().await;
    Ok(ExitStatus::Held)
}

fn started_ago(started: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let age = Duration::from_secs(now.saturating_sub(started));
    format!("started {} ago", humantime::format_duration(age))
}
