//! Reconnect delays: exponential growth, a cap, and jitter so a fleet does not return in
//! lockstep.

use core::time::Duration;

use crate::config::{Config, Jitter};
use crate::rng::Rng;

/// The delay schedule of one reconnect streak. Reset when a connection proves stable.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    /// `multiplier^(n−1)` for the next attempt `n`. The base is `initial_delay × growth`,
    /// converted to a `Duration` once per attempt: growing the `Duration` itself step by step
    /// would round to the nanosecond at every step and drift from the formula.
    growth: f64,
    /// The last delay drawn, which decorrelated jitter grows from.
    previous: Duration,
}

impl Backoff {
    pub(crate) fn new(config: &Config) -> Self {
        Backoff {
            growth: 1.0,
            previous: config.initial_delay,
        }
    }

    pub(crate) fn reset(&mut self, config: &Config) {
        *self = Backoff::new(config);
    }

    /// The delay before the next attempt, drawn from `rng`, then advances the schedule.
    pub(crate) fn next_delay(&mut self, config: &Config, rng: &mut Rng) -> Duration {
        let base = scale(config.initial_delay, self.growth, config.max_delay);
        if base < config.max_delay {
            // Stops growing at the cap, so the factor never overflows to infinity.
            self.growth *= config.multiplier;
        }
        let delay = match config.jitter {
            Jitter::None => base,
            Jitter::Full => uniform(rng, Duration::ZERO, base),
            Jitter::Equal => uniform(rng, base / 2, base),
            Jitter::Decorrelated => {
                let high = scale(self.previous, config.multiplier, config.max_delay);
                uniform(rng, config.initial_delay.min(high), high)
            }
        };
        self.previous = delay;
        delay
    }
}

/// `duration × factor`, capped at `cap`; never panics (the factor was validated finite ≥ 1).
pub(crate) fn scale(duration: Duration, factor: f64, cap: Duration) -> Duration {
    let seconds = duration.as_secs_f64() * factor;
    if seconds >= cap.as_secs_f64() {
        cap
    } else {
        Duration::try_from_secs_f64(seconds).map_or(cap, |scaled| scaled.min(cap))
    }
}

fn uniform(rng: &mut Rng, low: Duration, high: Duration) -> Duration {
    let low_nanos = u64::try_from(low.as_nanos()).unwrap_or(u64::MAX);
    let high_nanos = u64::try_from(high.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.in_range(low_nanos, high_nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn config(jitter: Jitter, multiplier: f64) -> Config {
        Config::builder()
            .initial_delay(Duration::from_secs(1))
            .max_delay(Duration::from_secs(30))
            .multiplier(multiplier)
            .jitter(jitter)
            .build()
            .unwrap()
    }

    fn delays(config: &Config, n: usize, seed: u64) -> Vec<Duration> {
        let mut backoff = Backoff::new(config);
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| backoff.next_delay(config, &mut rng))
            .collect()
    }

    #[test]
    fn no_jitter_doubles_up_to_the_cap() {
        let secs: Vec<u64> = delays(&config(Jitter::None, 2.0), 8, 0)
            .iter()
            .map(Duration::as_secs)
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn multiplier_one_is_a_fixed_delay() {
        let all = delays(&config(Jitter::None, 1.0), 5, 0);
        assert!(all.iter().all(|d| *d == Duration::from_secs(1)));
    }

    #[test]
    fn full_and_equal_jitter_stay_within_their_band() {
        for seed in 0..200 {
            let full = delays(&config(Jitter::Full, 2.0), 8, seed);
            let equal = delays(&config(Jitter::Equal, 2.0), 8, seed);
            let bases = [1, 2, 4, 8, 16, 30, 30, 30].map(Duration::from_secs);
            for ((f, e), base) in full.iter().zip(&equal).zip(bases) {
                assert!(*f <= base);
                assert!(*e >= base / 2 && *e <= base);
            }
        }
    }

    #[test]
    fn decorrelated_jitter_grows_from_the_previous_delay() {
        let c = config(Jitter::Decorrelated, 3.0);
        for seed in 0..200 {
            let all = delays(&c, 10, seed);
            let mut previous = Duration::from_secs(1);
            for delay in all {
                let high = (previous * 3).min(Duration::from_secs(30));
                assert!(delay >= Duration::from_secs(1) && delay <= high);
                previous = delay;
            }
        }
    }

    #[test]
    fn reset_starts_over() {
        let c = config(Jitter::None, 2.0);
        let mut backoff = Backoff::new(&c);
        let mut rng = Rng::new(1);
        let _ = backoff.next_delay(&c, &mut rng);
        let _ = backoff.next_delay(&c, &mut rng);
        backoff.reset(&c);
        assert_eq!(backoff.next_delay(&c, &mut rng), Duration::from_secs(1));
    }

    #[test]
    fn twentieth_delay_matches_the_closed_form_to_the_nanosecond() {
        let c = Config::builder()
            .initial_delay(Duration::from_millis(1))
            .max_delay(Duration::from_secs(3600))
            .multiplier(1.625)
            .jitter(Jitter::None)
            .build()
            .unwrap();
        let all = delays(&c, 20, 0);
        let mut factor = 1.0f64;
        for _ in 0..19 {
            factor *= 1.625;
        }
        let closed_form = Duration::from_secs_f64(0.001 * factor);
        let drift = all[19].abs_diff(closed_form);
        assert!(drift <= Duration::from_nanos(1), "drift {drift:?}");
    }

    #[test]
    fn scale_caps_huge_values() {
        assert_eq!(
            scale(Duration::MAX, 100.0, Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }
}
