//! Reservation figures the buyers saw: how their holds went, per operation.

use std::ops::AddAssign;

use hdrhistogram::Histogram;

use super::new_histogram;

/// What the holders were told, and how long confirm and cancel took. The
/// server's own account of how holds ended is the audit's `HoldFacts`.
#[derive(Debug, Clone)]
pub struct HoldTally {
    /// Holds the server acknowledged.
    pub placed: u64,
    pub confirmed: u64,
    /// Confirms that found the hold already gone (expired).
    pub confirm_late: u64,
    pub cancelled: u64,
    /// Cancels that found the hold already gone.
    pub cancel_late: u64,
    /// Holders who walked away and left the hold to the reaper.
    pub abandoned: u64,
    /// Confirms or cancels with an unknown outcome.
    pub settle_errors: u64,
    /// Times a buyer told "sold out, but units are held" came back.
    pub rebuys: u64,
    /// µs of each confirm and cancel call.
    pub confirm: Histogram<u64>,
    pub cancel: Histogram<u64>,
}

impl Default for HoldTally {
    fn default() -> Self {
        HoldTally {
            placed: 0,
            confirmed: 0,
            confirm_late: 0,
            cancelled: 0,
            cancel_late: 0,
            abandoned: 0,
            settle_errors: 0,
            rebuys: 0,
            confirm: new_histogram(),
            cancel: new_histogram(),
        }
    }
}

impl AddAssign<&HoldTally> for HoldTally {
    fn add_assign(&mut self, o: &HoldTally) {
        self.placed += o.placed;
        self.confirmed += o.confirmed;
        self.confirm_late += o.confirm_late;
        self.cancelled += o.cancelled;
        self.cancel_late += o.cancel_late;
        self.abandoned += o.abandoned;
        self.settle_errors += o.settle_errors;
        self.rebuys += o.rebuys;
        self.confirm
            .add(&o.confirm)
            .expect("histograms share their bounds");
        self.cancel
            .add(&o.cancel)
            .expect("histograms share their bounds");
    }
}
