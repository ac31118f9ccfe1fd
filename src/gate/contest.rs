//! Whether a crowd can provoke an oversell at all: a control group is held
//! to its flaw only when the buyers who could each be served alone ask for
//! more than the stock. `--stock 0`, or every buyer wanting more than there
//! is, turns everyone away whatever the strategy: no demand can oversell.

use crate::crowd::Crowd;

/// The demand an oversell can come from, to compare with the whole stock:
/// the units asked for by buyers whose whole cart fits the stock seeded (a
/// buyer who wants more than a product holds is turned away by every
/// strategy, sound or not, so never takes part in an oversell).
///
/// Products are weighed one by one: when one product is asked for beyond
/// its own stock, the result is at least one unit more than the whole
/// stock, so another product's leftovers cannot hide that product's
/// oversell from the rule `contested > stock`.
pub fn contested(crowd: &Crowd, stocks: &[u64]) -> u64 {
    let mut asked = vec![0u64; stocks.len()];
    for i in 0..crowd.len() {
        let cart = crowd.buyer(i).lines();
        let lines = cart.lines();
        let fits = lines.iter().all(|l| {
            stocks
                .get(usize::from(l.product))
                .is_some_and(|&s| u64::from(l.qty) <= s)
        });
        if fits {
            for l in lines {
                asked[usize::from(l.product)] += u64::from(l.qty);
            }
        }
    }
    let whole: u64 = stocks.iter().sum();
    let sum: u64 = asked.iter().sum();
    if asked.iter().zip(stocks).any(|(a, s)| a > s) {
        sum.max(whole + 1)
    } else {
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crowd::QtyRange;

    fn crowd(buyers: u32, min: u32, max: u32) -> Crowd {
        Crowd::generate(7, buyers, QtyRange { min, max })
    }

    #[test]
    fn nobody_who_wants_more_than_the_stock_counts() {
        assert_eq!(contested(&crowd(500, 1, 1), &[0]), 0);
        assert_eq!(contested(&crowd(500, 3, 5), &[2]), 0);
        assert_eq!(contested(&crowd(500, 1, 1), &[100]), 500);
        // Two buyers of 5 over a stock of 5: both can read 5 and both buy.
        assert_eq!(contested(&crowd(2, 5, 5), &[5]), 10);
        assert_eq!(contested(&crowd(1, 5, 5), &[5]), 5);
    }
}
