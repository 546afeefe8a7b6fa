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
//! # fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let options = ClientOptions::builder("wss://example.com/feed?token=s3cret")
//!     .config(Config::builder().ping_interval(std::time::Duration::from_secs(15)).build()?)
//!     .header("user-agent", "my-app/1.0")
//!     .build()?;
//! let (client, events) = ws_blocking::connect(options);
//! client.send_text("hello")?; // queued until the connection opens
//! for event in events {
//!     match event {
//!         Event::Message(message) => println!("{:?}", message.as_text()),
//!         Event::ConnectFailed { error, .. } => eprintln!("could not connect: {error}"),
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
//! - The I/O thread, for the client's whole life: it runs ws-client's driver — the same loop
//!   the async adapters spawn — which owns the supervisor, the socket and the tungstenite and
//!   rustls state. Between polls it sleeps in one poller wait (mio: `epoll`, `kqueue`) on the
//!   socket, its doorbell and the driver's next deadline at once, and reads and writes the
//!   non-blocking socket itself. A send reaches the wire after one thread hop, a received
//!   message reaches the application after one, and a peer that stops reading never blocks
//!   the thread: what does not fit waits in tungstenite until the socket has room.
//! - While an attempt is connecting, a connect thread resolves the host and runs the TCP,
//!   TLS and WebSocket handshakes, so the connect timeout fires and `close` works even while
//!   a server hangs. An abandoned attempt's thread ends on its own within 50 ms (after DNS and
//!   the TCP connect, bounded by `connect_timeout`).
//!
//! So an open client costs one thread. Every thread is joined: dropping the last handle
//! closes the connection (1001, going away, bounded by `close_timeout`) and joins the I/O
//! thread, which has joined the others.
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
//! - Events ([`Events`], capacity `event_capacity`, default 256): when the application does
//!   not keep up, the I/O thread keeps the overflow in a local backlog and stops reading the
//!   socket, so TCP slows the server down. RTT samples are dropped rather than kept (the
//!   latest is in [`Client::stats`]). Messages and handed-back messages are never dropped.
//!
//! # Ping replies
//!
//! tungstenite answers the peer's Ping by queueing a Pong that goes out with the next write or
//! flush; the I/O thread flushes right after reading a Ping, so pings are answered even when
//! the application sends nothing.
//!
//! # URL functions
//!
//! A URL function ([`Endpoint::from_fn`]) runs on the connect thread before every attempt and
//! may block. An async one ([`Endpoint::from_async_fn`]) is polled there too, with no
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

mod bell;
mod client;
mod connect;
mod io_thread;
mod link;
mod poller;
mod runtime;
mod socket;

use std::fmt;
use std::io;
use std::sync::Arc;

pub use client::{Client, Events, StateWatch};
pub use ws_client::{
    Attempt, Bytes, ClientOptions, ClientOptionsBuilder, CloseCode, ClosePolicy, Config,
    ConfigBuilder, ConfigError, ConnectFailure, ConnectStage, ConnectionId, Disconnect, Endpoint,
    Error, Event, Heartbeat, Jitter, Liveness, Matcher, Message, MessageExt, NoProxy, Overflow,
    Proxy, ProxyConfig, ProxyEnv, ProxyFailure, ProxyKind, ReconnectDecision, RecvTimeoutError,
    Replay, SendError, SendErrorKind, ServerPing, Source, Stage, State, Stats, Target, Text,
    Timeout, Tls, TransportError, TryRecvError, TrySendError, UndeliveredReason, WebSocketLimits,
    WsUrl, default_close_policy, rustls,
};

use client::Owner;
use runtime::{Blocking, Io};

/// Starts a client on a new I/O thread and returns its handles. The first event is
/// [`Event::Connecting`]; sends made before the connection opens are queued.
///
/// # Panics
///
/// If the operating system cannot start a thread, like [`std::thread::spawn`], or cannot
/// create the I/O thread's poller (out of file descriptors). [`connect_with_driver`] reports
/// the latter and leaves the thread to you.
pub fn connect(options: ClientOptions) -> (Client, Events) {
    let (client, events, driver) =
        connect_with_driver(options).expect("cannot create the ws-blocking I/O thread's poller");
    // std keeps a thread's closure on the heap until the thread ends, and the driver runs on
    // the thread's stack: moved in whole, the closure would hold a dead copy of the driver
    // (~1.5 KiB per connection). Boxed, the box is freed as soon as the driver is out of it.
    let driver = Box::new(driver);
    let thread = std::thread::Builder::new()
        .name("ws-blocking-io".to_owned())
        .spawn(move || unbox(driver).run())
        .expect("cannot start the ws-blocking I/O thread");
    client.owner().adopt(thread);
    (client, events)
}

/// `*boxed`, in a call of its own: the box is freed on return, where a `*boxed` in a closure
/// would free it only when the closure ends.
#[expect(clippy::boxed_local, reason = "taking the box is the point")]
fn unbox<T>(boxed: Box<T>) -> T {
    *boxed
}

/// Like [`connect`], but returns the [`Driver`] instead of starting a thread for it: call
/// [`Driver::run`] on a thread of your own. Nothing happens until it runs.
///
/// # Errors
///
/// When the operating system cannot create the poller the driver waits in (out of file
/// descriptors, for instance).
pub fn connect_with_driver(options: ClientOptions) -> io::Result<(Client, Events, Driver)> {
    let io = Arc::new(Io::new()?);
    let (driver, client, events) =
        ws_client::runtime::Driver::new(options, Blocking(Arc::clone(&io)));
    let owner = Arc::new(Owner::default());
    Ok((
        Client::new(client, Arc::clone(&owner)),
        Events::new(events, owner),
        Driver { driver, io },
    ))
}

/// The loop behind a [`Client`]: run it with [`run`](Self::run) on a thread of your own (or
/// let [`connect`] start one).
#[must_use = "nothing happens until the driver runs"]
pub struct Driver {
    driver: ws_client::runtime::Driver<Blocking>,
    io: Arc<Io>,
}

impl Driver {
    /// Runs the client until it has closed for good and the last event is handed over, or
    /// until every handle is gone and the connection is closed. Logs go to a `ws_client`
    /// span that names the (redacted) URL.
    pub fn run(self) {
        io_thread::run(self.driver, &self.io);
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}
