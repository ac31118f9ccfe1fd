//! The strategies a user can name, and the one table from each to the
//! [`Facts`] its own file declares.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::facts::Shape;
use super::StrategyKind;

/// Declares [`StrategyKind`], its list and its facts from one table (the
/// table itself is in `strategy/mod.rs`, beside the `mod` lines).
macro_rules! strategies {
    ($($kind:ident => $facts:path,)*) => {
        /// The strategies a user can name on the command line.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum StrategyKind {
            $($kind,)*
        }

        impl StrategyKind {
            pub const ALL: &'static [StrategyKind] = &[$(StrategyKind::$kind,)*];

            /// What the strategy's own file declares about it.
            pub fn facts(self) -> &'static Facts {
                match self {
                    $(StrategyKind::$kind => &$facts,)*
                }
            }
        }
    };
}

impl StrategyKind {
    pub fn name(self) -> &'static str {
        self.facts().name
    }

    /// Whether it has a version for a run of this shape.
    pub fn runs(self, shape: Shape) -> bool {
        self.facts().build(shape).is_some()
    }

    /// The strategies that have a version for a run of this shape.
    pub fn all_for(shape: Shape) -> impl Iterator<Item = StrategyKind> {
        StrategyKind::ALL
            .iter()
            .copied()
            .filter(move |k| k.runs(shape))
    }
}

/// The `--strategy` help: every strategy's own line, then which ones have
/// cart and reservation versions.
pub fn help() -> String {
    let names = |shape| {
        StrategyKind::all_for(shape)
            .map(StrategyKind::name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out =
        String::from("Strategies to compare, in order: repeat the flag or give a comma list.\n");
    for k in StrategyKind::ALL {
        out.push_str(&format!("  {:<15}{}\n", k.name(), k.facts().help));
    }
    out.push_str(&format!(
        "Carts: {}. Reservations: {}. [default: broken,watch; with --reserve: lua,reserve-naive]",
        names(Shape::Carts),
        names(Shape::Holds)
    ));
    out
}

/// As its name, the same string `-s` takes.
impl Serialize for StrategyKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StrategyKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        StrategyKind::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let known: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown strategy '{s}' (known: {})", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serialize_as_typed() {
        for k in StrategyKind::ALL {
            assert_eq!(k.name().parse::<StrategyKind>(), Ok(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
    }

    #[test]
    fn every_strategy_runs_somewhere() {
        for k in StrategyKind::ALL {
            let f = k.facts();
            assert!(
                f.single.is_some() || f.cart.is_some() || f.hold.is_some(),
                "{k}"
            );
        }
    }
}
