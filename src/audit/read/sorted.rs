//! A page of the orders list and its hashes' `qty` and `buyer` in one
//! command: `SORT orders BY nosort LIMIT start n GET # GET order:*->qty
//! GET order:*->buyer`. The server looks the fields up itself, with no
//! command to parse and dispatch per order, where an `HMGET` per order
//! costs it about a microsecond each. A server that refuses it on the
//! first page (an ACL without SORT, a cluster that will not take GET
//! patterns) is read the other way, `LRANGE` then `HMGET`s.

use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand};

use super::{unlink_read, Reading, Shape, PAGE};
use crate::audit::ServerFacts;
use crate::metrics::IdSet;

/// One entry of the list, with its hash's fields (None: no hash, or no
/// such field).
struct Order {
    id: u32,
    qty: Option<i64>,
    buyer: Option<u32>,
}

/// Walk one orders list with SORT, deleting each page's hashes once read
/// (as the other walk does). The ids listed; None when the server refused
/// the first SORT, before anything was read or deleted.
pub(super) async fn walk(
    c: &Client,
    shape: Shape<'_>,
    (list, prefix): (&str, &str),
    reading: &mut Reading,
    facts: &mut ServerFacts,
) -> Result<Option<IdSet>, Error> {
    let Ok(mut orders) = page(c, list, prefix, 0).await else {
        return Ok(None);
    };
    let mut listed = IdSet::default();
    let (mut start, mut read) = (0, Vec::new());
    while !orders.is_empty() {
        start += orders.len() as i64;
        facts.orders += orders.len() as u64;
        let ids: Vec<u32> = orders.iter().map(|o| o.id).collect();
        for id in &ids {
            listed.insert(*id);
        }
        let (fresh, found): (Vec<u32>, Vec<_>) = orders
            .into_iter()
            .filter(|o| reading.seen.insert(o.id))
            .map(|o| (o.id, (o.qty, o.buyer)))
            .unzip();
        reading.found(&ids, &fresh, found, facts);
        // The next page is sorted while the page before is deleted.
        let (next, unlinked) = tokio::join!(
            page(c, list, prefix, start),
            unlink_read(c, shape, prefix, &read),
        );
        (orders, read) = (next?, fresh);
        unlinked?;
    }
    unlink_read(c, shape, prefix, &read).await?;
    Ok(Some(listed))
}

async fn page(c: &Client, list: &str, prefix: &str, start: i64) -> Result<Vec<Order>, Error> {
    let sort = CustomCommand::new_static("SORT", ClusterHash::FirstKey, false);
    let (qty, buyer) = (format!("{prefix}*->qty"), format!("{prefix}*->buyer"));
    let (start, count) = (start.to_string(), PAGE.to_string());
    let args = vec![
        list, "BY", "nosort", "LIMIT", &start, &count, "GET", "#", "GET", &qty, "GET", &buyer,
    ];
    let flat: Vec<Value> = c.custom(sort, args).await?;
    flat.chunks(3)
        .map(|o| match o {
            [id, qty, buyer] => Ok(Order {
                id: number(id, "id")?.ok_or_else(|| bad("id", id))?,
                qty: number(qty, "qty")?,
                buyer: number(buyer, "buyer")?,
            }),
            _ => Err(Error::new(
                ErrorKind::Protocol,
                "SORT answered a partial row",
            )),
        })
        .collect()
}

/// A field read back as a number, None when it is missing.
fn number<T: std::str::FromStr>(v: &Value, what: &str) -> Result<Option<T>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Integer(i) => i.to_string().parse().map(Some).map_err(|_| bad(what, v)),
        _ => v
            .as_str()
            .and_then(|s| s.parse().ok())
            .map(Some)
            .ok_or_else(|| bad(what, v)),
    }
}

fn bad(what: &str, v: &Value) -> Error {
    Error::new(
        ErrorKind::Parse,
        format!("an order's {what} read back as {v:?}, not a number"),
    )
}
