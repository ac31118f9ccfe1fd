//! A linearizability checker for `--history` files: Wing and Gong's search,
//! with Lowe's memo of (operations linearized, state) already explored,
//! against a bounded stock counter.
//!
//! Two reductions keep a stampede's history tractable, each sound for any
//! model whose operations are compared whole (input and output):
//! - a candidate that is legal now and leaves the state as it is (a
//!   sold-out answer while stock is short) is linearized at once, without
//!   branching: placing it any later can only add constraints;
//! - of candidates with the same input and output, only the one that
//!   returned first is tried: swapping two such operations in any valid
//!   order gives another valid order.
//!
//! Without them thirty concurrent buyers already make billions of orders to
//! refute, which is why stateright's exhaustive tester was not used.

mod history;

pub use history::calls;

use std::collections::HashSet;

/// A buy as the model sees it: the quantity and what the buyer was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Buy {
    pub qty: i64,
    pub result: Told,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Told {
    Bought,
    SoldOut,
    /// `info`: may have been applied or not; never answered.
    Unknown,
}

/// One operation of the history: when it was invoked and when it
/// returned, as positions in the history; None: never returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub buy: Buy,
    pub invoked: u64,
    pub returned: Option<u64>,
}

/// The bounded stock counter: a buy of q succeeds while stock >= q and takes
/// q; it is refused while stock < q and changes nothing. An unknown outcome
/// counts as applied when it is linearized at all.
pub fn step(stock: i64, b: &Buy) -> Option<i64> {
    match b.result {
        Told::Bought | Told::Unknown if stock >= b.qty => Some(stock - b.qty),
        Told::SoldOut if stock < b.qty => Some(stock),
        _ => None,
    }
}

/// Why a history is not linearizable: the most operations any order could
/// place before it got stuck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLinearizable {
    pub placed: usize,
    pub completed: usize,
}

/// Whether some order of `calls`, consistent with real time and starting
/// from `stock`, explains every answer. Unanswered calls may be left out.
pub fn linearizable(stock: i64, calls: &[Call]) -> Result<(), NotLinearizable> {
    let mut search = Search {
        calls,
        done: vec![false; calls.len()],
        seen: HashSet::new(),
        best: 0,
    };
    let completed = calls.iter().filter(|c| c.returned.is_some()).count();
    if search.from(stock, 0) {
        Ok(())
    } else {
        Err(NotLinearizable {
            placed: search.best,
            completed,
        })
    }
}

struct Search<'a> {
    calls: &'a [Call],
    done: Vec<bool>,
    seen: HashSet<(Vec<bool>, i64)>,
    best: usize,
}

impl Search<'_> {
    fn from(&mut self, stock: i64, placed: usize) -> bool {
        self.best = self.best.max(placed);
        let open = |i: &usize| !self.done[*i];
        // The first return not yet explained: every candidate was invoked
        // before it, and it must be placed before the search goes past it.
        let horizon = (0..self.calls.len())
            .filter(open)
            .filter_map(|i| self.calls[i].returned)
            .min();
        let Some(horizon) = horizon else {
            return true;
        };
        if !self.seen.insert((self.done.clone(), stock)) {
            return false;
        }
        let candidates: Vec<usize> = (0..self.calls.len())
            .filter(open)
            .filter(|i| self.calls[*i].invoked < horizon)
            .collect();
        if let Some(&i) = candidates
            .iter()
            .find(|i| step(stock, &self.calls[**i].buy) == Some(stock))
        {
            return self.place(i, stock, placed);
        }
        let mut tried: Vec<Buy> = Vec::new();
        for &i in &earliest_of_each(self.calls, &candidates) {
            let buy = self.calls[i].buy;
            if tried.contains(&buy) || step(stock, &buy).is_none() {
                continue;
            }
            tried.push(buy);
            if self.place(i, stock, placed) {
                return true;
            }
        }
        false
    }

    fn place(&mut self, i: usize, stock: i64, placed: usize) -> bool {
        let next = step(stock, &self.calls[i].buy).expect("checked legal");
        self.done[i] = true;
        let found = self.from(next, placed + 1);
        self.done[i] = false;
        found
    }
}

/// Per distinct buy among `candidates`, the one that returned first (an
/// unanswered one last).
fn earliest_of_each(calls: &[Call], candidates: &[usize]) -> Vec<usize> {
    let mut sorted = candidates.to_vec();
    sorted.sort_by_key(|i| calls[*i].returned.unwrap_or(u64::MAX));
    let mut out: Vec<usize> = Vec::new();
    for i in sorted {
        if !out.iter().any(|o| calls[*o].buy == calls[i].buy) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(result: Told, invoked: u64, returned: Option<u64>) -> Call {
        Call {
            buy: Buy { qty: 1, result },
            invoked,
            returned,
        }
    }

    #[test]
    fn concurrent_buys_within_stock_are_linearizable() {
        // Two buyers overlap, a third comes after both and is refused.
        let calls = [
            call(Told::Bought, 0, Some(3)),
            call(Told::Bought, 1, Some(2)),
            call(Told::SoldOut, 4, Some(5)),
        ];
        assert_eq!(linearizable(2, &calls), Ok(()));
    }

    #[test]
    fn an_oversell_is_not() {
        let calls: Vec<Call> = (0..3)
            .map(|i| call(Told::Bought, i, Some(10 + i)))
            .collect();
        let err = linearizable(2, &calls).unwrap_err();
        assert_eq!((err.placed, err.completed), (2, 3));
    }

    #[test]
    fn real_time_order_is_respected() {
        // Sold out, and only afterwards a purchase from the same stock of 1:
        // concurrently this would be fine, in sequence it is not.
        let calls = [
            call(Told::SoldOut, 0, Some(1)),
            call(Told::Bought, 2, Some(3)),
        ];
        assert!(linearizable(1, &calls).is_err());
        let overlapping = [
            call(Told::SoldOut, 0, Some(3)),
            call(Told::Bought, 1, Some(2)),
        ];
        assert_eq!(linearizable(1, &overlapping), Ok(()));
    }

    #[test]
    fn an_unknown_outcome_may_or_may_not_have_applied() {
        // Applied: it explains the sold-out answer after it.
        let applied = [
            call(Told::Unknown, 0, None),
            call(Told::SoldOut, 1, Some(2)),
        ];
        assert_eq!(linearizable(1, &applied), Ok(()));
        // Not applied: it leaves the unit for the later purchase.
        let not_applied = [call(Told::Unknown, 0, None), call(Told::Bought, 1, Some(2))];
        assert_eq!(linearizable(1, &not_applied), Ok(()));
    }

    #[test]
    fn a_large_refutation_stays_quick() {
        // Thirty concurrent buyers all told "bought" from a stock of ten:
        // without the reductions this is 30! orders to refute.
        let calls: Vec<Call> = (0..30)
            .map(|i| call(Told::Bought, i, Some(100 + i)))
            .collect();
        let err = linearizable(10, &calls).unwrap_err();
        assert_eq!(err.placed, 10);
        let mut mixed: Vec<Call> = (0..10)
            .map(|i| call(Told::Bought, i, Some(50 + i)))
            .collect();
        mixed.extend((10..30).map(|i| call(Told::SoldOut, i, Some(50 + i))));
        assert_eq!(linearizable(10, &mixed), Ok(()));
    }
}
