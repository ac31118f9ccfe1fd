//! What a strategy's own file declares about it, once: its name, its help
//! line, the versions it has (one product, carts, the reservation flow),
//! when it is a control group, which checks it fails by design and which
//! commands each version sends (what the preflight asks the ACL about).
//!
//! Config, the help text, [`super::prepare`] and the gate all read these;
//! none of them lists strategies of its own.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Params, Setup, Strategy};
use crate::error::Result;
use crate::outcome::{CheckId, Expect};
use crate::redis::preflight;

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
    /// given a crowd that can show it (the gate decides when it can). A
    /// sound strategy returns None, or the clean expectation it is held to
    /// under its own name (`lock-fenced` paused past its lease: starved).
    pub control: fn(&Params) -> Option<Expect>,
    /// Checks it fails by design without being unsound: shown, but not
    /// failing its verdict.
    pub tolerates: fn(&Params) -> &'static [CheckId],
    /// Every command each version sends.
    pub commands: Commands,
}

/// Every command one version of a strategy sends, from the client and from
/// inside its scripts (Redis checks a script's calls against the same ACL),
/// `SCRIPT|LOAD` form for a subcommand. Empty for a version it does not
/// have. The preflight asks the ACL about these before any key is written.
#[derive(Debug, Clone, Copy)]
pub struct Commands {
    pub single: &'static [&'static str],
    pub cart: &'static [&'static str],
    pub hold: &'static [&'static str],
}

impl Commands {
    pub fn of(&self, shape: Shape) -> &'static [&'static str] {
        match shape {
            Shape::Single => self.single,
            Shape::Carts => self.cart,
            Shape::Holds => self.hold,
        }
    }
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

    /// What the preflight checks for this strategy in a run of this shape:
    /// its own commands, and what the session and the audit send for every
    /// strategy (seeding, audit, cleanup, liveness).
    pub fn preflight(&self, shape: Shape) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = preflight::COMMON.to_vec();
        all.extend_from_slice(self.commands.of(shape));
        all.sort_unstable();
        all.dedup();
        all
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

#[cfg(test)]
mod tests {
    use crate::strategy::StrategyKind;

    use super::Shape;

    fn commands_for(kind: StrategyKind, shape: Shape) -> Vec<&'static str> {
        kind.facts().preflight(shape)
    }

    #[test]
    fn each_strategy_lists_what_it_sends() {
        let lua = commands_for(StrategyKind::Lua, Shape::Single);
        assert!(lua.contains(&"EVALSHA") && lua.contains(&"SCRIPT|LOAD") && lua.contains(&"SET"));
        assert!(!lua.contains(&"MULTI"));
        let watch = commands_for(StrategyKind::Watch, Shape::Single);
        assert!(watch.contains(&"WATCH") && watch.contains(&"EXEC"));
        assert!(commands_for(StrategyKind::Function, Shape::Single).contains(&"FUNCTION|LOAD"));
        assert!(commands_for(StrategyKind::ReserveNaive, Shape::Holds).contains(&"ZADD"));
    }

    #[test]
    fn every_version_a_strategy_has_lists_its_commands() {
        for k in StrategyKind::ALL {
            let f = k.facts();
            for shape in [Shape::Single, Shape::Carts, Shape::Holds] {
                assert_eq!(
                    f.build(shape).is_some(),
                    !f.commands.of(shape).is_empty(),
                    "{k} in {}",
                    shape.named()
                );
            }
        }
    }
}
