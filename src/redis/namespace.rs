//! The key namespace of one strategy run, and how it is seeded and removed.
//!
//! Every key lives under `bf:<run-id>:{<strategy>}:`. The braces are a Redis
//! Cluster hash tag: every key one transaction or script touches lands in the
//! same slot. Nothing outside this prefix is ever written or deleted.

use std::sync::Arc;
use std::time::Duration;

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
    /// Per product; a single-product run has one, named plainly `stock`.
    stock: Vec<String>,
    sold: Vec<String>,
    reserved: Vec<String>,
    orders: String,
    meta: String,
    lock: String,
    fence: String,
    holds: String,
    deadlines: String,
    ended: String,
    placed: String,
}

impl Keys {
    pub fn new(run_id: &str, strategy: &str) -> Keys {
        Keys::with_products(run_id, strategy, 1)
    }

    /// The namespace of a run over `products` products: `stock:<i>`,
    /// `sold:<i>`, `reserved:<i>` each, all under the one hash tag.
    pub fn with_products(run_id: &str, strategy: &str, products: u16) -> Keys {
        let prefix = format!("bf:{run_id}:{{{strategy}}}:");
        let key = |name: &str| format!("{prefix}{name}");
        let per_product = |name: &str| -> Vec<String> {
            if products <= 1 {
                vec![key(name)]
            } else {
                (0..products).map(|p| key(&format!("{name}:{p}"))).collect()
            }
        };
        Keys {
            inner: Arc::new(KeyNames {
                stock: per_product("stock"),
                sold: per_product("sold"),
                reserved: per_product("reserved"),
                orders: key("orders"),
                meta: key("meta"),
                lock: key("lock"),
                fence: key("fence"),
                holds: key("holds"),
                deadlines: key("deadlines"),
                ended: key("ended"),
                placed: key("placed"),
                prefix,
            }),
        }
    }

    pub fn products(&self) -> u16 {
        self.inner.stock.len() as u16
    }
    /// Units of one product left for sale.
    pub fn stock_of(&self, product: u16) -> &str {
        &self.inner.stock[usize::from(product)]
    }
    /// Units of one product recorded as sold.
    pub fn sold_of(&self, product: u16) -> &str {
        &self.inner.sold[usize::from(product)]
    }
    /// Units of one product held by reservations not yet ended.
    pub fn reserved_of(&self, product: u16) -> &str {
        &self.inner.reserved[usize::from(product)]
    }
    /// Live holds: hold id -> its lines, `"p:q,p:q"` (atomic reservations).
    pub fn holds(&self) -> &str {
        &self.inner.holds
    }
    /// Hold of one buyer, a hash of its lines (the seed's layout, `reserve-naive`).
    pub fn hold(&self, id: u32) -> String {
        format!("{}hold:{id}", self.inner.prefix)
    }
    /// Sorted set of open holds by deadline (µs since the epoch).
    pub fn deadlines(&self) -> &str {
        &self.inner.deadlines
    }
    /// Log of every hold's end, `"<id>:c"` confirmed, `:x` cancelled, `:e`
    /// expired: the audit's evidence that each hold ended exactly once.
    pub fn ended(&self) -> &str {
        &self.inner.ended
    }
    /// Counter of holds placed.
    pub fn placed(&self) -> &str {
        &self.inner.placed
    }

    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }
    /// Units left for sale (of the first product). May go negative under
    /// an unsound strategy.
    pub fn stock(&self) -> &str {
        self.stock_of(0)
    }
    /// Units recorded as sold (of the first product), incremented with every order.
    pub fn sold(&self) -> &str {
        self.sold_of(0)
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
    /// `idempotent`: the first result of one buyer's purchase, replayed to
    /// its retries. In the namespace, so cleanup takes it with the rest.
    pub fn idem(&self, id: u32) -> String {
        format!("{}idem:{id}", self.inner.prefix)
    }
}

/// The safety net for runs that die without cleaning up (SIGKILL, power
/// loss): every key written at seeding expires this long after it. Set once
/// at seeding and never refreshed: an EXPIRE on a watched key aborts every
/// WATCH on it, which would corrupt the measurement. A day outlasts any sane
/// run; `blackfriday clean` removes leftovers sooner.
pub const SAFETY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The meta hash field holding the run's start, in seconds since the epoch:
/// what `blackfriday clean --older-than` reads.
pub const STARTED: &str = "started";

/// Seed a fresh namespace, one stock per product. Refuses to overwrite one
/// that already exists. Records the start time in the meta hash, and gives
/// every key it writes the [`SAFETY_TTL`].
pub async fn seed(
    client: &Client,
    keys: &Keys,
    initial: &[u64],
    meta: &[(&str, String)],
) -> Result<(), Error> {
    let fresh: Option<String> = client
        .set(keys.stock(), initial[0], None, Some(SetOptions::NX), false)
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
    let mut fields: Vec<(String, String)> =
        vec![("initial".into(), initial.iter().sum::<u64>().to_string())];
    for (p, units) in initial.iter().enumerate() {
        let p = p as u16;
        if p > 0 {
            let _: () = client
                .set(keys.stock_of(p), *units, None, None, false)
                .await?;
        }
        let _: () = client.set(keys.sold_of(p), 0, None, None, false).await?;
        fields.push((format!("initial:{p}"), units.to_string()));
    }
    fields.extend(meta.iter().map(|(k, v)| (k.to_string(), v.clone())));
    if !fields.iter().any(|(k, _)| k == STARTED) {
        fields.push((STARTED.into(), unix_now().to_string()));
    }
    let _: () = client.hset(keys.meta(), fields).await?;
    let ttl = SAFETY_TTL.as_secs() as i64;
    let seeded = (0..keys.products())
        .flat_map(|p| [keys.stock_of(p), keys.sold_of(p)])
        .chain([keys.meta()]);
    for key in seeded {
        let _: () = client.expire(key, ttl, None).await?;
    }
    Ok(())
}

/// Seconds since the epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// True when the namespace's meta hash is gone: the server restarted without
/// persistence, was flushed or failed over to a replica that never had it.
pub async fn meta_gone(client: &Client, keys: &Keys) -> Result<bool, Error> {
    let n: u64 = client.exists(keys.meta()).await?;
    Ok(n == 0)
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
pub(crate) fn glob_escape(s: &str) -> String {
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
            k.holds(),
            k.deadlines(),
            k.ended(),
            k.placed(),
            &k.hold(3),
        ] {
            assert!(key.starts_with("bf:ab12:{watch}:"), "{key}");
        }
        assert_eq!(glob_escape("bf:a*[x]"), "bf:a\\*\\[x\\]");
        let k = Keys::with_products("ab12", "lua", 3);
        assert_eq!(k.stock_of(2), "bf:ab12:{lua}:stock:2");
        assert_eq!(k.reserved_of(0), "bf:ab12:{lua}:reserved:0");
        assert_eq!(Keys::new("ab12", "lua").stock(), "bf:ab12:{lua}:stock");
    }
}
