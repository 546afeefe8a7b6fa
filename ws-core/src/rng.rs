//! A tiny deterministic PRNG for backoff jitter.
//!
//! The core has no access to OS randomness (and must not: the same seed must replay the same
//! schedule). `SplitMix64` is small, fast, passes `BigCrush`, and any 64-bit seed, including zero,
//! is a good one — so callers can seed it from OS entropy or fix it for reproducible runs.

/// `SplitMix64` (Steele, Lea & Flood, 2014).
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `low..=high` (Lemire's multiply-shift; the bias is below 2^-64 per draw).
    pub(crate) fn in_range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        let span = u128::from(high - low) + 1;
        low + ((u128::from(self.next_u64()) * span) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn range_is_inclusive_and_bounded() {
        let mut rng = Rng::new(0);
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..10_000 {
            let v = rng.in_range(3, 6);
            assert!((3..=6).contains(&v));
            seen_low |= v == 3;
            seen_high |= v == 6;
        }
        assert!(seen_low && seen_high);
        assert_eq!(rng.in_range(9, 9), 9);
        assert_eq!(rng.in_range(9, 2), 9);
        let _full_range_does_not_overflow = rng.in_range(0, u64::MAX);
    }
}
