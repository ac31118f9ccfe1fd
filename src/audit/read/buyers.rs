//! Whose each order is, and which buyers bought more than once.

use std::collections::{HashMap, HashSet};

use crate::metrics::IdSet;

/// Whose each order is, by its hash's `buyer` field, and how many entries
/// of the orders list each buyer has: a buyer's order id listed twice, or
/// two order ids naming one buyer, are both a purchase applied twice.
///
/// Sets of one bit per id for what a sound run has (each order its own
/// buyer's, each buyer listed once), maps only for what is wrong: the
/// audit of a million orders hashes nothing.
#[derive(Default)]
pub(super) struct Buyers {
    /// Orders whose hash names their own id as the buyer.
    own: IdSet,
    /// Orders whose hash names another buyer. Orders without a hash have
    /// no buyer to count.
    other: HashMap<u32, u32>,
    /// Buyers with an entry on the orders list, as their own order.
    listed: IdSet,
    /// Buyers listed through another id's order: a map, as the buyer a
    /// hash names can be any number.
    listed_elsewhere: HashSet<u32>,
    /// Buyers with more entries than one: how many beyond the first.
    again: HashMap<u32, u32>,
}

impl Buyers {
    pub(super) fn owner(&mut self, id: u32, buyer: Option<u32>) {
        match buyer {
            Some(b) if b == id => drop(self.own.insert(id)),
            Some(b) => drop(self.other.insert(id, b)),
            None => {}
        }
    }

    /// One page of the orders list, its fresh ids' owners already known.
    pub(super) fn count(&mut self, ids: &[u32]) {
        for id in ids {
            let (buyer, first) = if self.own.contains(*id) {
                let first = self.listed.insert(*id) && !self.listed_elsewhere.contains(id);
                (*id, first)
            } else if let Some(b) = self.other.get(id) {
                (
                    *b,
                    !self.listed.contains(*b) && self.listed_elsewhere.insert(*b),
                )
            } else {
                continue;
            };
            if !first {
                *self.again.entry(buyer).or_default() += 1;
            }
        }
    }

    /// Buyers with more than one order, and the orders beyond their first.
    pub(super) fn duplicates(&self) -> (u64, u64) {
        let beyond = self.again.values().map(|n| u64::from(*n)).sum();
        (self.again.len() as u64, beyond)
    }
}
