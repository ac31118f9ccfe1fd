//! Before any key is written: may the connecting ACL user run every command
//! the chosen strategies need, on the run's keys? A missing permission then
//! stops the run with nothing written, naming the user, the commands and the
//! grant that fixes it, instead of surfacing half-way through as errors (or
//! as a strategy that "failed its expectation").
//!
//! Redis 7 answers with `ACL DRYRUN`, which runs nothing. When that is not
//! available (Redis 6) or the user may not run it, each command is tried
//! for real on a scratch key inside the run's namespace, and the key is
//! deleted afterwards: only a NOPERM reply counts as a refusal.

use fred::prelude::*;

use super::blame::{self, KEY_PATTERN};
use crate::error::Error;

/// What the session and the audit send for every strategy: seeding, audit,
/// cleanup, liveness. Each strategy's own commands are in its `Facts`
/// (`strategy::Commands`): its own file declares what it sends.
pub const COMMON: &[&str] = &[
    "PING", "INFO", "SET", "GET", "HSET", "HGET", "EXPIRE", "EXISTS", "LRANGE", "SCAN", "UNLINK",
];

/// Check that `user` may run each of `commands` (`SCRIPT|LOAD` form for a
/// subcommand) on `sample_key`, a scratch key inside the run's namespace
/// that the run itself never uses. Err names the user, what is missing and
/// the ACL grant that fixes it.
pub async fn preflight(
    admin: &Client,
    user: &str,
    commands: &[&str],
    sample_key: &str,
) -> Result<(), Error> {
    let denied = match dry_run(admin, user, commands, sample_key).await {
        Some(denied) => denied,
        None => probe(admin, commands, sample_key).await?,
    };
    if denied.is_empty() {
        return Ok(());
    }
    let keys = denied.iter().any(Option::is_none);
    let missing: Vec<String> = denied.into_iter().flatten().collect();
    let mut what: Vec<String> = missing.iter().map(|c| c.to_uppercase()).collect();
    if keys {
        what.push(format!("keys matching {KEY_PATTERN}"));
    }
    Err(Error::infra(format!(
        "ACL user '{user}' may not run what this run needs: {}; nothing was written\n\
         fix: grant it, e.g. {}",
        what.join(", "),
        blame::grant(user, &missing)
    )))
}

/// `ACL DRYRUN` for each command: Some(refusals), or None when DRYRUN
/// itself is not available to this user or server. A refusal is the
/// command's name, or None for a key the user may not touch.
async fn dry_run(
    admin: &Client,
    user: &str,
    commands: &[&str],
    key: &str,
) -> Option<Vec<Option<String>>> {
    let mut denied = Vec::new();
    for &command in commands {
        let mut args = vec!["DRYRUN".to_string(), user.to_string()];
        args.extend(command.split('|').map(str::to_string));
        args.extend(probe_args(command, key));
        let verdict: String = admin.custom(fred::cmd!("ACL"), args).await.ok()?;
        if verdict != "OK" {
            denied.push(blame::denied_command(&verdict).map(|_| command.to_lowercase()));
        }
    }
    Some(denied)
}

/// Try each command for real on a dedicated connection and the scratch key,
/// then delete the key. Only NOPERM counts: any other error (NOSCRIPT,
/// WRONGTYPE, "EXEC without MULTI") means the ACL let the command through.
async fn probe(admin: &Client, commands: &[&str], key: &str) -> Result<Vec<Option<String>>, Error> {
    let conn = admin.clone_new();
    conn.init()
        .await
        .map_err(|e| Error::infra(format!("preflight: cannot open a connection: {e}")))?;
    let mut denied = Vec::new();
    for &command in commands {
        let mut parts = command.split('|');
        let name = parts.next().unwrap_or(command).to_string();
        let mut args: Vec<String> = parts.map(str::to_string).collect();
        args.extend(probe_args(command, key));
        let reply: Result<fred::types::Value, _> = conn
            .custom(
                fred::types::CustomCommand::new(name, fred::types::ClusterHash::FirstKey, false),
                args,
            )
            .await;
        // Leave no transaction or watch open on the connection.
        if command == "MULTI" && reply.is_ok() {
            let _: Result<fred::types::Value, _> = conn
                .custom(fred::cmd!("DISCARD"), Vec::<String>::new())
                .await;
        }
        if let Err(e) = reply {
            if let blame::Blame::Permission { command: c } = blame::classify(&e) {
                denied.push(c.map(|_| command.to_lowercase()));
            }
        }
    }
    let _: Result<fred::types::Value, _> = conn
        .custom(fred::cmd!("UNWATCH"), Vec::<String>::new())
        .await;
    let _: Result<u64, _> = admin.del(key).await;
    let _ = conn.quit().await;
    Ok(denied)
}

/// Harmless arguments that let each command reach the ACL check with
/// `key` as its key: no probe loads a script or a library, or touches a
/// key other than `key`.
fn probe_args(command: &str, key: &str) -> Vec<String> {
    let k = key.to_string();
    let v = |xs: &[&str]| -> Vec<String> {
        std::iter::once(k.clone())
            .chain(xs.iter().map(|s| s.to_string()))
            .collect()
    };
    match command {
        "MGET" => v(&[key]),
        "SET" | "RPUSH" | "LPUSH" | "DECRBY" | "INCRBY" => v(&["0"]),
        "EXPIRE" => v(&["86400"]),
        "HSET" => v(&["f", "0"]),
        "HGET" | "HDEL" => v(&["f"]),
        "LRANGE" | "ZRANGEBYSCORE" => v(&["0", "0"]),
        "ZADD" => v(&["0", "m"]),
        "ZREM" | "ZSCORE" => v(&["m"]),
        "EVALSHA" => vec!["0".repeat(40), "1".into(), k],
        "FCALL" => vec!["bf_preflight_none".into(), "1".into(), k],
        "SCRIPT|LOAD" => vec!["return 0".into()],
        // Not a valid library (it registers nothing): the ACL check passes
        // or fails, and nothing is ever loaded.
        "FUNCTION|LOAD" => vec!["REPLACE".into(), "#!lua name=bf_preflight\n".into()],
        "SCAN" => ["0", "MATCH", KEY_PATTERN, "COUNT", "1"]
            .map(String::from)
            .to_vec(),
        "INFO" => vec!["server".into()],
        "MULTI" | "EXEC" | "UNWATCH" | "DISCARD" | "TIME" | "PING" => Vec::new(),
        _ => vec![k],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each strategy's list is tested with its facts (`strategy::facts`).
    #[test]
    fn probes_name_the_scratch_key() {
        assert_eq!(probe_args("EVALSHA", "k")[2], "k");
    }
}
