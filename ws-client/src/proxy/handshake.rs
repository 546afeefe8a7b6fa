//! The proxy handshakes as one IO-free state machine: it says what to write, how much to
//! read, and when the tunnel is ready; the adapter moves the bytes over its own stream.
//!
//! ```text
//! loop {
//!     match handshake.step()? {
//!         Step::Write(bytes) => { stream.write_all(bytes)?; handshake.sent(); }
//!         Step::Read(most)   => { let n = stream.read(&mut buffer[..most])?;
//!                                 handshake.received(&buffer[..n]); } // 0 bytes: closed
//!         Step::Done         => break, // the stream is now a tunnel to the target
//!     }
//! }
//! ```
//!
//! A handshake never asks for more bytes than its reply still needs, so nothing the target
//! sends through the new tunnel is ever read by it: the stream is handed on intact.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use ws_core::ConnectFailure;

use super::http_connect::HttpConnect;
use super::socks5::Socks5;
use super::url::{Proxy, ProxyKind, host_port};

/// Where the tunnel leads.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ProxyTarget {
    /// A host name (or IP literal) and port, resolved by the proxy (`http`, `https`,
    /// `socks5h`).
    Name {
        /// The host, without the brackets of an IPv6 literal.
        host: String,
        /// The port.
        port: u16,
    },
    /// An address the client resolved itself (`socks5`).
    Addr(SocketAddr),
}

impl ProxyTarget {
    /// A named target.
    pub fn name(host: &str, port: u16) -> Self {
        ProxyTarget::Name {
            host: host.to_owned(),
            port,
        }
    }
}

impl fmt::Display for ProxyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyTarget::Name { host, port } => f.write_str(&host_port(host, *port)),
            ProxyTarget::Addr(addr) => write!(f, "{addr}"),
        }
    }
}

/// What the handshake needs next.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum Step<'a> {
    /// Write all of these bytes to the proxy, then call [`ProxyHandshake::sent`].
    Write(&'a [u8]),
    /// Read at most this many bytes (never more: what follows belongs to the tunnel) and
    /// pass them to [`ProxyHandshake::received`]; a read of 0 bytes means the proxy closed.
    Read(usize),
    /// The tunnel is open: the stream now carries the target's bytes.
    Done,
}

/// Why a proxy did not open the tunnel.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ProxyFailure {
    /// The HTTP proxy answered `CONNECT` with this status instead of 2xx.
    Status {
        /// The status code (407: the proxy wants credentials, or refused them).
        status: u16,
        /// The proxy's reason phrase, at most 128 characters.
        reason: String,
        /// The proxy's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The SOCKS5 proxy answered the connect request with this reply code (RFC 1928 §6).
    Socks {
        /// The reply code: 1 general failure, 2 not allowed by its rules, 3 network
        /// unreachable, 4 host unreachable, 5 connection refused, 6 TTL expired, 7 command
        /// not supported, 8 address type not supported.
        code: u8,
    },
    /// The SOCKS5 proxy accepts none of the offered authentication methods (it wants
    /// credentials and the proxy URL has none, or the reverse).
    NoAcceptableAuth,
    /// The SOCKS5 proxy rejected the user name and password (RFC 1929).
    AuthRejected,
    /// The reply is not the protocol the proxy URL names.
    Malformed(String),
    /// The HTTP proxy's reply headers exceed the limit (bytes).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The proxy closed the connection before the tunnel was ready.
    Closed,
    /// Reading from or writing to the proxy failed (the connection was reset…).
    Io(String),
    /// The request cannot be expressed in the protocol (a SOCKS5 name or credential longer
    /// than 255 bytes).
    Unsupported(String),
}

impl ProxyFailure {
    /// The class for the core's close policy. An HTTP status is classed like a server's
    /// (with the default policy 407 and 403 stop; 502, 503, 504, 408, 429 and other 5xx
    /// retry, `Retry-After` honoured). A SOCKS5 failure with the meaning of an HTTP status is
    /// classed as that status: refused or missing credentials as 407, a rule forbidding the
    /// target (code 2) as 403, so they stop too. SOCKS5 network failures (codes 1, 3–6) and a
    /// proxy that closed are network errors (retried); a reply that is not the protocol is a
    /// protocol failure, retried like a server's invalid handshake.
    pub fn connect_failure(&self) -> ConnectFailure {
        let status = |status| ConnectFailure::Http {
            status,
            retry_after: None,
        };
        match self {
            ProxyFailure::Status {
                status,
                retry_after,
                ..
            } => ConnectFailure::Http {
                status: *status,
                retry_after: *retry_after,
            },
            ProxyFailure::NoAcceptableAuth | ProxyFailure::AuthRejected => status(407),
            ProxyFailure::Socks { code: 2 } => status(403),
            ProxyFailure::Socks { code: 1 | 3..=6 }
            | ProxyFailure::Closed
            | ProxyFailure::Io(_) => ConnectFailure::Io,
            _ => ConnectFailure::Protocol,
        }
    }
}

impl fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyFailure::Status {
                status,
                reason,
                retry_after,
            } => {
                write!(f, "HTTP {status}")?;
                if !reason.is_empty() {
                    write!(f, " {reason}")?;
                }
                if let Some(wait) = retry_after {
                    write!(f, " (retry after {}s)", wait.as_secs())?;
                }
                Ok(())
            }
            ProxyFailure::Socks { code } => {
                let meaning = match code {
                    1 => "general failure",
                    2 => "connection not allowed by its rules",
                    3 => "network unreachable",
                    4 => "host unreachable",
                    5 => "connection refused",
                    6 => "TTL expired",
                    7 => "command not supported",
                    8 => "address type not supported",
                    _ => "unknown reply code",
                };
                write!(f, "SOCKS5 reply {code}: {meaning}")
            }
            ProxyFailure::NoAcceptableAuth => {
                f.write_str("SOCKS5: no acceptable authentication method")
            }
            ProxyFailure::AuthRejected => f.write_str("SOCKS5: user name or password rejected"),
            ProxyFailure::Malformed(what) => write!(f, "malformed reply: {what}"),
            ProxyFailure::TooLarge { limit } => {
                write!(f, "reply headers larger than {limit} bytes")
            }
            ProxyFailure::Closed => f.write_str("the proxy closed the connection"),
            ProxyFailure::Io(error) => write!(f, "I/O error: {error}"),
            ProxyFailure::Unsupported(what) => f.write_str(what),
        }
    }
}

/// The opening handshake with a proxy, IO-free: [`step`](Self::step) says what to write or
/// how much to read, the adapter moves the bytes over its own stream.
///
/// `Debug` shows the protocol and state, never the bytes (they hold the credentials).
pub struct ProxyHandshake(Inner);

enum Inner {
    Http(HttpConnect),
    Socks5(Socks5),
}

impl ProxyHandshake {
    /// The handshake asking `proxy` for a tunnel to `target`, with the proxy URL's
    /// credentials if it has any (`Proxy-Authorization: Basic` for HTTP, RFC 1929 for SOCKS5).
    pub fn new(proxy: &Proxy, target: &ProxyTarget) -> Self {
        ProxyHandshake(match proxy.kind() {
            ProxyKind::Http | ProxyKind::Https => {
                Inner::Http(HttpConnect::new(target, proxy.credentials()))
            }
            ProxyKind::Socks5 | ProxyKind::Socks5h => {
                Inner::Socks5(Socks5::new(target, proxy.credentials()))
            }
        })
    }

    /// What to do next, or why the proxy refused.
    pub fn step(&mut self) -> Result<Step<'_>, ProxyFailure> {
        match &mut self.0 {
            Inner::Http(http) => http.step(),
            Inner::Socks5(socks) => socks.step(),
        }
    }

    /// The bytes of the last [`Step::Write`] are written.
    pub fn sent(&mut self) {
        match &mut self.0 {
            Inner::Http(http) => http.sent(),
            Inner::Socks5(socks) => socks.sent(),
        }
    }

    /// Bytes read from the proxy (at most what [`Step::Read`] allowed); empty when the proxy
    /// closed the connection. A problem shows in the next [`step`](Self::step).
    pub fn received(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            Inner::Http(http) => http.received(bytes),
            Inner::Socks5(socks) => socks.received(bytes),
        }
    }
}

impl fmt::Debug for ProxyHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Http(_) => f.write_str("ProxyHandshake(HTTP CONNECT)"),
            Inner::Socks5(_) => f.write_str("ProxyHandshake(SOCKS5)"),
        }
    }
}

/// Runs `handshake` against a scripted proxy: each reply chunk is handed over in pieces no
/// larger than what the handshake asked for. Returns what the client wrote and the outcome.
#[cfg(test)]
pub(super) fn run_scripted(
    handshake: &mut ProxyHandshake,
    reply: &[u8],
) -> (Vec<u8>, Result<(), ProxyFailure>) {
    let mut written = Vec::new();
    let mut rest = reply;
    loop {
        match handshake.step() {
            Ok(Step::Write(bytes)) => {
                written.extend_from_slice(bytes);
                handshake.sent();
            }
            Ok(Step::Read(most)) => {
                assert!(most > 0, "a read of nothing");
                let n = most.min(rest.len());
                handshake.received(&rest[..n]);
                rest = &rest[n..];
            }
            Ok(Step::Done) => {
                assert!(
                    rest.is_empty(),
                    "the handshake left {} bytes unread",
                    rest.len()
                );
                return (written, Ok(()));
            }
            Err(failure) => return (written, Err(failure)),
        }
    }
}
