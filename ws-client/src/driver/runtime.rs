//! What the driver asks of an async runtime: a clock, one timer, connect attempts, and the
//! receiving end of the command channel.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use futures_sink::Sink;
use tungstenite::handshake::client::Response;
use tungstenite::{Error as WireError, Message as WireMessage};

use crate::command::Command;
use crate::endpoint::BoxFuture;
use crate::error::Error;
use crate::options::ClientOptions;

/// An async runtime, as the [`Driver`](super::Driver) sees it. An adapter implements it in a
/// few lines (tokio, async-io…); everything else about driving a connection is shared.
pub trait Runtime: Send + Unpin + 'static {
    /// An open WebSocket: tungstenite over the runtime's TCP (and TLS) stream. Messages are
    /// fed with `start_send` and flushed with `poll_flush`; reading it yields messages until
    /// the end of the stream.
    type Socket: Stream<Item = Result<WireMessage, WireError>>
        + Sink<WireMessage, Error = WireError>
        + Send
        + Unpin
        + 'static;
    /// The driver's one timer.
    type Timer: Timer;
    /// The driver's end of the command channel the adapter's handles send on.
    type Commands: Commands;

    /// The runtime's clock. Read it through the runtime (tokio's clock, not the system's),
    /// so that a paused test clock drives the supervisor too. Monotonic.
    fn now(&self) -> Instant;

    /// The timer, with no deadline yet. Called once per driver.
    fn timer(&self) -> Self::Timer;

    /// Runs connect attempt `attempt`: [`ClientOptions::prepare`], DNS, TCP, TLS, and the
    /// WebSocket handshake, each failure typed. Polled by the driver alongside everything
    /// else; dropped when the attempt is abandoned.
    fn connect(
        &self,
        options: Arc<ClientOptions>,
        attempt: u32,
    ) -> BoxFuture<Result<Connected<Self::Socket>, Error>>;

    /// `Pending` (with `cx` registered) when the runtime knows the socket has nothing new to
    /// read since a read came up empty, without reading (no syscall, no zero-filled
    /// buffer); `Ready` when it may have. The default cannot tell.
    fn poll_read_ready(_socket: &Self::Socket, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

/// One timer, reset in place to each new deadline (creating a timer costs several times a
/// reset on tokio).
pub trait Timer: Send + Unpin {
    /// Moves the deadline to `deadline`, or removes it (`None`: never fire). The driver calls
    /// it only when the deadline changes, and again after the timer fired.
    fn set(&mut self, deadline: Option<Instant>);

    /// Ready once the deadline set last has passed. Polled only while a deadline is set.
    /// Firing early or late does no harm: the driver compares the clock with the deadline
    /// itself.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// The receiving end of the command channel. The adapter picks the channel (its handles
/// send on it), so it can pick the one that suits its runtime best.
pub trait Commands: Send + Unpin {
    /// The next command; `Ready(None)` once every sender is gone and nothing is left.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Command>>;

    /// Refuses every later send (handles see the client as stopped); commands already in
    /// the channel can still be taken with [`try_recv`](Self::try_recv).
    fn close(&mut self);

    /// A command already in the channel, without waiting.
    fn try_recv(&mut self) -> Option<Command>;
}

/// A connection whose WebSocket handshake completed, and the `host:port` and redacted URL
/// its errors will name (from [`Prepared`](crate::Prepared)).
#[derive(Debug)]
pub struct Connected<S> {
    /// The open WebSocket.
    pub socket: S,
    /// The server's handshake response (its chosen subprotocol is reported to the
    /// application).
    pub response: Response,
    /// `host:port`.
    pub server: String,
    /// The redacted URL.
    pub label: String,
}
