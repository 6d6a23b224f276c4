//! Per-process memory for filters whose failures span lines (sshd logs "Connection from HOST" and,
//! later, a failure without the host; PostgreSQL logs the client on one line and the failed
//! password on another). Bounded: past its capacity the oldest half is dropped, so a flood of
//! connections cannot grow it without limit.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small, fast hasher for integer keys (FxHash's multiply-rotate). Keys here are process keys
/// the daemon derives itself; there is no untrusted key choice to defend against beyond the
/// bounded size.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Entries keyed by process, each stamped with the sequence number of its last update.
#[derive(Debug)]
pub struct Tracker<V> {
    map: FxMap<u64, (u64, V)>,
    seq: u64,
    cap: usize,
}

impl<V: Default> Tracker<V> {
    /// A tracker holding at most `cap` processes.
    pub fn new(cap: usize) -> Tracker<V> {
        Tracker {
            map: FxMap::default(),
            seq: 0,
            cap: cap.max(2),
        }
    }

    /// The entry for `key`, created empty if absent.
    pub fn entry(&mut self, key: u64) -> &mut V {
        self.seq += 1;
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.evict_oldest_half();
        }
        let seq = self.seq;
        let slot = self.map.entry(key).or_insert_with(|| (seq, V::default()));
        slot.0 = seq;
        &mut slot.1
    }

    /// The entry for `key`, if present.
    pub fn get(&self, key: u64) -> Option<&V> {
        self.map.get(&key).map(|(_, v)| v)
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: u64) {
        self.map.remove(&key);
    }

    /// How many processes are tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn evict_oldest_half(&mut self) {
        let mut seqs: Vec<u64> = self.map.values().map(|(s, _)| *s).collect();
        let mid = seqs.len() / 2;
        let (_, cut, _) = seqs.select_nth_unstable(mid);
        let cut = *cut;
        self.map.retain(|_, (s, _)| *s > cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_keeps_recent_entries() {
        let mut t: Tracker<u32> = Tracker::new(100);
        for k in 0..10_000u64 {
            *t.entry(k) = k as u32;
            assert!(t.len() <= 100);
        }
        assert_eq!(t.get(9_999), Some(&9_999));
        assert_eq!(t.get(0), None);
    }
}
