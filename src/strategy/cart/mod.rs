//! Cart versions of `broken`, `watch` and `lua`: several products bought
//! whole or not at all. Every key a cart touches is under the strategy's
//! one hash tag, so a transaction or script over them stays in one slot
//! (with `--spread` only a one-line cart does; the session's planner
//! refuses the rest on a cluster before the run).

mod broken;
mod lua;
mod watch;

use super::{built, now_us, Build};
use crate::crowd::Buyer;
use crate::redis::Keys;

/// The cart versions, named by their strategies' facts.
pub(super) const BROKEN: Build = |s| built(broken::CartBroken::new(s));
pub(super) const WATCH: Build = |s| built(watch::CartWatch::new(s));
pub(super) const LUA: Build = |s| built(lua::CartLua::new(s));

/// The stock keys of a cart's lines, in line order.
fn stock_keys(keys: &Keys, buyer: &Buyer) -> Vec<String> {
    buyer
        .cart
        .lines()
        .iter()
        .map(|l| keys.stock_of(l.product).to_string())
        .collect()
}

/// The product whose hash tag holds a cart's order: its first line's.
pub(super) fn home(buyer: &Buyer) -> u16 {
    buyer.cart.lines().first().map_or(0, |l| l.product)
}

/// True when every line's product has at least the line's quantity.
fn cart_fits(buyer: &Buyer, stocks: &[Option<i64>]) -> bool {
    buyer
        .cart
        .lines()
        .iter()
        .zip(stocks)
        .all(|(l, s)| s.unwrap_or(0) >= i64::from(l.qty))
}

/// Queue the writes that take a cart and record its order: every line's
/// stock down and sold up, the order hash with a `p:<product>` field per
/// line, the id on the orders list. On a pipeline or inside MULTI.
async fn queue_cart<C>(c: &C, keys: &Keys, buyer: &Buyer) -> Result<(), fred::error::Error>
where
    C: fred::interfaces::HashesInterface
        + fred::interfaces::ListInterface
        + fred::interfaces::KeysInterface
        + Sync,
{
    let mut fields: Vec<(String, i64)> = vec![
        ("buyer".into(), i64::from(buyer.id)),
        ("qty".into(), i64::from(buyer.qty)),
        ("at_us".into(), now_us()),
    ];
    for l in buyer.cart.lines() {
        let qty = i64::from(l.qty);
        let _: () = c.decr_by(keys.stock_of(l.product), qty).await?;
        let _: () = c.incr_by(keys.sold_of(l.product), qty).await?;
        fields.push((format!("p:{}", l.product), qty));
    }
    // The order lives beside its first line's product (the one shared list
    // unless the products are spread over hash tags).
    let home = home(buyer);
    let _: () = c.hset(keys.order_of(home, buyer.id), fields).await?;
    let _: () = c.rpush(keys.orders_of(home), buyer.id).await?;
    Ok(())
}
