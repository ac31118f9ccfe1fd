//! How the holds of a reservation run ended, read from the server's log.
//!
//! Every path that ends a hold (confirm, cancel, the reaper) appends
//! `"<id>:<how>"` to the `ended` list in the same transaction or script as
//! its stock movement. A correct implementation leaves exactly one entry per
//! hold; the log is how the audit sees a hold restocked twice, or confirmed
//! after the reaper already returned its units.

use std::collections::HashMap;

use fred::prelude::*;
use serde::Serialize;

use crate::redis::Keys;

const PAGE: i64 = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HoldFacts {
    /// Holds placed (the `placed` counter, incremented with each hold).
    pub placed: u64,
    /// Holds by how they ended, one count per log entry.
    pub confirmed: u64,
    pub cancelled: u64,
    pub expired: u64,
    /// Distinct holds with at least one end.
    pub ended: u64,
    /// Holds with more than one end.
    pub ended_twice: u64,
    /// Holds whose stock went back twice (cancelled and expired, or expired twice).
    pub restocked_twice: u64,
    /// Holds confirmed although they were also cancelled or expired.
    pub confirmed_late: u64,
    /// Holds still open: on the deadlines set or in the live holds.
    pub open: u64,
}

impl HoldFacts {
    /// Every hold ended exactly once and none is left open.
    pub fn each_ended_once(&self) -> bool {
        self.ended == self.placed && self.ended_twice == 0 && self.open == 0
    }
}

pub async fn read(c: &Client, keys: &Keys) -> Result<HoldFacts, Error> {
    let placed: Option<u64> = c.get(keys.placed()).await?;
    let in_deadlines: u64 = c.zcard(keys.deadlines()).await?;
    let in_holds: u64 = c.hlen(keys.holds()).await?;
    // id -> (confirmed, cancelled, expired)
    let mut ends: HashMap<u32, [u32; 3]> = HashMap::new();
    let mut start = 0;
    loop {
        let page: Vec<String> = c.lrange(keys.ended(), start, start + PAGE - 1).await?;
        if page.is_empty() {
            break;
        }
        start += page.len() as i64;
        for entry in page {
            let Some((id, how)) = entry.split_once(':') else {
                continue;
            };
            let Ok(id) = id.parse::<u32>() else { continue };
            let slot = match how {
                "c" => 0,
                "x" => 1,
                "e" => 2,
                _ => continue,
            };
            ends.entry(id).or_default()[slot] += 1;
        }
    }
    let mut f = HoldFacts {
        placed: placed.unwrap_or(0),
        open: in_deadlines.max(in_holds),
        ended: ends.len() as u64,
        ..HoldFacts::default()
    };
    for [c, x, e] in ends.into_values() {
        f.confirmed += u64::from(c);
        f.cancelled += u64::from(x);
        f.expired += u64::from(e);
        f.ended_twice += u64::from(c + x + e > 1);
        f.restocked_twice += u64::from(x + e > 1);
        f.confirmed_late += u64::from(c > 0 && x + e > 0);
    }
    Ok(f)
}
