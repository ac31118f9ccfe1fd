//! `--gap`: the application's own work between a check-then-act strategy's
//! read and its write, drawn per buyer from the run's seed. This is the
//! window in which other buyers read the same stock: a real request handler
//! validates, prices and logs there.

use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::crowd::{Buyer, DurationRange};

/// Kept apart from the backoff's and the holds' generators: the same buyer
/// draws the same gap whatever else the run does.
const SALT: u64 = 0x6A09_E667_F3BC_C908;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Gap {
    range: DurationRange,
    seed: u64,
}

impl Gap {
    pub(crate) fn new(range: DurationRange, seed: u64) -> Gap {
        Gap { range, seed }
    }

    /// This buyer's gap.
    pub(crate) fn of(&self, buyer: &Buyer) -> Duration {
        if self.range.min == self.range.max {
            return self.range.min;
        }
        let seed = self.seed ^ SALT ^ u64::from(buyer.id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.range.draw(&mut ChaCha8Rng::seed_from_u64(seed))
    }

    /// Do the buyer's work: nothing when there is none.
    pub(crate) async fn pass(&self, buyer: &Buyer) {
        let d = self.of(buyer);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crowd::Cart;

    fn buyer(id: u32) -> Buyer {
        Buyer {
            id,
            qty: 1,
            cart: Cart::NONE,
        }
    }

    #[test]
    fn gaps_are_drawn_from_the_seed_within_the_range() {
        let range: DurationRange = "1ms..9ms".parse().unwrap();
        let a = Gap::new(range, 7);
        let drawn: Vec<Duration> = (0..50).map(|i| a.of(&buyer(i))).collect();
        assert!(drawn.iter().all(|d| (range.min..=range.max).contains(d)));
        let again: Vec<Duration> = (0..50).map(|i| Gap::new(range, 7).of(&buyer(i))).collect();
        assert_eq!(drawn, again, "the same seed draws the same gaps");
        let other: Vec<Duration> = (0..50).map(|i| Gap::new(range, 8).of(&buyer(i))).collect();
        assert_ne!(drawn, other);
    }
}
