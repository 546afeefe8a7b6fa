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
//! # async fn example() -> Result<(), ws_tokio::Error> {
//! let options = ClientOptions::builder("wss://example.com/feed?token=s3cret")
//!     .config(Config::builder().ping_interval(std::time::Duration::from_secs(15)).build()?)
//!     .header("user-agent", "my-app/1.0")
//!     .build()?;
//! let (client, mut events) = ws_tokio::connect(options);
//! client.send_text("hello").await?; // queued until the connection opens
//! while let Some(event) = events.next().await {
//!     match event {
//!         Event::Message(message) => println!("{:?}", message.as_text()),
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
//! `Bytes` that share tungstenite's read buffer: no copy on the way to the application. A
//! larger one ends the connection with [`Error::MessageTooLarge`]; the default close policy
//! does not reconnect (the server would only send it again).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod connect;
mod driver;

pub use client::Client;
pub use driver::Driver;

pub use ws_client::driver::Events;
pub use ws_client::{
    ClientOptions, ClientOptionsBuilder, ConnectStage, Endpoint, Error, Event, MessageExt, NoProxy,
    Proxy, ProxyConfig, ProxyEnv, ProxyFailure, ProxyKind, Target, Tls, TrySendError,
    WebSocketLimits, WsUrl,
};
pub use ws_core::{
    Bytes, CloseCode, Config, ConfigBuilder, ConnectFailure, Disconnect, Heartbeat, Jitter,
    Liveness, Matcher, Message, Overflow, SendErrorKind, ServerPing, State, Stats, Text,
    TransportError, UndeliveredReason,
};

/// Starts a client on the current tokio runtime and returns its handles. The first event is
/// [`Event::Connecting`]; sends made before the connection opens are queued.
///
/// # Panics
///
/// Outside a tokio runtime, like [`tokio::spawn`]. Use [`Driver::new`] to run the driver
/// yourself.
pub fn connect(options: ClientOptions) -> (Client, Events) {
    let (driver, client, events) = Driver::new(options);
    tokio::spawn(driver.run());
    (client, events)
}
