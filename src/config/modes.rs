//! Settings that only some runs use. Given outside their mode they would be
//! silently ignored, and the run would test something else than the user
//! asked for: refused, naming the setting and what it needs.

use super::settings::Settings;
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::strategy::StrategyKind;

/// A mode-specific setting and who gave it.
pub(super) struct Given {
    flag: &'static str,
    by_flag: bool,
    by_file: bool,
}

impl Given {
    pub(super) fn new(flag: &'static str, by_flag: bool, by_file: bool) -> Given {
        Given {
            flag,
            by_flag,
            by_file,
        }
    }

    /// The scenario key of a flag: `--lock-ttl` is `lock_ttl`.
    fn key(&self) -> String {
        self.flag.trim_start_matches("--").replace('-', "_")
    }
}

enum Needs {
    Strategies(&'static [StrategyKind]),
    Reserve,
}

fn needs(flag: &str) -> Needs {
    use StrategyKind as K;
    match flag {
        "--script" => Needs::Strategies(&[K::Script]),
        "--lock-ttl" | "--hold-pause" => Needs::Strategies(&[K::Lock, K::LockFenced]),
        "--app-servers" | "--app-work" => Needs::Strategies(&[K::AppLock]),
        "--gap" => Needs::Strategies(&[K::Broken, K::AppLock]),
        _ => Needs::Reserve,
    }
}

/// Refuse every mode-specific setting the run does not use. A file's key is
/// not held against strategies chosen with `-s`: the command line overrode
/// the file's choice on purpose, and the key tuned strategies no longer run.
pub(super) fn check(
    s: &Settings,
    given: &[Given],
    file: Option<&Scenario>,
    strategies_by_flag: bool,
) -> Result<()> {
    for g in given.iter().filter(|g| g.by_flag || g.by_file) {
        let problem = match needs(g.flag) {
            Needs::Reserve if !s.reserve => {
                Some(("--reserve".to_string(), "reserve = true".to_string()))
            }
            Needs::Strategies(list) if !list.iter().any(|k| s.strategies.contains(k)) => {
                if g.by_file && !g.by_flag && strategies_by_flag {
                    continue;
                }
                let flag = format!("-s {}", names(list, " or -s "));
                Some((flag, format!("the {} strategy", names(list, " or "))))
            }
            _ => None,
        };
        let Some((need_flag, need_key)) = problem else {
            continue;
        };
        let run = names(&s.strategies, ", ");
        return Err(Error::usage(match (g.by_flag, file) {
            (false, Some(f)) => format!(
                "{}: works only with {need_key}, and this run has {run}{}: \
                 remove the key or add {need_key}",
                f.at(&g.key()),
                if s.reserve { " (reservations)" } else { "" },
            ),
            _ => format!(
                "{} works with {need_flag} only, and this run has {run}: add {need_flag} or leave {} out",
                g.flag, g.flag
            ),
        }));
    }
    Ok(())
}

fn names(list: &[StrategyKind], sep: &str) -> String {
    list.iter().map(|k| k.name()).collect::<Vec<_>>().join(sep)
}
