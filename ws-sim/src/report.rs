//! What the fault simulator measured, summed over many runs: how long dead peers took to be
//! caught against the configured bound, and where reconnect delays fell in their allowed
//! range.

use core::fmt;
use core::time::Duration;

use ws_core::Jitter;

use crate::simulator::{Detection, Measurements};

/// min / p50 / p99 / max of a sample.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Spread {
    /// Smallest value.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
    /// Sample size.
    pub count: usize,
}

impl Spread {
    /// The spread of `values`, or `None` for an empty sample.
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Some(Spread {
            min: values[0],
            p50: at(0.5),
            p99: at(0.99),
            max: values[values.len() - 1],
            count: values.len(),
        })
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={:<6} min {:>8.3}  p50 {:>8.3}  p99 {:>8.3}  max {:>8.3}",
            self.count, self.min, self.p50, self.p99, self.max
        )
    }
}

/// Measurements summed over runs.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Runs summed.
    pub runs: u64,
    /// Calls made, in total.
    pub calls: u64,
    /// Virtual time covered, in total.
    pub virtual_time: Duration,
    /// Every dead peer caught.
    pub detections: Vec<Detection>,
    /// Every reconnect delay: jitter mode, delay, and the range the formula allowed.
    pub backoffs: Vec<(Jitter, crate::observer::BackoffSample)>,
    /// Connections opened, in total.
    pub opens: u64,
    /// Late-tick probes, in total.
    pub probes: u64,
    /// `GaveUp` events, in total.
    pub gave_up: u64,
    /// Messages sent and handed back, in total.
    pub messages: (u64, u64),
}

impl Report {
    /// Adds one run.
    pub fn add(&mut self, run: Measurements) {
        self.runs += 1;
        self.calls += run.calls;
        self.virtual_time += run.virtual_time;
        self.detections.extend(run.detections);
        self.backoffs.extend(run.backoffs);
        self.opens += run.counters.opens;
        self.probes += run.counters.probes;
        self.gave_up += run.counters.gave_up;
        self.messages.0 += run.counters.sent;
        self.messages.1 += run.counters.handed_back;
    }

    /// Detections of a driver that ticked on time (no suspension during the connection).
    pub fn punctual_detections(&self) -> impl Iterator<Item = &Detection> {
        self.detections.iter().filter(|d| !d.suspended)
    }

    /// Seconds from the last sign of life to the drop, punctual driver.
    pub fn detection_seconds(&self) -> Option<Spread> {
        Spread::of(
            self.punctual_detections()
                .map(|d| d.since_last_sign_of_life.as_secs_f64())
                .collect(),
        )
    }

    /// The same as a fraction of the bound `ping_interval + pong_timeout` (or `idle_timeout`).
    pub fn detection_over_bound(&self) -> Option<Spread> {
        Spread::of(
            self.punctual_detections()
                .map(|d| ratio(d.since_last_sign_of_life, d.bound))
                .collect(),
        )
    }

    /// From the onset of the server's silence to the drop, as a fraction of the bound.
    pub fn silence_over_bound(&self) -> Option<Spread> {
        Spread::of(
            self.punctual_detections()
                .filter_map(|d| d.since_silence.map(|s| ratio(s, d.bound)))
                .collect(),
        )
    }

    /// Detections during connections where the client was suspended, over the bound.
    pub fn suspended_over_bound(&self) -> Option<Spread> {
        Spread::of(
            self.detections
                .iter()
                .filter(|d| d.suspended)
                .map(|d| ratio(d.since_last_sign_of_life, d.bound))
                .collect(),
        )
    }

    /// Where each delay of `jitter` fell in its allowed range: 0 at the low end, 1 at the high
    /// end. Delays raised by a Retry-After and fixed delays (an empty range) are left out.
    pub fn backoff_position(&self, jitter: Jitter) -> Option<Spread> {
        Spread::of(
            self.backoffs
                .iter()
                .filter(|(mode, sample)| {
                    *mode == jitter && !sample.retry_after && !is_fixed(sample.formula)
                })
                .map(|(_, sample)| {
                    let (low, high) = sample.formula;
                    (sample.delay.as_secs_f64() - low.as_secs_f64())
                        / (high.as_secs_f64() - low.as_secs_f64())
                })
                .collect(),
        )
    }

    /// Of the delays of `jitter` whose range was a single value (no jitter, or a multiplier of
    /// 1 at the start of a decorrelated streak): how many hit it exactly (within
    /// [`TOLERANCE`](crate::TOLERANCE)), out of how many.
    pub fn fixed_delays(&self, jitter: Jitter) -> (usize, usize) {
        let fixed: Vec<_> = self
            .backoffs
            .iter()
            .filter(|(mode, s)| *mode == jitter && !s.retry_after && is_fixed(s.formula))
            .collect();
        let exact = fixed
            .iter()
            .filter(|(_, s)| crate::backoff_bounds::within(s.delay, s.formula))
            .count();
        (exact, fixed.len())
    }

    /// Punctual detections exactly at the bound, and beyond it (the latter must be zero).
    pub fn detections_at_and_beyond_the_bound(&self) -> (usize, usize) {
        let at = self
            .punctual_detections()
            .filter(|d| d.since_last_sign_of_life == d.bound)
            .count();
        let beyond = self
            .punctual_detections()
            .filter(|d| d.since_last_sign_of_life > d.bound)
            .count();
        (at, beyond)
    }

    /// Delays outside their allowed range (Retry-After included): must be zero.
    pub fn backoffs_outside_the_formula(&self) -> usize {
        self.backoffs
            .iter()
            .filter(|(_, s)| !s.retry_after && !crate::backoff_bounds::within(s.delay, s.formula))
            .count()
    }
}

fn is_fixed((low, high): (Duration, Duration)) -> bool {
    high.saturating_sub(low) <= crate::backoff_bounds::TOLERANCE
}

fn ratio(value: Duration, bound: Duration) -> f64 {
    value.as_secs_f64() / bound.as_secs_f64()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = |f: &mut fmt::Formatter<'_>, name: &str, spread: Option<Spread>| match spread {
            Some(spread) => writeln!(f, "  {name:<34} {spread}"),
            None => writeln!(f, "  {name:<34} (none)"),
        };
        writeln!(
            f,
            "{} seeded runs, {:.0} h of virtual time, {} calls checked; {} opens, {} late-tick probes, {} give-ups, {} messages sent, {} handed back",
            self.runs,
            self.virtual_time.as_secs_f64() / 3_600.0,
            self.calls,
            self.opens,
            self.probes,
            self.gave_up,
            self.messages.0,
            self.messages.1
        )?;
        writeln!(f, "dead-peer detection (driver ticking on time):")?;
        let (at, beyond) = self.detections_at_and_beyond_the_bound();
        writeln!(
            f,
            "  {} drops: {at} exactly at the bound, {beyond} beyond it (earlier ones: a network-change probe)",
            self.punctual_detections().count()
        )?;
        line(
            f,
            "seconds since last sign of life",
            self.detection_seconds(),
        )?;
        line(
            f,
            "÷ bound (ping_interval+pong_timeout)",
            self.detection_over_bound(),
        )?;
        line(f, "from silence onset ÷ bound", self.silence_over_bound())?;
        writeln!(
            f,
            "dead-peer detection (client suspended: late ticks, probe):"
        )?;
        line(
            f,
            "since last sign of life ÷ bound",
            self.suspended_over_bound(),
        )?;
        writeln!(
            f,
            "reconnect delays, position in the allowed range (0 = low end, 1 = high end); outside the formula: {}",
            self.backoffs_outside_the_formula()
        )?;
        for jitter in [
            Jitter::None,
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
        ] {
            let (exact, fixed) = self.fixed_delays(jitter);
            line(
                f,
                &format!("{jitter:?} jitter"),
                self.backoff_position(jitter),
            )?;
            if fixed > 0 {
                writeln!(
                    f,
                    "  {:<34} {exact} of {fixed} exactly the formula's value",
                    "  single-valued ranges"
                )?;
            }
        }
        let raised = self.backoffs.iter().filter(|(_, s)| s.retry_after).count();
        writeln!(f, "  delays raised to a Retry-After: {raised}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_picks_exact_quantiles() {
        let spread = Spread::of((0..=100).map(f64::from).collect()).unwrap();
        assert_eq!(
            (spread.min, spread.p50, spread.p99, spread.max, spread.count),
            (0.0, 50.0, 99.0, 100.0, 101)
        );
        assert_eq!(Spread::of(Vec::new()), None);
    }
}
