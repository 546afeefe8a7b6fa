//! `ws-async-std`: a resilient WebSocket client for the futures-io world — smol, async-std, or
//! any executor.
//!
//! Heartbeat, reconnect with backoff and jitter, a bounded queue for messages sent during an
//! outage, and a close-code policy: all decided by [`ws-core`](ws_core)'s deterministic
//! supervisor. This crate only drives it: one future per client owns the socket
//! (async-tungstenite over async-io, futures-rustls for `wss://`), the supervisor and one
//! timer.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use ws_async_std::{ClientOptions, CloseCode, Config, Event};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! smol::block_on(async {
//!     let options = ClientOptions::builder("wss://example.com/feed?token=s3cret")
//!         .config(Config::builder().ping_interval(std::time::Duration::from_secs(15)).build()?)
//!         .header("user-agent", "my-app/1.0")
//!         .build()?;
//!     // Spawns the driver on smol's global executor; `connect_with_driver` hands it to you
//!     // for async-std or any other executor.
//!     let (client, mut events) = ws_async_std::connect(options);
//!     client.send_text("hello").await?; // queued until the connection opens
//!     while let Some(event) = events.next().await {
//!         match event {
//!             Event::Message(message) => println!("{:?}", message.as_text()),
//!             Event::ConnectFailed { error, .. } => eprintln!("could not connect: {error}"),
//!             Event::Disconnected { error: Some(error), will_reconnect, .. } => {
//!                 eprintln!("lost: {error} (reconnecting: {will_reconnect})")
//!             }
//!             Event::Closed => break,
//!             _ => {}
//!         }
//!     }
//!     client.close(CloseCode::NORMAL, "bye").await.ok();
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # Executors: `connect` or `connect_with_driver`
//!
//! The socket (`async_io::Async<TcpStream>`) and the timer (`async_io::Timer`) live in
//! async-io's reactor, which smol's and async-std's executors drive, and which async-io drives
//! on a thread of its own for any other executor. [`connect`] (feature `smol`, on by default)
//! spawns the driver on smol's global executor, the same shape as the other adapters'
//! `connect`. [`connect_with_driver`] returns the [`Driver`] instead, a plain
//! `Future<Output = ()> + Send + 'static`, to spawn where your other tasks run —
//! `async_std::task::spawn(driver)`, an `async_executor::Executor`, or `.await` it in a
//! `join` (the pattern of hyper's client connections; a spawner argument would tie the API to
//! one executor's spawn signature). The client does nothing until the driver is polled;
//! dropping the driver stops it.
//!
//! **smol is the recommended executor.** async-std is discontinued upstream (in favour of
//! smol); this crate keeps working under it because both run on async-io, and the test suite
//! runs every scenario under both.
//!
//! # Channels and backpressure
//!
//! Both channels are bounded; nothing is buffered without limit.
//!
//! - Commands ([`Client::send`] and friends, capacity `command_capacity`, default 256): taken
//!   by the driver in order, up to 64 per wake-up, then written as one batch and flushed once.
//!   While the socket does not accept writes (the peer is not reading), the driver takes no
//!   commands: `send` waits, [`Client::try_send`] hands the message back. The heartbeat and
//!   the supervisor's timers keep running, so a peer that stopped reading is still declared
//!   dead on time.
//! - Events ([`Events`], capacity `event_capacity`, default 256): when the application does
//!   not keep up, the driver keeps the overflow in a local backlog and stops reading the
//!   socket, so TCP slows the server down. While the backlog holds `event_capacity` events it
//!   stops taking commands too. RTT samples are dropped rather than kept (the latest is in
//!   [`Client::stats`]). Messages and handed-back messages are never dropped.
//!
//! The driver also yields to the executor after a bounded amount of work per poll, so a busy
//! connection cannot starve the other tasks of a single-threaded executor.
//!
//! # Ping replies
//!
//! tungstenite answers the peer's Ping by queueing a Pong that goes out with the next write or
//! flush; the driver flushes right after reading a Ping, so pings are answered even when the
//! application sends nothing.
//!
//! # Secrets in logs
//!
//! Everything this crate and ws-client print (`Debug`, `Display`, errors, `tracing`
//! spans and events) shows URLs with every query value as `***`. One exception is upstream:
//! tungstenite logs the raw handshake request, query and headers included, through the `log`
//! crate at TRACE level (target `tungstenite::handshake::client`); keep that target at DEBUG
//! or above in production.
//!
//! # Sizes
//!
//! Messages up to `max_message_size` (default 64 MiB, frames up to 16 MiB) arrive whole, as
//! `Bytes`. One larger than the read buffer (`read_buffer_size`, default 4 KiB) is handed on
//! without a copy, in the buffer tungstenite read it into; smaller ones are copied once into
//! a buffer the driver reuses, so that messages the application has not read yet do not keep
//! tungstenite from reusing its own (which would cost an allocation per read). A larger one
//! than `max_message_size` ends the connection with [`Error::MessageTooLarge`]; the default
//! close policy does not reconnect (the server would only send it again).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connect;
mod runtime;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use ws_client::{
    Attempt, Bytes, Client, ClientOptions, ClientOptionsBuilder, CloseCode, ClosePolicy, Config,
    ConfigBuilder, ConfigError, ConnectFailure, ConnectStage, ConnectionId, Disconnect, Endpoint,
    Error, Event, Events, Heartbeat, Jitter, Liveness, Matcher, Message, MessageExt, NoProxy,
    Overflow, Proxy, ProxyConfig, ProxyEnv, ProxyFailure, ProxyKind, ReconnectDecision, Replay,
    SendError, SendErrorKind, ServerPing, Source, Stage, State, StateWatch, Stats, Target, Text,
    Timeout, Tls, TransportError, TryRecvError, TrySendError, UndeliveredReason, WebSocketLimits,
    WsUrl, default_close_policy, rustls,
};

/// Starts a client on smol's global executor and returns its handles. The first event is
/// [`Event::Connecting`]; sends made before the connection opens are queued.
///
/// To run the driver on an executor of your own (async-std, an `async_executor::Executor`,
/// a `join`), use [`connect_with_driver`].
#[cfg(feature = "smol")]
pub fn connect(options: ClientOptions) -> (Client, Events) {
    let (client, events, driver) = connect_with_driver(options);
    smol::spawn(driver).detach();
    (client, events)
}

/// Creates a client and returns its handles and its [`Driver`], which you spawn on your
/// executor (`smol::spawn(driver).detach()`, `async_std::task::spawn(driver)`…). Nothing
/// happens until the driver is polled.
pub fn connect_with_driver(options: ClientOptions) -> (Client, Events, Driver) {
    let (driver, client, events) = ws_client::runtime::Driver::new(options, runtime::AsyncIo);
    (client, events, Driver(driver))
}

/// The future behind a [`Client`]: a plain `Future<Output = ()> + Send + 'static` for any
/// executor. It completes once the client has closed for good and the last event is handed
/// over, or once every handle is gone and the connection is closed. Dropping it stops the
/// client at once, without a closing handshake.
#[must_use = "the client does nothing until its driver is spawned or awaited"]
pub struct Driver(ws_client::runtime::Driver<runtime::AsyncIo>);

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spawnable<T: Send + 'static>() {}
    fn shareable<T: Send + Sync + Clone>() {}

    #[test]
    fn the_driver_can_be_spawned_anywhere_and_handles_shared() {
        spawnable::<Driver>();
        spawnable::<Events>();
        shareable::<Client>();
    }
}
