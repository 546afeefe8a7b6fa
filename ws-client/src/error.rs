//! What went wrong, typed for the application and classified for the core.
//!
//! The core only needs a class ([`ConnectFailure`], [`TransportError`]) to decide whether to
//! reconnect; the application needs to know what happened and where (`TLS with example.com:443
//! failed: invalid peer certificate: UnknownIssuer`). [`Error`] carries both:
//! every adapter builds it with the constructors here and hands it to the application in
//! [`Event::Disconnected`](crate::Event::Disconnected).

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tungstenite::error::{CapacityError, ProtocolError};

use crate::fail_fast_utf8::InvalidUtf8Stream;
use tungstenite::http::header::{DATE, RETRY_AFTER};
use ws_core::{CloseCode, CloseError, ConfigError, ConnectFailure, Text, TransportError};

use crate::proxy::{Proxy, ProxyFailure};
use crate::retry_after::retry_after_from_headers;
use crate::url::redact;

/// A shareable error source (errors are cloned into events, and `io::Error` is not `Clone`).
pub type Source = Arc<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong, from a bad URL to a peer that closed with a code.
///
/// `Display` says what happened and where (URLs are always redacted); `source()` gives the
/// underlying error when there is one. Cheap to clone.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL is malformed, or not `ws://`/`wss://`.
    InvalidUrl {
        /// The URL as given, redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header name or value given for the handshake is not valid HTTP.
    InvalidHeader {
        /// The header name (as given).
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option is out of range.
    InvalidOption {
        /// The option, as named in the builder.
        option: &'static str,
        /// What is wrong with it, with the allowed range.
        problem: String,
    },
    /// The supervisor configuration is invalid.
    Config(ConfigError),
    /// The host name did not resolve.
    Dns {
        /// The host that was looked up.
        host: String,
        /// The resolver's error.
        source: Arc<io::Error>,
    },
    /// Nothing listens at the address (TCP connection refused).
    Refused {
        /// The URL, redacted.
        url: String,
        /// The address that refused.
        addr: SocketAddr,
    },
    /// A socket operation failed.
    Io {
        /// The URL, redacted.
        url: String,
        /// What the client was doing.
        stage: Stage,
        /// The OS error.
        source: Arc<io::Error>,
    },
    /// TLS failed: certificate not trusted, name mismatch, no common protocol, or a TLS error
    /// on an open connection.
    Tls {
        /// `host:port` of the server.
        server: String,
        /// What failed, from rustls.
        reason: String,
        /// The rustls error, when there is one.
        source: Option<Source>,
    },
    /// The server answered the upgrade request with an HTTP status instead of `101`.
    Http {
        /// The URL, redacted.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The server's `Retry-After` (seconds form), if any.
        retry_after: Option<Duration>,
        /// The start of the response body, if the server sent one (at most 256 bytes).
        body: Option<String>,
    },
    /// The peer broke the WebSocket protocol (bad handshake response, bad framing, invalid
    /// UTF-8 in a text message).
    Protocol {
        /// The URL, redacted.
        url: String,
        /// What the peer did wrong.
        reason: String,
    },
    /// The peer sent a text message that is not valid UTF-8.
    InvalidUtf8 {
        /// The URL, redacted.
        url: String,
        /// Where the encoding broke, from the decoder.
        detail: String,
    },
    /// The peer sent a message or frame larger than the configured limit.
    MessageTooLarge {
        /// The size announced or reached.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// The peer closed the connection with a Close frame.
    ClosedByPeer {
        /// The peer's close code (1005 when its frame had none).
        code: CloseCode,
        /// The peer's reason.
        reason: Text,
    },
    /// A deadline of the supervisor passed.
    Timeout {
        /// The URL, redacted.
        url: String,
        /// Which deadline.
        what: Timeout,
    },
    /// The URL or request provider failed (e.g. the token service was unreachable).
    Provider(Source),
    /// A value could not be serialised to JSON.
    Json(Arc<serde_json::Error>),
    /// `close()` was called with a code that may not be sent or a reason that is too long.
    InvalidClose(CloseError),
    /// The client has closed for good (after the application's close, giving up, or a
    /// permanent failure): nothing more can be sent.
    Closed,
    /// A proxy URL (from the options or the environment) is malformed or of an unsupported
    /// kind.
    InvalidProxy {
        /// The proxy URL, credentials hidden.
        proxy: String,
        /// What is wrong with it (and, for the environment, which variable held it).
        reason: String,
    },
    /// The proxy did not open a tunnel to the server.
    Proxy {
        /// The proxy, as `scheme://***@host:port` (credentials never shown).
        proxy: String,
        /// The `host:port` the tunnel was to lead to.
        target: String,
        /// What the proxy did.
        failure: ProxyFailure,
    },
    /// A stage of the connect attempt did not finish within the attempt's share of
    /// `connect_timeout`.
    StageTimeout {
        /// The URL, redacted.
        url: String,
        /// The stage that was still running.
        stage: ConnectStage,
        /// The addresses a TCP connection was tried to, in order (the proxy's, through a
        /// proxy); empty when the attempt timed out before connecting.
        tried: Vec<SocketAddr>,
        /// How long the attempt had run.
        after: Duration,
    },
    /// The server accepted the upgrade with an extension the client did not offer (RFC 6455
    /// §4.1: the client must fail the connection).
    UnofferedExtension {
        /// The URL, redacted.
        url: String,
        /// The extension, as the server named it.
        extension: String,
    },
    /// The server chose a subprotocol the client did not offer.
    UnofferedSubprotocol {
        /// The URL, redacted.
        url: String,
        /// The subprotocol, as the server named it.
        subprotocol: String,
    },
    /// A PEM file or buffer holds no usable certificate.
    InvalidPem {
        /// Where the PEM came from (a path, or `(buffer)`).
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The stages of a connect attempt, in order, for [`Error::StageTimeout`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ConnectStage {
    /// Resolving the server's (or the proxy's) name.
    Dns,
    /// Opening a TCP connection to one of the resolved addresses (Happy Eyeballs).
    Tcp,
    /// The proxy's handshake (TLS to an `https://` proxy, then `CONNECT` or SOCKS5).
    Proxy,
    /// The TLS handshake with the server.
    Tls,
    /// The HTTP upgrade to WebSocket.
    Upgrade,
}

impl fmt::Display for ConnectStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectStage::Dns => "DNS lookup",
            ConnectStage::Tcp => "TCP connect",
            ConnectStage::Proxy => "proxy handshake",
            ConnectStage::Tls => "TLS handshake",
            ConnectStage::Upgrade => "WebSocket upgrade",
        })
    }
}

/// What the client was doing when an I/O error happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Stage {
    /// Opening the TCP connection.
    Connect,
    /// The TLS or WebSocket opening handshake.
    Handshake,
    /// Reading from an open connection.
    Read,
    /// Writing to an open connection.
    Write,
}

/// Which supervisor deadline passed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Timeout {
    /// The opening handshake took longer than `connect_timeout`.
    Connect,
    /// No heartbeat reply within `pong_timeout`.
    Heartbeat,
    /// The server-driven heartbeat went silent for `idle_timeout`.
    Idle,
}

const BODY_EXCERPT: usize = 256;

impl Error {
    pub(crate) fn invalid_url(url: &str, reason: String) -> Self {
        Error::InvalidUrl {
            url: redact(url),
            reason,
        }
    }

    /// A provider failure, from any error.
    pub fn provider(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Error::Provider(Arc::from(error.into()))
    }

    /// A failed DNS lookup of `host`.
    pub(crate) fn dns(host: &str, error: io::Error) -> Self {
        Error::Dns {
            host: host.to_owned(),
            source: Arc::new(error),
        }
    }

    /// A failed TCP connect to `addr` (`url` redacted for the message).
    pub(crate) fn tcp_connect(url: &str, addr: SocketAddr, error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::ConnectionRefused {
            Error::Refused {
                url: url.to_owned(),
                addr,
            }
        } else {
            Error::Io {
                url: url.to_owned(),
                stage: Stage::Connect,
                source: Arc::new(error),
            }
        }
    }

    /// The proxy `proxy` failed to open a tunnel to `target` (`host:port`).
    pub fn proxy(proxy: &Proxy, target: &str, failure: ProxyFailure) -> Self {
        Error::Proxy {
            proxy: proxy.redacted(),
            target: target.to_owned(),
            failure,
        }
    }

    /// Classifies a failed TLS or WebSocket opening handshake with `server` (`host:port`) for
    /// `url` (already redacted).
    pub(crate) fn handshake(error: tungstenite::Error, url: &str, server: &str) -> Self {
        match error {
            tungstenite::Error::Http(response) => {
                let date = response
                    .headers()
                    .get(DATE)
                    .and_then(|value| value.to_str().ok());
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| retry_after_from_headers(value, date));
                let body = response.body().as_ref().filter(|b| !b.is_empty()).map(|b| {
                    let end = b.len().min(BODY_EXCERPT);
                    String::from_utf8_lossy(&b[..end]).into_owned()
                });
                Error::Http {
                    url: url.to_owned(),
                    status: response.status().as_u16(),
                    retry_after,
                    body,
                }
            }
            // The stream ended in the middle of the handshake: a network problem, not a
            // protocol one.
            tungstenite::Error::Protocol(ProtocolError::HandshakeIncomplete)
            | tungstenite::Error::ConnectionClosed
            | tungstenite::Error::AlreadyClosed => Error::Io {
                url: url.to_owned(),
                stage: Stage::Handshake,
                source: Arc::new(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the handshake",
                )),
            },
            other => Self::from_tungstenite(other, url, server, Stage::Handshake),
        }
    }

    /// Classifies an error reading from or writing to an open connection.
    pub(crate) fn transport(
        error: tungstenite::Error,
        url: &str,
        server: &str,
        stage: Stage,
    ) -> Self {
        Self::from_tungstenite(error, url, server, stage)
    }

    fn from_tungstenite(error: tungstenite::Error, url: &str, server: &str, stage: Stage) -> Self {
        let protocol = |reason: String| Error::Protocol {
            url: url.to_owned(),
            reason,
        };
        match error {
            tungstenite::Error::Io(io)
                if io.get_ref().is_some_and(
                    <dyn std::error::Error + Send + Sync>::is::<InvalidUtf8Stream>,
                ) =>
            {
                Error::InvalidUtf8 {
                    url: url.to_owned(),
                    detail: io.to_string(),
                }
            }
            tungstenite::Error::Io(io) => match rustls_error(&io) {
                Some(tls) => Error::Tls {
                    server: server.to_owned(),
                    reason: explain_tls(tls),
                    source: Some(Arc::new(tls.clone())),
                },
                None => Error::Io {
                    url: url.to_owned(),
                    stage,
                    source: Arc::new(io),
                },
            },
            tungstenite::Error::Tls(tls) => Error::Tls {
                server: server.to_owned(),
                reason: tls.to_string(),
                source: Some(Arc::new(tls)),
            },
            tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                Error::MessageTooLarge {
                    size,
                    max: max_size,
                }
            }
            tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)
            | tungstenite::Error::ConnectionClosed
            | tungstenite::Error::AlreadyClosed => Error::Io {
                url: url.to_owned(),
                stage,
                source: Arc::new(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection ended without a close frame",
                )),
            },
            tungstenite::Error::Http(response) => {
                protocol(format!("unexpected HTTP response {}", response.status()))
            }
            tungstenite::Error::Utf8(detail) => Error::InvalidUtf8 {
                url: url.to_owned(),
                detail,
            },
            tungstenite::Error::Url(url_error) => Error::InvalidUrl {
                url: url.to_owned(),
                reason: url_error.to_string(),
            },
            other => protocol(other.to_string()),
        }
    }

    /// The class of a failed connect attempt, for the core's close policy.
    pub(crate) fn connect_failure(&self) -> ConnectFailure {
        match self {
            Error::Tls { .. } => ConnectFailure::Tls,
            Error::Http {
                status,
                retry_after,
                ..
            } => ConnectFailure::Http {
                status: *status,
                retry_after: *retry_after,
            },
            Error::Protocol { .. }
            | Error::InvalidUtf8 { .. }
            | Error::MessageTooLarge { .. }
            | Error::UnofferedExtension { .. }
            | Error::UnofferedSubprotocol { .. } => ConnectFailure::Protocol,
            // A refusing proxy is classed by what it said (see `ProxyFailure::connect_failure`):
            // 407 stops, 502/503/504 retry.
            Error::Proxy { failure, .. } => failure.connect_failure(),
            // DNS, refused, socket errors, and a failing provider (a token service that is
            // down) are usually temporary.
            _ => ConnectFailure::Io,
        }
    }

    /// The class of an error on an open connection, for the core's close policy.
    pub(crate) fn transport_error(&self) -> TransportError {
        match self {
            Error::Protocol { .. }
            | Error::InvalidUtf8 { .. }
            | Error::InvalidUrl { .. }
            | Error::UnofferedExtension { .. }
            | Error::UnofferedSubprotocol { .. } => TransportError::Protocol,
            Error::MessageTooLarge { .. } => TransportError::MessageTooLarge,
            Error::Io { source, .. } if source.kind() == io::ErrorKind::UnexpectedEof => {
                TransportError::Eof
            }
            _ => TransportError::Io,
        }
    }
}

impl Error {
    /// The close code that tells the peer why this error ends the connection, when it is the
    /// peer's fault: 1002 for a protocol violation, 1007 for invalid UTF-8, 1009 for a message
    /// over the limit (RFC 6455 §7.4.1).
    pub(crate) fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol { .. } => Some(CloseCode::PROTOCOL_ERROR),
            Error::InvalidUtf8 { .. } => Some(CloseCode::INVALID_PAYLOAD),
            Error::MessageTooLarge { .. } => Some(CloseCode::MESSAGE_TOO_BIG),
            _ => None,
        }
    }
}

/// rustls's words for a TLS failure, followed, for the mistakes people make with their own
/// certificates, by what to do about it.
pub(crate) fn explain_tls(error: &rustls::Error) -> String {
    use rustls::{CertificateError, Error as Tls, OtherError};
    let hint = match error {
        Tls::InvalidCertificate(CertificateError::UnknownIssuer) => Some(
            "the server's certificate is signed by an authority this client does not trust; \
             if it is your own CA, add it to the trusted roots (`Tls::with_root_pem`, \
             or `ws-cli --ca FILE`)",
        ),
        Tls::InvalidCertificate(CertificateError::Other(OtherError(other)))
            if other.to_string().contains("CaUsedAsEndEntity") =>
        {
            Some(
                "the server presents a CA certificate as its own; generate a leaf \
                 certificate for the server's name, signed by that CA, and trust the CA",
            )
        }
        Tls::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => Some(
            "the certificate does not name the host in the URL; connect with the name the \
             certificate was issued for, or issue one with this name in its subjectAltName",
        ),
        Tls::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => Some("the server's certificate has expired (or this machine's clock is wrong)"),
        _ => None,
    };
    match hint {
        Some(hint) => format!("{error}: {hint}"),
        None => error.to_string(),
    }
}

/// The rustls error inside an I/O error (tokio-rustls and friends wrap it that way).
fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

/// `Retry-After` in its delay-seconds form (`120`) only. Responses are read with
/// [`parse_retry_after_at`](crate::retry_after::parse_retry_after_at), which also takes the
/// HTTP-date form.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u64>().ok().map(Duration::from_secs)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => write!(f, "invalid URL `{url}`: {reason}"),
            Error::InvalidHeader { name, reason } => {
                write!(f, "invalid handshake header `{name}`: {reason}")
            }
            Error::InvalidOption { option, problem } => {
                write!(f, "invalid option `{option}`: {problem}")
            }
            Error::Config(error) => write!(f, "invalid configuration: {error}"),
            Error::Dns { host, source } => write!(f, "DNS lookup of `{host}` failed: {source}"),
            Error::Refused { url, addr } => {
                write!(
                    f,
                    "connection to {addr} refused ({url}): nothing is listening"
                )
            }
            Error::Io { url, stage, source } => {
                let doing = match stage {
                    Stage::Connect => "connecting to",
                    Stage::Handshake => "the handshake with",
                    Stage::Read => "reading from",
                    Stage::Write => "writing to",
                };
                write!(f, "I/O error {doing} {url}: {source}")
            }
            Error::Tls { server, reason, .. } => write!(f, "TLS with {server} failed: {reason}"),
            Error::Http {
                url,
                status,
                retry_after,
                body,
            } => {
                let phrase = tungstenite::http::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(
                    f,
                    "{url} answered HTTP {status} {phrase} instead of switching to WebSocket"
                )?;
                if let Some(wait) = retry_after {
                    write!(f, " (retry after {}s)", wait.as_secs())?;
                }
                if let Some(body) = body {
                    write!(f, ": {body:?}")?;
                }
                Ok(())
            }
            Error::Protocol { url, reason } => {
                write!(f, "WebSocket protocol error from {url}: {reason}")
            }
            Error::InvalidUtf8 { url, detail } => {
                write!(f, "{url} sent a text message that is not UTF-8: {detail}")
            }
            Error::MessageTooLarge { size, max } => write!(
                f,
                "the peer sent a message of {size} bytes, over the limit of {max} bytes"
            ),
            Error::ClosedByPeer { code, reason } => {
                write!(f, "closed by the peer with code {code}")?;
                if !reason.is_empty() {
                    write!(f, " ({reason:?})")?;
                }
                Ok(())
            }
            Error::Timeout { url, what } => match what {
                Timeout::Connect => write!(f, "connecting to {url} timed out"),
                Timeout::Heartbeat => {
                    write!(
                        f,
                        "{url} did not answer the heartbeat in time: peer is dead"
                    )
                }
                Timeout::Idle => write!(f, "{url} went silent for the idle timeout: peer is dead"),
            },
            Error::Provider(error) => write!(f, "the URL function failed: {error}"),
            Error::Json(error) => write!(f, "JSON serialisation failed: {error}"),
            Error::InvalidClose(error) => write!(f, "invalid close: {error}"),
            Error::Closed => f.write_str("the client is closed; nothing more can be sent"),
            other => other.fmt_connect_error(f),
        }
    }
}

impl Error {
    /// `Display` for the errors of the connect stages (proxy, timeouts, strict handshake,
    /// certificates).
    fn fmt_connect_error(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidProxy { proxy, reason } => {
                write!(f, "invalid proxy `{proxy}`: {reason}")
            }
            Error::Proxy {
                proxy,
                target,
                failure,
            } => write!(f, "proxy {proxy} refused a tunnel to {target}: {failure}"),
            Error::StageTimeout {
                url,
                stage,
                tried,
                after,
            } => {
                write!(
                    f,
                    "connecting to {url} timed out in the {stage} after {} ms",
                    after.as_millis()
                )?;
                if !tried.is_empty() {
                    f.write_str(" (tried ")?;
                    for (n, addr) in tried.iter().enumerate() {
                        if n > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{addr}")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            Error::UnofferedExtension { url, extension } => write!(
                f,
                "{url} accepted the upgrade with extension `{extension}`, which the client did \
                 not offer"
            ),
            Error::UnofferedSubprotocol { url, subprotocol } => write!(
                f,
                "{url} chose subprotocol `{subprotocol}`, which the client did not offer"
            ),
            Error::InvalidPem { origin, reason } => {
                write!(f, "invalid PEM certificates in {origin}: {reason}")
            }
            _ => Ok(()),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Dns { source, .. } | Error::Io { source, .. } => Some(source.as_ref()),
            Error::Tls {
                source: Some(source),
                ..
            }
            | Error::Provider(source) => Some(source.as_ref()),
            Error::Json(error) => Some(error.as_ref()),
            Error::Config(error) => Some(error),
            Error::InvalidClose(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::Config(error)
    }
}

impl From<CloseError> for Error {
    fn from(error: CloseError) -> Self {
        Error::InvalidClose(error)
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::Json(Arc::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tungstenite::http::Response;

    fn http_error(status: u16, retry_after: Option<&str>) -> tungstenite::Error {
        let mut builder = Response::builder().status(status);
        if let Some(value) = retry_after {
            builder = builder.header("Retry-After", value);
        }
        tungstenite::Error::Http(Box::new(builder.body(Some(b"go away".to_vec())).unwrap()))
    }

    #[test]
    fn http_refusal_keeps_status_and_retry_after_seconds() {
        let error = Error::handshake(http_error(503, Some(" 7 ")), "ws://h/", "h:80");
        assert_eq!(
            error.connect_failure(),
            ConnectFailure::Http {
                status: 503,
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            error.to_string(),
            "ws://h/ answered HTTP 503 Service Unavailable instead of switching to WebSocket \
             (retry after 7s): \"go away\""
        );
        // A date in the past (2015): retry at once, but the server did ask for a wait.
        let dated = Error::handshake(
            http_error(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            "ws://h/",
            "h:80",
        );
        assert_eq!(
            dated.connect_failure(),
            ConnectFailure::Http {
                status: 429,
                retry_after: Some(Duration::ZERO)
            }
        );
    }

    #[test]
    fn rustls_errors_inside_io_errors_are_tls_failures() {
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let error = Error::handshake(tungstenite::Error::Io(io), "wss://h/", "h:443");
        assert_eq!(error.connect_failure(), ConnectFailure::Tls);
        assert_eq!(
            error.to_string(),
            "TLS with h:443 failed: invalid peer certificate: UnknownIssuer: the server's \
             certificate is signed by an authority this client does not trust; if it is your \
             own CA, add it to the trusted roots (`Tls::with_root_pem`, or `ws-cli --ca FILE`)"
        );
        assert!(error.source().is_some());
    }

    #[test]
    fn invalid_utf8_found_early_is_invalid_utf8_answered_with_1007() {
        let io = crate::fail_fast_utf8::FailFastUtf8::error();
        let error = Error::transport(tungstenite::Error::Io(io), "ws://h/", "h:80", Stage::Read);
        assert!(matches!(error, Error::InvalidUtf8 { .. }), "{error:?}");
        assert_eq!(error.transport_error(), TransportError::Protocol);
        assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
        let plain = io::Error::new(io::ErrorKind::InvalidData, "other");
        let other = Error::transport(
            tungstenite::Error::Io(plain),
            "ws://h/",
            "h:80",
            Stage::Read,
        );
        assert_eq!(
            other.close_code(),
            None,
            "any other I/O error is not the peer's fault"
        );
    }

    #[test]
    fn read_errors_map_to_transport_classes() {
        let class = |e| Error::transport(e, "ws://h/", "h:80", Stage::Read).transport_error();
        assert_eq!(
            class(tungstenite::Error::Capacity(
                CapacityError::MessageTooLong {
                    size: 10,
                    max_size: 5
                }
            )),
            TransportError::MessageTooLarge
        );
        assert_eq!(
            class(tungstenite::Error::Protocol(
                ProtocolError::ResetWithoutClosingHandshake
            )),
            TransportError::Eof
        );
        assert_eq!(
            class(tungstenite::Error::Protocol(
                ProtocolError::NonZeroReservedBits
            )),
            TransportError::Protocol
        );
        assert_eq!(
            class(tungstenite::Error::Utf8("bad".into())),
            TransportError::Protocol
        );
        assert_eq!(
            class(tungstenite::Error::Io(
                io::ErrorKind::ConnectionReset.into()
            )),
            TransportError::Io
        );
    }

    #[test]
    fn refused_and_dns_say_where() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let refused = Error::tcp_connect(
            "ws://127.0.0.1:9/",
            addr,
            io::ErrorKind::ConnectionRefused.into(),
        );
        assert_eq!(
            refused.to_string(),
            "connection to 127.0.0.1:9 refused (ws://127.0.0.1:9/): nothing is listening"
        );
        assert_eq!(refused.connect_failure(), ConnectFailure::Io);
        let dns = Error::dns("nope.invalid", io::Error::other("no such host"));
        assert_eq!(
            dns.to_string(),
            "DNS lookup of `nope.invalid` failed: no such host"
        );
    }

    #[test]
    fn a_dated_retry_after_is_measured_against_the_response_date() {
        let response = Response::builder()
            .status(503)
            .header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
            .header("Date", "Wed, 21 Oct 2015 07:26:00 GMT")
            .body(None)
            .unwrap();
        let error = Error::handshake(
            tungstenite::Error::Http(Box::new(response)),
            "ws://h/",
            "h:80",
        );
        assert_eq!(
            error.connect_failure(),
            ConnectFailure::Http {
                status: 503,
                retry_after: Some(Duration::from_secs(120))
            }
        );
    }

    #[test]
    fn proxy_refusals_are_classified_by_status_and_never_show_credentials() {
        let proxy = Proxy::parse("http://user:s3cret@127.0.0.1:3128").unwrap();
        let refusal = |status| {
            Error::proxy(
                &proxy,
                "example.com:443",
                ProxyFailure::Status {
                    status,
                    reason: String::new(),
                    retry_after: None,
                },
            )
        };
        let denied = refusal(407);
        assert_eq!(
            denied.to_string(),
            "proxy http://***@127.0.0.1:3128 refused a tunnel to example.com:443: HTTP 407"
        );
        assert!(!format!("{denied:?}").contains("s3cret"));
        let policy = |error: &Error| {
            ws_core::default_close_policy(&ws_core::Disconnect::ConnectFailed(
                error.connect_failure(),
            ))
        };
        assert_eq!(policy(&denied), ws_core::ReconnectDecision::Stop);
        for status in [502, 503, 504] {
            assert_eq!(
                policy(&refusal(status)),
                ws_core::ReconnectDecision::Reconnect
            );
        }
        let closed = Error::proxy(&proxy, "h:1", ProxyFailure::Closed);
        assert_eq!(policy(&closed), ws_core::ReconnectDecision::Reconnect);
        let socks_auth = Error::proxy(&proxy, "h:1", ProxyFailure::AuthRejected);
        assert_eq!(policy(&socks_auth), ws_core::ReconnectDecision::Stop);
    }

    #[test]
    fn a_stage_timeout_names_the_stage_and_the_addresses() {
        let error = Error::StageTimeout {
            url: "ws://h:9/".to_owned(),
            stage: ConnectStage::Tcp,
            tried: vec!["[::1]:9".parse().unwrap(), "127.0.0.1:9".parse().unwrap()],
            after: Duration::from_millis(900),
        };
        assert_eq!(
            error.to_string(),
            "connecting to ws://h:9/ timed out in the TCP connect after 900 ms (tried [::1]:9, \
             127.0.0.1:9)"
        );
        assert_eq!(error.connect_failure(), ConnectFailure::Io);
    }

    #[test]
    fn retry_after_accepts_only_seconds() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn tls_failures_people_cause_with_their_own_certificates_say_what_to_do() {
        use rustls::{CertificateError, OtherError};

        #[derive(Debug)]
        struct Webpki;
        impl fmt::Display for Webpki {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("CaUsedAsEndEntity")
            }
        }
        impl StdError for Webpki {}

        let unknown = explain_tls(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert!(
            unknown.starts_with("invalid peer certificate: UnknownIssuer: ")
                && unknown.contains("add it to the trusted roots"),
            "{unknown}"
        );

        let ca = explain_tls(&rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(Webpki)),
        )));
        assert!(
            ca.contains("generate a leaf certificate for the server's name, signed by that CA"),
            "{ca}"
        );

        let other = explain_tls(&rustls::Error::HandshakeNotComplete);
        assert_eq!(other, rustls::Error::HandshakeNotComplete.to_string());
    }
}
