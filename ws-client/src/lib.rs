//! `ws-client`: what every resilient-ws adapter shares, with no runtime in it.
//!
//! [`ws-core`](ws_core) decides (heartbeat, reconnect, queue, close policy) and does no I/O;
//! an adapter (tokio, smol, blocking std) owns a socket, a timer and a loop. Between the two
//! sits code that touches tungstenite but no runtime, and would otherwise be written once per
//! adapter:
//!
//! - [`Session`]: the supervisor plus its glue. Socket happenings go in
//!   ([`opened`](Session::opened), [`received`](Session::received),
//!   [`failed`](Session::failed)…), tungstenite writes come out ([`Work`]), and the
//!   application's [`Event`]s carry typed [`Error`]s.
//! - [`convert`]: payloads between tungstenite's `Message` and ws-core's types, moved, never
//!   copied.
//! - [`Error`]: what went wrong and where, classified for the core
//!   ([`connect_failure`](Error::connect_failure), [`transport_error`](Error::transport_error)),
//!   `Retry-After` included.
//! - [`WsUrl`] and [`redact`]: `ws`/`wss` URLs checked once, never printed with their tokens.
//! - [`Endpoint`]: a fixed URL or a provider called before every attempt (fresh tokens).
//! - [`Tls`]: the rustls configuration, built once; verification is never off by default.
//! - [`WebSocketLimits`]: message limits and buffer sizes tuned for long-lived clients.
//! - [`ClientOptions`]: all of the above plus the supervisor's [`Config`](ws_core::Config),
//!   validated by a builder; [`Prepared`]: one attempt's request, server name and address
//!   loop.
//! - [`proxy`]: HTTP `CONNECT` and SOCKS5 proxies, from the options or the environment
//!   (curl's conventions), with their handshakes written once and IO-free.
//! - [`happy_eyeballs`]: the RFC 8305 address order and racing schedule every adapter uses;
//!   [`Budget`] and [`within`] bound each connect stage; [`Offer`] checks the server's
//!   handshake response against what was offered.
//! - [`Outbox`]: the event channel plus the backlog policy for an application that does not
//!   keep up (hold messages, drop RTT samples, stop reading, then stop taking commands).
//! - [`Status`] and [`TrySendError`]: what the handles of every adapter show.
//! - [`driver`] (feature `driver`, on by default): the whole loop below for async runtimes,
//!   generic over a small [`Runtime`](driver::Runtime) trait (a clock, one timer, connect
//!   attempts, the command channel). ws-tokio and ws-async-std are an implementation of it
//!   each; ws-blocking, which has no futures, runs the same loop on threads.
//!
//! # An adapter's loop
//!
//! ```text
//! session.start(now)
//! loop {
//!     while let Some(work) = session.poll_work() {
//!         Connect { connection, attempt } => start options.prepare(attempt), DNS, TCP, handshake
//!         Write(message)                  => feed it to the socket (flush after the batch)
//!         Abort                           => drop the socket or the attempt
//!     }
//!     while let Some(event) = session.poll_event() { hand it to the application }
//!     wait for: handshake done | frame read | command | the clock reaching poll_timeout()
//!     now = fresh reading of the clock
//!     session.opened / connect_failed / received / read_failed / command (..., now)
//!     every handle gone => session.abandon(now)
//!     session.tick(now)
//! }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attempt;
pub mod channel;
mod command;
pub mod convert;
#[cfg(feature = "driver")]
pub mod driver;
mod endpoint;
mod error;
mod event;
pub mod happy_eyeballs;
mod json;
mod limits;
mod options;
mod outbox;
pub mod proxy;
mod retry_after;
mod session;
mod status;
mod tls;
mod url;

pub use attempt::{Budget, Offer, within};
pub use command::{Command, TrySendError, check_close};
pub use endpoint::{BoxFuture, Endpoint, Target, handshake_request};
pub use error::{ConnectStage, Error, Source, Stage, Timeout, parse_retry_after};
pub use event::Event;
pub use happy_eyeballs::race;
pub use json::{MessageExt, json_message};
pub use limits::WebSocketLimits;
pub use options::{
    ClientOptions, ClientOptionsBuilder, DEFAULT_COMMAND_CAPACITY, DEFAULT_EVENT_CAPACITY, Prepared,
};
pub use outbox::{EventSink, Handover, Outbox};
pub use proxy::{NoProxy, Proxy, ProxyConfig, ProxyEnv, ProxyFailure, ProxyKind};
pub use retry_after::{parse_retry_after_at, retry_after_from_headers};
pub use session::{Received, Session, Work};
pub use status::Status;
pub use tls::Tls;
pub use url::{WsUrl, redact};

/// Re-exported so adapters and applications use the same versions.
pub use rustls;
pub use tungstenite;
pub use ws_core;
