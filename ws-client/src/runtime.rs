//! For adapter authors: what the one [`Driver`] asks of a runtime, and what it needs to run.
//!
//! An adapter is a binding: it implements [`Runtime`] (a clock, one timer, connect attempts)
//! and runs the [`Driver`] future on its executor; the loop itself (write batching, the
//! transport slot, the event backlog, late sends, the last-handle rule, the bounded Close
//! reply, status publishing) is written once, here. ws-tokio, ws-async-std and ws-blocking
//! are a `Runtime` each. An application never needs this module.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use futures_sink::Sink;
use tungstenite::handshake::client::Response;
use tungstenite::{Error as WireError, Message as WireMessage};

pub use crate::attempt::{Budget, Offer, within};
pub use crate::dial::{Dial, dial};
pub use crate::driver::Driver;
pub use crate::endpoint::BoxFuture;
pub use crate::fail_fast_utf8::FailFastUtf8;
pub use crate::happy_eyeballs::{ATTEMPT_DELAY, Race, RaceError, RaceStep, interleave, race};
pub use crate::options::Prepared;
pub use crate::proxy::{ProxyHandshake, ProxyTarget, Step};

use crate::endpoint::Attempt;
use crate::error::Error;
use crate::options::ClientOptions;

/// A runtime, as the [`Driver`] sees it. An adapter implements it in a
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

    /// The runtime's clock. Read it through the runtime (tokio's clock, not the system's),
    /// so that a paused test clock drives the supervisor too. Monotonic.
    fn now(&self) -> Instant;

    /// The timer, with no deadline yet. Called once per driver.
    fn timer(&self) -> Self::Timer;

    /// Runs connect attempt `attempt`: [`Prepared::new`] (which calls the URL function),
    /// DNS, TCP, TLS, and the WebSocket handshake, each failure typed. Polled by the driver
    /// alongside everything else; dropped when the attempt is abandoned.
    fn connect(
        &self,
        options: Arc<ClientOptions>,
        attempt: Attempt,
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

/// A connection whose WebSocket handshake completed, and the `host:port` and redacted URL
/// its errors will name (from [`Prepared`]).
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

/// Blocks this thread until `future` completes: how a blocking adapter's handles wait where
/// the async ones await. The waker unparks this thread; it is made once per thread, so a wait
/// allocates nothing.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    crate::channel::park(|cx| future.as_mut().poll(cx))
}

/// Like [`block_on`], giving up (`None`) once `deadline` has passed.
pub fn block_until<F: Future>(future: F, deadline: Instant) -> Option<F::Output> {
    let mut future = pin!(future);
    crate::channel::park_until(deadline, |cx| future.as_mut().poll(cx))
}
