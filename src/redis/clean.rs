//! Finding and removing abandoned run namespaces, and only them.
//!
//! A key is a candidate only when it has the exact shape the tool writes,
//! `bf:<8 hex run id>:{<strategy>}:<name>`, and its namespace is removed only
//! when that namespace's meta hash (written at seeding) exists and, for
//! `--older-than`, records a start older than the limit. Look-alike keys
//! (`bf:notarun:x`, `bf:0000000g:...`) and recent runs are never touched.
//! SCAN + UNLINK only: never KEYS, never FLUSH. On a cluster, SCAN runs on
//! every primary and UNLINK slot by slot.

use std::collections::BTreeSet;
use std::time::Duration;

use fred::prelude::*;
use futures::StreamExt;

use super::namespace::{cleanup, glob_escape, unix_now, Keys, OPEN, STARTED};
use super::Connector;

/// How long deleting a namespace after a run may take before giving up.
const CLEANUP_LIMIT: Duration = Duration::from_secs(10);

/// One strategy's namespace of one run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Namespace {
    pub run_id: String,
    pub strategy: String,
}

impl Namespace {
    /// The namespace a key belongs to, when it has the exact shape the tool
    /// writes; None for everything else.
    pub fn of_key(key: &str) -> Option<Namespace> {
        let rest = key.strip_prefix("bf:")?;
        let (run_id, rest) = rest.split_at_checked(8)?;
        if !run_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let rest = rest.strip_prefix(":{")?;
        let (tag, name) = rest.split_once("}:")?;
        // `{<strategy>:p<n>}`: one product's tag under `--spread`.
        let strategy = match tag.split_once(":p") {
            Some((strategy, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                strategy
            }
            _ => tag,
        };
        let valid = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        if strategy.is_empty() || !strategy.bytes().all(valid) || name.is_empty() {
            return None;
        }
        Some(Namespace {
            run_id: run_id.to_string(),
            strategy: strategy.to_string(),
        })
    }

    pub fn prefix(&self) -> String {
        format!("bf:{}:{{{}}}:", self.run_id, self.strategy)
    }

    /// SCAN globs of every key: the namespace's own tag, and each spread
    /// product's (`{<strategy>:p<n>}`, which no other strategy's name matches:
    /// names have no colon).
    fn patterns(&self) -> [String; 2] {
        [
            format!("{}*", glob_escape(&self.prefix())),
            format!(
                "{}*",
                glob_escape(&format!("bf:{}:{OPEN}{}:p", self.run_id, self.strategy))
            ),
        ]
    }

    fn meta(&self) -> String {
        format!("{}meta", self.prefix())
    }
}

/// Which abandoned namespaces to remove.
#[derive(Debug, Clone)]
pub enum Select {
    /// Every namespace of this run (its meta hash must exist).
    Run(String),
    /// Every namespace whose run started at least this long ago.
    OlderThan(Duration),
}

/// A namespace chosen for removal, with its run's start if recorded.
#[derive(Debug, Clone)]
pub struct Abandoned {
    pub namespace: Namespace,
    pub started: Option<u64>,
}

/// Scan the keyspace for namespaces that `select` allows removing.
pub async fn find(client: &Client, select: &Select) -> Result<Vec<Abandoned>, Error> {
    let mut seen = BTreeSet::new();
    let mut keys = super::scan_all(client, "bf:*".to_string());
    while let Some(key) = keys.next().await {
        let key = key?;
        if let Some(ns) = key.as_str().and_then(Namespace::of_key) {
            seen.insert(ns);
        }
    }
    let now = unix_now();
    let mut chosen = Vec::new();
    for namespace in seen {
        let exists: u64 = client.exists(namespace.meta()).await?;
        if exists == 0 {
            continue;
        }
        let started: Option<String> = client.hget(namespace.meta(), STARTED).await?;
        let started = started.and_then(|s| s.parse::<u64>().ok());
        let take = match select {
            Select::Run(id) => *id == namespace.run_id,
            Select::OlderThan(age) => started.is_some_and(|s| s <= now && now - s >= age.as_secs()),
        };
        if take {
            chosen.push(Abandoned { namespace, started });
        }
    }
    Ok(chosen)
}

/// Remove one namespace with SCAN + UNLINK, its meta hash last so that an
/// interrupted clean can be run again. Returns the keys removed (or, with
/// `dry_run`, that would be).
pub async fn remove(client: &Client, namespace: &Namespace, dry_run: bool) -> Result<u64, Error> {
    let meta = namespace.meta();
    let mut removed = 0;
    for pattern in namespace.patterns() {
        removed += remove_matching(client, pattern, &meta, dry_run).await?;
    }
    removed += if dry_run {
        1
    } else {
        client.unlink::<u64, _>(meta).await?
    };
    Ok(removed)
}

/// UNLINK every key matching `pattern` but `meta`.
async fn remove_matching(
    client: &Client,
    pattern: String,
    meta: &str,
    dry_run: bool,
) -> Result<u64, Error> {
    let mut found = super::scan_all(client, pattern).chunks(500);
    let mut removed = 0;
    while let Some(batch) = found.next().await {
        let batch: Vec<Key> = batch
            .into_iter()
            .collect::<Result<Vec<Key>, _>>()?
            .into_iter()
            .filter(|k| k.as_str() != Some(meta))
            .collect();
        if batch.is_empty() {
            continue;
        }
        removed += if dry_run {
            batch.len() as u64
        } else {
            super::unlink_all(client, batch).await?
        };
    }
    Ok(removed)
}

impl Connector {
    /// Delete a strategy's namespace after it ran, on every exit path: when
    /// the run failed and the server no longer answers, do not wait on it;
    /// say which keys may remain and how to remove them.
    pub async fn clean_after<T>(
        &self,
        admin: &Client,
        keys: &Keys,
        run_id: &str,
        outcome: crate::Result<T>,
    ) -> crate::Result<T> {
        let reachable = outcome.is_ok() || self.liveness().answers().await;
        // Bounded: a SCAN stream on a dead connection does not always time out.
        let cleaned = match reachable {
            true => Some(tokio::time::timeout(CLEANUP_LIMIT, cleanup(admin, keys)).await),
            false => None,
        };
        match (outcome, cleaned) {
            (Err(e), Some(Ok(Ok(_)))) => Err(e),
            (Err(e), _) => Err(leftovers(e, keys, run_id)),
            (Ok(done), Some(Ok(Ok(_)))) => Ok(done),
            (Ok(_), Some(Ok(Err(e)))) => Err(self.fail("deleting the run's keys", e)),
            (Ok(_), _) => Err(leftovers(
                crate::Error::infra(format!(
                    "deleting the run's keys took longer than {CLEANUP_LIMIT:?}"
                )),
                keys,
                run_id,
            )),
        }
    }
}

/// `e`, with a note naming the keys that may remain and the command that
/// removes them.
pub fn leftovers(e: crate::Error, keys: &Keys, run_id: &str) -> crate::Error {
    let note = format!(
        "\nkeys under {}* may remain (they expire {} h after seeding); remove them with \
         `blackfriday clean --redis URL --run {run_id}`",
        keys.prefix(),
        super::SAFETY_TTL.as_secs() / 3600
    );
    match e {
        crate::Error::Infra(m) => crate::Error::Infra(m + &note),
        crate::Error::Usage(m) => crate::Error::Usage(m + &note),
        crate::Error::Unavailable(m) => crate::Error::Unavailable(m + &note),
    }
}

#[cfg(test)]
mod tests {
    use super::Namespace;

    #[test]
    fn only_the_exact_shape_is_a_namespace() {
        let ns = Namespace::of_key("bf:0a1b2c3d:{watch}:stock").unwrap();
        assert_eq!(ns.run_id, "0a1b2c3d");
        assert_eq!(ns.strategy, "watch");
        assert_eq!(ns.prefix(), "bf:0a1b2c3d:{watch}:");
        assert!(Namespace::of_key("bf:0a1b2c3d:{lock-fenced}:order:7").is_some());
        let spread = Namespace::of_key("bf:0a1b2c3d:{lua:p12}:stock").unwrap();
        assert_eq!(
            (spread.run_id.as_str(), spread.strategy.as_str()),
            ("0a1b2c3d", "lua")
        );
        assert!(Namespace::of_key("bf:0a1b2c3d:{lua:px}:stock").is_none());
        for bad in [
            "bf:notarun:x",
            "bf:0000000g:{watch}:stock",
            "bf:0A1B2C3D:{watch}:stock",
            "bf:0a1b2c3d4:{watch}:stock",
            "bf:0a1b2c3d:watch:stock",
            "bf:0a1b2c3d:{watch}:",
            "bf:0a1b2c3d:{}:stock",
            "bf:0a1b2c3d:{wa*ch}:stock",
            "xbf:0a1b2c3d:{watch}:stock",
        ] {
            assert!(Namespace::of_key(bad).is_none(), "{bad}");
        }
    }
}
