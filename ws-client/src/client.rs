//! The application's handle on one resilient connection.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use ws_core::{CloseCode, CloseError, ConnectionId, Message, State, Stats, Text};

use crate::channel::Refused;
use crate::command::{Command, CommandSender};
use crate::error::Error;
#[cfg(doc)]
use crate::event::Event;
use crate::json::json_message;
use crate::state_watch::StateWatch;
use crate::status::SharedStatus;

/// Sends to, closes and inspects one resilient connection. Cheap to clone; every clone talks
/// to the same driver.
///
/// Sends go through a bounded command channel (`command_capacity`) in the order they are
/// made and are carried out by the driver: sent at once while open, queued by the supervisor
/// while (re)connecting. `send` returns once the driver has room for the command, not once
/// the message is on the wire.
///
/// Every message handed to a send ends in exactly one of these ways, and none is lost
/// silently:
///
/// - it goes out on the wire, once, in the order of the sends;
/// - the call's `Err` gives it back ([`SendError`], [`TrySendError`]): the client has closed,
///   or (`try_send`) the channel is full;
/// - an event gives it back: [`Event::Rejected`] when the supervisor refused it (queue full,
///   too large) or when it raced the client's final stop, [`Event::Undelivered`] when it was
///   queued and then dropped, expired, or still queued when the client closed.
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
        self.commands.send(command).await.map_err(|_| Error::Closed)
    }

    async fn send_command(&self, command: Command) -> Result<(), SendError> {
        self.commands.send(command).await.map_err(SendError::from)
    }

    /// Sends a message. Waits only while the command channel is full; once the client has
    /// closed, the message comes back in the error.
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.send_command(Command::Send(message.into())).await
    }

    /// Sends without waiting: hands the message back if the command channel is full or the
    /// client has closed.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), TrySendError> {
        self.commands
            .try_send(Command::Send(message.into()))
            .map_err(TrySendError::from)
    }

    /// Sends a text message (any `&str`, `String` or [`Text`]).
    pub async fn send_text(&self, text: impl Into<Text>) -> Result<(), SendError> {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a binary message.
    pub async fn send_binary(&self, bytes: impl Into<Bytes>) -> Result<(), SendError> {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Serialises `value` and sends it as a text message. Fails with [`Error::Json`] when
    /// `value` cannot be serialised and with [`Error::Closed`] once the client has closed (the
    /// value stays yours).
    pub async fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.command(Command::Send(json_message(value)?)).await
    }

    /// Sends a message that is worth nothing after `within`: if it is still queued then (the
    /// connection was down all that time), it comes back as [`Event::Undelivered`] with the
    /// reason `Expired` instead of going out late. The time counts from when the driver takes
    /// the command.
    pub async fn send_with_deadline(
        &self,
        message: impl Into<Message>,
        within: Duration,
    ) -> Result<(), SendError> {
        self.send_command(Command::SendWithin(message.into(), within))
            .await
    }

    /// Sends ahead of the queue on `connection` (from [`Event::Open`]) and only there: a
    /// login or subscribe message that must precede the queued ones when
    /// `hold_queue_until_ready` is set; follow with [`ready`](Self::ready). If that
    /// connection is no longer the open one, the message comes back as [`Event::Rejected`]
    /// (it is not sent on a later connection, where it may mean something else).
    ///
    /// For what must go first on every connection, `Config`'s `replay_on_open` does this
    /// for you, with no race.
    pub async fn send_now(
        &self,
        connection: ConnectionId,
        message: impl Into<Message>,
    ) -> Result<(), SendError> {
        self.send_command(Command::SendNow(connection, message.into()))
            .await
    }

    /// [`send_now`](Self::send_now) with a value serialised to JSON.
    pub async fn send_now_json<T: Serialize + ?Sized>(
        &self,
        connection: ConnectionId,
        value: &T,
    ) -> Result<(), Error> {
        self.command(Command::SendNow(connection, json_message(value)?))
            .await
    }

    /// Releases the queue held by `hold_queue_until_ready` on `connection` (from
    /// [`Event::Open`]). Ignored if that connection is no longer the open one, so a late
    /// `ready` can never release the queue of a later connection before its login went out.
    pub async fn ready(&self, connection: ConnectionId) -> Result<(), Error> {
        self.command(Command::Ready(connection)).await
    }

    /// Closes gracefully with `code` and `reason`, after the sends made before it. Never
    /// followed by a reconnect; queued messages come back as [`Event::Undelivered`], then
    /// [`Event::Closed`] ends the event stream. A code that may not be sent (1005, 1006…) or
    /// a reason over 123 bytes is refused here with [`Error::InvalidClose`].
    pub async fn close(&self, code: CloseCode, reason: impl Into<Text>) -> Result<(), Error> {
        let reason = reason.into();
        CloseError::check(code, &reason)?;
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

    /// The lifecycle state, as of the driver's last pass.
    pub fn state(&self) -> State {
        self.status.get().state
    }

    /// The counters (attempts, queued messages and bytes, last RTT…), as of the driver's last
    /// pass.
    pub fn stats(&self) -> Stats {
        self.status.get().stats
    }

    /// A view of the lifecycle state that can be awaited: it wakes on every change, and a
    /// reader that was away sees the latest state rather than every step (the event stream
    /// has every step).
    pub fn watch_state(&self) -> StateWatch {
        StateWatch::new(self.status.clone())
    }

    /// Waits until the client has closed for good (closed by the application, gave up, failed
    /// permanently, or its driver was dropped): from then on every send fails.
    pub async fn closed(&self) {
        // The driver closes the command channel as the client stops.
        self.commands.closed().await;
    }

    /// Whether the client has closed for good.
    pub fn is_closed(&self) -> bool {
        // The same test `closed` waits for: the driver closes the command channel as the
        // client stops, and a dropped driver drops it.
        self.commands.is_closed()
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

/// A send refused because the client has closed: the message, untouched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendError(pub Message);

impl SendError {
    /// The message, untouched.
    pub fn into_message(self) -> Message {
        self.0
    }
}

impl From<Command> for SendError {
    fn from(command: Command) -> Self {
        // Only sends are turned into a `SendError`; any other command carries no message.
        SendError(
            command
                .into_message()
                .unwrap_or_else(|| Message::Binary(Bytes::new())),
        )
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "message of {} bytes not sent: the client is closed",
            self.0.len()
        )
    }
}

impl std::error::Error for SendError {}

/// Why `try_send` handed a message back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrySendError {
    /// The command channel is full: the driver is behind (the socket does not take writes,
    /// or the application is not reading events). Retry later, or use the waiting `send`.
    Full(Message),
    /// The client has closed for good.
    Closed(Message),
}

impl TrySendError {
    /// The message, untouched.
    pub fn into_message(self) -> Message {
        match self {
            TrySendError::Full(message) | TrySendError::Closed(message) => message,
        }
    }
}

impl From<Refused<Command>> for TrySendError {
    fn from(refused: Refused<Command>) -> Self {
        match refused {
            Refused::Full(command) => TrySendError::Full(SendError::from(command).0),
            Refused::Closed(command) => TrySendError::Closed(SendError::from(command).0),
        }
    }
}

impl fmt::Display for TrySendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(m) => write!(
                f,
                "message of {} bytes not taken: the command channel is full",
                m.len()
            ),
            TrySendError::Closed(m) => write!(
                f,
                "message of {} bytes not taken: the client is closed",
                m.len()
            ),
        }
    }
}

impl std::error::Error for TrySendError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_sends_give_their_message_back_with_the_reason() {
        let full = TrySendError::from(Refused::Full(Command::Send(Message::from("a"))));
        assert_eq!(
            full.to_string(),
            "message of 1 bytes not taken: the command channel is full"
        );
        let closed = TrySendError::from(Refused::Closed(Command::SendWithin(
            Message::from("bc"),
            Duration::from_secs(1),
        )));
        assert!(matches!(&closed, TrySendError::Closed(_)));
        assert_eq!(closed.into_message().as_text(), Some("bc"));
        let send = SendError::from(Command::SendNow(ConnectionId(3), Message::from("def")));
        assert_eq!(
            send.to_string(),
            "message of 3 bytes not sent: the client is closed"
        );
        assert_eq!(send.into_message().as_text(), Some("def"));
    }
}
