//! Reading a strategy's namespace back: counters, orders, holds.

use std::collections::{HashMap, HashSet};

use fred::prelude::*;

use super::{holds, ProductFacts, ServerFacts};
use crate::crowd::Crowd;
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

/// Walk each orders list page by page (one, or one per product with
/// `--spread`); each distinct order's hash adds its units to its products.
/// In a cart run an order must hold exactly its buyer's cart, or it is a
/// partial cart.
async fn read_orders(
    c: &Client,
    keys: &Keys,
    carts: Option<&Crowd>,
    facts: &mut ServerFacts,
) -> Result<(), Error> {
    let mut seen = HashSet::new();
    let mut buyers = Buyers::default();
    let mut partial = 0;
    for (list, order_prefix) in keys.order_lists() {
        let mut start = 0;
        let mut listed = HashSet::new();
        loop {
            let ids: Vec<u32> = c.lrange(list, start, start + PAGE - 1).await?;
            if ids.is_empty() {
                break;
            }
            start += ids.len() as i64;
            facts.orders += ids.len() as u64;
            listed.extend(ids.iter().copied());
            let fresh: Vec<u32> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
            if !fresh.is_empty() {
                partial += add_orders(c, order_prefix, carts, &fresh, facts, &mut buyers).await?;
            }
            buyers.count(&ids);
        }
        facts.orphan_orders += orphans(c, order_prefix, &listed).await?;
    }
    (facts.buyers_with_duplicates, facts.duplicate_orders) = buyers.duplicates();
    facts.distinct_orders = seen.len() as u64;
    for id in seen {
        facts.order_ids.insert(id);
    }
    facts.order_units = facts.products.iter().map(|p| p.order_units).sum();
    if carts.is_some() {
        facts.partial_orders = Some(partial);
    }
    Ok(())
}

/// Order hashes under `prefix` that their orders list does not name: SCAN
/// the pattern and compare with the ids seen on the list. The list alone
/// cannot show an order written but never pushed.
async fn orphans(c: &Client, prefix: &str, listed: &HashSet<u32>) -> Result<u64, Error> {
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
                id.is_none_or(|id| !listed.contains(&id))
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
        for (id, (qty, buyer)) in fresh.iter().zip(found) {
            match qty {
                Some(q) => facts.products[0].order_units += q,
                None => facts.orders_without_hash += 1,
            }
            buyers.owner(*id, buyer);
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

/// Whose each order is, by its hash's `buyer` field, and how many entries
/// of the orders list each buyer has: a buyer's order id listed twice, or
/// two order ids naming one buyer, are both a purchase applied twice.
#[derive(Default)]
struct Buyers {
    /// Order id to buyer; orders without a hash have no buyer to count.
    of: HashMap<u32, u32>,
    entries: HashMap<u32, u32>,
}

impl Buyers {
    fn owner(&mut self, id: u32, buyer: Option<u32>) {
        if let Some(b) = buyer {
            self.of.insert(id, b);
        }
    }

    /// One page of the orders list, its fresh ids' owners already known.
    fn count(&mut self, ids: &[u32]) {
        for b in ids.iter().filter_map(|id| self.of.get(id)) {
            *self.entries.entry(*b).or_default() += 1;
        }
    }

    /// Buyers with more than one order, and the orders beyond their first.
    fn duplicates(&self) -> (u64, u64) {
        let twice = self.entries.values().filter(|n| **n > 1);
        (
            twice.clone().count() as u64,
            twice.map(|n| u64::from(n - 1)).sum(),
        )
    }
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
