//! What the driver shares with the application's handles: the command channel, the event
//! stream and the status.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_core::Stream;
use ws_core::Message;

use super::runtime::Commands;
use crate::channel::{self, Refused};
use crate::command::{Command, TrySendError};
use crate::event::Event;
use crate::outbox::{EventSink, Handover};
use crate::status::Status;

/// The command channel of a client holding `capacity` commands: the handles' end and the
/// driver's. Costs nothing per command and allocates only as far as it fills.
pub fn command_channel(capacity: usize) -> (CommandSender, CommandReceiver) {
    let (sender, receiver) = channel::bounded(capacity);
    (CommandSender(sender), CommandReceiver(receiver))
}

/// The handles' end of the command channel. Cloning it adds a sender; its capacity is exact
/// however many clones send at once.
#[derive(Clone)]
pub struct CommandSender(channel::Sender<Command>);

impl CommandSender {
    /// Queues `command`, waiting while the channel is full; hands it back once the driver has
    /// stopped taking commands.
    pub async fn send(&self, command: Command) -> Result<(), Command> {
        self.0.send(command).await
    }

    /// Queues `message` as a [`Command::Send`] without waiting.
    pub fn try_send(&self, message: Message) -> Result<(), TrySendError> {
        self.0
            .try_send(Command::Send(message))
            .map_err(|refused| match refused {
                Refused::Full(command) => TrySendError::refused(command, true),
                Refused::Closed(command) => TrySendError::refused(command, false),
            })
    }

    /// Waits until the driver has stopped taking commands (closed the channel, or is gone).
    pub async fn closed(&self) {
        self.0.closed().await;
    }
}

impl fmt::Debug for CommandSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandSender").finish_non_exhaustive()
    }
}

/// The driver's end of the command channel.
pub struct CommandReceiver(channel::Receiver<Command>);

impl Commands for CommandReceiver {
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Command>> {
        self.0.poll_recv(cx)
    }

    fn close(&mut self) {
        self.0.close();
    }

    fn try_recv(&mut self) -> Option<Command> {
        self.0.try_recv()
    }
}

impl fmt::Debug for CommandReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandReceiver").finish_non_exhaustive()
    }
}

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

    /// The next event, or `None` once the client has stopped and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        poll_fn(|cx| self.receiver.poll_recv(cx)).await
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
