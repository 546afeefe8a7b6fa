//! Events on their way to the application: the backlog policy every driver shares.

use std::collections::VecDeque;

use crate::channel::{self, Refused};
use crate::event::Event;

/// The sending end of an event channel, as an [`Outbox`] uses it.
pub(crate) trait EventSink {
    /// Offers `event` without waiting.
    fn offer(&mut self, event: Event) -> Handover;
}

/// What became of an event offered to an [`EventSink`].
#[derive(Debug)]
#[must_use]
pub(crate) enum Handover {
    /// The channel took it.
    Taken,
    /// No room now: the event comes back.
    Full(Event),
    /// The application dropped its receiver.
    Closed,
}

impl EventSink for channel::Sender<Event> {
    fn offer(&mut self, event: Event) -> Handover {
        match self.try_send(event) {
            Ok(()) => Handover::Taken,
            Err(Refused::Full(event)) => Handover::Full(event),
            Err(Refused::Closed(_)) => Handover::Closed,
        }
    }
}

/// The event channel's sending end plus the backlog of events it had no room for.
///
/// The event channel is bounded, so a driver must decide what happens when the application
/// does not keep up. The answer is the same in every runtime, and lives here:
///
/// - Events the channel has no room for wait in a local backlog, in order, and go out as soon
///   as there is room. Messages and handed-back messages are never dropped.
/// - RTT samples are dropped instead of held: they are the only events that arrive without
///   reading the socket or taking a command, so holding them would let the backlog grow with
///   time; the latest one is in `stats().last_rtt` anyway.
/// - While anything is held, the driver does not read the socket ([`may_read`]), so TCP
///   slows the server down instead of the client buffering without bound.
/// - While the backlog holds `event_capacity` events, the driver takes no commands either
///   ([`may_take_commands`]): a command can produce events (a refused send, a close that
///   hands back the queue), so this bounds the backlog.
/// - Once the application drops its receiver, events are discarded ([`close`]).
///
/// [`may_read`]: Self::may_read
/// [`may_take_commands`]: Self::may_take_commands
/// [`close`]: Self::close
#[derive(Debug)]
pub(crate) struct Outbox<S> {
    sink: S,
    held: VecDeque<Event>,
    capacity: usize,
    closed: bool,
}

impl<S: EventSink> Outbox<S> {
    /// An outbox sending to `sink`, for a channel of `capacity` events (the client's
    /// `event_capacity`, which also bounds the backlog before commands stop).
    pub(crate) fn new(sink: S, capacity: usize) -> Self {
        Outbox {
            sink,
            held: VecDeque::new(),
            capacity,
            closed: false,
        }
    }

    /// Hands `event` to the application, behind the events already held; holds it when the
    /// channel is full (an RTT sample is dropped instead), discards it once nobody listens.
    pub(crate) fn push(&mut self, event: Event) {
        if self.closed {
            return;
        }
        if !self.held.is_empty() {
            self.hold(event);
            return;
        }
        match self.sink.offer(event) {
            Handover::Taken => {}
            Handover::Full(event) => self.hold(event),
            Handover::Closed => self.close(),
        }
    }

    /// Moves held events into the channel while it has room. Returns whether anything
    /// changed (an event moved, or the channel turned out to be closed): frames and commands
    /// left waiting for that room can be taken again.
    pub(crate) fn flush(&mut self) -> bool {
        let mut changed = false;
        while let Some(event) = self.held.pop_front() {
            match self.sink.offer(event) {
                Handover::Taken => changed = true,
                Handover::Full(event) => {
                    self.held.push_front(event);
                    break;
                }
                Handover::Closed => {
                    self.close();
                    return true;
                }
            }
        }
        changed
    }

    /// The application dropped its receiver: what is held and every later event is
    /// discarded.
    pub(crate) fn close(&mut self) {
        self.closed = true;
        self.held.clear();
    }

    /// Whether the application has dropped its receiver.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether nothing is held: every event so far was handed over (or discarded).
    pub(crate) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Whether the driver may read the socket: nothing is held.
    pub(crate) fn may_read(&self) -> bool {
        self.held.is_empty()
    }

    /// Whether the driver may take commands: the backlog holds fewer than `capacity` events.
    pub(crate) fn may_take_commands(&self) -> bool {
        self.held.len() < self.capacity
    }

    /// The channel's sending end (to wait for room, or close it).
    pub(crate) fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    fn hold(&mut self, event: Event) {
        if !matches!(event, Event::Rtt(_)) {
            self.held.push_back(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use ws_core::Message;

    fn message(text: &'static str) -> Event {
        Event::Message(Message::from(text))
    }

    fn texts(events: impl IntoIterator<Item = Event>) -> Vec<String> {
        events
            .into_iter()
            .map(|event| match event {
                Event::Message(m) => m.as_text().unwrap().to_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_full_channel_holds_messages_in_order_and_drops_rtt_samples() {
        let (sender, receiver) = channel::bounded(1);
        let mut outbox = Outbox::new(sender, 2);
        outbox.push(message("a"));
        assert!(outbox.may_read());
        outbox.push(Event::Rtt(Duration::from_millis(3)));
        outbox.push(message("b"));
        assert!(!outbox.may_read() && outbox.may_take_commands());
        outbox.push(Event::Rtt(Duration::from_millis(4)));
        outbox.push(message("c"));
        assert!(
            !outbox.may_take_commands(),
            "the backlog holds event_capacity"
        );
        assert!(!outbox.flush(), "no room yet");

        assert_eq!(texts(receiver.try_recv()), ["a"]);
        assert!(outbox.flush());
        assert_eq!(texts(receiver.try_recv()), ["b"]);
        assert!(outbox.flush());
        assert!(outbox.is_empty() && outbox.may_read());
        assert_eq!(texts(receiver.try_recv()), ["c"]);
        assert_eq!(receiver.try_recv().map(drop), None);
    }

    #[test]
    fn a_dropped_receiver_discards_what_is_held_and_what_comes() {
        let (sender, receiver) = channel::bounded(1);
        let mut outbox = Outbox::new(sender, 8);
        outbox.push(message("a"));
        outbox.push(message("b"));
        drop(receiver);
        assert!(outbox.flush(), "finding the channel closed is a change");
        assert!(outbox.is_closed() && outbox.is_empty() && outbox.may_read());
        outbox.push(message("c"));
        assert!(outbox.is_empty());
    }
}
