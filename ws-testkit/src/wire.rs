//! The server side's byte stream: a `TcpStream` wrapper that gives the test server control over
//! what reaches the wire, below tungstenite.
//!
//! It does three things tungstenite cannot be asked to do:
//!
//! * **replay**: the server reads the HTTP request head itself (to record it even for handshakes
//!   it never answers); those bytes are served again to tungstenite's handshake;
//! * **drop automatic Pongs**: tungstenite queues a Pong for every Ping it reads and there is no
//!   switch to turn that off. The outgoing byte stream is scanned frame by frame and Pong frames
//!   are removed, so the server alone decides whether and when to answer a Ping;
//! * **inject**: raw bytes (a hand-made Pong, or deliberately invalid frames) are inserted at the
//!   next frame boundary, so they never split a frame tungstenite is writing.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

const OPCODE_PONG: u8 = 0xA;

/// Encodes an unmasked (server-to-client) Pong frame; `payload` is at most 125 bytes, as every
/// valid Ping payload is.
pub(crate) fn pong_frame(payload: &[u8]) -> Bytes {
    let len = payload.len().min(125);
    let mut frame = BytesMut::with_capacity(2 + len);
    frame.extend_from_slice(&[0x80 | OPCODE_PONG, len as u8]);
    frame.extend_from_slice(&payload[..len]);
    frame.freeze()
}

/// A `TcpStream` seen through the filters described in the module docs.
#[derive(Debug)]
pub(crate) struct ServerStream {
    inner: TcpStream,
    replay: Bytes,
    /// Filtered bytes accepted from tungstenite but not yet written to the socket.
    out: BytesMut,
    /// `None` during the HTTP handshake, whose bytes pass unchanged.
    scanner: Option<FrameScanner>,
    /// Raw bytes waiting for the next frame boundary.
    injected: BytesMut,
}

impl ServerStream {
    /// Wraps `inner`; `replay` is what was already read from it and must be read again.
    pub(crate) fn new(inner: TcpStream, replay: Bytes) -> Self {
        Self {
            inner,
            replay,
            out: BytesMut::new(),
            scanner: None,
            injected: BytesMut::new(),
        }
    }

    /// Starts treating output as WebSocket frames; call once the handshake is complete.
    pub(crate) fn handshake_done(&mut self) {
        self.scanner = Some(FrameScanner::default());
    }

    /// Queues raw bytes for the wire, bypassing the Pong filter. They go out at the next frame
    /// boundary of tungstenite's output, on the next write or flush.
    pub(crate) fn inject(&mut self, raw: &[u8]) {
        self.injected.extend_from_slice(raw);
        self.move_injected();
    }

    fn move_injected(&mut self) {
        let at_boundary = self.scanner.as_ref().is_none_or(FrameScanner::at_boundary);
        if at_boundary && !self.injected.is_empty() {
            self.out.extend_from_slice(&self.injected.split());
        }
    }

    /// Writes `out` to the socket; ready only once it is empty.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.move_injected();
        while !self.out.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out.advance(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ServerStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.replay.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = this.replay.len().min(buf.remaining());
        buf.put_slice(&this.replay.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ServerStream {
    /// Accepts all of `buf` once earlier output is on the socket (so buffering is bounded by one
    /// write), filters it into `out` and starts writing it.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match &mut this.scanner {
            Some(scanner) => scanner.filter(buf, &mut this.out),
            None => this.out.extend_from_slice(buf),
        }
        this.move_injected();
        // Best effort: a `Pending` here leaves a registered waker and the rest for the next call.
        if let Poll::Ready(Err(err)) = this.poll_drain(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// Follows frame boundaries in a stream of WebSocket frames and drops Pong frames.
#[derive(Debug)]
enum FrameScanner {
    /// Collecting a frame header (at most 14 bytes: 2 + 8 length + 4 mask).
    Header { buf: [u8; 14], len: usize },
    /// Inside a payload: `remaining` bytes to go, copied to the output if `keep`.
    Payload { remaining: u64, keep: bool },
}

impl Default for FrameScanner {
    fn default() -> Self {
        Self::Header {
            buf: [0; 14],
            len: 0,
        }
    }
}

impl FrameScanner {
    fn at_boundary(&self) -> bool {
        matches!(self, Self::Header { len: 0, .. })
    }

    /// Total header length once the first two bytes are known.
    fn header_len(first_two: [u8; 2]) -> usize {
        let extended = match first_two[1] & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if first_two[1] & 0x80 == 0 { 0 } else { 4 };
        2 + extended + mask
    }

    fn payload_len(header: &[u8]) -> u64 {
        match header[1] & 0x7F {
            126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
            127 => u64::from_be_bytes(header[2..10].try_into().expect("8 length bytes")),
            short => u64::from(short),
        }
    }

    /// Copies `input` to `out`, leaving out every Pong frame.
    fn filter(&mut self, mut input: &[u8], out: &mut BytesMut) {
        while !input.is_empty() {
            match self {
                Self::Header { buf, len } => {
                    buf[*len] = input[0];
                    *len += 1;
                    input = &input[1..];
                    if *len < 2 || *len < Self::header_len([buf[0], buf[1]]) {
                        continue;
                    }
                    let header = &buf[..*len];
                    let keep = header[0] & 0x0F != OPCODE_PONG;
                    if keep {
                        out.extend_from_slice(header);
                    }
                    let remaining = Self::payload_len(header);
                    *self = if remaining == 0 {
                        Self::default()
                    } else {
                        Self::Payload { remaining, keep }
                    };
                }
                Self::Payload { remaining, keep } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    if *keep {
                        out.extend_from_slice(&input[..take]);
                    }
                    input = &input[take..];
                    *remaining -= take as u64;
                    if *remaining == 0 {
                        *self = Self::default();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n if n <= 0xFFFF => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn pongs_are_removed_and_everything_else_kept_whatever_the_chunking() {
        let big = vec![7u8; 70_000];
        let mut stream = Vec::new();
        stream.extend(frame(0x1, b"hello"));
        stream.extend(frame(OPCODE_PONG, b"p1"));
        stream.extend(frame(0x2, &big));
        stream.extend(frame(OPCODE_PONG, &[]));
        stream.extend(frame(0x9, b"ping"));
        stream.extend(frame(0x2, &[1; 300]));
        let mut expected = Vec::new();
        expected.extend(frame(0x1, b"hello"));
        expected.extend(frame(0x2, &big));
        expected.extend(frame(0x9, b"ping"));
        expected.extend(frame(0x2, &[1; 300]));
        for chunk in [1, 2, 3, 7, 125, 4096, stream.len()] {
            let mut scanner = FrameScanner::default();
            let mut out = BytesMut::new();
            for piece in stream.chunks(chunk) {
                scanner.filter(piece, &mut out);
            }
            assert!(scanner.at_boundary());
            assert_eq!(&out[..], &expected[..], "chunk size {chunk}");
        }
    }

    #[test]
    fn pong_frame_is_a_final_unmasked_pong() {
        assert_eq!(&pong_frame(b"ab")[..], &[0x8A, 2, b'a', b'b']);
    }
}
