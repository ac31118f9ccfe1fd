//! Reading a strategy's namespace back: counters, orders, holds.

use std::collections::HashMap;

use fred::prelude::*;

mod buyers;
mod sorted;

use super::{holds, ProductFacts, ServerFacts};
use crate::crowd::Crowd;
use crate::metrics::IdSet;
use crate::redis::{Keys, Pipe};
use buyers::Buyers;

const PAGE: i64 = 10_000;

/// What the audit needs to know about the run besides the keys.
#[derive(Clone, Copy)]
pub struct Shape<'a> {
    /// Cart runs: the crowd, to compare each order with its buyer's cart.
    pub carts: Option<&'a Crowd>,
    /// Reservation runs: read the holds' log too.
    pub reserve: bool,
    /// A coalescing connection to read the order hashes through, a page in
    /// one write; fred's pipeline when None or when the pipe fails.
    pub pipe: Option<&'a Pipe>,
    /// Delete each page of order hashes once it is read (a run without
    /// `--keep`, whose cleanup would delete them next). The orphan check's
    /// SCAN and the cleanup's then walk a keyspace without them: each SCAN
    /// costs the server about a microsecond per key it walks.
    pub consume: bool,
}

pub async fn read_facts(c: &Client, keys: &Keys, shape: Shape<'_>) -> Result<ServerFacts, Error> {
    let mut facts = ServerFacts::default();
    for p in 0..keys.products() {
        let initial: Option<i64> = c.hget(keys.meta(), format!("initial:{p}")).await?;
        let stock: Option<i64> = c.get(keys.stock_of(p)).await?;
        let sold: Option<i64> = c.get(keys.sold_of(p)).await?;
        let reserved: Option<i64> = c.get(keys.reserved_of(p)).await?;
        let initial = initial
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "the namespace's meta hash is gone"))?;
        facts.products.push(ProductFacts {
            initial,
            stock: stock.unwrap_or(0),
            sold: sold.unwrap_or(0),
            reserved: reserved.unwrap_or(0),
            order_units: 0,
        });
    }
    read_orders(c, keys, shape, &mut facts).await?;
    for p in &facts.products {
        facts.initial += p.initial;
        facts.stock += p.stock;
        facts.sold += p.sold;
        facts.reserved += p.reserved;
    }
    if shape.reserve {
        facts.holds = Some(holds::read(c, keys).await?);
    }
    Ok(facts)
}

/// Walk each orders list page by page (one, or one per product with
/// `--spread`), holding one page at a time (the ids seen are one bit per
/// buyer); each distinct order's hash adds its units to its products.
/// In a cart run an order must hold exactly its buyer's cart, or it is a
/// partial cart.
async fn read_orders(
    c: &Client,
    keys: &Keys,
    shape: Shape<'_>,
    facts: &mut ServerFacts,
) -> Result<(), Error> {
    let mut reading = Reading::default();
    // Cart orders have a field per product: those are read whole.
    let mut sort = shape.carts.is_none();
    for (list, order_prefix) in keys.order_lists() {
        let walked = match sort {
            true => sorted::walk(c, shape, (list, order_prefix), &mut reading, facts).await?,
            false => None,
        };
        sort = walked.is_some();
        let listed = match walked {
            Some(listed) => listed,
            None => walk(c, shape, (list, order_prefix), &mut reading, facts).await?,
        };
        facts.orphan_orders += orphans(c, order_prefix, &listed).await?;
    }
    (facts.buyers_with_duplicates, facts.duplicate_orders) = reading.buyers.duplicates();
    facts.distinct_orders = reading.seen.len();
    facts.order_ids = reading.seen;
    facts.order_units = facts.products.iter().map(|p| p.order_units).sum();
    if shape.carts.is_some() {
        facts.partial_orders = Some(reading.partial);
    }
    Ok(())
}

/// Walk one orders list: `LRANGE` a page, `HMGET` (or `HGETALL`, for
/// carts) each fresh order's hash, delete them once read. The ids listed.
async fn walk(
    c: &Client,
    shape: Shape<'_>,
    (list, order_prefix): (&str, &str),
    reading: &mut Reading,
    facts: &mut ServerFacts,
) -> Result<IdSet, Error> {
    let mut listed = IdSet::default();
    let mut ids: Vec<u32> = c.lrange(list, 0, PAGE - 1).await?;
    let mut start = 0;
    let mut read = Vec::new();
    while !ids.is_empty() {
        start += ids.len() as i64;
        facts.orders += ids.len() as u64;
        for id in &ids {
            listed.insert(*id);
        }
        // The server works on the next page of the list, and deletes
        // the page before, while this one's hashes are read.
        let (next, page, unlinked) = tokio::join!(
            c.lrange::<Vec<u32>, _>(list, start, start + PAGE - 1),
            reading.page(c, shape, order_prefix, &ids, facts),
            unlink_read(c, shape, order_prefix, &read),
        );
        (read, ids) = (page?, next?);
        unlinked?;
    }
    unlink_read(c, shape, order_prefix, &read).await?;
    Ok(listed)
}

/// What the walk of the orders lists has learnt so far.
#[derive(Default)]
struct Reading {
    /// Every order id met on a list, to read each one's hash once.
    seen: IdSet,
    buyers: Buyers,
    /// Cart runs: orders that are not their buyer's whole cart.
    partial: u64,
}

impl Reading {
    /// One page of a list: read the hashes of the ids not met before and
    /// add them up. Returns those ids, whose hashes are now read.
    async fn page(
        &mut self,
        c: &Client,
        shape: Shape<'_>,
        prefix: &str,
        ids: &[u32],
        facts: &mut ServerFacts,
    ) -> Result<Vec<u32>, Error> {
        let fresh: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|id| self.seen.insert(*id))
            .collect();
        let piped = match (shape.pipe, shape.carts) {
            (Some(pipe), None) => piped_orders(pipe, prefix, &fresh).await,
            _ => None,
        };
        match piped {
            Some(found) => add_found(&fresh, found, facts, &mut self.buyers),
            None if fresh.is_empty() => {}
            None => {
                let buyers = &mut self.buyers;
                self.partial += add_orders(c, prefix, shape.carts, &fresh, facts, buyers).await?;
            }
        }
        self.buyers.count(ids);
        Ok(fresh)
    }

    /// A page read with its fields: `found` are the fresh ids' fields.
    fn found(
        &mut self,
        ids: &[u32],
        fresh: &[u32],
        found: Vec<(Option<i64>, Option<u32>)>,
        facts: &mut ServerFacts,
    ) {
        add_found(fresh, found, facts, &mut self.buyers);
        self.buyers.count(ids);
    }
}

/// Order hashes under `prefix` that their orders list does not name: SCAN
/// the pattern and compare with the ids seen on the list. The list alone
/// cannot show an order written but never pushed.
async fn orphans(c: &Client, prefix: &str, listed: &IdSet) -> Result<u64, Error> {
    let pattern = format!("{}*", crate::redis::glob_escape(prefix));
    let mut cursor = "0".to_string();
    let mut orphans = 0;
    // On a cluster the orders share their list's hash tag, so they all live
    // on the node that owns its slot: SCAN there.
    let scan = fred::types::CustomCommand::new_static(
        "SCAN",
        fred::types::ClusterHash::Custom(crate::redis::slot_of(prefix)),
        false,
    );
    loop {
        let args = vec![cursor.as_str(), "MATCH", &pattern, "COUNT", "1000"];
        let page: Value = c.custom(scan.clone(), args).await?;
        let mut page = page.into_array().into_iter();
        let next = page.next().and_then(|v| v.as_string()).unwrap_or_default();
        let found = page.next().map(Value::into_array).unwrap_or_default();
        orphans += found
            .iter()
            .filter_map(|k| k.as_string())
            .filter(|k| {
                let id = k.strip_prefix(prefix).and_then(|id| id.parse::<u32>().ok());
                id.is_none_or(|id| !listed.contains(id))
            })
            .count() as u64;
        if next == "0" || next.is_empty() {
            return Ok(orphans);
        }
        cursor = next;
    }
}

/// Add one page of fresh orders' units to their products; returns how many
/// of them are not exactly their buyer's cart (always 0 outside cart runs).
async fn add_orders(
    c: &Client,
    order_prefix: &str,
    carts: Option<&Crowd>,
    fresh: &[u32],
    facts: &mut ServerFacts,
    buyers: &mut Buyers,
) -> Result<u64, Error> {
    let p = c.pipeline();
    for id in fresh {
        match carts {
            None => {
                p.hmget::<(), _, _>(format!("{order_prefix}{id}"), vec!["qty", "buyer"])
                    .await?
            }
            Some(_) => p.hgetall::<(), _>(format!("{order_prefix}{id}")).await?,
        }
    }
    let Some(crowd) = carts else {
        let found: Vec<(Option<i64>, Option<u32>)> = p.all().await?;
        add_found(fresh, found, facts, buyers);
        return Ok(0);
    };
    let hashes: Vec<HashMap<String, String>> = p.all().await?;
    let mut partial = 0;
    for (id, hash) in fresh.iter().zip(hashes) {
        if hash.is_empty() {
            facts.orders_without_hash += 1;
            continue;
        }
        buyers.owner(*id, hash.get("buyer").and_then(|b| b.parse().ok()));
        let items = items(&hash);
        for (product, qty) in &items {
            if let Some(f) = facts.products.get_mut(usize::from(*product)) {
                f.order_units += qty;
            }
        }
        partial += u64::from(!whole_cart(crowd, *id, &items));
    }
    Ok(partial)
}

/// One page of single-product orders: each one's units, or its missing hash.
fn add_found(
    fresh: &[u32],
    found: Vec<(Option<i64>, Option<u32>)>,
    facts: &mut ServerFacts,
    buyers: &mut Buyers,
) {
    for (id, (qty, buyer)) in fresh.iter().zip(found) {
        match qty {
            Some(q) => facts.products[0].order_units += q,
            None => facts.orders_without_hash += 1,
        }
        buyers.owner(*id, buyer);
    }
}

/// `HMGET order qty buyer` for a page of orders, in one write through the
/// pipe. None when the pipe failed or a reply is not two numbers or nils
/// (an error, a field that is not a number): fred's pipeline then reads
/// the page again and says what is wrong.
async fn piped_orders(
    pipe: &Pipe,
    prefix: &str,
    fresh: &[u32],
) -> Option<Vec<(Option<i64>, Option<u32>)>> {
    use redis_protocol::resp2::types::BorrowedFrame::BulkString;
    use redis_protocol::resp2::types::BytesFrame;
    let mut out = bytes::BytesMut::with_capacity(fresh.len() * 48);
    let mut key = String::new();
    for id in fresh {
        key.clear();
        key.push_str(prefix);
        key.push_str(&id.to_string());
        let hmget = [
            BulkString(b"HMGET"),
            BulkString(key.as_bytes()),
            BulkString(b"qty"),
            BulkString(b"buyer"),
        ];
        crate::redis::encode(&mut out, &hmget);
    }
    let field = |f: &BytesFrame| -> Option<Option<i64>> {
        match f {
            BytesFrame::Null => Some(None),
            BytesFrame::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok().map(Some),
            _ => None,
        }
    };
    let frames = pipe.batch(out, fresh.len()).await?;
    frames
        .iter()
        .map(|f| match f {
            BytesFrame::Array(v) if v.len() == 2 => {
                let buyer = field(&v[1])?.map(u32::try_from).transpose().ok()?;
                Some((field(&v[0])?, buyer))
            }
            _ => None,
        })
        .collect()
}

/// UNLINK a page of order hashes the audit has read: one command, since
/// the orders share their list's hash tag (one slot on a cluster).
async fn unlink_read(
    c: &Client,
    shape: Shape<'_>,
    prefix: &str,
    fresh: &[u32],
) -> Result<(), Error> {
    use redis_protocol::resp2::types::BorrowedFrame::BulkString;
    if !shape.consume || fresh.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = fresh.iter().map(|id| format!("{prefix}{id}")).collect();
    if let Some(pipe) = shape.pipe {
        let mut parts = Vec::with_capacity(keys.len() + 1);
        parts.push(BulkString(b"UNLINK"));
        parts.extend(keys.iter().map(|k| BulkString(k.as_bytes())));
        let mut out = bytes::BytesMut::with_capacity(keys.len() * 40);
        crate::redis::encode(&mut out, &parts);
        if let Some([redis_protocol::resp2::types::BytesFrame::Integer(_)]) =
            pipe.batch(out, 1).await.as_deref()
        {
            return Ok(());
        }
    }
    let _: u64 = c.unlink(keys).await?;
    Ok(())
}

/// The `p:<product>` fields of an order hash, in product order.
fn items(hash: &HashMap<String, String>) -> Vec<(u16, i64)> {
    let mut items: Vec<(u16, i64)> = hash
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("p:")?.parse().ok()?, v.parse().ok()?)))
        .collect();
    items.sort_unstable();
    items
}

/// True when the order holds exactly the buyer's cart: every line, each
/// with its full quantity, and nothing else.
fn whole_cart(crowd: &Crowd, id: u32, items: &[(u16, i64)]) -> bool {
    if id as usize >= crowd.len() {
        return false;
    }
    let cart = crowd.buyer(id as usize).cart;
    let wanted = cart.lines().iter().map(|l| (l.product, i64::from(l.qty)));
    items.len() == cart.lines().len() && wanted.eq(items.iter().copied())
}
