//! Waiting for events with a deadline. Everything listens on 127.0.0.1 and no test sleeps to
//! let things happen.

#![allow(dead_code, reason = "each test crate uses a different subset")]

use std::time::{Duration, Instant};

use ws_blocking::{Config, ConfigBuilder, Event, Events, Jitter};

/// Every wait in these tests ends within this.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// A supervisor config that reconnects quickly and deterministically.
pub(crate) fn fast_config() -> ConfigBuilder {
    Config::builder()
        .initial_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(50))
        .jitter(Jitter::None)
}

/// The next event, within the deadline.
pub(crate) fn next_event(events: &mut Events) -> Event {
    events
        .recv_timeout(WAIT)
        .expect("no event within the deadline")
}

/// Skips events until one matches, within the deadline.
pub(crate) fn wait_for(events: &mut Events, what: &str, matches: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if matches(&event) => return event,
            Ok(event) => seen.push(event),
            Err(error) => panic!("no {what} ({error}); events seen: {seen:?}"),
        }
    }
}

/// Every event up to the end of the stream, which must come within the deadline.
pub(crate) fn until_end(events: &mut Events) -> Vec<Event> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) => seen.push(event),
            Err(ws_blocking::RecvTimeoutError::Disconnected) => return seen,
            Err(error) => panic!("the events did not end ({error}); seen: {seen:?}"),
        }
    }
}

pub(crate) fn is_open(event: &Event) -> bool {
    matches!(event, Event::Open { .. })
}
