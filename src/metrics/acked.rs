//! Which buyers were told "bought": one bit per buyer, since the order id
//! is the buyer's index. A million buyers cost 125 kB, whatever the run.

use std::ops::BitOrAssign;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdSet {
    words: Vec<u64>,
    len: u64,
}

impl IdSet {
    /// Adds `id`; true when it was not in the set yet.
    pub fn insert(&mut self, id: u32) -> bool {
        let (word, bit) = (id as usize / 64, id % 64);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        let mask = 1u64 << bit;
        let fresh = self.words[word] & mask == 0;
        if fresh {
            self.words[word] |= mask;
            self.len += 1;
        }
        fresh
    }

    pub fn contains(&self, id: u32) -> bool {
        let (word, bit) = (id as usize / 64, id % 64);
        self.words.get(word).is_some_and(|w| w & (1u64 << bit) != 0)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many ids of `self` are not in `other`.
    pub fn missing_from(&self, other: &IdSet) -> u64 {
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| (w & !other.words.get(i).copied().unwrap_or(0)).count_ones())
            .map(u64::from)
            .sum()
    }
}

impl BitOrAssign<&IdSet> for IdSet {
    fn bitor_assign(&mut self, o: &IdSet) {
        if self.words.len() < o.words.len() {
            self.words.resize(o.words.len(), 0);
        }
        for (w, x) in self.words.iter_mut().zip(&o.words) {
            *w |= x;
        }
        self.len = self.words.iter().map(|w| u64::from(w.count_ones())).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_merge_and_count_what_is_missing() {
        let (mut a, mut b) = (IdSet::default(), IdSet::default());
        for id in [0, 63, 64, 1000] {
            a.insert(id);
        }
        a.insert(64);
        b.insert(64);
        b.insert(5000);
        assert_eq!((a.len(), a.missing_from(&b)), (4, 3));
        assert!(a.contains(1000) && !a.contains(999));
        a |= &b;
        assert_eq!((a.len(), a.missing_from(&b)), (5, 3));
        assert_eq!(b.missing_from(&a), 0);
    }
}
