//! What is on sale and how buyers shop: products, carts, reservations.
//! Every rule that ties these flags to each other or to the strategies.

use std::time::Duration;

use super::Settings;
use crate::crowd::{CartPlan, Product, QtyRange, StockSpec, MAX_LINES, MAX_PRODUCTS};
use crate::error::{Error, Result};
use crate::strategy::reserve::ReservePlan;
use crate::strategy::{Shape, StrategyKind};

/// The shop of a run, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    pub products: Vec<Product>,
    /// Several products: every buyer brings a cart.
    pub carts: Option<CartPlan>,
    pub reserve: Option<ReservePlan>,
}

/// Most units a run seeds: Redis hands Lua integers as doubles, exact only
/// up to 2^53, so a larger stock would be miscounted by the scripts.
const MAX_UNITS: u64 = 1 << 53;

pub fn resolve(v: &Settings, strategies: &[StrategyKind]) -> Result<Shop> {
    let products = products(v)?;
    let carts = carts(v, products.len())?;
    let reserve = reserve(v)?;
    let shape = Shape::of(carts.is_some(), reserve.is_some());
    if let Some(s) = strategies.iter().find(|s| !s.runs(shape)) {
        return Err(Error::usage(
            if shape == Shape::Single && s.facts().holds_only() {
                format!("strategy {s} is a reservation flow: add --reserve")
            } else if shape == Shape::Single && s.runs(Shape::Carts) {
                format!(
                    "strategy {s} buys carts over several products: add --products N (or \
                     --stock NAME=UNITS,...), or leave {s} out"
                )
            } else {
                let fit: Vec<_> = StrategyKind::all_for(shape).collect();
                format!(
                    "strategy {s} has no version for {}; use {}",
                    shape.named(),
                    super::names(&fit)
                )
            },
        ));
    }
    Ok(Shop {
        products,
        carts,
        reserve,
    })
}

fn products(v: &Settings) -> Result<Vec<Product>> {
    let products = match &v.stock {
        StockSpec::Named(list) => {
            if let Some(n) = v.products.filter(|n| *n != list.len() as u64) {
                return Err(Error::usage(format!(
                    "--products {n} but --stock names {} products; give one or make them agree",
                    list.len()
                )));
            }
            list.clone()
        }
        StockSpec::Each(units) => {
            let n = v.products.unwrap_or(1);
            if n > MAX_PRODUCTS {
                return Err(Error::usage(format!(
                    "--products {n}: at most {MAX_PRODUCTS}"
                )));
            }
            let name = |p: u64| {
                if n == 1 {
                    "item".to_string()
                } else {
                    format!("p{p}")
                }
            };
            (0..n)
                .map(|p| Product {
                    name: name(p),
                    stock: *units,
                })
                .collect()
        }
    };
    if products.len() as u64 > MAX_PRODUCTS {
        return Err(Error::usage(format!(
            "--stock names {} products: at most {MAX_PRODUCTS}",
            products.len()
        )));
    }
    let total = products
        .iter()
        .try_fold(0u64, |sum, p| sum.checked_add(p.stock));
    if total.is_none_or(|t| t > MAX_UNITS) {
        return Err(Error::usage(format!(
            "--stock: at most {MAX_UNITS} units in all (2^53): the Lua scripts count \
             stock in doubles, exact only up to there"
        )));
    }
    Ok(products)
}

fn carts(v: &Settings, products: usize) -> Result<Option<CartPlan>> {
    if products < 2 {
        for (given, flag) in [(v.cart.is_some(), "--cart"), (v.skew.is_some(), "--skew")] {
            if given {
                return Err(Error::usage(format!(
                    "{flag} needs several products: add --products N (2 or more) or a --stock list"
                )));
            }
        }
        return Ok(None);
    }
    let most = products.min(MAX_LINES) as u32;
    let lines = v.cart.unwrap_or(QtyRange {
        min: 1,
        max: most.min(3),
    });
    if lines.max > most {
        return Err(Error::usage(format!(
            "--cart {lines}: a cart holds distinct products, at most {most} here \
             ({products} products, {MAX_LINES} lines per cart at most)"
        )));
    }
    Ok(Some(CartPlan {
        products: products as u16,
        lines,
        skew: v.skew.unwrap_or(1.0),
    }))
}

fn reserve(v: &Settings) -> Result<Option<ReservePlan>> {
    if !v.reserve {
        if v.rebuy {
            return Err(Error::usage("--rebuy works with --reserve"));
        }
        return Ok(None);
    }
    if v.confirm_rate + v.cancel_rate > 1.0 + 1e-9 {
        return Err(Error::usage(format!(
            "--confirm-rate {} plus --cancel-rate {} is more than everyone",
            v.confirm_rate, v.cancel_rate
        )));
    }
    if v.reapers > 64 {
        return Err(Error::usage("--reapers must be at most 64"));
    }
    if v.hold_ttl < Duration::from_millis(10) {
        return Err(Error::usage(
            "--hold-ttl must be at least 10ms: the reaper checks deadlines in ms",
        ));
    }
    Ok(Some(ReservePlan {
        hold_ttl: v.hold_ttl,
        confirm_rate: v.confirm_rate,
        cancel_rate: v.cancel_rate,
        think: v
            .hold_think
            .unwrap_or_else(|| ReservePlan::default_think(v.hold_ttl)),
        rebuy: v.rebuy,
        reapers: v.reapers as u32,
    }))
}
