//! The key namespace of one strategy run, and how it is seeded and removed.
//!
//! Every key lives under `bf:<run-id>:{<strategy>}:`. The braces are a Redis
//! Cluster hash tag: every key one transaction or script touches lands in the
//! same slot. Nothing outside this prefix is ever written or deleted.

use std::sync::Arc;

use fred::prelude::*;
use futures::StreamExt;

/// Key names of one strategy's namespace.
#[derive(Debug, Clone)]
pub struct Keys {
    inner: Arc<KeyNames>,
}

#[derive(Debug)]
struct KeyNames {
    prefix: String,
    stock: String,
    sold: String,
    orders: String,
    meta: String,
    lock: String,
    fence: String,
}

impl Keys {
    pub fn new(run_id: &str, strategy: &str) -> Keys {
        let prefix = format!("bf:{run_id}:{{{strategy}}}:");
        let key = |name: &str| format!("{prefix}{name}");
        Keys {
            inner: Arc::new(KeyNames {
                stock: key("stock"),
                sold: key("sold"),
                orders: key("orders"),
                meta: key("meta"),
                lock: key("lock"),
                fence: key("fence"),
                prefix,
            }),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }
    /// Units left for sale. May go negative under an unsound strategy.
    pub fn stock(&self) -> &str {
        &self.inner.stock
    }
    /// Units recorded as sold, incremented with every order.
    pub fn sold(&self) -> &str {
        &self.inner.sold
    }
    /// List of order ids, one entry per recorded order.
    pub fn orders(&self) -> &str {
        &self.inner.orders
    }
    /// Hash describing the run: initial stock, strategy, seed.
    pub fn meta(&self) -> &str {
        &self.inner.meta
    }
    /// The lock of the lock strategies.
    pub fn lock(&self) -> &str {
        &self.inner.lock
    }
    /// Counter of fencing tokens issued with the lock.
    pub fn fence(&self) -> &str {
        &self.inner.fence
    }
    /// Hash of one order: buyer, qty, time.
    pub fn order(&self, id: u32) -> String {
        format!("{}order:{id}", self.inner.prefix)
    }
}

/// Seed a fresh namespace. Refuses to overwrite one that already exists.
pub async fn seed(
    client: &Client,
    keys: &Keys,
    initial: u64,
    meta: &[(&str, String)],
) -> Result<(), Error> {
    let fresh: Option<String> = client
        .set(keys.stock(), initial, None, Some(SetOptions::NX), false)
        .await?;
    if fresh.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "namespace {} already exists; refusing to overwrite it",
                keys.prefix()
            ),
        ));
    }
    let _: () = client.set(keys.sold(), 0, None, None, false).await?;
    let mut fields: Vec<(&str, String)> = vec![("initial", initial.to_string())];
    fields.extend(meta.iter().cloned());
    let _: () = client.hset(keys.meta(), fields).await?;
    Ok(())
}

/// Delete every key of the namespace with SCAN + UNLINK. Returns how many.
pub async fn cleanup(client: &Client, keys: &Keys) -> Result<u64, Error> {
    let pattern = format!("{}*", glob_escape(keys.prefix()));
    let mut found = client.scan_buffered(pattern, Some(1000), None).chunks(500);
    let mut deleted = 0;
    while let Some(batch) = found.next().await {
        let batch: Vec<Key> = batch.into_iter().collect::<Result<_, _>>()?;
        let n: u64 = client.unlink(batch).await?;
        deleted += n;
    }
    Ok(deleted)
}

/// SCAN patterns are globs: escape what the prefix might contain literally.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_shares_the_prefix_and_the_hash_tag() {
        let k = Keys::new("ab12", "watch");
        for key in [
            k.stock(),
            k.sold(),
            k.orders(),
            k.meta(),
            k.lock(),
            k.fence(),
            &k.order(7),
        ] {
            assert!(key.starts_with("bf:ab12:{watch}:"), "{key}");
        }
        assert_eq!(glob_escape("bf:a*[x]"), "bf:a\\*\\[x\\]");
    }
}
