//! The script language: one [`Step`] per application command, driver input or movement of the
//! virtual clock.
//!
//! Steps name things symbolically — "the current transport", "the one before", "a pong for the
//! latest ping" — and the [`Harness`](crate::Harness) resolves them when they run, so a script
//! stays meaningful when shrinking removes some of its steps.

use core::time::Duration;

use ws_core::{ConnectFailure, TransportError};

/// One thing that happens in a script.
#[derive(Clone, PartialEq, Debug)]
pub enum Step {
    /// The application calls `connect()`.
    Connect,
    /// The application calls `send()` with a fresh message of `len` bytes.
    Send {
        /// Binary instead of text.
        binary: bool,
        /// Payload length (at least long enough to be unique).
        len: u8,
    },
    /// The application calls `send_with_deadline()` with a deadline `within` from now (zero:
    /// already due).
    SendWithDeadline {
        /// Payload length.
        len: u8,
        /// Time from now to the deadline.
        within: Duration,
    },
    /// The application calls `send_now()` (its login message, say) for a transport.
    SendNow {
        /// The transport it names (an earlier one: a login that arrives after a reconnect).
        target: Target,
        /// Payload length.
        len: u8,
    },
    /// The application calls `ready()` for a transport.
    Ready(Target),
    /// The application calls `close()` (with a code that may not be sendable, and a reason
    /// that may be too long).
    Close {
        /// The close code.
        code: u16,
        /// Length of the reason; over 123 is refused.
        reason_len: u8,
    },
    /// The application calls `reconnect_now()`.
    ReconnectNow,
    /// The driver reports the handshake done.
    Opened(Target),
    /// The driver reports a frame.
    Frame(Target, FrameKind),
    /// The driver reports a failed connect.
    ConnectFailed(Target, ConnectFailure),
    /// The driver reports a broken transport.
    Error(Target, TransportError),
    /// The driver reports the peer's Close with this code.
    Closed(Target, u16),
    /// The platform reports a network change.
    NetworkChanged,
    /// The clock moves forward (zero, a little, or hours).
    Advance(Duration),
    /// The clock moves backward (the core must clamp).
    Rewind(Duration),
    /// `handle_timeout` at the current time (early, on time or late).
    Tick,
    /// The clock moves exactly to `poll_timeout()` and the driver ticks: a punctual driver.
    /// Nothing happens when nothing is pending.
    TickOnTime,
    /// The clock moves to `poll_timeout()` plus this much, then the driver ticks: a process
    /// that was suspended or starved.
    TickLate(Duration),
}

/// Which transport an input names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    /// The latest transport the supervisor asked for (stale once it ended).
    Current,
    /// The transport `n + 1` before the latest: stale.
    Previous(u8),
    /// An id the supervisor has not handed out yet: stale.
    Next,
}

/// What an inbound frame carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FrameKind {
    /// A fresh text message.
    Text,
    /// A fresh binary message.
    Binary,
    /// A protocol Ping from the server.
    Ping,
    /// A protocol Pong.
    Pong(PongPayload),
    /// The application-level heartbeat reply the config's matcher accepts.
    AppPong,
    /// A text that looks like a reply but does not match.
    NotAppPong,
    /// The server's application-level ping (answered by the core when configured).
    ServerPing,
}

/// What a protocol Pong carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PongPayload {
    /// The latest ping's number: the right answer.
    Latest,
    /// A number `n + 1` below the latest: an old or already answered ping.
    Older(u8),
    /// The number after the latest: never sent.
    Ahead,
    /// Not a sequence number at all.
    Garbage,
}
