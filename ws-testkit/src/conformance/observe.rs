//! Waiting for events with a deadline, and saying what was seen when a wait fails.
//!
//! A timing scenario that fails with "timed out" alone is useless on a noisy machine; one that
//! lists every event with its arrival time shows at once whether the adapter was late, wrong,
//! or silent. Every helper here therefore keeps what it saw and puts it in its error.

use std::fmt::{self, Write as _};
use std::time::{Duration, Instant};

use ws_client::Event;
use ws_core::{Message, State};

use super::{Adapter, Events, Handle};

/// What the waiting helpers need of a client: its events, and its state for failure messages.
pub trait Observe {
    /// The next event, waiting at most `timeout`; `None` on timeout or once the stream ended.
    fn next_event(&mut self, timeout: Duration) -> Option<Event>;
    /// The lifecycle state now, if the client's handle is still held.
    fn state_now(&self) -> Option<State>;
}

/// Waits up to `timeout` for an event matching `predicate` and returns it, skipping the
/// others. The error lists every event seen, with its arrival time from the start of the wait,
/// and the client's state.
pub fn wait_for<C: Observe + ?Sized>(
    client: &mut C,
    timeout: Duration,
    predicate: impl FnMut(&Event) -> bool,
) -> Result<Event, String> {
    let mut events = collect_until(client, timeout, predicate)?;
    Ok(events
        .pop()
        .expect("collect_until returns at least the matching event"))
}

/// Like [`wait_for`], but returns every event seen, in order, the matching one last: for
/// scenarios about the order of events (`GaveUp`, then the handed-back messages, then
/// `Closed`).
pub fn collect_until<C: Observe + ?Sized>(
    client: &mut C,
    timeout: Duration,
    mut predicate: impl FnMut(&Event) -> bool,
) -> Result<Vec<Event>, String> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = if left.is_zero() {
            None
        } else {
            client.next_event(left)
        };
        let Some(event) = next else {
            let why = if ended_early(deadline) {
                "the event stream ended".to_owned()
            } else {
                format!("nothing matched within {timeout:?}")
            };
            return Err(format!(
                "{why} (state now {:?}); events seen:{}",
                client.state_now(),
                Log(&seen)
            ));
        };
        let matched = predicate(&event);
        seen.push((started.elapsed(), event));
        if matched {
            return Ok(seen.into_iter().map(|(_, event)| event).collect());
        }
    }
}

/// Observes the client for the whole `window` and fails if an event matching `predicate`
/// arrives; returns the events seen. The stream ending counts as "nothing more".
///
/// This is how a scenario asserts that something does not happen (no reconnect after a
/// permanent failure): the window is the assertion, so keep it short and derive it from the
/// configured delays ([`quiet_window`](super::quiet_window)).
pub fn expect_no_event_matching<C: Observe + ?Sized>(
    client: &mut C,
    window: Duration,
    mut predicate: impl FnMut(&Event) -> bool,
) -> Result<Vec<Event>, String> {
    let started = Instant::now();
    let deadline = started + window;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let Some(event) = client.next_event(left) else {
            // Either the window is over or the stream ended; in both cases nothing more comes
            // within the window.
            break;
        };
        let matched = predicate(&event);
        seen.push((started.elapsed(), event));
        if matched {
            return Err(format!(
                "an unexpected event arrived within {window:?}; events seen:{}",
                Log(&seen)
            ));
        }
    }
    Ok(seen.into_iter().map(|(_, event)| event).collect())
}

/// Arrival times relative to the first event, for [`Log`].
fn since(seen: &[(Instant, Event)]) -> Vec<(Duration, Event)> {
    let Some((first, _)) = seen.first() else {
        return Vec::new();
    };
    seen.iter()
        .map(|(at, event)| (at.duration_since(*first), event.clone()))
        .collect()
}

/// `next_event` gave `None` clearly before the deadline: the stream is over.
fn ended_early(deadline: Instant) -> bool {
    Instant::now() + Duration::from_millis(1) < deadline
}

/// Events with their arrival times, one per line, for failure messages.
struct Log<'a>(&'a [(Duration, Event)]);

impl fmt::Display for Log<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(" none");
        }
        for (at, event) in self.0 {
            write!(f, "\n    +{:>5} ms  {}", at.as_millis(), describe(event))?;
        }
        Ok(())
    }
}

/// An event in one line: payloads are summarised (a 10 MiB message must not end up in a
/// failure message), everything else is its `Debug` form.
pub(crate) fn describe(event: &Event) -> String {
    match event {
        Event::Message(message) => format!("Message({})", summary(message)),
        Event::Undelivered { message, reason } => {
            format!("Undelivered({}, {reason:?})", summary(message))
        }
        Event::Rejected { message, reason } => {
            format!("Rejected({}, {reason:?})", summary(message))
        }
        other => format!("{other:?}"),
    }
}

/// Events in one line each, for messages that show a whole sequence.
pub(crate) fn describe_all(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        let _ = write!(text, "\n    {}", describe(event));
    }
    if text.is_empty() {
        text.push_str(" none");
    }
    text
}

/// A message in a few words: short text in full, otherwise kind and size.
pub(crate) fn summary(message: &Message) -> String {
    const SHOWN: usize = 80;
    match message {
        Message::Text(text) if text.len() <= SHOWN => format!("text {:?}", text.as_str()),
        Message::Text(text) => format!("text of {} bytes", text.len()),
        Message::Binary(bytes) => format!("binary of {} bytes", bytes.len()),
    }
}

/// One scenario run against one adapter: panics carry both names, so a failure in a suite of
/// three adapters says where it happened.
pub(crate) struct Scenario {
    label: String,
}

impl Scenario {
    pub(crate) fn new<A: Adapter>(adapter: &A, name: &str) -> Self {
        Scenario {
            label: format!("[{}] {name}", adapter.name()),
        }
    }

    #[track_caller]
    pub(crate) fn fail(&self, message: impl fmt::Display) -> ! {
        panic!("{}: {message}", self.label)
    }

    #[track_caller]
    pub(crate) fn check(&self, holds: bool, message: impl FnOnce() -> String) {
        if !holds {
            self.fail(message());
        }
    }

    /// [`wait_for`], failing the scenario with `what` it was waiting for.
    #[track_caller]
    pub(crate) fn wait_for<C: Observe>(
        &self,
        client: &mut C,
        timeout: Duration,
        what: &str,
        predicate: impl FnMut(&Event) -> bool,
    ) -> Event {
        wait_for(client, timeout, predicate)
            .unwrap_or_else(|error| self.fail(format_args!("waiting for {what}: {error}")))
    }

    /// [`collect_until`], failing the scenario with `what` it was waiting for.
    #[track_caller]
    pub(crate) fn collect_until<C: Observe>(
        &self,
        client: &mut C,
        timeout: Duration,
        what: &str,
        predicate: impl FnMut(&Event) -> bool,
    ) -> Vec<Event> {
        collect_until(client, timeout, predicate)
            .unwrap_or_else(|error| self.fail(format_args!("waiting for {what}: {error}")))
    }

    /// Asserts that no event at all arrives within `window` (after `Closed`, the stream must
    /// be over): no reconnect, no late duplicate. Returns what is left of the window when the
    /// stream ended early, so the caller watches the server for the rest of it (an adapter
    /// could reconnect without saying so).
    #[track_caller]
    pub(crate) fn expect_silence<C: Observe>(
        &self,
        client: &mut C,
        window: Duration,
        after: &str,
    ) -> Duration {
        let deadline = Instant::now() + window;
        if let Err(error) = expect_no_event_matching(client, window, |_| true) {
            self.fail(format_args!("after {after}: {error}"));
        }
        deadline.saturating_duration_since(Instant::now())
    }

    #[track_caller]
    pub(crate) fn send<H: Handle, E: Events>(
        &self,
        client: &super::Client<H, E>,
        message: impl Into<Message>,
    ) {
        let message = message.into();
        let shown = summary(&message);
        if let Err(error) = client.send(message) {
            self.fail(format_args!("send of {shown} failed: {error}"));
        }
    }

    /// Every event up to the end of the stream, which must end within `timeout`: `Closed`
    /// must be the last event, and the stream must end right after it.
    #[track_caller]
    pub(crate) fn until_end<C: Observe>(
        &self,
        client: &mut C,
        timeout: Duration,
        what: &str,
    ) -> Vec<Event> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match client.next_event(left) {
                Some(event) => seen.push((Instant::now(), event)),
                None if ended_early(deadline) => break,
                None => self.fail(format_args!(
                    "waiting for the end of the events after {what}: not over within \
                     {timeout:?}; events seen:{}",
                    Log(&since(&seen))
                )),
            }
        }
        let events: Vec<Event> = seen.into_iter().map(|(_, event)| event).collect();
        self.check(matches!(events.last(), Some(Event::Closed)), || {
            format!(
                "after {what}: the events must end with Closed; events:{}",
                describe_all(&events)
            )
        });
        events
    }

    /// Waits for the next `count` application messages and returns them in order; any event
    /// other than a message or a heartbeat round trip in between fails the scenario (an
    /// unexpected disconnect, a rejected send).
    #[track_caller]
    pub(crate) fn next_messages<C: Observe>(
        &self,
        client: &mut C,
        count: usize,
        timeout: Duration,
    ) -> Vec<Message> {
        let deadline = Instant::now() + timeout;
        let mut messages = Vec::with_capacity(count);
        while messages.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = wait_for(client, left, |event| !matches!(event, Event::Rtt(_)))
                .unwrap_or_else(|error| {
                    let so_far: Vec<String> = messages.iter().map(summary).collect();
                    self.fail(format_args!(
                        "expected {count} messages, got {so_far:?}, then: {error}"
                    ))
                });
            match event {
                Event::Message(message) => messages.push(message),
                other => self.fail(format_args!(
                    "expected {count} messages, got {} and then {}",
                    messages.len(),
                    describe(&other)
                )),
            }
        }
        messages
    }

    /// Waits for text messages equal to `expected`, in order and with nothing in between.
    #[track_caller]
    pub(crate) fn expect_texts<C: Observe>(&self, client: &mut C, expected: &[&str]) {
        let messages = self.next_messages(client, expected.len(), super::WAIT);
        let texts: Vec<Option<&str>> = messages.iter().map(Message::as_text).collect();
        let wanted: Vec<Option<&str>> = expected.iter().copied().map(Some).collect();
        self.check(texts == wanted, || {
            format!("expected the text messages {expected:?} in order, got {texts:?}")
        });
    }
}

pub(crate) fn is_open(event: &Event) -> bool {
    matches!(event, Event::Open { .. })
}

pub(crate) fn is_disconnected(event: &Event) -> bool {
    matches!(event, Event::Disconnected { .. })
}

pub(crate) fn is_connect_failed(event: &Event) -> bool {
    matches!(event, Event::ConnectFailed { .. })
}

pub(crate) fn is_closed(event: &Event) -> bool {
    matches!(event, Event::Closed)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A client that plays back a script: each entry is a delay, then an event.
    struct Scripted {
        script: VecDeque<(Duration, Event)>,
    }

    impl Scripted {
        fn new(script: impl IntoIterator<Item = (u64, Event)>) -> Self {
            Scripted {
                script: script
                    .into_iter()
                    .map(|(ms, event)| (Duration::from_millis(ms), event))
                    .collect(),
            }
        }
    }

    impl Observe for Scripted {
        fn next_event(&mut self, timeout: Duration) -> Option<Event> {
            let (delay, _) = self.script.front()?;
            if *delay > timeout {
                self.script.front_mut()?.0 -= timeout;
                std::thread::sleep(timeout);
                return None;
            }
            let (delay, event) = self.script.pop_front()?;
            std::thread::sleep(delay);
            Some(event)
        }
        fn state_now(&self) -> Option<State> {
            Some(State::Open)
        }
    }

    fn connecting(attempt: u32) -> Event {
        Event::Connecting { attempt }
    }

    #[test]
    fn wait_for_skips_other_events_and_returns_the_match() {
        let mut client = Scripted::new([(0, connecting(0)), (0, Event::Closed)]);
        let event = wait_for(&mut client, Duration::from_secs(1), is_closed).unwrap();
        assert!(is_closed(&event));
    }

    #[test]
    fn a_failed_wait_lists_what_it_saw_and_says_the_stream_ended() {
        let mut client = Scripted::new([(0, connecting(0)), (0, connecting(1))]);
        let error = wait_for(&mut client, Duration::from_secs(5), is_closed).unwrap_err();
        assert!(error.starts_with("the event stream ended"), "{error}");
        assert!(error.contains("Connecting { attempt: 1 }"), "{error}");
    }

    #[test]
    fn a_wait_times_out_at_its_deadline() {
        let mut client = Scripted::new([(500, Event::Closed)]);
        let started = Instant::now();
        let error = wait_for(&mut client, Duration::from_millis(50), is_closed).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(error.starts_with("nothing matched within 50ms"), "{error}");
        assert!(error.ends_with("events seen: none"), "{error}");
    }

    #[test]
    fn expect_no_event_matching_fails_on_a_match_and_passes_on_an_ended_stream() {
        let mut client = Scripted::new([(0, connecting(0)), (10, connecting(1))]);
        let error = expect_no_event_matching(&mut client, Duration::from_secs(1), |e| {
            matches!(e, Event::Connecting { attempt: 1 })
        })
        .unwrap_err();
        assert!(error.contains("Connecting { attempt: 0 }"), "{error}");
        let mut client = Scripted::new([(0, connecting(0))]);
        let seen =
            expect_no_event_matching(&mut client, Duration::from_secs(1), is_closed).unwrap();
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn large_payloads_are_summarised() {
        let event = Event::Message(Message::from(vec![0u8; 10 << 20]));
        assert_eq!(describe(&event), "Message(binary of 10485760 bytes)");
        let event = Event::Message(Message::from("x".repeat(100)));
        assert_eq!(describe(&event), "Message(text of 100 bytes)");
    }
}
