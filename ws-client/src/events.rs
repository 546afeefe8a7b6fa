//! The application's end of the event channel, and the driver's.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::mpsc::TryRecvError;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::channel;
use crate::event::Event;
use crate::outbox::{EventSink, Handover};

/// The connection's events, in order: a [`Stream`] that ends after [`Event::Closed`].
///
/// Read it promptly. The channel behind it is bounded (`event_capacity`); when it is full
/// the driver keeps what it cannot deliver in a local backlog and stops reading the socket,
/// so the server is slowed down by TCP instead of the client buffering without bound.
/// Heartbeat pings keep going out meanwhile, but replies queued behind unread messages cannot
/// be seen, so a stall longer than `ping_interval + pong_timeout` ends the connection as dead
/// (and it reconnects). RTT samples are dropped rather than held (the latest is in
/// `stats().last_rtt`); messages and handed-back messages never are. Dropping the stream
/// discards events from then on; dropping it and every client handle closes the connection
/// with 1001 (going away).
pub struct Events {
    receiver: channel::Receiver<Event>,
}

impl Events {
    /// The stream and the driver's end of the event channel (holding `capacity` events).
    pub(crate) fn channel(capacity: usize) -> (Events, EventSender) {
        let (sender, receiver) = channel::bounded(capacity);
        let sender = EventSender {
            sender,
            room: None,
            closing: None,
        };
        (Events { receiver }, sender)
    }

    /// The next event, or `None` once the client has closed and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        poll_fn(|cx| self.receiver.poll_recv(cx)).await
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Result<Event, TryRecvError> {
        match self.receiver.try_recv() {
            Some(event) => Ok(event),
            None if self.receiver.is_terminated() => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.receiver.poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.receiver.is_terminated() {
            (0, Some(0))
        } else {
            (self.receiver.len(), None)
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

/// The driver's end of the event channel.
pub(crate) struct EventSender {
    sender: channel::Sender<Event>,
    /// The driver's registrations: waiting for room, and for the stream to be dropped.
    room: Option<u64>,
    closing: Option<u64>,
}

impl EventSender {
    /// `Ready(Ok)` while the channel has room, `Ready(Err)` once the stream is dropped.
    pub(crate) fn poll_room(&mut self, cx: &Context<'_>) -> Poll<Result<(), ()>> {
        self.sender.poll_room(cx, &mut self.room)
    }

    /// `Ready` once the application has dropped the stream.
    pub(crate) fn poll_dropped(&mut self, cx: &Context<'_>) -> Poll<()> {
        self.sender.poll_closed(cx, &mut self.closing)
    }

    /// `Ready` once the application has read every event handed over and asked for the next
    /// one (or dropped the stream): whatever it does in response to those events, such as
    /// sending a reply, it has done.
    pub(crate) fn poll_drained(&mut self, cx: &Context<'_>) -> Poll<()> {
        self.sender.poll_drained(cx)
    }

    /// Lets the channel's storage go once the application has read every event.
    pub(crate) fn release_when_drained(&self) {
        self.sender.release_when_drained();
    }

    /// No more events: the stream ends once the queued ones are read.
    pub(crate) fn close(&mut self) {
        self.sender.detach();
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        self.sender.forget(self.room, self.closing);
    }
}

impl EventSink for EventSender {
    fn offer(&mut self, event: Event) -> Handover {
        self.sender.offer(event)
    }
}
