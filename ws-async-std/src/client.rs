//! The application's side: a cloneable sender (the event stream is ws-client's
//! [`Events`](crate::Events)).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
#[cfg(doc)]
use ws_client::Event;
use ws_client::driver::{CommandSender, SharedStatus};
use ws_client::{Command, Error, TrySendError, check_close, json_message};
use ws_core::{CloseCode, Message, State, Stats, Text};

/// Sends to, closes and inspects one resilient connection. Cheap to clone; every clone talks
/// to the same driver.
///
/// Sends go through a bounded command channel ([`command_capacity`]) in the order they are
/// made and are carried out by the driver: sent at once while open, queued by the supervisor
/// while (re)connecting. `send` returns once the driver has room for the command, not once the
/// message is on the wire; a message the supervisor refuses comes back as
/// [`Event::Rejected`], one it gives up on as [`Event::Undelivered`]. Nothing is lost
/// silently: a send that races the client's final stop comes back as [`Event::Rejected`]
/// just before [`Event::Closed`], and every send after that fails with [`Error::Stopped`].
///
/// The channel's capacity is exact however many clones send at once, and it allocates
/// nothing per command.
///
/// [`command_capacity`]: ws_client::ClientOptionsBuilder::command_capacity
#[derive(Clone)]
pub struct Client {
    commands: CommandSender,
    status: SharedStatus,
    label: Arc<str>,
}

impl Client {
    pub(crate) fn new(commands: CommandSender, status: SharedStatus, label: Arc<str>) -> Self {
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
        self.commands.try_send(message.into())
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
        self.status.get().state
    }

    /// The counters (attempts, queued messages and bytes, last RTT…), as of the driver's last
    /// loop.
    pub fn stats(&self) -> Stats {
        self.status.get().stats
    }

    /// Waits until the client has stopped for good (closed, gave up, failed permanently, or
    /// its driver was dropped): from then on every send fails with [`Error::Stopped`].
    pub async fn stopped(&self) {
        // The driver closes the command channel as the client stops.
        self.commands.closed().await;
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
