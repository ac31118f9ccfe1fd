//! How the first oversold unit was sold, from the server's own replies.
//!
//! A check-then-act strategy (`broken`, `app-lock`) hands the driver what its
//! GET returned and what its DECRBY returned, with when each reply came back
//! ([`Seen`]). Nothing is reconstructed: the order in which decrements landed
//! is the order of their DECRBY results, which the server computed one after
//! the other on one key.
//!
//! Always on, so it must stay cheap: the log keeps only the decrements whose
//! result lies within [`WINDOW`] units of zero. In these strategies nothing
//! but DECRBY moves the stock, so no two decrements return the same result
//! and at most `2 × WINDOW + 1` are kept, however large the crowd.

use std::ops::AddAssign;

use serde::Serialize;
use tokio::time::Instant;

use crate::crowd::Buyer;

/// Decrements whose result is further from zero than this are not kept.
pub const WINDOW: i64 = 8;

/// What one check-then-act attempt read and wrote, as the strategy saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The stock the GET returned (a missing key reads as 0).
    pub read: i64,
    /// When the GET reply came back.
    pub read_at: Instant,
    /// The DECRBY reply and when it came back; None when the check said
    /// sold out and nothing was written.
    pub wrote: Option<(i64, Instant)>,
    /// `app-lock`: the app server (1-based) whose lock the buyer held.
    pub server: Option<u32>,
}

/// One buyer's read and write, in µs since the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RaceStep {
    pub buyer: u32,
    pub qty: u32,
    /// Stock the buyer's GET returned.
    pub read: i64,
    pub read_us: u64,
    /// Stock the buyer's DECRBY returned: what was left after its write.
    pub result: i64,
    pub wrote_us: u64,
    /// `app-lock`: the app server (1-based) the buyer went through.
    pub app_server: Option<u32>,
}

impl RaceStep {
    /// The attempt as the driver records it; None when nothing was written.
    pub fn of(buyer: &Buyer, seen: Seen, release: Instant) -> Option<RaceStep> {
        let us = |at: Instant| {
            u64::try_from(at.saturating_duration_since(release).as_micros()).unwrap_or(u64::MAX)
        };
        let (result, wrote_at) = seen.wrote?;
        Some(RaceStep {
            buyer: buyer.id,
            qty: buyer.qty,
            read: seen.read,
            read_us: us(seen.read_at),
            result,
            wrote_us: us(wrote_at),
            app_server: seen.server,
        })
    }
}

/// The few decrements around zero, per worker, merged with `+=`.
#[derive(Debug, Clone, Default)]
pub struct RaceLog {
    kept: Vec<RaceStep>,
}

impl RaceLog {
    /// Keep `step` if its result is near zero. The cap only matters if
    /// something else moved the stock and results repeated.
    pub fn note(&mut self, step: RaceStep) {
        if step.result.abs() <= WINDOW && self.kept.len() < Self::CAP {
            self.kept.push(step);
        }
    }

    const CAP: usize = 4 * WINDOW as usize + 2;

    /// The buyer whose decrement first took the stock below zero, with
    /// every kept decrement that landed between its read and its write.
    pub fn explain(&self) -> Option<Race> {
        // Results only fall: the first below zero is the one closest to it.
        let last = self
            .kept
            .iter()
            .filter(|s| s.result < 0)
            .max_by_key(|s| s.result)?;
        // A decrement landed after `last` read iff it left less than `last`
        // read, and before `last` wrote iff it left more than `last` did.
        let mut steps: Vec<RaceStep> = self
            .kept
            .iter()
            .filter(|s| s.result > last.result && s.result < last.read)
            .copied()
            .collect();
        steps.sort_by_key(|s| std::cmp::Reverse(s.result));
        steps.push(*last);
        Some(Race {
            // Results from read - 1 down: anything above the window was not kept.
            partial: last.read - 1 > WINDOW,
            steps,
        })
    }
}

impl AddAssign<&RaceLog> for RaceLog {
    fn add_assign(&mut self, o: &RaceLog) {
        for s in &o.kept {
            self.note(*s);
        }
    }
}

/// How the first oversold unit was sold: the decrements in the order they
/// landed, the last of them the first to leave the stock below zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Race {
    /// In the order the decrements landed (their results fall); the last
    /// one took the stock below zero, and every other one landed after it
    /// read and before it wrote.
    pub steps: Vec<RaceStep>,
    /// Some decrements between the last buyer's read and its write left
    /// more than `WINDOW` units and were not kept.
    pub partial: bool,
}

impl Race {
    /// The buyer whose decrement first left the stock below zero.
    pub fn last(&self) -> &RaceStep {
        self.steps.last().expect("a race has its last step")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(buyer: u32, read: i64, result: i64, read_us: u64, wrote_us: u64) -> RaceStep {
        RaceStep {
            buyer,
            qty: 1,
            read,
            read_us,
            result,
            wrote_us,
            app_server: None,
        }
    }

    #[test]
    fn the_first_negative_decrement_and_those_between_its_read_and_write() {
        let mut log = RaceLog::default();
        // #1 sold the second-to-last unit cleanly, before anyone else read.
        log.note(step(1, 2, 1, 10, 20));
        log.note(step(17, 1, 0, 30, 50));
        log.note(step(42, 1, -1, 31, 60));
        log.note(step(7, 1, -2, 32, 70));
        log.note(step(9, 1000, 900, 1, 2)); // far from zero: not kept
        let race = log.explain().expect("it oversold");
        let buyers: Vec<u32> = race.steps.iter().map(|s| s.buyer).collect();
        assert_eq!(buyers, [17, 42]);
        assert_eq!(race.last().result, -1);
        assert!(!race.partial);
        assert_eq!(log.kept.len(), 4);
    }

    #[test]
    fn no_negative_result_explains_nothing() {
        let mut log = RaceLog::default();
        log.note(step(1, 1, 0, 1, 2));
        assert_eq!(log.explain(), None);
    }

    #[test]
    fn merged_logs_stay_bounded() {
        let mut all = RaceLog::default();
        for w in 0..4 {
            let mut part = RaceLog::default();
            for i in 0..1000 {
                part.note(step(i, 1, 0, 0, 0));
            }
            all += &part;
            assert!(all.kept.len() <= RaceLog::CAP, "worker {w}");
        }
    }
}
