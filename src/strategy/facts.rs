//! What a strategy's own file declares about it, once: its name, its help
//! line, the versions it has (one product, carts, the reservation flow),
//! when it is a control group and which checks it fails by design.
//!
//! Config, the help text, [`super::prepare`] and the gate all read these;
//! none of them lists strategies of its own.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Params, Setup, Strategy};
use crate::error::Result;
use crate::outcome::{CheckId, Expect};

/// Opens a strategy's connections and loads its scripts.
pub type Build = for<'a> fn(Setup<'a>) -> BoxFuture<'a, Result<Arc<dyn Strategy>>>;

pub struct Facts {
    /// As typed after `-s` and shown in every report.
    pub name: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    /// Its version for one product; None for a reservation-only flow.
    pub single: Option<Build>,
    /// Its version for carts over several products.
    pub cart: Option<Build>,
    /// Its version of the reservation flow (`--reserve`).
    pub hold: Option<Build>,
    /// Control groups: what the audit must catch with these parameters,
    /// given a crowd that can show it (the gate decides when it can).
    /// None: the strategy is meant to be sound.
    pub control: fn(&Params) -> Option<Expect>,
    /// Checks it fails by design without being unsound: shown, but not
    /// failing its verdict.
    pub tolerates: fn(&Params) -> &'static [CheckId],
}

/// What kind of run a strategy is asked to take part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Single,
    Carts,
    Holds,
}

impl Shape {
    /// Reservations hold carts too, so `--reserve` decides first.
    pub fn of(carts: bool, reserve: bool) -> Shape {
        match (carts, reserve) {
            (_, true) => Shape::Holds,
            (true, false) => Shape::Carts,
            (false, false) => Shape::Single,
        }
    }

    /// The run's shape as the user asked for it, for usage errors.
    pub fn named(self) -> &'static str {
        match self {
            Shape::Single => "one product",
            Shape::Carts => "carts (several products)",
            Shape::Holds => "--reserve",
        }
    }
}

impl Facts {
    /// How to build this strategy for a run of this shape, if it has a
    /// version for it.
    pub fn build(&self, shape: Shape) -> Option<Build> {
        match shape {
            Shape::Single => self.single,
            Shape::Carts => self.cart,
            Shape::Holds => self.hold,
        }
    }

    /// Only a reservation flow: it needs `--reserve`.
    pub fn holds_only(&self) -> bool {
        self.single.is_none() && self.hold.is_some()
    }
}

/// A strategy's constructor as a [`Build`]: boxed, so every strategy's
/// future has the one type a table of them needs.
pub(crate) fn built<'a, S, F>(new: F) -> BoxFuture<'a, Result<Arc<dyn Strategy>>>
where
    S: Strategy + 'static,
    F: Future<Output = Result<S>> + Send + 'a,
{
    Box::pin(async move { Ok(Arc::new(new.await?) as Arc<dyn Strategy>) })
}
