//! Pieces several strategies share: the order's time stamp, the arguments
//! of the buy script, the sold-out pre-check and recording an order.

use super::{Attempt, ErrorClass, Failure, Step};
use crate::crowd::Buyer;
use crate::redis::Keys;

/// Microseconds since the epoch, the time stamp of an order.
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// KEYS and ARGV of `lua/buy.lua`, built once per strategy: the three
/// shared keys are encoded up front and cloned by reference count, and the
/// numbers go out as integers, so one attempt allocates its order key and two
/// small vectors rather than a string per argument.
pub(crate) struct BuyScriptArgs {
    keys: Keys,
    stock: fred::types::Key,
    sold: fred::types::Key,
    orders: fred::types::Key,
}

impl BuyScriptArgs {
    pub(crate) fn new(keys: Keys) -> BuyScriptArgs {
        BuyScriptArgs {
            stock: keys.stock().into(),
            sold: keys.sold().into(),
            orders: keys.orders().into(),
            keys,
        }
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The arguments for one buyer. The order id is the buyer id: a buyer
    /// buys at most once, so a duplicate id on the list means a purchase was
    /// applied twice.
    pub(crate) fn of(&self, buyer: Buyer) -> (Vec<fred::types::Key>, Vec<fred::types::Value>) {
        use fred::types::Value::Integer;
        let id = i64::from(buyer.id);
        (
            vec![
                self.stock.clone(),
                self.sold.clone(),
                self.orders.clone(),
                self.keys.order(buyer.id).into(),
            ],
            vec![
                Integer(i64::from(buyer.qty)),
                Integer(id),
                Integer(id),
                Integer(now_us()),
            ],
        )
    }
}

/// One plain read of the stock on a shared, pipelined connection: when it is
/// already too low, the answer is "sold out" without taking a lock or an
/// exclusive connection (None: go on with the real attempt).
pub(crate) async fn sold_out_already(
    pool: &fred::clients::Pool,
    keys: &Keys,
    buyer: Buyer,
) -> Option<Step> {
    use fred::interfaces::KeysInterface;
    let attempt = match pool.get::<Option<i64>, _>(keys.stock()).await {
        Ok(stock) if stock.unwrap_or(0) < i64::from(buyer.qty) => Attempt::SoldOut,
        Ok(_) => return None,
        Err(e) => Attempt::from(e),
    };
    Some(Step {
        attempt,
        round_trips: 1,
        race: None,
    })
}

/// A script reply of 1 or 0 as a purchase or a sold-out answer.
pub(crate) fn bought_or_sold_out(reply: Result<i64, fred::error::Error>) -> Attempt {
    match reply {
        Ok(1) => Attempt::Purchased,
        Ok(0) => Attempt::SoldOut,
        Ok(other) => Attempt::Error(Failure {
            class: ErrorClass::Other,
            message: format!("the purchase script answered {other}, expected 1 or 0"),
        }),
        Err(e) => Attempt::from(e),
    }
}

/// Queue the writes that record an order: the order hash, its id on the
/// orders list, and `sold += qty`. Works on a pipeline or inside MULTI, so a
/// strategy with an atomic unit records the order inside it.
pub(crate) async fn queue_order<C>(
    c: &C,
    keys: &Keys,
    buyer: Buyer,
) -> Result<(), fred::error::Error>
where
    C: fred::interfaces::HashesInterface
        + fred::interfaces::ListInterface
        + fred::interfaces::KeysInterface
        + Sync,
{
    let at_us = now_us();
    let fields: [(&str, i64); 3] = [
        ("buyer", i64::from(buyer.id)),
        ("qty", i64::from(buyer.qty)),
        ("at_us", at_us),
    ];
    let _: () = c.hset(keys.order(buyer.id), fields).await?;
    let _: () = c.rpush(keys.orders(), buyer.id).await?;
    let _: () = c.incr_by(keys.sold(), i64::from(buyer.qty)).await?;
    Ok(())
}

/// WATCH as a raw command: fred's typed `watch` insists on an immediate OK,
/// which a pipeline cannot give; the raw command can.
pub(crate) fn watch_cmd() -> fred::types::CustomCommand {
    fred::types::CustomCommand::new_static("WATCH", fred::types::ClusterHash::FirstKey, false)
}

/// UNWATCH on the connection to the node that holds `key`, where the
/// WATCH went. fred sends a keyless command to a node of its choosing on a
/// cluster, which would leave the real WATCH armed.
pub(crate) async fn unwatch_on(
    c: &fred::clients::Client,
    key: &str,
) -> Result<(), fred::error::Error> {
    use fred::interfaces::ClientLike;
    let slot = fred::util::redis_keyslot(key.as_bytes());
    let cmd = fred::types::CustomCommand::new_static(
        "UNWATCH",
        fred::types::ClusterHash::Custom(slot),
        false,
    );
    let _: fred::types::Value = c.custom(cmd, Vec::<String>::new()).await?;
    Ok(())
}

/// One attempt on a connection nobody else uses, held from `pool` for the
/// attempt's whole length (a WATCH only holds on the connection that sent
/// it). After an error the connection's WATCH state is unknown, so it is
/// replaced rather than given back as it is.
pub(crate) async fn on_own_connection<F>(pool: &fred::clients::ExclusivePool, f: F) -> Attempt
where
    F: AsyncFnOnce(&fred::clients::Client) -> Result<Attempt, fred::error::Error>,
{
    on_held_connection(pool.acquire().await, f).await
}

/// One attempt on a connection already held; a connection that failed is
/// replaced, as in [`on_own_connection`].
pub(crate) async fn on_held_connection<F>(
    mut guard: tokio::sync::OwnedMutexGuard<fred::clients::Client>,
    f: F,
) -> Attempt
where
    F: AsyncFnOnce(&fred::clients::Client) -> Result<Attempt, fred::error::Error>,
{
    match f(&guard).await {
        Ok(a) => a,
        Err(e) => {
            replace_connection(&mut guard).await;
            Attempt::from(e)
        }
    }
}

/// If the server is down the fresh connection fails to connect and the old
/// one stays for the next try.
async fn replace_connection(guard: &mut tokio::sync::OwnedMutexGuard<fred::clients::Client>) {
    use fred::interfaces::ClientLike;
    let fresh = guard.clone_new();
    if fresh.init().await.is_ok() {
        let old = std::mem::replace(&mut **guard, fresh);
        tokio::spawn(async move {
            let _ = old.quit().await;
        });
    }
}
