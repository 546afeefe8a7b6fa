//! Close codes as a browser sees them: which a page may send, and what a `close` event means
//! to the supervisor.
//!
//! # What the close policy can and cannot know in a browser
//!
//! A browser hides why a connection attempt failed: a refused TCP connect, a DNS failure, a
//! TLS error and a handshake the server answered with HTTP 401, 403, 429 or 503 all look the
//! same to the page, a `close` event with code 1006 and no reason. So the supervisor sees every
//! failed attempt as [`ConnectFailure::Io`], and the default close policy reconnects after it:
//! a server that refuses the handshake for good (bad token, banned client) is retried with
//! backoff, and a `Retry-After` is never seen. Bound such cases with `max_attempts`, or
//! refresh the credentials in a URL provider (called before every attempt). Close codes the
//! *server* sends on an open connection (1008, 4001…) arrive intact, and the policy treats
//! them as it does everywhere.

use ws_core::{CloseCode, CloseError, ConnectFailure, ConnectionId, Input, Text, TransportError};

use crate::error::BrowserCloseError;

/// Checks `close()` arguments the way the browser will: `WebSocket.close` throws
/// `InvalidAccessError` on any code but 1000 and 3000–4999 and `SyntaxError` on a reason
/// over 123 bytes. Checking first turns those exceptions into an error value.
pub fn check_browser_close(code: CloseCode, reason: &Text) -> Result<(), BrowserCloseError> {
    if !matches!(code.0, 1000 | 3000..=4999) {
        return Err(BrowserCloseError::CodeNotAllowed(code));
    }
    CloseError::check(code, reason).map_err(BrowserCloseError::from)
}

/// What a browser `close` event reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BrowserClose {
    /// `CloseEvent.code`: the peer's code after a clean close, 1006 when the connection failed
    /// (whatever the reason), 1005 when the peer's Close carried no code.
    pub(crate) code: u16,
    /// `CloseEvent.reason`.
    pub(crate) reason: String,
    /// `CloseEvent.wasClean`: whether a close handshake completed.
    pub(crate) was_clean: bool,
}

/// The supervisor input for a `close` event on `connection`; `opened` tells whether its
/// `open` event came first.
pub(crate) fn close_input(connection: ConnectionId, opened: bool, close: BrowserClose) -> Input {
    if close.was_clean {
        return Input::Closed {
            connection,
            code: CloseCode(close.code),
            reason: Text::from(close.reason),
        };
    }
    if opened {
        // A failed connection: the stream ended or broke without a close handshake. The
        // browser does not say which; both mean "reconnect" to the default policy.
        Input::Error {
            connection,
            error: TransportError::Io,
        }
    } else {
        // The handshake never completed: refused, unreachable, TLS, or an HTTP status. The
        // browser reports all of them as 1006 (see the module documentation).
        let failure = if close.code == CloseCode::TLS_HANDSHAKE.0 {
            ConnectFailure::Tls
        } else {
            ConnectFailure::Io
        };
        Input::ConnectFailed {
            connection,
            failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1000_and_3000_to_4999_may_be_sent_from_a_browser() {
        for code in [1000, 3000, 4000, 4999] {
            assert_eq!(
                check_browser_close(CloseCode(code), &Text::new()),
                Ok(()),
                "{code}"
            );
        }
        for code in [999, 1001, 1002, 1005, 1006, 1008, 1011, 2999, 5000] {
            assert_eq!(
                check_browser_close(CloseCode(code), &Text::new()),
                Err(BrowserCloseError::CodeNotAllowed(CloseCode(code))),
                "{code}"
            );
        }
        let long = Text::from("é".repeat(62));
        assert_eq!(
            check_browser_close(CloseCode::NORMAL, &long),
            Err(BrowserCloseError::ReasonTooLong(124))
        );
        assert_eq!(
            BrowserCloseError::CodeNotAllowed(CloseCode(1001)).to_string(),
            "close code 1001 cannot be sent from a browser (allowed: 1000, 3000-4999)"
        );
    }

    fn close(code: u16, was_clean: bool) -> BrowserClose {
        BrowserClose {
            code,
            reason: if was_clean {
                "bye".into()
            } else {
                String::new()
            },
            was_clean,
        }
    }

    #[test]
    fn a_clean_close_carries_the_peers_code_and_reason() {
        let id = ConnectionId(3);
        assert_eq!(
            close_input(id, true, close(4001, true)),
            Input::Closed {
                connection: id,
                code: CloseCode(4001),
                reason: Text::from("bye"),
            }
        );
    }

    #[test]
    fn a_failed_open_connection_is_a_transport_error() {
        assert_eq!(
            close_input(ConnectionId(1), true, close(1006, false)),
            Input::Error {
                connection: ConnectionId(1),
                error: TransportError::Io,
            }
        );
    }

    #[test]
    fn a_refused_handshake_is_only_ever_an_io_connect_failure() {
        // An HTTP 401 refusal looks exactly like this in a browser: the policy cannot see it.
        assert_eq!(
            close_input(ConnectionId(2), false, close(1006, false)),
            Input::ConnectFailed {
                connection: ConnectionId(2),
                failure: ConnectFailure::Io,
            }
        );
        assert_eq!(
            close_input(ConnectionId(2), false, close(1015, false)),
            Input::ConnectFailed {
                connection: ConnectionId(2),
                failure: ConnectFailure::Tls,
            }
        );
    }
}
