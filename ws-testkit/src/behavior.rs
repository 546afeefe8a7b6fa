//! What the [`TestServer`](crate::TestServer) does with handshakes and frames.
//!
//! A [`Behavior`] is a plain value: build one with struct-update syntax from
//! [`Behavior::default()`] (echo everything, answer pings, accept every handshake) and hand it to
//! [`TestServer::start_with`](crate::TestServer::start_with) or
//! [`TestServer::set_behavior`](crate::TestServer::set_behavior). Connections read the current
//! behaviour for every frame, so a change applies to the next frame on existing connections and
//! to every later handshake.

use std::time::Duration;

/// The server's whole configurable behaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behavior {
    /// Send every received text/binary message back on the same connection.
    pub echo: bool,
    /// How protocol-level Ping frames from the client are answered.
    pub pings: PingMode,
    /// Application-level heartbeat text messages, if the server should recognise them.
    pub app_heartbeat: Option<AppHeartbeat>,
    /// How new opening handshakes are treated.
    pub handshake: HandshakeMode,
}

impl Default for Behavior {
    /// Echo on, pings answered, no app heartbeat, every handshake accepted.
    fn default() -> Self {
        Self {
            echo: true,
            pings: PingMode::Answer,
            app_heartbeat: None,
            handshake: HandshakeMode::Accept,
        }
    }
}

/// Treatment of protocol Ping frames sent by the client.
///
/// tungstenite queues a Pong by itself whenever it reads a Ping; the server's transport drops
/// every Pong frame tungstenite writes and the server writes its own Pongs instead. That is what
/// makes [`PingMode::Ignore`] possible while the connection keeps reading and echoing data (a
/// client must detect a peer that is alive for data but deaf to pings), and it lets
/// [`PingMode::Delay`] hold a Pong back without delaying anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingMode {
    /// Answer at once with a Pong carrying the Ping's payload (RFC 6455 behaviour).
    Answer,
    /// Never answer; data frames are still read, echoed and recorded.
    Ignore,
    /// Answer each Ping after this delay.
    Delay(Duration),
}

/// An application-level heartbeat carried in text messages (for protocols that ping in JSON or
/// plain text instead of, or besides, protocol Pings).
///
/// A text message equal to `ping` is counted (see
/// [`TestServer::app_pings`](crate::TestServer::app_pings)) but neither echoed nor recorded in
/// [`TestServer::received`](crate::TestServer::received).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppHeartbeat {
    /// The exact text message that counts as a heartbeat ping, e.g. `"ping"`.
    pub ping: String,
    /// The text sent back, e.g. `Some("pong")`; `None` swallows the ping without an answer.
    pub pong: Option<String>,
}

impl AppHeartbeat {
    /// Answer the text `ping` with the text `pong`.
    pub fn reply(ping: impl Into<String>, pong: impl Into<String>) -> Self {
        Self {
            ping: ping.into(),
            pong: Some(pong.into()),
        }
    }

    /// Recognise the text `ping` but never answer it (a peer whose application is hung).
    pub fn ignore(ping: impl Into<String>) -> Self {
        Self {
            ping: ping.into(),
            pong: None,
        }
    }
}

/// Treatment of new opening handshakes. Every variant still records the attempt and request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeMode {
    /// Complete the handshake at once (the first offered subprotocol, if any, is selected).
    Accept,
    /// Answer with this HTTP status instead of `101`, plus `Retry-After: <seconds>` if given.
    ///
    /// A status that is not a valid HTTP status code is replaced by `503`.
    Refuse {
        /// HTTP status code, e.g. `503` or `429`.
        status: u16,
        /// Value of the `Retry-After` header in seconds; `None` omits the header.
        retry_after: Option<u64>,
    },
    /// Read the request, wait this long, then accept (a slow server, for handshake timeouts).
    Delay(Duration),
    /// Accept the TCP connection and read the request, but never answer it.
    Hang,
}
