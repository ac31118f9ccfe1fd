//! Buyers who did not get their units, kept so the audit can tell whether
//! they were turned away while their units were still on the shelf.

use std::ops::AddAssign;

use serde::Serialize;

/// What a buyer turned away was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Away {
    SoldOut,
    GaveUp,
    Error,
}

/// Buyers who did not get their units, by what they were told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TurnedAway {
    pub sold_out: u64,
    pub gave_up: u64,
    pub errors: u64,
}

impl TurnedAway {
    pub(super) fn add(&mut self, away: Away) {
        match away {
            Away::SoldOut => self.sold_out += 1,
            Away::GaveUp => self.gave_up += 1,
            Away::Error => self.errors += 1,
        }
    }
}

impl AddAssign<&TurnedAway> for TurnedAway {
    fn add_assign(&mut self, o: &TurnedAway) {
        self.sold_out += o.sold_out;
        self.gave_up += o.gave_up;
        self.errors += o.errors;
    }
}
