//! `ws-blocking`: a resilient WebSocket client for plain threads, with no async runtime.
//!
//! Heartbeat, reconnect with backoff and jitter, a bounded queue for messages sent during an
//! outage, and a close-code policy: all decided by [`ws-core`](ws_core)'s deterministic
//! supervisor. This crate only drives it: one I/O thread per client owns the socket
//! (tungstenite over `std::net`, rustls for `wss://`) and the supervisor, so heartbeats and
//! timeouts keep running while the application is busy.
//!
//! ```no_run
//! use ws_blocking::{ClientOptions, CloseCode, Config, Event};
//!
//! # fn example() -> Result<(), ws_blocking::Error> {
//! let options = ClientOptions::builder("wss://example.com/feed?token=s3cret")
//!     .config(Config::builder().ping_interval(std::time::Duration::from_secs(15)).build()?)
//!     .header("user-agent", "my-app/1.0")
//!     .build()?;
//! let (client, events) = ws_blocking::connect(options);
//! client.send_text("hello")?; // queued until the connection opens
//! for event in events {
//!     match event {
//!         Event::Message(message) => println!("{:?}", message.as_text()),
//!         Event::Disconnected { error: Some(error), will_reconnect, .. } => {
//!             eprintln!("lost: {error} (reconnecting: {will_reconnect})")
//!         }
//!         Event::Closed => break,
//!         _ => {}
//!     }
//! }
//! client.close(CloseCode::NORMAL, "bye").ok();
//! # Ok(()) }
//! ```
//!
//! # Threads
//!
//! - The I/O thread, for the client's whole life: it owns the supervisor, the socket and the
//!   tungstenite and rustls state. It sleeps in one poller wait (mio: `epoll`, `kqueue`) on
//!   the socket, its doorbell and the supervisor's next deadline at once, then reads and
//!   writes the non-blocking socket itself. A send reaches the wire after one thread hop, a
//!   received message reaches the application after one, and a peer that stops reading
//!   never blocks the thread: what does not fit waits in tungstenite until the socket has
//!   room.
//! - While an attempt is connecting, a connect thread resolves the host and runs the TCP,
//!   TLS and WebSocket handshakes, so the connect timeout fires and `close` works even while
//!   a server hangs. An abandoned attempt's thread ends on its own within 50 ms (after DNS and
//!   the TCP connect, bounded by `connect_timeout`).
//!
//! Every thread is joined: dropping the last handle closes the connection (1001, going away,
//! bounded by `close_timeout`) and joins the I/O thread, which has joined the others.
//!
//! # Channels and backpressure
//!
//! Both channels are bounded; nothing is buffered without limit.
//!
//! - Commands ([`Client::send`] and friends, capacity `command_capacity`, default 256): taken
//!   by the I/O thread in order, up to 64 per pass, then written as one batch and flushed
//!   once. While the socket does not accept writes (the peer is not reading), no commands are
//!   taken: `send` blocks, [`Client::try_send`] hands the message back. The heartbeat and the
//!   supervisor's timers keep running, so a peer that stopped reading is still declared dead
//!   on time.
//! - Events ([`Events`], capacity `event_capacity`, default 256): see [`Events`].
//!
//! # Ping replies
//!
//! tungstenite answers the peer's Ping by queueing a Pong that goes out with the next write or
//! flush; the I/O thread flushes right after reading a Ping, so pings are answered even when
//! the application sends nothing.
//!
//! # Endpoint providers
//!
//! A provider ([`Endpoint::from_fn`]) runs on the connect thread before every attempt and may
//! block. An async provider ([`Endpoint::from_async_fn`]) is polled there too, with no
//! runtime: it must not need one (no tokio sockets or timers).
//!
//! # Secrets in logs
//!
//! Everything this crate and ws-client print (`Debug`, `Display`, errors, `tracing`
//! spans and events) shows URLs with every query value as `***`. One exception is upstream:
//! tungstenite logs the raw handshake request, query and headers included, through the `log`
//! crate at TRACE level (target `tungstenite::handshake::client`); keep that target at DEBUG
//! or above in production.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod connect;
mod driver;
mod link;
mod poller;
mod shared;

pub use client::{Client, Events};
pub use driver::Driver;

pub use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
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

/// Starts a client on a new I/O thread and returns its handles. The first event is
/// [`Event::Connecting`]; sends made before the connection opens are queued.
///
/// # Panics
///
/// If the operating system cannot start a thread, like [`std::thread::spawn`], or cannot
/// create the I/O thread's poller (out of file descriptors). Use [`Driver::new`] to handle
/// the latter and run the driver on a thread of your own.
pub fn connect(options: ClientOptions) -> (Client, Events) {
    let (driver, client, events) =
        Driver::new(options).expect("cannot create the ws-blocking I/O thread's poller");
    let thread = std::thread::Builder::new()
        .name("ws-blocking-io".to_owned())
        .spawn(move || driver.run())
        .expect("cannot start the ws-blocking I/O thread");
    client::adopt(&events, thread);
    (client, events)
}
