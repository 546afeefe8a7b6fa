//! A tiny deterministic PRNG for the simulator's schedules, so that a seed alone reproduces a
//! whole run (`SplitMix64`: small, fast, and every seed is a good one).

/// `SplitMix64` (Steele, Lea & Flood, 2014).
#[derive(Clone, Debug)]
pub struct SplitMix {
    state: u64,
}

impl SplitMix {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `low..=high` (`low` when the range is empty).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        let span = u128::from(high - low) + 1;
        low + ((u128::from(self.next_u64()) * span) >> 64) as u64
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 99) < percent
    }

    /// A duration in `low_ms..=high_ms` milliseconds.
    pub fn millis(&mut self, low_ms: u64, high_ms: u64) -> core::time::Duration {
        core::time::Duration::from_millis(self.range(low_ms, high_ms))
    }

    /// One of `choices` (which must not be empty).
    pub fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.range(0, choices.len() as u64 - 1) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_ranges_are_inclusive() {
        let mut a = SplitMix::new(3);
        let mut b = SplitMix::new(3);
        let draws: Vec<u64> = (0..1_000).map(|_| a.range(2, 5)).collect();
        assert!(draws.iter().all(|d| (2..=5).contains(d)));
        assert!(draws.contains(&2) && draws.contains(&5));
        let again: Vec<u64> = (0..1_000).map(|_| b.range(2, 5)).collect();
        assert_eq!(draws, again);
        assert_eq!(a.range(7, 7), 7);
    }
}
