//! `ws-client`: the client every resilient-ws adapter serves — its options, its handle, its
//! events and errors — and the one driver loop behind it, generic over the runtime.
//!
//! Applications use it through an adapter (`ws-tokio`, `ws-async-std`, `ws-blocking`), which
//! re-exports everything here that a user needs; this crate is what the adapters share, so
//! the behaviour cannot drift between runtimes:
//!
//! - [`ClientOptions`]: where to connect (a URL, or an [`Endpoint`] function called before
//!   every [`Attempt`] so a token can be refreshed), the supervisor's [`Config`], headers,
//!   subprotocols, [`Tls`] and [`WebSocketLimits`], validated once by a builder.
//! - [`Client`], [`Events`] and [`StateWatch`]: the application's handles. Every message
//!   given to a send is delivered once, or handed back ([`SendError`], [`TrySendError`],
//!   [`Event::Rejected`], [`Event::Undelivered`]); nothing is lost silently.
//! - [`Event`] and [`Error`]: what happened, typed, and where (URLs and credentials always
//!   redacted).
//! - [`Proxy`] and [`ProxyConfig`]: HTTP `CONNECT` and SOCKS5 proxies, from the options or
//!   the environment (curl's conventions).
//! - [`runtime`]: for adapter authors only — the [`Runtime`](runtime::Runtime) trait and the
//!   [`Driver`](runtime::Driver) it runs.
//!
//! # The driver's loop
//!
//! ```text
//! session.start(now)
//! loop {
//!     carry out the supervisor's work: Connect → runtime.connect(attempt),
//!                                       Write  → feed the socket (one flush per batch),
//!                                       Abort  → drop the socket or the attempt
//!     publish the status, hand the events on (a bounded backlog when the application lags)
//!     wait for: the attempt | a frame | a command | room for events | the timer at poll_timeout()
//!     now = a fresh reading of the clock
//!     feed what happened; every handle gone → close with 1001
//!     tick the supervisor if now >= poll_timeout()
//! }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attempt;
mod channel;
mod client;
mod command;
mod convert;
mod dial;
mod driver;
mod endpoint;
mod error;
mod event;
mod events;
mod fail_fast_utf8;
mod happy_eyeballs;
mod inbox;
mod json;
mod limits;
mod options;
mod outbox;
mod proxy;
mod retry_after;
pub mod runtime;
mod session;
mod state_watch;
mod status;
mod tls;
mod url;

pub use client::{Client, SendError, TrySendError};
pub use endpoint::{Attempt, Endpoint, Target};
pub use error::{ConnectStage, Error, Source, Stage, Timeout};
pub use event::Event;
pub use events::Events;
pub use json::MessageExt;
pub use limits::WebSocketLimits;
pub use options::{ClientOptions, ClientOptionsBuilder};
pub use proxy::{NoProxy, Proxy, ProxyConfig, ProxyEnv, ProxyFailure, ProxyKind};
pub use state_watch::StateWatch;
pub use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
pub use tls::Tls;
pub use url::WsUrl;

pub use ws_core::{
    Bytes, CloseCode, ClosePolicy, Config, ConfigBuilder, ConfigError, ConnectFailure,
    ConnectionId, Disconnect, Heartbeat, Jitter, Liveness, Matcher, Message, Overflow,
    ReconnectDecision, Replay, SendErrorKind, ServerPing, State, Stats, Text, TransportError,
    UndeliveredReason, default_close_policy,
};

/// The TLS library, re-exported for a custom [`Tls::from_config`].
pub use rustls;
