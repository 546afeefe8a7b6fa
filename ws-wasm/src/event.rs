//! What the application receives: the same events as the native adapters'.

use std::time::Duration;

use ws_core::{
    CloseCode, ConnectionId, Disconnect, Message, SendErrorKind, Text, UndeliveredReason,
};

use crate::error::Error;

/// News for the application: ws-core's events plus what only the adapter knows (the
/// negotiated subprotocol, an error behind a disconnect, a send the supervisor refused).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A connect attempt started (0 for the first connect, then the reconnect number).
    Connecting {
        /// The attempt number.
        attempt: u32,
    },
    /// The connection is open.
    Open {
        /// Names this connection, for `send_now` and `ready`: a command meant for it is
        /// ignored if it arrives after the connection changed.
        connection: ConnectionId,
        /// The subprotocol the server chose, if any was offered and accepted.
        subprotocol: Option<Text>,
    },
    /// A connect attempt failed before the connection opened: the browser could not open the
    /// socket ([`Error::NotOpened`]: it does not say why), the attempt outlived
    /// `connect_timeout` ([`Error::ConnectTimeout`]), the URL provider failed
    /// ([`Error::Provider`]), or `new WebSocket` threw ([`Error::Browser`]). Nothing was
    /// connected, so nothing was lost; [`Event::Reconnecting`] follows when `will_reconnect`.
    ConnectFailed {
        /// What went wrong, as far as the browser tells.
        error: Error,
        /// Whether another attempt will follow.
        will_reconnect: bool,
    },
    /// A message from the peer (text, or binary from an `ArrayBuffer`).
    Message(Message),
    /// An application heartbeat's round trip.
    Rtt(Duration),
    /// A connection ended: an open one was lost or closed, or an attempt was called off (the
    /// application's `close` or `reconnect_now`, or a network change while connecting).
    /// Failed attempts are [`Event::ConnectFailed`].
    Disconnected {
        /// The peer's close code, or 1006 when the link was lost without one.
        code: CloseCode,
        /// The peer's close reason, if any.
        reason: Text,
        /// Why it ended, as the close policy saw it.
        cause: Disconnect,
        /// Whether another attempt will follow.
        will_reconnect: bool,
        /// Kept to mirror the native adapters' event: a browser tells a page nothing about a
        /// lost connection beyond `code`, `reason` and `cause`, so this is `None` (a failed
        /// attempt's error is in [`Event::ConnectFailed`]).
        error: Option<Error>,
    },
    /// The next attempt starts after `delay`.
    Reconnecting {
        /// The attempt number (1 for the first reconnect).
        attempt: u32,
        /// The wait before it.
        delay: Duration,
    },
    /// `max_attempts` reconnects failed; the client stops.
    GaveUp {
        /// Reconnect attempts made.
        attempts: u32,
        /// Messages about to be handed back in [`Event::Undelivered`].
        undelivered: usize,
    },
    /// A message accepted earlier is handed back, not sent (dropped from a full queue,
    /// expired, or still queued when the client closed or stopped).
    Undelivered {
        /// The message, untouched.
        message: Message,
        /// Why.
        reason: UndeliveredReason,
    },
    /// A message the application sent was refused at once (queue full, too large for the
    /// queue, client closing): handed back, untouched.
    Rejected {
        /// The message.
        message: Message,
        /// Why it was refused.
        reason: SendErrorKind,
    },
    /// The client is closed for good. The last event: the stream ends after it.
    Closed,
    /// An event of a newer `ws-core` that this version does not translate, handed on
    /// untouched rather than dropped.
    Other(ws_core::Event),
}
