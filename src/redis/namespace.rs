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
    /// Where each product's orders go: the one list, or with `--spread`
    /// one per product, beside its stock.
    orders: Vec<String>,
    /// The prefix of each product's order hashes (`…order:` + id).
    order_prefix: Vec<String>,
    meta: String,
    lock: String,
    fence: String,
    holds: String,
    deadlines: String,
    ended: String,
    placed: String,
    /// SCAN globs that find every key of the namespace.
    patterns: Vec<String>,
}

impl Keys {
    pub fn new(run_id: &str, strategy: &str) -> Keys {
        Keys::with_products(run_id, strategy, 1)
    }

    /// The namespace of a run over `products` products: `stock:<i>`,
    /// `sold:<i>`, `reserved:<i>` each, all under the one hash tag.
    pub fn with_products(run_id: &str, strategy: &str, products: u16) -> Keys {
        Keys::layout(run_id, strategy, products, false)
    }

    /// As [`Keys::with_products`], and with `spread` each product under a
    /// hash tag of its own, `{<strategy>:p<i>}`, with its own orders list
    /// and order hashes, so that a cluster spreads the products over its
    /// primaries. The run's own keys (meta, lock, holds) keep the strategy's tag.
    pub fn layout(run_id: &str, strategy: &str, products: u16, spread: bool) -> Keys {
        let prefix = format!("bf:{run_id}:{{{strategy}}}:");
        let key = |name: &str| format!("{prefix}{name}");
        let spread = spread && products > 1;
        let home = |p: u16| match spread {
            true => format!("bf:{run_id}:{OPEN}{strategy}:p{p}{CLOSE}:"),
            false => prefix.clone(),
        };
        let per_product = |name: &str| -> Vec<String> {
            match (products <= 1, spread) {
                (true, _) => vec![key(name)],
                (false, false) => (0..products).map(|p| key(&format!("{name}:{p}"))).collect(),
                (false, true) => (0..products)
                    .map(|p| format!("{}{name}", home(p)))
                    .collect(),
            }
        };
        let homes: Vec<String> = match spread {
            true => (0..products).map(home).collect(),
            false => vec![prefix.clone()],
        };
        let patterns = patterns(&prefix, run_id, strategy, spread);
        Keys {
            inner: Arc::new(KeyNames {
                stock: per_product("stock"),
                sold: per_product("sold"),
                reserved: per_product("reserved"),
                orders: homes.iter().map(|h| format!("{h}orders")).collect(),
                order_prefix: homes.iter().map(|h| format!("{h}order:")).collect(),
                meta: key("meta"),
                lock: key("lock"),
                fence: key("fence"),
                holds: key("holds"),
                deadlines: key("deadlines"),
                ended: key("ended"),
                placed: key("placed"),
                patterns,
                prefix,
            }),
        }
    }

    /// True when each product has a hash tag of its own (`--spread`).
    pub fn spread(&self) -> bool {
        self.inner.orders.len() > 1
    }

    /// The orders list an order whose first line is `product` goes to.
    pub fn orders_of(&self, product: u16) -> &str {
        &self.inner.orders[self.home(product)]
    }

    /// The hash of an order whose first line is `product`.
    pub fn order_of(&self, product: u16, id: u32) -> String {
        format!("{}{id}", self.inner.order_prefix[self.home(product)])
    }

    /// Every orders list with the prefix of its order hashes.
    pub fn order_lists(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner
            .orders
            .iter()
            .zip(&self.inner.order_prefix)
            .map(|(l, p)| (l.as_str(), p.as_str()))
    }

    /// SCAN globs covering every key of the namespace.
    pub fn patterns(&self) -> &[String] {
        &self.inner.patterns
    }

    fn home(&self, product: u16) -> usize {
        match self.spread() {
            true => usize::from(product),
            false => 0,
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
    /// List of order ids, one entry per recorded order (of the first
    /// product's, with `--spread`).
    pub fn orders(&self) -> &str {
        &self.inner.orders[0]
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
        self.order_of(0, id)
    }
    /// `idempotent`: the first result of one buyer's purchase, replayed to
    /// its retries. In the namespace, so cleanup takes it with the rest.
    pub fn idem(&self, id: u32) -> String {
        format!("{}idem:{id}", self.inner.prefix)
    }
}

/// A hash tag's braces, spelled so that format strings stay readable.
pub(super) const OPEN: char = '\u{7b}';
const CLOSE: char = '\u{7d}';

/// SCAN globs of a namespace: its own prefix, and with `spread` every
/// product's tag, `{<strategy>:p<n>}` (no other strategy's name matches it:
/// names have no colon).
fn patterns(prefix: &str, run_id: &str, strategy: &str, spread: bool) -> Vec<String> {
    let mut patterns = vec![format!("{}*", glob_escape(prefix))];
    if spread {
        let products = format!("bf:{run_id}:{OPEN}{strategy}:p");
        patterns.push(format!("{}*", glob_escape(&products)));
    }
    patterns
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

/// Delete every key of the namespace with SCAN + UNLINK, on every primary
/// of a cluster. Returns how many.
pub async fn cleanup(client: &Client, keys: &Keys) -> Result<u64, Error> {
    let mut deleted = 0;
    for pattern in keys.patterns() {
        let mut found = super::scan_all(client, pattern.clone()).chunks(500);
        while let Some(batch) = found.next().await {
            let batch: Vec<Key> = batch.into_iter().collect::<Result<_, _>>()?;
            deleted += super::unlink_all(client, batch).await?;
        }
    }
    Ok(deleted)
}

/// SCAN patterns are globs: escape what the prefix might contain literally.
pub fn glob_escape(s: &str) -> String {
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
        assert_eq!(k.orders_of(2), k.orders());
        let s = Keys::layout("ab12", "lua", 3, true);
        assert!(s.spread());
        assert_eq!(s.stock_of(2), "bf:ab12:{lua:p2}:stock");
        assert_eq!(s.orders_of(1), "bf:ab12:{lua:p1}:orders");
        assert_eq!(s.order_of(1, 7), "bf:ab12:{lua:p1}:order:7");
        assert_eq!(s.meta(), "bf:ab12:{lua}:meta");
        assert_eq!(s.patterns(), ["bf:ab12:{lua}:*", "bf:ab12:{lua:p*"]);
        // One product has nothing to spread.
        assert!(!Keys::layout("ab12", "lua", 1, true).spread());
    }
}
