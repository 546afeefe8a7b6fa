//! The server's side of the opening handshake: read and record the request, then let the
//! current [`HandshakeMode`] decide between answering `101`, refusing, waiting, or hanging.

use std::io;

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, HeaderValue, StatusCode};

use crate::recording::HandshakeRequest;

/// Longest request head accepted, so a broken client cannot make the server buffer forever.
const MAX_HEAD: usize = 64 * 1024;

/// Reads until the end of the HTTP request head. Returns every byte read (the head and anything
/// after it), or `None` if the peer closed first.
pub(crate) async fn read_request_head(stream: &mut TcpStream) -> io::Result<Option<Bytes>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        let scan_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if buf[scan_from..].windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(Some(buf.into()));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
    }
}

/// Extracts the request target and header lines from a request head (leniently: this only
/// records what the client sent; tungstenite validates it).
pub(crate) fn parse_request(head: &[u8]) -> HandshakeRequest {
    let text = String::from_utf8_lossy(head);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or_default()
        .to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    HandshakeRequest { path, headers }
}

/// Completes the `101` response by selecting the first subprotocol the client offered, if any
/// (a client that offers subprotocols fails a handshake that selects none).
pub(crate) fn select_subprotocol(request: &Request, mut response: Response) -> Response {
    let first_offered = request
        .headers()
        .get(http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.split(',').next())
        .map(str::trim)
        .filter(|protocol| !protocol.is_empty())
        .and_then(|protocol| HeaderValue::from_str(protocol).ok());
    if let Some(protocol) = first_offered {
        response
            .headers_mut()
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

/// The error response that refuses a handshake with `status` and an optional `Retry-After`.
pub(crate) fn refusal(status: u16, retry_after: Option<u64>) -> ErrorResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = http::Response::new(Some(format!("ws-testkit refused: {status}")));
    *response.status_mut() = status;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_target_and_headers() {
        let request = parse_request(
            b"GET /feed?token=abc HTTP/1.1\r\nHost: x\r\nX-Custom:  v 1 \r\n\r\nrest",
        );
        assert_eq!(request.path, "/feed?token=abc");
        assert_eq!(request.header("x-custom"), Some("v 1"));
        assert_eq!(request.headers.len(), 2);
    }
}
