//! An open connection as the driver sees every socket: a stream of messages and a sink for
//! them, over tungstenite's non-blocking `WebSocket`.
//!
//! `Pending` here registers no waker, and needs none: the socket is watched by the I/O
//! thread's poller, and the I/O thread polls the driver again after every readiness it
//! reports. A read or write only returns `Pending` after the socket said `WouldBlock`, and the
//! poller is edge-triggered, so the next change of the socket's state is reported.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream as MessageStream;
use futures_sink::Sink;
use tungstenite::{Error as WireError, Message as WireMessage, WebSocket};

use crate::link::Checked;
use crate::runtime::Io;

/// tungstenite's `WebSocket` over a non-blocking socket, watched by the I/O thread's poller.
pub(crate) struct Socket {
    websocket: WebSocket<Checked>,
    io: Arc<Io>,
}

impl Socket {
    pub(crate) fn new(websocket: WebSocket<Checked>, io: Arc<Io>) -> Self {
        Socket { websocket, io }
    }

    /// Whether a read may find something (see [`Stream::may_have_input`](crate::link::Stream::may_have_input)).
    pub(crate) fn may_have_input(&self) -> bool {
        self.websocket.get_ref().stream.may_have_input()
    }
}

fn would_block(error: &WireError) -> bool {
    matches!(error, WireError::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}

impl MessageStream for Socket {
    type Item = Result<WireMessage, WireError>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.websocket.read() {
            Ok(message) => Poll::Ready(Some(Ok(message))),
            Err(error) if would_block(&error) => Poll::Pending,
            // The end of the stream, as the async adapters' sockets report it.
            Err(WireError::ConnectionClosed | WireError::AlreadyClosed) => Poll::Ready(None),
            Err(error) => Poll::Ready(Some(Err(error))),
        }
    }
}

impl Sink<WireMessage> for Socket {
    type Error = WireError;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, message: WireMessage) -> Result<(), WireError> {
        // tungstenite keeps the frame when writing it out would block; the flush sends it.
        match self.websocket.write(message) {
            Err(error) if !would_block(&error) => Err(error),
            _ => Ok(()),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        if !self.websocket.get_mut().stream.link_mut().writable() {
            // No room since the last try: the poller will say when there is.
            return Poll::Pending;
        }
        match self.websocket.flush() {
            Ok(()) => Poll::Ready(Ok(())),
            Err(error) if would_block(&error) => Poll::Pending,
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        self.poll_flush(cx)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.io
            .poller
            .forget(self.websocket.get_mut().stream.link_mut());
    }
}
