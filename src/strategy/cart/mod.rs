//! Cart versions of `broken`, `watch` and `lua`: several products bought
//! whole or not at all. Every key a cart touches is under the strategy's
//! one hash tag, so a transaction or script over them stays in one slot.

mod broken;
mod lua;
mod watch;

use std::sync::Arc;

use super::{now_us, Setup, Strategy, StrategyKind};
use crate::crowd::Buyer;
use crate::error::{Error, Result};
use crate::redis::Keys;

pub async fn prepare(kind: StrategyKind, setup: Setup<'_>) -> Result<Arc<dyn Strategy>> {
    Ok(match kind {
        StrategyKind::Broken => Arc::new(broken::CartBroken::new(setup).await?),
        StrategyKind::Watch => Arc::new(watch::CartWatch::new(setup).await?),
        StrategyKind::Lua => Arc::new(lua::CartLua::new(setup).await?),
        other => {
            return Err(Error::usage(format!(
                "strategy {other} has no cart version (use broken, watch or lua)"
            )))
        }
    })
}

/// The stock keys of a cart's lines, in line order.
fn stock_keys(keys: &Keys, buyer: &Buyer) -> Vec<String> {
    buyer
        .cart
        .lines()
        .iter()
        .map(|l| keys.stock_of(l.product).to_string())
        .collect()
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
    let _: () = c.hset(keys.order(buyer.id), fields).await?;
    let _: () = c.rpush(keys.orders(), buyer.id).await?;
    Ok(())
}
