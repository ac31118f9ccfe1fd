//! Reading a strategy's namespace back: counters, orders, holds.

use std::collections::HashMap;

use fred::prelude::*;

use super::{holds, ProductFacts, ServerFacts};
use crate::crowd::Crowd;
use crate::metrics::IdSet;
use crate::redis::Keys;

const PAGE: i64 = 10_000;

/// What the audit needs to know about the run besides the keys.
#[derive(Clone, Copy)]
pub struct Shape<'a> {
    /// Cart runs: the crowd, to compare each order with its buyer's cart.
    pub carts: Option<&'a Crowd>,
    /// Reservation runs: read the holds' log too.
    pub reserve: bool,
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
    read_orders(c, keys, shape.carts, &mut facts).await?;
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

/// Walk the orders list page by page, holding one page at a time (the ids
/// seen are one bit per buyer); each distinct order's hash adds its units
/// to its products. In a cart run an order must hold exactly its
/// buyer's cart, or it is a partial cart.
async fn read_orders(
    c: &Client,
    keys: &Keys,
    carts: Option<&Crowd>,
    facts: &mut ServerFacts,
) -> Result<(), Error> {
    let mut seen = IdSet::default();
    let mut partial = 0;
    let mut start = 0;
    loop {
        let ids: Vec<u32> = c.lrange(keys.orders(), start, start + PAGE - 1).await?;
        if ids.is_empty() {
            break;
        }
        start += ids.len() as i64;
        facts.orders += ids.len() as u64;
        let fresh: Vec<u32> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        if fresh.is_empty() {
            continue;
        }
        partial += add_orders(c, keys, carts, &fresh, facts).await?;
    }
    facts.orphan_orders = orphans(c, keys, &seen).await?;
    facts.distinct_orders = seen.len();
    facts.order_ids = seen;
    facts.order_units = facts.products.iter().map(|p| p.order_units).sum();
    if carts.is_some() {
        facts.partial_orders = Some(partial);
    }
    Ok(())
}

/// Order hashes in the namespace that the orders list does not name: SCAN
/// the namespace's order pattern and compare with the ids seen on the list.
/// The list alone cannot show an order written but never pushed.
async fn orphans(c: &Client, keys: &Keys, listed: &IdSet) -> Result<u64, Error> {
    let prefix = format!("{}order:", keys.prefix());
    let pattern = format!("{prefix}*");
    let mut cursor = "0".to_string();
    let mut orphans = 0;
    loop {
        let args = vec![cursor.as_str(), "MATCH", &pattern, "COUNT", "1000"];
        let page: Value = c.custom(fred::cmd!("SCAN"), args).await?;
        let mut page = page.into_array().into_iter();
        let next = page.next().and_then(|v| v.as_string()).unwrap_or_default();
        let found = page.next().map(Value::into_array).unwrap_or_default();
        orphans += found
            .iter()
            .filter_map(|k| k.as_string())
            .filter(|k| {
                let id = k
                    .strip_prefix(&prefix)
                    .and_then(|id| id.parse::<u32>().ok());
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
    keys: &Keys,
    carts: Option<&Crowd>,
    fresh: &[u32],
    facts: &mut ServerFacts,
) -> Result<u64, Error> {
    let p = c.pipeline();
    for id in fresh {
        match carts {
            None => p.hget::<(), _, _>(keys.order(*id), "qty").await?,
            Some(_) => p.hgetall::<(), _>(keys.order(*id)).await?,
        }
    }
    let Some(crowd) = carts else {
        let qtys: Vec<Option<i64>> = p.all().await?;
        for q in qtys {
            match q {
                Some(q) => facts.products[0].order_units += q,
                None => facts.orders_without_hash += 1,
            }
        }
        return Ok(0);
    };
    let hashes: Vec<HashMap<String, String>> = p.all().await?;
    let mut partial = 0;
    for (id, hash) in fresh.iter().zip(hashes) {
        if hash.is_empty() {
            facts.orders_without_hash += 1;
            continue;
        }
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
