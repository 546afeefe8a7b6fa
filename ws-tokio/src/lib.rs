//! `ws-tokio`: a resilient WebSocket client for tokio.
//!
//! Heartbeat, reconnect with backoff and jitter, a bounded queue for messages sent during an
//! outage, and a close-code policy: all decided by [`ws-core`](ws_core)'s deterministic
//! supervisor. This crate only drives it: one task per client owns the socket
//! (tokio-tungstenite, rustls for `wss://`), the supervisor and one timer.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use ws_tokio::{ClientOptions, CloseCode, Config, Event};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let options = ClientOptions::builder("wss://example.com/feed?token=s3cret")
//!     .config(Config::builder().ping_interval(std::time::Duration::from_secs(15)).build()?)
//!     .header("user-agent", "my-app/1.0")
//!     .build()?;
//! let (client, mut events) = ws_tokio::connect(options); // returns at once
//! client.send_text("hello").await?; // queued until the connection opens
//! while let Some(event) = events.next().await {
//!     match event {
//!         Event::Message(message) => println!("{:?}", message.as_text()),
//!         Event::ConnectFailed { error, will_reconnect } => {
//!             eprintln!("could not connect: {error} (retrying: {will_reconnect})")
//!         }
//!         Event::Disconnected { error: Some(error), will_reconnect, .. } => {
//!             eprintln!("lost: {error} (reconnecting: {will_reconnect})")
//!         }
//!         Event::Closed => break,
//!         _ => {}
//!     }
//! }
//! client.close(CloseCode::NORMAL, "bye").await.ok();
//! # Ok(()) }
//! ```
//!
//! # Coming from tokio-tungstenite
//!
//! [`connect`] is not `async`, unlike tokio-tungstenite's `connect_async`, on purpose: it
//! returns the handles at once and the connection opens (and reopens after every outage) in
//! the background, so there is no first connect to await and fail. [`Event::Open`] says when
//! a connection is up; sends made before that are queued. There is no `split()`: the
//! [`Client`] is cheap to clone and sends from anywhere, the [`Events`] stream receives.
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

/// Starts a client on the current tokio runtime and returns its handles. The first event is
/// [`Event::Connecting`]; sends made before the connection opens are queued.
///
/// # Panics
///
/// Outside a tokio runtime, like [`tokio::spawn`]. [`connect_with_driver`] leaves the
/// spawning to you.
pub fn connect(options: ClientOptions) -> (Client, Events) {
    let (client, events, driver) = connect_with_driver(options);
    tokio::spawn(driver);
    (client, events)
}

/// Like [`connect`], but returns the [`Driver`] instead of spawning it: spawn it on the
/// runtime of your choice (or `.await` it). Nothing happens until it is polled.
pub fn connect_with_driver(options: ClientOptions) -> (Client, Events, Driver) {
    let (driver, client, events) = ws_client::runtime::Driver::new(options, runtime::Tokio);
    (client, events, Driver(driver))
}

/// The task behind a [`Client`]. It completes once the client has closed for good and the
/// last event is handed over, or once every handle is gone and the connection is closed.
/// Dropping it stops the client at once, without a closing handshake. Logs go to a
/// `ws_client` span that names the (redacted) URL.
#[must_use = "the client does nothing until its driver is spawned or awaited"]
pub struct Driver(ws_client::runtime::Driver<runtime::Tokio>);

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
