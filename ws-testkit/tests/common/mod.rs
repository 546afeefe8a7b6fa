//! A plain blocking tungstenite client for the kit's own tests.

#![allow(dead_code, reason = "each test crate uses a different subset")]

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::handshake::client::Response;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Error, Message, WebSocket};

/// Deadline for anything that should happen promptly.
pub(crate) const WAIT: Duration = Duration::from_secs(3);
/// How long a client listens to conclude that nothing arrives.
pub(crate) const QUIET: Duration = Duration::from_millis(300);

pub(crate) type Client = WebSocket<TcpStream>;

/// Connects with tungstenite's default config; a socket read timeout of [`WAIT`] keeps a broken
/// test from hanging. A timed-out handshake is reported as `Error::Io(WouldBlock)`.
pub(crate) fn try_connect(
    request: impl IntoClientRequest,
    config: Option<WebSocketConfig>,
) -> Result<(Client, Response), Box<Error>> {
    let request = request.into_client_request()?;
    let authority = request.uri().authority().expect("URL has a host").as_str();
    let stream = TcpStream::connect(authority).map_err(Error::Io)?;
    stream.set_read_timeout(Some(WAIT)).map_err(Error::Io)?;
    tungstenite::client::client_with_config(request, stream, config).map_err(|err| {
        Box::new(match err {
            HandshakeError::Failure(err) => err,
            HandshakeError::Interrupted(_) => Error::Io(io::ErrorKind::WouldBlock.into()),
        })
    })
}

pub(crate) fn connect(url: &str) -> Client {
    try_connect(url, None).expect("connect").0
}

pub(crate) fn set_read_timeout(client: &Client, timeout: Duration) {
    client
        .get_ref()
        .set_read_timeout(Some(timeout))
        .expect("set read timeout");
}

/// Reads the next message, skipping nothing.
pub(crate) fn read(client: &mut Client) -> Message {
    client.read().expect("read a message")
}

pub(crate) fn read_text(client: &mut Client) -> String {
    match read(client) {
        Message::Text(text) => text.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// True if a read fails with a socket timeout (nothing arrived, connection still open).
pub(crate) fn is_timeout(err: &Error) -> bool {
    matches!(err, Error::Io(io) if matches!(io.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
}
