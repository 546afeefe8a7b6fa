//! Why a transport ended, and whether that is worth another attempt.
//!
//! Reconnecting after a server said "you are not allowed" (1008, HTTP 401) only hammers it;
//! not reconnecting after a restart (1012) or a dropped link leaves the application dead. The
//! [`default_close_policy`] encodes the usual answer for a public service; an application with
//! its own rules gives the config builder a closure (a [`ClosePolicy`]) that may carry its own
//! settings and delegate the rest to the default.

use core::fmt;
use core::time::Duration;

use alloc::sync::Arc;

/// A WebSocket close status code (RFC 6455 §7.4).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection was lost without a close frame (never sent on the wire).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's payload was not consistent with its type (e.g. invalid UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: policy violation (often: not authorised).
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (temporary overload).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway got an invalid response upstream.
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: TLS handshake failure (never sent on the wire).
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether an endpoint may put this code in a Close frame (RFC 6455 §7.4.1–2): the defined
    /// 1000–1003 and 1007–1014, and the registered and private 3000–4999.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

/// Why an attempt to open a transport failed, as far as the reconnect policy cares.
///
/// The driver keeps the full error for the application; the core only needs its class.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// DNS, connection refused or reset, unreachable network: usually temporary.
    Io,
    /// The TLS handshake failed (bad certificate, no common protocol).
    Tls,
    /// The server answered the upgrade request with this HTTP status instead of 101.
    Http {
        /// The HTTP status code.
        status: u16,
        /// The server's `Retry-After`, in seconds form, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The server's response was not a valid WebSocket handshake.
    Protocol,
}

/// Why an open transport broke without a close handshake (the code the application sees is
/// 1006).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// The stream ended without a Close frame.
    Eof,
    /// A read or write failed (reset, broken pipe, TLS error mid-stream).
    Io,
    /// The peer broke the WebSocket protocol (bad framing, masked server frame, invalid UTF-8).
    Protocol,
    /// The peer sent a message larger than the configured limit.
    MessageTooLarge,
}

/// Why a transport ended: the input to the close policy and the `cause` of
/// [`Event::Disconnected`](crate::Event).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Disconnect {
    /// The application closed the connection. Never reconnected.
    Application,
    /// The peer sent a Close frame with this code (1005 when it carried none).
    PeerClosed {
        /// The peer's close code.
        code: CloseCode,
    },
    /// The transport broke without a close handshake.
    Transport(TransportError),
    /// No heartbeat reply within `pong_timeout` of a ping.
    HeartbeatTimeout,
    /// The server-driven heartbeat went silent for `idle_timeout`.
    IdleTimeout,
    /// The attempt to open a transport failed.
    ConnectFailed(ConnectFailure),
    /// The handshake did not finish within `connect_timeout`.
    ConnectTimeout,
    /// The application asked for a fresh transport ([`Supervisor::reconnect_now`](crate::Supervisor::reconnect_now)
    /// or a network change). Always reconnected at once.
    ReconnectRequested,
}

impl Disconnect {
    /// The close code the application sees: the peer's code, or 1006 for anything abnormal.
    pub fn close_code(self) -> CloseCode {
        match self {
            Disconnect::PeerClosed { code } => code,
            Disconnect::Application => CloseCode::NORMAL,
            _ => CloseCode::ABNORMAL,
        }
    }
}

impl fmt::Display for Disconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disconnect::Application => f.write_str("closed by the application"),
            Disconnect::PeerClosed { code } => write!(f, "closed by the peer with code {code}"),
            Disconnect::Transport(TransportError::Eof) => {
                f.write_str("connection lost: the stream ended without a close frame")
            }
            Disconnect::Transport(TransportError::Io) => f.write_str("connection lost: I/O error"),
            Disconnect::Transport(TransportError::Protocol) => {
                f.write_str("the peer violated the WebSocket protocol")
            }
            Disconnect::Transport(TransportError::MessageTooLarge) => {
                f.write_str("the peer sent a message over the size limit")
            }
            Disconnect::HeartbeatTimeout => f.write_str("no heartbeat reply in time: peer is dead"),
            Disconnect::IdleTimeout => f.write_str("the server went silent: peer is dead"),
            Disconnect::ConnectFailed(ConnectFailure::Io) => {
                f.write_str("connect failed: network error")
            }
            Disconnect::ConnectFailed(ConnectFailure::Tls) => {
                f.write_str("connect failed: TLS error")
            }
            Disconnect::ConnectFailed(ConnectFailure::Http { status, .. }) => {
                write!(f, "connect failed: the server answered HTTP {status}")
            }
            Disconnect::ConnectFailed(ConnectFailure::Protocol) => {
                f.write_str("connect failed: invalid WebSocket handshake")
            }
            Disconnect::ConnectTimeout => f.write_str("connect timed out"),
            Disconnect::ReconnectRequested => f.write_str("reconnect requested"),
        }
    }
}

/// What to do after a transport ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ReconnectDecision {
    /// Try again after the backoff delay (subject to `max_attempts`).
    Reconnect,
    /// Stop for good: hand back what is queued and go to `Closed`.
    Stop,
}

/// A close policy: decides, from why a transport ended, whether to try again.
///
/// It is consulted for every end except the application's own `close()` (never reconnected)
/// and `reconnect_now()` (always reconnected).
///
/// A policy is a closure, so it can carry its own settings (the close codes a service uses
/// for "banned", say) and even state of its own behind a lock or an atomic. It is shared, not
/// copied: cloning a `Config` clones an [`Arc`]. The supervisor calls it from its own calls
/// only, so a policy that keeps state sees ends in order; it must not block, and for
/// [determinism](crate#guarantees) it should answer from the [`Disconnect`] and its own
/// settings alone.
///
/// ```
/// use ws_core::{ClosePolicy, CloseCode, Disconnect, ReconnectDecision, default_close_policy};
///
/// // Stop on the service's own "account suspended" code; otherwise the usual rules.
/// let suspended = CloseCode(4003);
/// let policy = ClosePolicy::new(move |cause: &Disconnect| match cause {
///     Disconnect::PeerClosed { code } if *code == suspended => ReconnectDecision::Stop,
///     other => default_close_policy(other),
/// });
/// let cause = Disconnect::PeerClosed { code: suspended };
/// assert_eq!(policy.decide(&cause), ReconnectDecision::Stop);
/// ```
#[derive(Clone, Default)]
pub struct ClosePolicy(Option<Arc<PolicyFn>>);

/// The closure behind a custom [`ClosePolicy`].
type PolicyFn = dyn Fn(&Disconnect) -> ReconnectDecision + Send + Sync;

impl ClosePolicy {
    /// A policy that asks `decide` (which may delegate to [`default_close_policy`]).
    pub fn new(decide: impl Fn(&Disconnect) -> ReconnectDecision + Send + Sync + 'static) -> Self {
        ClosePolicy(Some(Arc::new(decide)))
    }

    /// What to do after a transport ended for `disconnect`.
    #[must_use]
    pub fn decide(&self, disconnect: &Disconnect) -> ReconnectDecision {
        match &self.0 {
            Some(decide) => decide(disconnect),
            None => default_close_policy(disconnect),
        }
    }

    /// Whether this is the [default policy](default_close_policy) (the [`Default`] value),
    /// rather than a closure given to [`new`](Self::new).
    pub fn is_default(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Debug for ClosePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_default() {
            f.write_str("ClosePolicy(default)")
        } else {
            f.write_str("ClosePolicy(..)")
        }
    }
}

impl<F> From<F> for ClosePolicy
where
    F: Fn(&Disconnect) -> ReconnectDecision + Send + Sync + 'static,
{
    fn from(decide: F) -> Self {
        ClosePolicy::new(decide)
    }
}

/// The default policy, for a public internet service: what [`ClosePolicy::default`] asks,
/// and what a custom policy can delegate to for the cases it does not decide itself.
///
/// Reconnect after anything abnormal (lost link, 1006, heartbeat or idle timeout, network
/// error or timeout while connecting) and after the peer's 1000, 1001, 1011, 1012, 1013, 1014, any other code
/// outside 1002–1010 (e.g. application codes 3000–4999), and HTTP 408, 429 and 5xx during the
/// handshake. Stop after the peer's 1002, 1003, 1007, 1008, 1009, 1010, after a protocol
/// violation or oversized message from the peer (the same thing would happen again), after a
/// TLS failure (a certificate that does not verify will not start verifying), and after any
/// other HTTP status (400, 401, 403, 404, redirects…): retrying cannot fix those.
pub fn default_close_policy(disconnect: &Disconnect) -> ReconnectDecision {
    use ReconnectDecision::{Reconnect, Stop};
    match *disconnect {
        Disconnect::PeerClosed { code } => match code.0 {
            1002 | 1003 | 1007..=1010 => Stop,
            _ => Reconnect,
        },
        Disconnect::Transport(TransportError::Eof | TransportError::Io) => Reconnect,
        Disconnect::Application
        | Disconnect::Transport(_)
        | Disconnect::ConnectFailed(ConnectFailure::Tls) => Stop,
        Disconnect::ConnectFailed(ConnectFailure::Http { status, .. }) => match status {
            408 | 429 | 500..=599 => Reconnect,
            _ => Stop,
        },
        _ => Reconnect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReconnectDecision::{Reconnect, Stop};

    fn peer(code: u16) -> ReconnectDecision {
        default_close_policy(&Disconnect::PeerClosed {
            code: CloseCode(code),
        })
    }

    fn http(status: u16) -> ReconnectDecision {
        default_close_policy(&Disconnect::ConnectFailed(ConnectFailure::Http {
            status,
            retry_after: None,
        }))
    }

    #[test]
    fn default_policy_reconnects_after_transient_codes() {
        for code in [1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 4000] {
            assert_eq!(peer(code), Reconnect, "code {code}");
        }
    }

    #[test]
    fn default_policy_stops_after_permanent_codes() {
        for code in [1002, 1003, 1007, 1008, 1009, 1010] {
            assert_eq!(peer(code), Stop, "code {code}");
        }
    }

    #[test]
    fn default_policy_on_http_statuses() {
        for status in [400, 401, 403, 404, 301, 426] {
            assert_eq!(http(status), Stop, "status {status}");
        }
        for status in [408, 429, 500, 502, 503] {
            assert_eq!(http(status), Reconnect, "status {status}");
        }
    }

    #[test]
    fn default_policy_on_abnormal_losses() {
        for cause in [
            Disconnect::HeartbeatTimeout,
            Disconnect::IdleTimeout,
            Disconnect::ConnectTimeout,
            Disconnect::ConnectFailed(ConnectFailure::Io),
            Disconnect::ConnectFailed(ConnectFailure::Protocol),
            Disconnect::Transport(TransportError::Eof),
            Disconnect::Transport(TransportError::Io),
        ] {
            assert_eq!(default_close_policy(&cause), Reconnect, "{cause}");
        }
        for cause in [
            Disconnect::Transport(TransportError::Protocol),
            Disconnect::Transport(TransportError::MessageTooLarge),
            Disconnect::ConnectFailed(ConnectFailure::Tls),
        ] {
            assert_eq!(default_close_policy(&cause), Stop, "{cause}");
        }
    }

    #[test]
    fn sendable_codes() {
        assert!(CloseCode::NORMAL.is_sendable());
        assert!(CloseCode(4999).is_sendable());
        for code in [0, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
            assert!(!CloseCode(code).is_sendable(), "{code}");
        }
    }
}
