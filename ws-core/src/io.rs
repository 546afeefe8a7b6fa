//! What goes into the supervisor and what comes out of it.
//!
//! Inputs come from the driver (what happened to the transport); commands come from the
//! application (methods on [`Supervisor`](crate::Supervisor)). Outputs are [`Action`]s for the
//! driver and [`Event`]s for the application, drained after every call.

use core::fmt;
use core::time::Duration;

use crate::close::{CloseCode, ConnectFailure, Disconnect, TransportError};
use crate::message::{Frame, Message, PingPayload, Text};

/// Names one transport. Every [`Action::Connect`] carries a fresh one and every [`Input`]
/// names the transport it came from, so a late input from an old socket cannot touch the
/// new one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Something that happened to a transport, reported by the driver.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Input {
    /// The opening handshake completed.
    Opened {
        /// The transport.
        connection: ConnectionId,
    },
    /// A frame arrived.
    Frame {
        /// The transport.
        connection: ConnectionId,
        /// What arrived.
        frame: Frame,
    },
    /// The attempt failed before the handshake completed. The transport is gone.
    ConnectFailed {
        /// The transport.
        connection: ConnectionId,
        /// Why, classified for the close policy.
        failure: ConnectFailure,
    },
    /// The transport broke without a close handshake. The transport is gone.
    Error {
        /// The transport.
        connection: ConnectionId,
        /// Why.
        error: TransportError,
    },
    /// The peer's Close frame arrived (the driver's WebSocket library answers it). The
    /// transport is finished; the driver drops it once the reply is flushed.
    Closed {
        /// The transport.
        connection: ConnectionId,
        /// The peer's code; [`CloseCode::NO_STATUS`] when its frame had none.
        code: CloseCode,
        /// The peer's reason.
        reason: Text,
    },
    /// The platform reports a network change (interface up or down, Wi-Fi to cellular): probe
    /// an open transport at once, or skip the backoff wait.
    NetworkChanged,
}

impl Input {
    /// The transport this input is about, if any.
    pub fn connection(&self) -> Option<ConnectionId> {
        match self {
            Input::Opened { connection }
            | Input::Frame { connection, .. }
            | Input::ConnectFailed { connection, .. }
            | Input::Error { connection, .. }
            | Input::Closed { connection, .. } => Some(*connection),
            Input::NetworkChanged => None,
        }
    }
}

/// Work for the driver, in the order it must be done.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
#[must_use = "an action left undone breaks the supervisor's view of the transport"]
pub enum Action {
    /// Open a new transport and report on it with this id. Never emitted while another
    /// transport is connecting, open or closing.
    Connect {
        /// The id every input about this transport must carry.
        connection: ConnectionId,
        /// 0 for the first connect, then the reconnect attempt number (1, 2, …).
        attempt: u32,
    },
    /// Write an application message: one given to `send()` or `send_now()`, or one of the
    /// [`Replay`](crate::Replay) messages that start every connection.
    Send(Message),
    /// Write an application-level heartbeat or an automatic reply to the server's ping. Not an
    /// application message: it never counts as one.
    Heartbeat(Message),
    /// Write a protocol Ping with this payload.
    Ping(PingPayload),
    /// Start the close handshake with this code and reason, then keep reading until the peer's
    /// Close arrives (reported as [`Input::Closed`]).
    Close {
        /// The code to send.
        code: CloseCode,
        /// The reason to send.
        reason: Text,
    },
    /// Drop the transport now, without a handshake (dead peer, timeout, replaced transport).
    Abort,
}

/// Why a message given to `send()` was handed back instead of sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum UndeliveredReason {
    /// Dropped from a full queue to make room for a newer message ([`Overflow::DropOldest`](crate::Overflow)).
    Dropped,
    /// Still queued at its deadline.
    Expired,
    /// Still queued when the application closed the connection.
    Closed,
    /// Still queued when the supervisor stopped for good (gave up, or a permanent failure).
    Stopped,
}

/// News for the application.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
#[must_use = "events carry messages and handed-back messages that would otherwise be lost"]
pub enum Event {
    /// A connect attempt started.
    Connecting {
        /// 0 for the first connect, then the reconnect attempt number.
        attempt: u32,
    },
    /// The transport `connection` is open. The application names it in
    /// [`send_now`](crate::Supervisor::send_now) and [`ready`](crate::Supervisor::ready), so
    /// that a login meant for this connection never reaches the next one.
    Open {
        /// The transport that opened.
        connection: ConnectionId,
    },
    /// A message from the peer.
    Message(Message),
    /// A heartbeat round trip was measured.
    Rtt(Duration),
    /// A transport (open or still connecting) ended.
    Disconnected {
        /// The peer's close code, or 1006 when the link was lost without one.
        code: CloseCode,
        /// The peer's close reason, if any.
        reason: Text,
        /// Why it ended.
        cause: Disconnect,
        /// Whether another attempt will follow.
        will_reconnect: bool,
    },
    /// The next attempt starts after `delay`.
    Reconnecting {
        /// The attempt number (1 for the first reconnect).
        attempt: u32,
        /// The wait before it.
        delay: Duration,
    },
    /// `max_attempts` reconnects failed; the supervisor stopped. Emitted once per streak, just
    /// before the queue is handed back.
    GaveUp {
        /// Reconnect attempts made.
        attempts: u32,
        /// Messages about to be handed back.
        undelivered: usize,
    },
    /// A message given to `send()` is handed back, not sent.
    Undelivered {
        /// The message, untouched.
        message: Message,
        /// Why.
        reason: UndeliveredReason,
    },
    /// The supervisor is idle in [`State::Closed`] (after the application's close, giving up,
    /// or a permanent failure) until `connect()` is called again.
    Closed,
}

/// The connection's lifecycle state: a WebSocket `readyState` plus the backoff wait.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum State {
    /// A transport is being opened.
    Connecting,
    /// A transport is open.
    Open,
    /// Our Close was sent; waiting for the peer's.
    Closing,
    /// Idle: nothing is open and nothing will be attempted until `connect()`.
    Closed,
    /// Between attempts, waiting out the backoff delay.
    WaitingToReconnect,
}

/// Why `send()` refused a message; the message is inside, untouched.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError {
    kind: SendErrorKind,
    message: Message,
}

/// The kind of [`SendError`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SendErrorKind {
    /// The queue is at its message or byte limit ([`Overflow::RejectNew`](crate::Overflow)).
    QueueFull,
    /// The message alone is larger than the queue's byte limit.
    TooLargeForQueue,
    /// The supervisor is closed (or closing) and will not send anything until `connect()`.
    Closed,
    /// [`send_now`](crate::Supervisor::send_now) named the current transport, but it is not
    /// open (still connecting, or closing).
    NotOpen,
    /// [`send_now`](crate::Supervisor::send_now) named a transport that is not the current one:
    /// it ended (and may have been replaced) since the application learnt of it. Whatever the
    /// message was for (a login, a subscription) belongs to the connection that opens next.
    StaleConnection,
}

impl SendError {
    pub(crate) fn new(kind: SendErrorKind, message: Message) -> Self {
        SendError { kind, message }
    }

    /// Why the message was refused.
    pub fn kind(&self) -> SendErrorKind {
        self.kind
    }

    /// The refused message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Takes the refused message back.
    pub fn into_message(self) -> Message {
        self.message
    }
}

impl fmt::Debug for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.message.len();
        match self.kind {
            SendErrorKind::QueueFull => write!(f, "message of {len} bytes refused: queue is full"),
            SendErrorKind::TooLargeForQueue => write!(
                f,
                "message of {len} bytes refused: larger than the queue's byte limit"
            ),
            SendErrorKind::Closed => write!(f, "message of {len} bytes refused: connection closed"),
            SendErrorKind::NotOpen => write!(
                f,
                "message of {len} bytes refused: send_now needs an open connection"
            ),
            SendErrorKind::StaleConnection => write!(
                f,
                "message of {len} bytes refused: send_now named a connection that has ended"
            ),
        }
    }
}

impl core::error::Error for SendError {}

/// Why `close()` refused its arguments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum CloseError {
    /// The code may not be sent in a Close frame (e.g. 1005, 1006, 1015, or below 1000).
    CodeNotSendable(CloseCode),
    /// The reason is longer than the 123 bytes a Close frame can carry.
    ReasonTooLong(usize),
}

impl CloseError {
    /// Checks `close()` arguments the way the supervisor does, so a handle in another thread
    /// can refuse them at once instead of after a round trip to its driver.
    pub fn check(code: CloseCode, reason: &Text) -> Result<(), CloseError> {
        if !code.is_sendable() {
            return Err(CloseError::CodeNotSendable(code));
        }
        if reason.len() > MAX_CLOSE_REASON {
            return Err(CloseError::ReasonTooLong(reason.len()));
        }
        Ok(())
    }
}

/// Longest reason a Close frame can carry (125-byte control payload minus the 2-byte code).
const MAX_CLOSE_REASON: usize = 123;

impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseError::CodeNotSendable(code) => write!(
                f,
                "close code {code} may not be sent (allowed: 1000-1003, 1007-1014, 3000-4999)"
            ),
            CloseError::ReasonTooLong(len) => {
                write!(
                    f,
                    "close reason is {len} bytes; at most 123 fit in a Close frame"
                )
            }
        }
    }
}

impl core::error::Error for CloseError {}
