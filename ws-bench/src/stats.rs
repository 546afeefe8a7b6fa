//! Summaries: a latency histogram that records without allocating, the median and range of
//! repeated measurements, and the same for ratios of two clients paired round by round.
//!
//! The histogram is log-linear (32 sub-buckets per power of two, so a recorded value is off
//! by at most 1/32 ≈ 3 %), fixed in size and allocated once per connection before a window
//! opens, so recording a round trip costs an index computation and an increment and never
//! shows up in the allocation counts.

use std::time::Duration;

use serde::Serialize;

/// Sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
/// Values below `SUB` nanoseconds get one bucket each; then `SUB` buckets per power of two up
/// to 2^64.
const BUCKETS: usize = SUB + (64 - SUB_BITS as usize) * SUB;

/// Round-trip times in nanoseconds.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u32>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

fn bucket(nanos: u64) -> usize {
    if nanos < SUB as u64 {
        return nanos as usize;
    }
    let exponent = nanos.ilog2(); // >= SUB_BITS
    let sub = (nanos >> (exponent - SUB_BITS)) as usize & (SUB - 1);
    SUB + (exponent - SUB_BITS) as usize * SUB + sub
}

/// The middle of bucket `index`, in nanoseconds.
fn value(index: usize) -> u64 {
    if index < SUB {
        return index as u64;
    }
    let exponent = (index - SUB) / SUB + SUB_BITS as usize;
    let sub = ((index - SUB) % SUB) as u64;
    let width = 1_u64 << (exponent - SUB_BITS as usize);
    (1_u64 << exponent) + sub * width + width / 2
}

impl Histogram {
    /// Records one round trip.
    pub fn record(&mut self, rtt: Duration) {
        let nanos = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket(nanos)] += 1;
        self.total += 1;
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// Samples recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The value below which a fraction `q` (0..=1) of the samples lie; zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((self.total as f64 * q).ceil() as u64).clamp(1, self.total);
        let mut seen = 0_u64;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += u64::from(count);
            if seen >= rank {
                return Duration::from_nanos(value(index));
            }
        }
        Duration::from_nanos(value(BUCKETS - 1))
    }
}

/// The median and range of repeated measurements of one quantity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// The median (the mean of the two middle values for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; all zero when there are none.
    pub fn of(values: &[f64]) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            f64::midpoint(sorted[n / 2 - 1], sorted[n / 2])
        };
        Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }

    /// The spread of `numerators[i] ÷ denominators[i]` over the rounds both measured.
    ///
    /// Round `i` of one client is paired with round `i` of the other because the two ran
    /// within a second of each other (the clients are interleaved round-robin), so whatever
    /// drifted between rounds (load from other builds, frequency, caches) moves both and
    /// cancels out of their ratio; a ratio of two medians would compare rounds measured at
    /// different times. A zero denominator counts as 10⁻⁹, so a ratio stays finite (and
    /// absurd enough to notice) rather than infinite, which JSON cannot hold.
    pub fn paired_ratio(numerators: &[f64], denominators: &[f64]) -> Spread {
        let ratios: Vec<f64> = numerators
            .iter()
            .zip(denominators)
            .map(|(n, d)| n / d.max(1e-9))
            .collect();
        Spread::of(&ratios)
    }

    /// The spread of `minuends[i] − subtrahends[i]` over the rounds both measured: the
    /// paired form of a difference, for the same reason as [`Spread::paired_ratio`].
    pub fn paired_difference(minuends: &[f64], subtrahends: &[f64]) -> Spread {
        let differences: Vec<f64> = minuends
            .iter()
            .zip(subtrahends)
            .map(|(a, b)| a - b)
            .collect();
        Spread::of(&differences)
    }

    /// Every value moved by `by`.
    #[must_use]
    pub fn shifted(self, by: f64) -> Spread {
        Spread {
            median: self.median + by,
            min: self.min + by,
            max: self.max + by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_three_percent() {
        let mut histogram = Histogram::default();
        for micros in 1..=1000_u64 {
            histogram.record(Duration::from_micros(micros));
        }
        let p50 = histogram.quantile(0.5).as_nanos() as f64;
        let p99 = histogram.quantile(0.99).as_nanos() as f64;
        assert!((p50 / 500_000.0 - 1.0).abs() < 0.03, "{p50}");
        assert!((p99 / 990_000.0 - 1.0).abs() < 0.03, "{p99}");
        assert_eq!(histogram.len(), 1000);
        let mut merged = Histogram::default();
        merged.merge(&histogram);
        merged.merge(&histogram);
        assert_eq!(merged.len(), 2000);
        assert_eq!(merged.quantile(0.5), histogram.quantile(0.5));
    }

    #[test]
    fn buckets_cover_the_whole_range() {
        for nanos in [0, 1, 31, 32, 33, 1000, u64::MAX / 3, u64::MAX] {
            let index = bucket(nanos);
            assert!(index < BUCKETS, "{nanos}");
            let middle = value(index) as f64;
            assert!(
                nanos < 32 || (middle / nanos as f64 - 1.0).abs() < 0.04,
                "{nanos}"
            );
        }
    }

    #[test]
    fn spread_takes_the_median() {
        assert_eq!(
            Spread::of(&[3.0, 1.0, 2.0]),
            Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        assert!((Spread::of(&[4.0, 1.0, 2.0, 3.0]).median - 2.5).abs() < 1e-12);
    }

    #[test]
    fn paired_ratios_divide_round_by_round() {
        // Rounds 0..3: 100/50, 90/60, 120/40, 80/80. Paired: 2.0, 1.5, 3.0, 1.0. The ratio of
        // the medians (95 / 55 ≈ 1.73) is not what is reported.
        let adapter = [100.0, 90.0, 120.0, 80.0];
        let baseline = [50.0, 60.0, 40.0, 80.0];
        assert_eq!(
            Spread::paired_ratio(&adapter, &baseline),
            Spread {
                median: 1.75,
                min: 1.0,
                max: 3.0
            }
        );
        // Odd count: the middle one.
        assert_eq!(
            Spread::paired_ratio(&[3.0, 8.0, 10.0], &[2.0, 2.0, 10.0]),
            Spread {
                median: 1.5,
                min: 1.0,
                max: 4.0
            }
        );
        // A round only one side measured is left out; a zero denominator stays finite.
        assert_eq!(
            Spread::paired_ratio(&[2.0, 4.0, 6.0], &[1.0, 2.0]),
            Spread {
                median: 2.0,
                min: 2.0,
                max: 2.0
            }
        );
        assert!((Spread::paired_ratio(&[1.0], &[0.0]).max - 1e9).abs() < 1.0);
        assert_eq!(Spread::paired_ratio(&[], &[]), Spread::default());
    }

    #[test]
    fn paired_differences_subtract_round_by_round() {
        assert_eq!(
            Spread::paired_difference(&[2.5, 0.5, 1.0], &[2.0, 0.5, 0.25]),
            Spread {
                median: 0.5,
                min: 0.0,
                max: 0.75
            }
        );
    }
}
