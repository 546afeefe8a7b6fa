//! What the application's handles ask of the driver, and the channel that carries it.

use std::task::{Context, Poll};
use std::time::Duration;

use ws_core::{CloseCode, ConnectionId, Message, Text};

use crate::channel::{self, Refused};

/// A request from an application handle to its driver, carried over the command channel in
/// the order the application made them.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send now if open, else queue (see `Supervisor::send`).
    Send(Message),
    /// Like `Send`; a message still queued after `within` comes back as expired.
    SendWithin(Message, Duration),
    /// Send ahead of the queue, only on the named open connection.
    SendNow(ConnectionId, Message),
    /// Release the queue held by `hold_queue_until_ready` on the named connection.
    Ready(ConnectionId),
    /// Close gracefully; never followed by a reconnect.
    Close { code: CloseCode, reason: Text },
    /// Replace the connection now (e.g. after a network change).
    ReconnectNow,
    /// The network changed: probe an open connection at once, or skip a backoff wait.
    NetworkChanged,
}

impl Command {
    /// The message this command carries, if it is a send: what a refused command hands back.
    pub(crate) fn into_message(self) -> Option<Message> {
        match self {
            Command::Send(message)
            | Command::SendWithin(message, _)
            | Command::SendNow(_, message) => Some(message),
            Command::Ready(_)
            | Command::Close { .. }
            | Command::ReconnectNow
            | Command::NetworkChanged => None,
        }
    }
}

/// The command channel of a client holding `capacity` commands: the handles' end and the
/// driver's. Costs nothing per command and allocates only as far as it fills.
pub(crate) fn command_channel(capacity: usize) -> (CommandSender, CommandReceiver) {
    let (sender, receiver) = channel::bounded(capacity);
    (CommandSender(sender), CommandReceiver(receiver))
}

/// The handles' end of the command channel. Cloning it adds a sender; its capacity is exact
/// however many clones send at once.
#[derive(Clone)]
pub(crate) struct CommandSender(channel::Sender<Command>);

impl CommandSender {
    /// Queues `command`, waiting while the channel is full; hands it back once the driver has
    /// stopped taking commands.
    pub(crate) async fn send(&self, command: Command) -> Result<(), Command> {
        self.0.send(command).await
    }

    /// Queues `command` without waiting.
    pub(crate) fn try_send(&self, command: Command) -> Result<(), Refused<Command>> {
        self.0.try_send(command)
    }

    /// Whether the driver has stopped taking commands (closed the channel, or is gone).
    pub(crate) fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Waits until the driver has stopped taking commands (closed the channel, or is gone).
    pub(crate) async fn closed(&self) {
        self.0.closed().await;
    }
}

/// The driver's end of the command channel.
pub(crate) struct CommandReceiver(channel::Receiver<Command>);

impl CommandReceiver {
    /// The next command; `Ready(None)` once every sender is gone and nothing is left.
    pub(crate) fn poll_recv(&mut self, cx: &Context<'_>) -> Poll<Option<Command>> {
        self.0.poll_recv(cx)
    }

    /// Refuses every later send; commands already in the channel can still be taken with
    /// [`try_recv`](Self::try_recv).
    /// Whether no command waits in the channel now.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    pub(crate) fn close(&mut self) {
        self.0.close();
    }

    /// A command already in the channel, without waiting.
    pub(crate) fn try_recv(&mut self) -> Option<Command> {
        self.0.try_recv()
    }
}
