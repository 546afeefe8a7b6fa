//! The core's own notion of time.
//!
//! The core never reads a clock: every call that can change state takes `now`. An [`Instant`] is
//! a [`Duration`] since an origin the driver picks (usually the moment it created the
//! supervisor), so converting from `std::time::Instant` or `tokio::time::Instant` is one
//! subtraction, and tests can run hours of virtual time in microseconds.

use core::fmt;
use core::ops::{Add, Sub};
use core::time::Duration;

/// A point on the driver's monotonic clock, in nanoseconds from an arbitrary origin (enough
/// for 584 years of uptime).
///
/// Arithmetic saturates instead of panicking: an instant far in the future is still an instant,
/// and a subtraction that would go below the origin gives the origin.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin of the driver's clock.
    pub const ZERO: Instant = Instant(0);

    /// The largest representable instant, 584 years after the origin. A deadline that lands
    /// here has saturated: it can never be told apart from "now", so the supervisor treats it
    /// as never.
    pub const MAX: Instant = Instant(u64::MAX);

    /// The instant `since_origin` after the origin (saturating at 584 years).
    pub const fn from_duration(since_origin: Duration) -> Self {
        Instant(saturating_nanos(since_origin))
    }

    /// The instant `millis` milliseconds after the origin (handy in tests and examples).
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis.saturating_mul(1_000_000))
    }

    /// How long after the origin this instant is.
    pub const fn since_origin(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + duration`, saturating at the largest representable instant.
    #[must_use]
    pub const fn saturating_add(self, duration: Duration) -> Instant {
        Instant(self.0.saturating_add(saturating_nanos(duration)))
    }
}

const fn saturating_nanos(duration: Duration) -> u64 {
    let nanos = duration.as_nanos();
    if nanos > u64::MAX as u128 {
        u64::MAX
    } else {
        nanos as u64
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating: never panics, however large `rhs` is.
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturating: an earlier minus a later instant is zero.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{:?}", self.since_origin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let late = Instant::from_duration(Duration::MAX);
        assert_eq!(late, Instant::from_duration(Duration::from_nanos(u64::MAX)));
        assert_eq!(late + Duration::from_secs(1), late);
        assert_eq!(Instant::ZERO - Instant::from_millis(5), Duration::ZERO);
        assert_eq!(
            Instant::from_millis(1500) - Instant::from_millis(500),
            Duration::from_secs(1)
        );
    }
}
