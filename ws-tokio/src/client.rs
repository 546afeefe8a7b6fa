//! The application's side: a cloneable sender and a stream of events.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_channel::mpsc as event_channel;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use ws_core::{CloseCode, Message, State, Stats, Text};
use ws_transport::{Command, Error, Event, Status, TrySendError, check_close, json_message};

/// Sends to, closes and inspects one resilient connection. Cheap to clone; every clone talks
/// to the same driver.
///
/// Sends go through a bounded command channel ([`command_capacity`]) in the order they are
/// made and are carried out by the driver: sent at once while open, queued by the supervisor
/// while (re)connecting. `send` returns once the driver has room for the command, not once the
/// message is on the wire; a message the supervisor refuses comes back as
/// [`Event::Rejected`], one it gives up on as [`Event::Undelivered`]. Nothing is lost
/// silently.
///
/// [`command_capacity`]: ws_transport::ClientOptionsBuilder::command_capacity
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
    label: Arc<str>,
}

impl Client {
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        status: watch::Receiver<Status>,
        label: Arc<str>,
    ) -> Self {
        Client {
            commands,
            status,
            label,
        }
    }

    async fn command(&self, command: Command) -> Result<(), Error> {
        self.commands
            .send(command)
            .await
            .map_err(|_| Error::Stopped)
    }

    /// Sends a message (see the type's documentation for what "sent" means). Waits only while
    /// the command channel is full. Fails with [`Error::Stopped`] once the client has stopped.
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.command(Command::Send(message.into())).await
    }

    /// Sends without waiting: hands the message back if the command channel is full or the
    /// client has stopped.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), TrySendError> {
        self.commands
            .try_send(Command::Send(message.into()))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(command) => TrySendError::refused(command, true),
                mpsc::error::TrySendError::Closed(command) => TrySendError::refused(command, false),
            })
    }

    /// Sends a text message.
    pub async fn send_text(&self, text: impl Into<Text>) -> Result<(), Error> {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a binary message.
    pub async fn send_binary(&self, bytes: impl Into<Bytes>) -> Result<(), Error> {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Serialises `value` and sends it as a text message.
    pub async fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.send(json_message(value)?).await
    }

    /// Sends ahead of the queue, on an open connection only (otherwise the message comes back
    /// as [`Event::Rejected`]). For login or subscribe messages that must precede queued ones
    /// when `hold_queue_until_ready` is set; follow with [`ready`](Self::ready).
    pub async fn send_now(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.command(Command::SendNow(message.into())).await
    }

    /// Releases the queue held by `hold_queue_until_ready` on the current connection.
    pub async fn ready(&self) -> Result<(), Error> {
        self.command(Command::Ready).await
    }

    /// Closes gracefully with `code` and `reason`, after the sends made before it. Never
    /// followed by a reconnect; queued messages come back as [`Event::Undelivered`], then
    /// [`Event::Closed`] ends the event stream. A code that may not be sent (1005, 1006…) or a
    /// reason over 123 bytes is refused here.
    pub async fn close(&self, code: CloseCode, reason: impl Into<Text>) -> Result<(), Error> {
        let reason = reason.into();
        check_close(code, &reason)?;
        self.command(Command::Close { code, reason }).await
    }

    /// Replaces the connection now (the application knows the network changed): the open or
    /// connecting one is dropped and a new attempt starts at once; a backoff wait is cut short.
    pub async fn reconnect_now(&self) -> Result<(), Error> {
        self.command(Command::ReconnectNow).await
    }

    /// Reports a network change: an open connection is probed with a ping at once, a backoff
    /// wait is cut short.
    pub async fn network_changed(&self) -> Result<(), Error> {
        self.command(Command::NetworkChanged).await
    }

    /// The lifecycle state, as of the driver's last loop.
    pub fn state(&self) -> State {
        self.status.borrow().state
    }

    /// The counters (attempts, queued messages and bytes, last RTT…), as of the driver's last
    /// loop.
    pub fn stats(&self) -> Stats {
        self.status.borrow().stats
    }

    /// Waits until the driver has stopped (closed for good and every event handed over).
    pub async fn stopped(&self) {
        let mut status = self.status.clone();
        while status.changed().await.is_ok() {}
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.label)
            .field("state", &self.state())
            .finish_non_exhaustive()
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
/// every [`Client`] closes the connection with 1001 (going away).
///
/// [`event_capacity`]: ws_transport::ClientOptionsBuilder::event_capacity
pub struct Events {
    receiver: event_channel::Receiver<Event>,
    _alive: oneshot::Sender<()>,
}

impl Events {
    pub(crate) fn new(
        receiver: event_channel::Receiver<Event>,
        alive: oneshot::Sender<()>,
    ) -> Self {
        Events {
            receiver,
            _alive: alive,
        }
    }

    /// The next event, or `None` once the client has stopped and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        self.receiver.next().await
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.receiver.poll_next_unpin(cx)
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
