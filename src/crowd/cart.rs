//! Several products and carts over them: what a buyer puts in the basket.
//!
//! A cart is small and `Copy`, so a buyer still travels by value through the
//! driver without an allocation per attempt.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_distr::{Distribution, Zipf};
use serde::Serialize;

use super::QtyRange;

/// Most lines one cart can hold.
pub const MAX_LINES: usize = 8;
/// Most products one run seeds (each has its own keys).
pub const MAX_PRODUCTS: u64 = 1000;

/// One line of a cart: a product (its index) and the units wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Line {
    pub product: u16,
    pub qty: u32,
}

/// A buyer's cart, bought whole or not at all. Empty in a single-product
/// run, where the buyer's `qty` says everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cart {
    len: u8,
    lines: [Line; MAX_LINES],
}

impl Cart {
    pub const NONE: Cart = Cart {
        len: 0,
        lines: [Line { product: 0, qty: 0 }; MAX_LINES],
    };

    /// A cart of one line.
    pub fn single(product: u16, qty: u32) -> Cart {
        let mut c = Cart::NONE;
        c.push(Line { product, qty });
        c
    }

    /// Lines in product order (keys are always taken in the same order).
    pub fn lines(&self) -> &[Line] {
        &self.lines[..usize::from(self.len)]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn units(&self) -> u64 {
        self.lines().iter().map(|l| u64::from(l.qty)).sum()
    }

    /// `"p:q,p:q"`: how a hold stores its lines on the server.
    pub fn encode(&self) -> String {
        let parts: Vec<String> = self
            .lines()
            .iter()
            .map(|l| format!("{}:{}", l.product, l.qty))
            .collect();
        parts.join(",")
    }

    fn push(&mut self, line: Line) {
        self.lines[usize::from(self.len)] = line;
        self.len += 1;
    }

    fn holds(&self, product: u16) -> bool {
        self.lines().iter().any(|l| l.product == product)
    }

    fn sort(&mut self) {
        self.lines[..usize::from(self.len)].sort_by_key(|l| l.product);
    }
}

/// A product on sale and the stock seeded for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub name: String,
    pub stock: u64,
}

/// `--stock`: the same units for every product, or a named list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockSpec {
    Each(u64),
    Named(Vec<Product>),
}

impl FromStr for StockSpec {
    type Err = String;

    /// `100`, or `ps5=100,xbox=50`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let units = |v: &str| {
            v.trim().parse::<u64>().map_err(|_| {
                format!("expected units like 100 or a list like ps5=100,xbox=50, got '{s}'")
            })
        };
        if !s.contains('=') {
            return units(s).map(StockSpec::Each);
        }
        let mut products: Vec<Product> = Vec::new();
        for part in s.split(',') {
            let (name, v) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' in '{s}' is not NAME=UNITS"))?;
            let name = name.trim();
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !ok {
                return Err(format!(
                    "product name '{name}' in '{s}': use letters, digits, '-', '_' or '.'"
                ));
            }
            if products.iter().any(|p| p.name == name) {
                return Err(format!("product '{name}' appears twice in '{s}'"));
            }
            products.push(Product {
                name: name.to_string(),
                stock: units(v)?,
            });
        }
        Ok(StockSpec::Named(products))
    }
}

/// How carts are drawn: how many lines, over how many products, how hot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CartPlan {
    pub products: u16,
    /// Lines per cart (distinct products), drawn uniformly.
    pub lines: QtyRange,
    /// Zipf exponent of product popularity: 0 is uniform, 1 makes product 0
    /// about twice as popular as product 1, and so on.
    pub skew: f64,
}

impl fmt::Display for CartPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} products, {} lines per cart, skew {}",
            self.products, self.lines, self.skew
        )
    }
}

impl CartPlan {
    /// Draw one cart: distinct products by popularity, a quantity each.
    pub fn draw(&self, rng: &mut impl Rng, qty: QtyRange) -> Cart {
        let n = u64::from(self.products);
        // Checked when the plan was built: n >= 1 and skew >= 0.
        let popularity = Zipf::new(n, self.skew).expect("valid Zipf parameters");
        let lines = rng
            .gen_range(self.lines.min..=self.lines.max)
            .min(u32::from(self.products)) as usize;
        let mut cart = Cart::NONE;
        while cart.lines().len() < lines {
            // Rejection keeps the popularity law among distinct products; a
            // very hot head can take many draws, so after a few the least
            // popular free product is taken instead.
            let mut product = None;
            for _ in 0..64 {
                let p = (popularity.sample(rng) as u64).clamp(1, n) - 1;
                let p = p as u16;
                if !cart.holds(p) {
                    product = Some(p);
                    break;
                }
            }
            let product = product.unwrap_or_else(|| {
                (0..self.products)
                    .rev()
                    .find(|p| !cart.holds(*p))
                    .expect("fewer lines than products")
            });
            cart.push(Line {
                product,
                qty: rng.gen_range(qty.min..=qty.max),
            });
        }
        cart.sort();
        cart
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn carts_hold_distinct_products_in_order_and_skew_heats_the_head() {
        let plan = CartPlan {
            products: 5,
            lines: QtyRange { min: 1, max: 3 },
            skew: 1.2,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut first = [0u32; 5];
        for _ in 0..5000 {
            let cart = plan.draw(&mut rng, QtyRange { min: 1, max: 2 });
            let l = cart.lines();
            assert!((1..=3).contains(&l.len()));
            assert!(l.windows(2).all(|w| w[0].product < w[1].product));
            assert!(l.iter().all(|x| (1..=2).contains(&x.qty)));
            for x in l {
                first[usize::from(x.product)] += 1;
            }
        }
        assert!(first[0] > first[4] * 2, "{first:?}");
    }

    #[test]
    fn stock_lists() {
        assert_eq!("100".parse::<StockSpec>(), Ok(StockSpec::Each(100)));
        let StockSpec::Named(p) = "ps5=100, xbox=50".parse::<StockSpec>().unwrap() else {
            panic!("a list")
        };
        assert_eq!((p[1].name.as_str(), p[1].stock), ("xbox", 50));
        for bad in ["ps5=1,ps5=2", "=3", "a b=1", "ps5=x", "ps5"] {
            assert!(bad.parse::<StockSpec>().is_err(), "{bad}");
        }
    }
}
