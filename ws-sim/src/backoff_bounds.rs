//! The reconnect-delay formula, written independently of the core: what range each delay may
//! fall in, given the attempt number and the jitter mode.
//!
//! The core grows its base step by step in floating point; the formula here is the closed form
//! `initial × multiplier^(attempt−1)`, so the two can differ by rounding. [`TOLERANCE`] absorbs
//! that and nothing more.

use core::time::Duration;

use ws_core::{Config, Jitter};

/// Rounding slack allowed between the closed-form formula and the core's stepwise one.
pub const TOLERANCE: Duration = Duration::from_micros(1);

/// `initial_delay × multiplier^(attempt−1)`, capped at `max_delay` (attempt ≥ 1).
pub fn base_delay(config: &Config, attempt: u32) -> Duration {
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let seconds = config.initial_delay().as_secs_f64() * config.multiplier().powi(exponent);
    let cap = config.max_delay();
    if !seconds.is_finite() || seconds >= cap.as_secs_f64() {
        cap
    } else {
        Duration::try_from_secs_f64(seconds).map_or(cap, |base| base.min(cap))
    }
}

/// The inclusive range a delay for `attempt` may be drawn from, before any Retry-After.
///
/// `previous` is an upper bound on the previous delay drawn in this streak (the initial delay
/// at the start of a streak); only decorrelated jitter uses it.
pub fn delay_bounds(config: &Config, attempt: u32, previous: Duration) -> (Duration, Duration) {
    let base = base_delay(config, attempt);
    match config.jitter() {
        Jitter::None => (base, base),
        Jitter::Full => (Duration::ZERO, base),
        Jitter::Equal => (base / 2, base),
        Jitter::Decorrelated => {
            let grown = previous.as_secs_f64() * config.multiplier();
            let high = if grown >= config.max_delay().as_secs_f64() {
                config.max_delay()
            } else {
                Duration::from_secs_f64(grown)
            };
            (config.initial_delay().min(high), high)
        }
        // A mode newer than this checker: only the bounds every mode keeps.
        _ => (Duration::ZERO, config.max_delay()),
    }
}

/// The bounds raised to a server's Retry-After (capped by `retry_after_cap`), when the failure
/// carried one.
pub fn raise_to_retry_after(
    (low, high): (Duration, Duration),
    config: &Config,
    retry_after: Option<Duration>,
) -> (Duration, Duration) {
    match retry_after {
        Some(wait) => {
            let floor = wait.min(config.retry_after_cap());
            (low.max(floor), high.max(floor))
        }
        None => (low, high),
    }
}

/// Whether `delay` lies in `low..=high`, give or take [`TOLERANCE`].
pub fn within(delay: Duration, (low, high): (Duration, Duration)) -> bool {
    delay.saturating_add(TOLERANCE) >= low && delay <= high.saturating_add(TOLERANCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(jitter: Jitter, multiplier: f64) -> Config {
        Config::builder()
            .initial_delay(Duration::from_secs(1))
            .max_delay(Duration::from_secs(30))
            .multiplier(multiplier)
            .jitter(jitter)
            .build()
            .unwrap()
    }

    #[test]
    fn base_doubles_up_to_the_cap() {
        let c = config(Jitter::None, 2.0);
        let bases: Vec<u64> = (1..=8).map(|n| base_delay(&c, n).as_secs()).collect();
        assert_eq!(bases, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(base_delay(&c, u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn each_jitter_mode_has_its_band() {
        let s = Duration::from_secs;
        assert_eq!(
            delay_bounds(&config(Jitter::None, 2.0), 3, s(1)),
            (s(4), s(4))
        );
        assert_eq!(
            delay_bounds(&config(Jitter::Full, 2.0), 3, s(1)),
            (s(0), s(4))
        );
        assert_eq!(
            delay_bounds(&config(Jitter::Equal, 2.0), 3, s(1)),
            (s(2), s(4))
        );
        assert_eq!(
            delay_bounds(&config(Jitter::Decorrelated, 3.0), 7, s(5)),
            (s(1), s(15))
        );
        assert_eq!(
            delay_bounds(&config(Jitter::Decorrelated, 3.0), 7, s(20)),
            (s(1), s(30))
        );
    }

    #[test]
    fn retry_after_raises_both_ends_up_to_its_cap() {
        let c = Config::builder()
            .retry_after_cap(Duration::from_secs(60))
            .build()
            .unwrap();
        let s = Duration::from_secs;
        assert_eq!(
            raise_to_retry_after((s(0), s(4)), &c, Some(s(10))),
            (s(10), s(10))
        );
        assert_eq!(
            raise_to_retry_after((s(0), s(4)), &c, Some(s(600))),
            (s(60), s(60))
        );
        assert_eq!(raise_to_retry_after((s(0), s(4)), &c, None), (s(0), s(4)));
        assert!(within(s(4) + Duration::from_nanos(999), (s(0), s(4))));
        assert!(!within(s(4) + Duration::from_micros(2), (s(0), s(4))));
    }
}
