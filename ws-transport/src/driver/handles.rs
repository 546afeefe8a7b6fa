//! What the driver shares with the application's handles: the event stream and the status.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_channel::{mpsc, oneshot};
use futures_core::Stream;

use crate::event::Event;
use crate::outbox::{EventSink, Handover};
use crate::status::Status;

/// The connection's events, in order: a [`Stream`] that ends after [`Event::Closed`].
///
/// Read it promptly. The channel behind it is bounded ([`event_capacity`]); when it is full
/// the driver keeps what it cannot deliver in a local backlog and stops reading the socket,
/// so the server is slowed down by TCP instead of the client buffering without bound.
/// Heartbeat pings keep going out meanwhile, but replies queued behind unread messages cannot
/// be seen, so a stall longer than `ping_interval + pong_timeout` ends the connection as dead
/// (and it reconnects). Dropping the stream discards events from then on; dropping it and
/// every client handle closes the connection with 1001 (going away).
///
/// [`event_capacity`]: crate::ClientOptionsBuilder::event_capacity
pub struct Events {
    receiver: mpsc::Receiver<Event>,
    /// Dropped with the stream: tells the driver that nobody listens any more.
    _alive: oneshot::Sender<()>,
}

impl Events {
    /// The stream and the driver's ends: the event channel (holding `capacity` events) and
    /// the signal that the stream was dropped.
    pub(crate) fn channel(capacity: usize) -> (Events, mpsc::Sender<Event>, oneshot::Receiver<()>) {
        // The channel holds `capacity - 1` plus one slot for its single sender.
        let (sender, receiver) = mpsc::channel(capacity - 1);
        let (alive, dropped) = oneshot::channel();
        let events = Events {
            receiver,
            _alive: alive,
        };
        (events, sender, dropped)
    }

    /// The next event, or `None` once the client has stopped and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        poll_fn(|cx| Pin::new(&mut self.receiver).poll_next(cx)).await
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.receiver.size_hint()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl EventSink for mpsc::Sender<Event> {
    fn offer(&mut self, event: Event) -> Handover {
        match self.try_send(event) {
            Ok(()) => Handover::Taken,
            Err(error) if error.is_full() => Handover::Full(error.into_inner()),
            Err(_) => Handover::Closed,
        }
    }
}

/// The status the driver publishes after every pass of its loop, read by every handle
/// without asking the driver. A plain mutex: held for a copy, never across an `await`.
#[derive(Clone)]
pub struct SharedStatus(Arc<Mutex<Status>>);

impl SharedStatus {
    pub(crate) fn new(status: Status) -> Self {
        SharedStatus(Arc::new(Mutex::new(status)))
    }

    /// The status as of the driver's last pass.
    pub fn get(&self) -> Status {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set(&self, status: Status) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }
}

impl fmt::Debug for SharedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}
