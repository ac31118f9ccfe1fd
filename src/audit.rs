//! The truth, read back from Redis after a strategy has run.
//!
//! Nothing here trusts the client's counters for correctness: the facts come
//! from the server, and the checks compare them with what buyers were told.

mod holds;
mod read;

pub use holds::HoldFacts;
pub use read::{read_facts, Shape};

use serde::Serialize;

use crate::metrics::{IdSet, Tally};

/// Kept here so `audit::CheckId` keeps naming the checks.
pub use crate::outcome::CheckId;

/// One product's truth. A single-product run has exactly one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProductFacts {
    pub initial: i64,
    pub stock: i64,
    pub sold: i64,
    /// Units still held by reservations (0 outside a reservation run).
    pub reserved: i64,
    /// Units of this product in the distinct orders' hashes.
    pub order_units: i64,
}

impl ProductFacts {
    /// Units sold beyond the initial stock, by the `sold` counter, by the
    /// orders, or by the stock gone negative, whichever shows more: a
    /// checkout that forgets to count `sold` still cannot hide.
    pub fn oversold(&self) -> i64 {
        (self.sold.max(self.order_units) - self.initial)
            .max(-self.stock)
            .max(0)
    }
}

/// What the server holds once every buyer has an outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerFacts {
    /// Stock seeded at the start (from the namespace's meta hash), all products.
    pub initial: i64,
    /// Stock left, all products.
    pub stock: i64,
    /// The `sold` counters: units recorded as sold, all products.
    pub sold: i64,
    /// Units still held by reservations, all products.
    pub reserved: i64,
    /// Entries on the orders list.
    pub orders: u64,
    /// Distinct order ids on the list.
    pub distinct_orders: u64,
    /// Sum of `qty` over the distinct orders' hashes.
    pub order_units: i64,
    /// Listed orders whose hash is missing.
    pub orders_without_hash: u64,
    /// Per product, in product order.
    pub products: Vec<ProductFacts>,
    /// Cart runs: orders whose items are not exactly the buyer's cart.
    pub partial_orders: Option<u64>,
    /// Reservation runs: how the holds ended, from the server's log.
    pub holds: Option<HoldFacts>,
    /// Buyers with more than one order on the list (by the order hash's
    /// `buyer` field), and the orders beyond each one's first.
    pub buyers_with_duplicates: u64,
    pub duplicate_orders: u64,
    /// Order hashes in the namespace that are not on the orders list: an
    /// order written but never pushed (a checkout that forgot a step).
    pub orphan_orders: u64,
    /// The distinct order ids on the list, for the durability check.
    #[serde(skip)]
    pub order_ids: IdSet,
    /// Runs with faults or an fsync policy: purchases acknowledged to a
    /// buyer whose order the server no longer holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_lost: Option<u64>,
}

impl ServerFacts {
    /// A single product's facts, as the totals say.
    pub fn single(initial: i64, stock: i64, sold: i64, orders: u64, order_units: i64) -> Self {
        ServerFacts {
            initial,
            stock,
            sold,
            orders,
            distinct_orders: orders,
            order_units,
            products: vec![ProductFacts {
                initial,
                stock,
                sold,
                reserved: 0,
                order_units,
            }],
            ..ServerFacts::default()
        }
    }

    /// Units oversold, summed over products: a cart run cannot hide one
    /// product's oversell behind another's leftovers.
    pub fn oversold(&self) -> i64 {
        self.products.iter().map(ProductFacts::oversold).sum()
    }

    /// Count the acknowledged purchases whose order is gone: a write the
    /// server confirmed and then lost (a kill before its fsync).
    pub fn count_acked_lost(&mut self, acked: &IdSet) {
        self.acked_lost = Some(acked.missing_from(&self.order_ids));
    }

    fn worst(&self, bad: impl Fn(&ProductFacts) -> bool) -> Option<usize> {
        self.products.iter().position(bad)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub passed: bool,
    /// The numbers behind the result.
    pub detail: String,
}

pub fn checks(f: &ServerFacts, t: &Tally) -> Vec<Check> {
    let unbalanced = f.worst(|p| p.initial != p.stock + p.reserved + p.sold);
    let mut out = vec![
        Check {
            id: CheckId::NoOversell,
            passed: f.oversold() == 0,
            detail: oversell_detail(f),
        },
        Check {
            id: CheckId::Conservation,
            passed: unbalanced.is_none() && f.reserved == 0,
            detail: conservation_detail(f, unbalanced),
        },
        orders_match(f),
        Check {
            id: CheckId::OnePerBuyer,
            passed: f.buyers_with_duplicates == 0,
            detail: format!(
                "{} buyer(s) with more than one order, {} order(s) beyond their first",
                f.buyers_with_duplicates, f.duplicate_orders
            ),
        },
    ];
    out.extend(client_checks(f, t));
    if let Some(partial) = f.partial_orders {
        out.push(Check {
            id: CheckId::WholeCarts,
            passed: partial == 0,
            detail: format!(
                "{partial} of {} orders not exactly the buyer's cart",
                f.distinct_orders
            ),
        });
    }
    if let Some(h) = &f.holds {
        out.extend(hold_checks(h));
    }
    if let Some(lost) = f.acked_lost {
        out.push(Check {
            id: CheckId::NoAckLost,
            passed: lost == 0,
            detail: format!(
                "{lost} of {} acknowledged purchases missing from the server's orders",
                t.acked.len()
            ),
        });
    }
    out
}

fn orders_match(f: &ServerFacts) -> Check {
    let duplicates = f.orders - f.distinct_orders;
    let mismatched = f.worst(|p| p.order_units != p.sold);
    Check {
        id: CheckId::OrdersMatch,
        passed: mismatched.is_none()
            && duplicates == 0
            && f.orders_without_hash == 0
            && f.orphan_orders == 0,
        detail: format!(
            "{} orders, {} units vs sold {}{}; {} duplicate, {} without hash{}",
            f.distinct_orders,
            f.order_units,
            f.sold,
            product_note(f, mismatched),
            duplicates,
            f.orders_without_hash,
            orphan_note(f)
        ),
    }
}

/// Shown only when there are some, so the usual line stays short.
fn orphan_note(f: &ServerFacts) -> String {
    match f.orphan_orders {
        0 => String::new(),
        n => format!(", {n} order hash(es) not on the orders list"),
    }
}

/// What buyers were told, against what the server holds: every answer
/// accounted for, and nobody turned away while their quantity was in stock.
fn client_checks(f: &ServerFacts, t: &Tally) -> [Check; 3] {
    let stocks: Vec<i64> = f.products.iter().map(|p| p.stock).collect();
    let away = t.turned_away_with(&stocks);
    [
        Check {
            id: CheckId::ClientAgrees,
            passed: t.purchased <= f.distinct_orders && f.distinct_orders <= t.purchased + t.errors,
            detail: format!(
                "{} acknowledged, {} on server, {} unknown",
                t.purchased, f.distinct_orders, t.errors
            ),
        },
        Check {
            id: CheckId::NoLostSales,
            passed: away.sold_out == 0,
            detail: format!(
                "{} of {} sold-out answers while stock {} remained",
                away.sold_out,
                t.sold_out,
                f.stock.max(0)
            ),
        },
        Check {
            id: CheckId::NoUndersell,
            passed: away.gave_up + away.errors == 0,
            detail: format!(
                "{} gave up, {} failed while stock {} remained",
                away.gave_up,
                away.errors,
                f.stock.max(0)
            ),
        },
    ]
}

fn hold_checks(h: &HoldFacts) -> [Check; 3] {
    [
        Check {
            id: CheckId::HoldsEndOnce,
            passed: h.each_ended_once(),
            detail: format!(
                "{} placed, {} ended ({} confirmed, {} cancelled, {} expired), {} ended twice, {} open",
                h.placed, h.ended, h.confirmed, h.cancelled, h.expired, h.ended_twice, h.open
            ),
        },
        Check {
            id: CheckId::NoDoubleRestock,
            passed: h.restocked_twice == 0,
            detail: format!("{} holds restocked twice", h.restocked_twice),
        },
        Check {
            id: CheckId::NoLateConfirm,
            passed: h.confirmed_late == 0,
            detail: format!(
                "{} holds confirmed after being cancelled or expired",
                h.confirmed_late
            ),
        },
    ]
}

/// `" (product 2: …)"` naming the first product that breaks a rule.
fn product_note(f: &ServerFacts, product: Option<usize>) -> String {
    match product {
        Some(i) if f.products.len() > 1 => {
            let p = &f.products[i];
            format!(
                " (product {i}: initial {}, stock {}, reserved {}, sold {}, in orders {})",
                p.initial, p.stock, p.reserved, p.sold, p.order_units
            )
        }
        _ => String::new(),
    }
}

fn oversell_detail(f: &ServerFacts) -> String {
    let mut s = format!(
        "sold {} of {}, stock left {}, oversold {}",
        f.sold,
        f.initial,
        f.stock,
        f.oversold()
    );
    if f.products.len() > 1 {
        let over = f.products.iter().filter(|p| p.oversold() > 0).count();
        s.push_str(&format!(
            "; {over} of {} products oversold",
            f.products.len()
        ));
        s.push_str(&product_note(f, f.worst(|p| p.oversold() > 0)));
    }
    s
}

fn conservation_detail(f: &ServerFacts, unbalanced: Option<usize>) -> String {
    let mut s = if f.holds.is_some() || f.reserved != 0 {
        format!("{} = {} + {} + {}", f.initial, f.stock, f.reserved, f.sold)
    } else {
        format!("{} = {} + {}", f.initial, f.stock, f.sold)
    };
    if f.products.len() > 1 {
        s.push_str(&format!(", over {} products", f.products.len()));
    }
    s.push_str(&product_note(f, unbalanced));
    if f.reserved != 0 {
        s.push_str(&format!("; {} units still reserved", f.reserved));
    }
    s
}
