//! The cart planner: before anything is written, on a cluster with spread
//! products, refuse a cart strategy that needs every line in one slot (one
//! WATCH, one script) when the crowd's carts span several slots. Redis
//! would refuse each such cart with CROSSSLOT half-way through the run.
//! And a failover planned on a cluster whose primaries have no replica.

use crate::config::RunConfig;
use crate::crowd::Crowd;
use crate::error::{Error, Result};
use crate::redis::{slot_of, Keys, SlotMap};
use crate::strategy::StrategyKind;

/// Cart strategies whose cart is one atomic unit on the server.
fn one_slot(kind: StrategyKind) -> bool {
    matches!(kind, StrategyKind::Watch | StrategyKind::Lua)
}

pub(super) fn check(
    config: &RunConfig,
    crowd: &Crowd,
    run_id: &str,
    slots: Option<&SlotMap>,
) -> Result<()> {
    let Some(slots) = slots.filter(|_| config.spread) else {
        return Ok(());
    };
    let products = config.shop.products.len() as u16;
    if config.shop.reserve.is_some() && products > 1 {
        return Err(Error::usage(
            "--spread: a reservation keeps its hold beside every product it holds, in one \
             slot, and spread products on a cluster are in several\n\
             fix: drop --spread for reservations",
        ));
    }
    if config.shop.carts.is_none() {
        return Ok(());
    }
    for &kind in config.strategies.iter().filter(|k| one_slot(**k)) {
        let keys = Keys::layout(run_id, kind.name(), products, true);
        let Some((a, b)) = split_cart(crowd, &keys) else {
            continue;
        };
        let name = |p: u16| {
            let slot = slot_of(keys.stock_of(p));
            format!(
                "product {p} '{}' (slot {slot}, node {})",
                config.shop.products[usize::from(p)].name,
                slots.node_of(slot).unwrap_or("unassigned")
            )
        };
        return Err(Error::usage(format!(
            "--spread: {kind} buys a cart in one step (one {}), which Redis Cluster allows \
             only within one hash slot, and this crowd's carts span several: {} and {}\n\
             fix: drop --spread (every product under one hash tag: one slot, so one hot \
             node), or leave {kind} out and use saga (line by line, undone when a line is \
             sold out) or broken",
            if kind == StrategyKind::Watch {
                "WATCH/MULTI/EXEC"
            } else {
                "script"
            },
            name(a),
            name(b)
        )));
    }
    Ok(())
}

/// `--fault failover` on a cluster given by URL: every primary needs a
/// replica to promote, known once the slot map is read.
pub(super) fn replicas_for_failover(config: &RunConfig, slots: Option<&SlotMap>) -> Result<()> {
    let planned = config.faults.iter().find(|s| s.kind.needs_replica());
    let (Some(step), Some(map)) = (planned, slots) else {
        return Ok(());
    };
    match map.shards.iter().find(|s| s.replicas.is_empty()) {
        Some(bare) => Err(Error::usage(format!(
            "--fault {step}: a failover promotes a replica, and the primary {} has none\n\
             fix: give every primary a replica, or drop the fault",
            bare.primary
        ))),
        None => Ok(()),
    }
}

/// Two products of one cart whose stock keys hash to different slots.
fn split_cart(crowd: &Crowd, keys: &Keys) -> Option<(u16, u16)> {
    (0..crowd.len()).find_map(|i| {
        let buyer = crowd.buyer(i);
        let lines = buyer.cart.lines();
        let first = lines.first()?.product;
        let slot = slot_of(keys.stock_of(first));
        lines
            .iter()
            .find(|l| slot_of(keys.stock_of(l.product)) != slot)
            .map(|l| (first, l.product))
    })
}
