//! A tiny seeded random source for backoff jitter (SplitMix64), so tests are deterministic
//! and the crate needs no random-number dependency.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A seeded pseudo-random source of jitter. Not for cryptography.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A source that yields the same sequence for the same seed.
    pub fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A source seeded from the process's hash randomness (different on every run).
    pub fn from_entropy() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x6b65_656c);
        Self::seeded(hasher.finish())
    }

    /// The next value, uniform in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        // SplitMix64 (Steele, Lea, Flood 2014); the top 53 bits make an f64 in [0, 1).
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_values_stay_in_unit_interval() {
        let mut a = Jitter::seeded(7);
        let mut b = Jitter::seeded(7);
        let mut other = Jitter::seeded(8);
        let first: Vec<f64> = (0..1000).map(|_| a.next_unit()).collect();
        let again: Vec<f64> = (0..1000).map(|_| b.next_unit()).collect();
        assert_eq!(first, again);
        assert_ne!(first[0], other.next_unit());
        assert!(first.iter().all(|u| (0.0..1.0).contains(u)));
        let mean = first.iter().sum::<f64>() / first.len() as f64;
        assert!((0.45..0.55).contains(&mean), "mean {mean}");
        let _ = Jitter::from_entropy().next_unit();
    }
}
