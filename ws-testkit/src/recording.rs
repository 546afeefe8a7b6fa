//! What the server observed, kept across `stop`/`restart` so a test can assert on a whole
//! reconnect scenario (e.g. "every queued message arrived exactly once, in order").

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use crate::behavior::Behavior;
use crate::connection::Command;

/// A data message the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Which connection it arrived on: the 1-based number of its completed handshake, counted
    /// across restarts (the first connection is 1, a reconnect after a restart is 2, ...).
    pub conn: usize,
    /// The message itself.
    pub payload: Payload,
}

impl Received {
    /// The text, if this was a text message.
    pub fn text(&self) -> Option<&str> {
        match &self.payload {
            Payload::Text(text) => Some(text),
            Payload::Binary(_) => None,
        }
    }

    /// The bytes, if this was a binary message.
    pub fn binary(&self) -> Option<&[u8]> {
        match &self.payload {
            Payload::Binary(bytes) => Some(bytes),
            Payload::Text(_) => None,
        }
    }
}

/// The payload of a data message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// The opening-handshake request of one attempt, as the client sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeRequest {
    /// Request target: path plus query, e.g. `/feed?token=abc`.
    pub path: String,
    /// Header lines in the order sent, names as sent.
    pub headers: Vec<(String, String)>,
}

impl HandshakeRequest {
    /// The first header with this name (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A closing handshake the server started, and when the client's Close came back.
#[derive(Debug)]
pub(crate) struct ServerClose {
    pub(crate) conn: usize,
    /// When the server's Close frame was on the socket.
    pub(crate) sent: Instant,
    /// When the client's Close frame arrived, if it did.
    pub(crate) answered: Option<Instant>,
}

/// Everything the server shares between its tasks and the test thread.
#[derive(Debug, Default)]
pub(crate) struct ServerState {
    pub(crate) behavior: Behavior,
    pub(crate) handshake_attempts: usize,
    /// When each handshake request was read, in order (one entry per attempt).
    pub(crate) handshake_times: Vec<Instant>,
    pub(crate) requests: Vec<HandshakeRequest>,
    /// Completed handshakes; also the number given to the latest connection.
    pub(crate) connections: usize,
    pub(crate) received: Vec<Received>,
    pub(crate) app_pings: usize,
    pub(crate) pongs: Vec<Bytes>,
    pub(crate) client_close_codes: Vec<Option<u16>>,
    /// The code and reason of the client's Close frame, per ended connection (as above).
    pub(crate) client_close_frames: Vec<Option<(u16, String)>>,
    /// Closing handshakes the server started, in order.
    pub(crate) server_closes: Vec<ServerClose>,
    /// Protocol Pings received from clients.
    pub(crate) client_pings: usize,
    /// Command channels of the open, non-stalled connections, by connection number.
    pub(crate) open: HashMap<usize, UnboundedSender<Command>>,
}
