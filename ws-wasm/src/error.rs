//! What can go wrong, as far as a browser lets us see it.

use std::fmt;
use std::sync::Arc;

use ws_core::{CloseCode, CloseError, ConfigError};

/// An error from the browser adapter.
///
/// A browser tells a page very little about a failed connection: no HTTP status, no DNS or
/// TLS detail, only close code 1006. So unlike the native adapters there is no typed error
/// per failure: a failed attempt's [`Event::ConnectFailed`](crate::Event::ConnectFailed)
/// carries [`Error::NotOpened`], which names the URL and no more.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a `ws://` or `wss://` URL the browser would accept.
    InvalidUrl {
        /// The URL as given, with its query redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option cannot work in a browser, or is malformed.
    InvalidOption {
        /// The option, as named in the builder.
        option: &'static str,
        /// What is wrong with it, and what to use instead.
        problem: String,
    },
    /// The supervisor configuration is out of range.
    Config(ConfigError),
    /// `close()` with a code or reason the browser would refuse (it throws on anything but
    /// 1000 and 3000–4999, and on a reason over 123 bytes).
    Close(BrowserCloseError),
    /// A value could not be serialised to JSON.
    Json(Arc<serde_json::Error>),
    /// The URL provider failed; the attempt counts as a failed connect.
    Provider(String),
    /// The browser could not open the WebSocket and does not say why: a refused port, an
    /// unreachable host, a DNS or TLS failure and a handshake the server answered with an
    /// HTTP status (401, 503…) all reach a page alike, as close code 1006 (see
    /// [`crate::close`]).
    NotOpened {
        /// The URL tried, with its query redacted.
        url: String,
    },
    /// The attempt did not open within `connect_timeout` (a URL provider's time included).
    ConnectTimeout {
        /// The URL tried, with its query redacted; `(provider)` if the URL provider had not
        /// answered yet.
        url: String,
    },
    /// The browser threw where it was not expected to (e.g. `new WebSocket` refusing a port
    /// it blocks); the text is the exception's.
    Browser(String),
    /// The client has stopped for good (closed, gave up, or failed permanently).
    Stopped,
}

/// Why the browser would refuse a `close()`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum BrowserCloseError {
    /// Browsers only let a page send 1000 and 3000–4999 (`WebSocket.close` throws
    /// `InvalidAccessError` on anything else, e.g. 1001 or 1011).
    CodeNotAllowed(CloseCode),
    /// The reason is longer than the 123 bytes a Close frame can carry.
    ReasonTooLong(usize),
}

impl From<CloseError> for BrowserCloseError {
    fn from(error: CloseError) -> Self {
        match error {
            CloseError::ReasonTooLong(len) => BrowserCloseError::ReasonTooLong(len),
            CloseError::CodeNotSendable(code) => BrowserCloseError::CodeNotAllowed(code),
            // A future kind of refusal: the code is the only argument it can be about.
            _ => BrowserCloseError::CodeNotAllowed(CloseCode::ABNORMAL),
        }
    }
}

impl fmt::Display for BrowserCloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrowserCloseError::CodeNotAllowed(code) => write!(
                f,
                "close code {code} cannot be sent from a browser (allowed: 1000, 3000-4999)"
            ),
            BrowserCloseError::ReasonTooLong(len) => write!(
                f,
                "close reason is {len} bytes; at most 123 fit in a Close frame"
            ),
        }
    }
}

impl std::error::Error for BrowserCloseError {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => write!(f, "invalid URL {url}: {reason}"),
            Error::InvalidOption { option, problem } => write!(f, "invalid `{option}`: {problem}"),
            Error::Config(error) => write!(f, "invalid configuration: {error}"),
            Error::Close(error) => error.fmt(f),
            Error::Json(error) => write!(f, "JSON serialisation failed: {error}"),
            Error::Provider(reason) => write!(f, "the URL provider failed: {reason}"),
            Error::NotOpened { url } => write!(
                f,
                "the browser could not open {url} (refused, unreachable, TLS or an HTTP error: \
                 a page is not told which)"
            ),
            Error::ConnectTimeout { url } => write!(f, "connecting to {url} timed out"),
            Error::Browser(reason) => write!(f, "the browser refused: {reason}"),
            Error::Stopped => f.write_str("the client has stopped"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(error) => Some(error),
            Error::Close(error) => Some(error),
            Error::Json(error) => Some(&**error),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::Config(error)
    }
}

impl From<BrowserCloseError> for Error {
    fn from(error: BrowserCloseError) -> Self {
        Error::Close(error)
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::Json(Arc::new(error))
    }
}
