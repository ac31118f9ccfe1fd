//! The seeded crowd: who shows up at midnight and how much each one wants.
//!
//! Every strategy in a run faces the same crowd, and the same `--seed` always
//! produces the same crowd, so a surprising run can be repeated exactly.

mod cart;
mod think;

pub use cart::{Cart, CartPlan, Line, Product, StockSpec, MAX_LINES, MAX_PRODUCTS};
pub use think::DurationRange;

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How many units one buyer wants: a fixed number or an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QtyRange {
    pub min: u32,
    pub max: u32,
}

impl QtyRange {
    pub const ONE: QtyRange = QtyRange { min: 1, max: 1 };
}

impl fmt::Display for QtyRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..{}", self.min, self.max)
        }
    }
}

impl FromStr for QtyRange {
    type Err = String;

    /// `3` or `1..3` (inclusive on both ends; `1..=3` is accepted too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected a quantity like 2 or a range like 1..3, got '{s}'");
        let parse = |part: &str| -> Result<u32, String> {
            let n: u32 = part.trim().parse().map_err(|_| bad())?;
            if n == 0 {
                return Err("a buyer must want at least 1 unit".into());
            }
            Ok(n)
        };
        let (min, max) = match s.split_once("..") {
            Some((lo, hi)) => (parse(lo)?, parse(hi.strip_prefix('=').unwrap_or(hi))?),
            None => {
                let n = parse(s)?;
                (n, n)
            }
        };
        if min > max {
            return Err(format!(
                "range {min}..{max} is empty: the first number must not exceed the second"
            ));
        }
        Ok(QtyRange { min, max })
    }
}

/// One buyer: an id (also the order id), the units wanted and, in a run
/// over several products, the cart they make up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buyer {
    pub id: u32,
    /// Units wanted; in a cart run, the units of the whole cart.
    pub qty: u32,
    /// Empty in a single-product run.
    pub cart: Cart,
}

impl Buyer {
    /// The buyer's cart; a single-product buyer's is one line of product 0.
    pub fn lines(&self) -> Cart {
        if self.cart.is_empty() {
            Cart::single(0, self.qty)
        } else {
            self.cart
        }
    }
}

/// The crowd of a run, shared by every strategy. Nothing per buyer is
/// stored: buyer `i` is drawn from its own stream of the seeded generator
/// when it is needed, so a crowd of ten million costs what one of ten does,
/// and the audit can ask for any buyer's cart again.
#[derive(Debug, Clone, PartialEq)]
pub struct Crowd {
    /// The seeded generator every buyer's stream is taken from.
    base: ChaCha8Rng,
    buyers: u32,
    qty: QtyRange,
    plan: Option<CartPlan>,
    /// Total units asked for, summed once.
    demand: u64,
}

impl Crowd {
    /// A crowd without carts. Public for the driver's integration tests
    /// (tests/open_model.rs), which drive a crowd without a whole run.
    pub fn generate(seed: u64, buyers: u32, qty: QtyRange) -> Crowd {
        Crowd::with_carts(seed, buyers, qty, None)
    }

    /// The crowd of a run; with a plan, every buyer brings a cart whose
    /// lines each want a quantity drawn from `qty`.
    pub fn with_carts(seed: u64, buyers: u32, qty: QtyRange, plan: Option<&CartPlan>) -> Crowd {
        // ChaCha8 is portable and stable across platforms and rand versions of
        // the same major, which is what "same seed, same crowd" needs.
        let mut crowd = Crowd {
            base: ChaCha8Rng::seed_from_u64(seed),
            buyers,
            qty,
            plan: plan.copied(),
            demand: 0,
        };
        crowd.demand = match (plan, qty.min == qty.max) {
            // Everyone wants the same: no need to draw anyone.
            (None, true) => u64::from(buyers) * u64::from(qty.min),
            _ => (0..buyers as usize)
                .map(|i| u64::from(crowd.buyer(i).qty))
                .sum(),
        };
        crowd
    }

    /// True when every buyer brings a cart over several products.
    pub fn has_carts(&self) -> bool {
        self.plan.is_some()
    }

    pub fn len(&self) -> usize {
        self.buyers as usize
    }

    pub fn is_empty(&self) -> bool {
        self.buyers == 0
    }

    /// Buyer `index`, the same every time it is asked for: a pure function
    /// of the seed, the index, the quantities and the cart plan.
    pub fn buyer(&self, index: usize) -> Buyer {
        let id = index as u32;
        if self.plan.is_none() && self.qty.min == self.qty.max {
            return Buyer {
                id,
                qty: self.qty.min,
                cart: Cart::NONE,
            };
        }
        // One stream per buyer (2^64 of them, each as long as needed), so a
        // buyer's draws never depend on another's.
        let mut rng = self.base.clone();
        rng.set_stream(index as u64);
        match &self.plan {
            None => Buyer {
                id,
                qty: rng.gen_range(self.qty.min..=self.qty.max),
                cart: Cart::NONE,
            },
            Some(plan) => {
                let cart = plan.draw(&mut rng, self.qty);
                Buyer {
                    id,
                    qty: u32::try_from(cart.units()).unwrap_or(u32::MAX),
                    cart,
                }
            }
        }
    }

    /// Total units the crowd asks for.
    pub fn demand(&self) -> u64 {
        self.demand
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_crowd_other_seed_other_crowd() {
        let q: QtyRange = "1..5".parse().unwrap();
        let a = Crowd::generate(42, 1000, q);
        let b = Crowd::generate(42, 1000, q);
        let c = Crowd::generate(43, 1000, q);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!((0..a.len()).all(|i| (1..=5).contains(&a.buyer(i).qty)));
        // Asked again, in any order, a buyer is the same buyer.
        assert_eq!(a.buyer(999), b.buyer(999));
        let qtys = |c: &Crowd| (0..c.len()).map(|i| c.buyer(i).qty).collect::<Vec<_>>();
        assert_ne!(qtys(&a), qtys(&c));
        let sum: u64 = qtys(&a).iter().map(|&q| u64::from(q)).sum();
        assert_eq!(a.demand(), sum);
        // Every quantity of the range shows up.
        assert!((1..=5).all(|q| qtys(&a).contains(&q)));
    }

    #[test]
    fn quantity_forms() {
        assert_eq!(
            "2".parse::<QtyRange>().unwrap(),
            QtyRange { min: 2, max: 2 }
        );
        assert_eq!(
            "1..3".parse::<QtyRange>().unwrap(),
            QtyRange { min: 1, max: 3 }
        );
        assert_eq!(
            "1..=3".parse::<QtyRange>().unwrap(),
            QtyRange { min: 1, max: 3 }
        );
        for bad in ["0", "3..1", "x", "1..", "-1", ""] {
            assert!(bad.parse::<QtyRange>().is_err(), "{bad} should be refused");
        }
    }
}
