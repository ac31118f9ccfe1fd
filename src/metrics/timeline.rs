//! Throughput over time: purchases and attempts in 1-second buckets counted
//! from the release, so a reader sees the collapse once the stock runs out.

use std::ops::AddAssign;

use serde::Serialize;

/// Buckets kept at most: a day. A later event lands in the last bucket, so a
/// clock gone wrong cannot make the vectors grow without bound.
const MAX_SECONDS: usize = 86_400;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// Purchases acknowledged during second `i` after the release.
    pub purchases: Vec<u64>,
    /// Attempts (first tries and retries) that got an answer during second `i`.
    pub attempts: Vec<u64>,
}

fn bump(v: &mut Vec<u64>, second: u32, n: u64) {
    let i = (second as usize).min(MAX_SECONDS - 1);
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    v[i] += n;
}

impl Timeline {
    pub fn purchase(&mut self, second: u32) {
        bump(&mut self.purchases, second, 1);
    }

    pub fn attempts(&mut self, second: u32, n: u64) {
        bump(&mut self.attempts, second, n);
    }

    /// Both series padded to the same length, for the report.
    pub fn squared(mut self) -> Timeline {
        let n = self.purchases.len().max(self.attempts.len());
        self.purchases.resize(n, 0);
        self.attempts.resize(n, 0);
        self
    }
}

impl AddAssign<&Timeline> for Timeline {
    fn add_assign(&mut self, o: &Timeline) {
        for (i, n) in o.purchases.iter().enumerate() {
            bump(&mut self.purchases, i as u32, *n);
        }
        for (i, n) in o.attempts.iter().enumerate() {
            bump(&mut self.attempts, i as u32, *n);
        }
    }
}

/// The seconds in which one buyer's attempts were answered, as runs of
/// (second, count). A buyer's attempts are in time order, so a new run only
/// starts when a second boundary is crossed: nothing is allocated for a
/// buyer whose attempts all fall in one second, which is nearly all of them.
#[derive(Debug, Clone, Default)]
pub struct AttemptSeconds {
    first: (u32, u32),
    more: Vec<(u32, u32)>,
}

impl AttemptSeconds {
    pub fn add(&mut self, second: u32) {
        let last = self.more.last_mut().unwrap_or(&mut self.first);
        if last.1 == 0 || last.0 == second {
            last.0 = second;
            last.1 += 1;
        } else {
            self.more.push((second, 1));
        }
    }

    pub fn drain_into(&self, t: &mut Timeline) {
        for &(second, n) in std::iter::once(&self.first).chain(&self.more) {
            if n > 0 {
                t.attempts(second, u64::from(n));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_land_in_their_seconds_and_merge() {
        let mut a = AttemptSeconds::default();
        for s in [0, 0, 1, 3, 3, 3] {
            a.add(s);
        }
        let mut t = Timeline::default();
        a.drain_into(&mut t);
        t.purchase(3);
        assert_eq!(t.attempts, vec![2, 1, 0, 3]);
        assert_eq!(t.purchases, vec![0, 0, 0, 1]);
        let mut m = Timeline::default();
        m += &t;
        m += &t;
        m.purchase(5);
        let m = m.squared();
        assert_eq!(m.attempts, vec![4, 2, 0, 6, 0, 0]);
        assert_eq!(m.purchases, vec![0, 0, 0, 2, 0, 1]);
        let mut far = Timeline::default();
        far.purchase(u32::MAX);
        assert_eq!(far.purchases.len(), MAX_SECONDS);
    }
}
