//! `ws-core`: the deterministic heart of a resilient WebSocket client.
//!
//! Every team that talks WebSocket ends up writing the same wrapper around the socket: a
//! heartbeat with a timeout, reconnects with a growing delay and a limit, a queue for messages
//! sent during an outage, rules for which close codes are worth a retry. Written with timers
//! and callbacks, that logic cannot be tested; its bugs are all in the timing.
//!
//! This crate is that logic as a plain state machine, the [`Supervisor`]: no IO, no clock, no
//! threads, no OS randomness, `no_std` + `alloc`. Time is passed in as an [`Instant`]; the
//! wire protocol (framing, handshake, masking) belongs to the driver's WebSocket library. The
//! same inputs at the same times always give the same outputs, so every behaviour is tested
//! with a virtual clock, to the exact tick.
//!
//! # The driver loop
//!
//! A driver (an adapter over tokio, smol or blocking sockets) owns the socket, the WebSocket
//! protocol object, one timer and the supervisor:
//!
//! ```text
//! supervisor.connect(now)
//! loop {
//!     drain:  while let Some(action) = supervisor.poll_action() { carry it out }
//!             while let Some(event)  = supervisor.poll_event()  { hand it to the application }
//!     wait:   for a frame, an application command, or the clock to reach poll_timeout()
//!     now = fresh reading of the clock
//!     feed:   handle_input(..., now) / send(..., now) / send_now(connection, ..., now) /
//!             ready(connection, now) / close(..., now) as appropriate
//!     tick:   if poll_timeout() <= now { handle_timeout(now) }
//! }
//! ```
//!
//! The rule: after every call, drain both outputs until they are empty, then wait on
//! [`poll_timeout`](Supervisor::poll_timeout). Take a fresh `now` after every wake-up and
//! compare it with the deadline yourself; do not trust that a timer firing means the deadline
//! passed. A spurious [`handle_timeout`](Supervisor::handle_timeout) is a no-op, so a blocking
//! driver can use a plain read timeout.
//!
//! ```
//! use core::time::Duration;
//! use ws_core::{Action, Config, Event, Input, Instant, Supervisor};
//!
//! let config = Config::builder()
//!     .ping_interval(Duration::from_secs(15))
//!     .stable_after(Duration::from_secs(60))
//!     .build()?;
//! let mut supervisor = Supervisor::new(config, 42);
//! supervisor.connect(Instant::ZERO);
//! let Some(Action::Connect { connection, attempt: 0 }) = supervisor.poll_action() else {
//!     unreachable!()
//! };
//! // ... the driver opens a socket and completes the handshake ...
//! supervisor.handle_input(Input::Opened { connection }, Instant::from_millis(30));
//! assert_eq!(supervisor.poll_event(), Some(Event::Connecting { attempt: 0 }));
//! assert_eq!(supervisor.poll_event(), Some(Event::Open { connection }));
//! // The first heartbeat is due 15 s after the connection opened.
//! assert_eq!(supervisor.poll_timeout(), Some(Instant::from_millis(15_030)));
//! # Ok::<(), ws_core::ConfigError>(())
//! ```
//!
//! # A new connection, step by step
//!
//! Every transport that opens is announced as [`Event::Open { connection }`](Event::Open).
//! In that same call the supervisor emits, in this order:
//!
//! 1. the messages of the [`Replay`] configured with
//!    [`replay_on_open`](ConfigBuilder::replay_on_open), asked afresh for this connection
//!    (what the server forgot with the last one: subscriptions, a session resume);
//! 2. the queue, unless [`hold_queue_until_ready`](ConfigBuilder::hold_queue_until_ready)
//!    holds it: then the application first sends its login with
//!    [`send_now(connection, ..)`](Supervisor::send_now) and releases the queue with
//!    [`ready(connection, ..)`](Supervisor::ready). Both name the connection from `Open`, so
//!    a login that is late for a connection that has since been replaced is refused
//!    ([`SendErrorKind::StaleConnection`]) and its `ready` ignored, instead of letting the
//!    queue overtake the new connection's own login.
//!
//! Replayed messages are not queued messages: they are never handed back, and the next
//! connection asks for them again.
//!
//! A handshake refused with HTTP 401 or 403 is permanent for the default close policy (a
//! [`ClosePolicy`] can say otherwise). A driver whose URL, token included, comes from a
//! function called before every attempt sets
//! [`credentials_refreshed`](ConfigBuilder::credentials_refreshed): then up to
//! [`auth_retries`](ConfigBuilder::auth_retries) refusals in a row are retried with the usual
//! backoff.
//!
//! ```
//! use ws_core::{Action, Config, ConnectionId, Event, Input, Instant, Message, Supervisor};
//!
//! let config = Config::builder()
//!     .replay_on_open(|_| vec![Message::from("subscribe:trades")])
//!     .hold_queue_until_ready(true)
//!     .build()?;
//! let mut supervisor = Supervisor::new(config, 7);
//! supervisor.connect(Instant::ZERO);
//! supervisor.send(Message::from("order"), Instant::ZERO)?; // queued while connecting
//! let Some(Action::Connect { connection, .. }) = supervisor.poll_action() else {
//!     unreachable!()
//! };
//! supervisor.handle_input(Input::Opened { connection }, Instant::from_millis(40));
//! assert_eq!(supervisor.poll_action(), Some(Action::Send(Message::from("subscribe:trades"))));
//! assert_eq!(supervisor.poll_action(), None); // the queue waits for the login
//! assert_eq!(supervisor.poll_event(), Some(Event::Connecting { attempt: 0 }));
//! assert_eq!(supervisor.poll_event(), Some(Event::Open { connection }));
//! let now = Instant::from_millis(41);
//! supervisor.send_now(connection, Message::from("login"), now)?;
//! supervisor.ready(connection, now);
//! assert_eq!(supervisor.poll_action(), Some(Action::Send(Message::from("login"))));
//! assert_eq!(supervisor.poll_action(), Some(Action::Send(Message::from("order"))));
//! // A login for a connection that is not the open one is handed back.
//! let late = supervisor.send_now(ConnectionId(0), Message::from("login"), now).unwrap_err();
//! assert_eq!(late.kind(), ws_core::SendErrorKind::StaleConnection);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Guarantees
//!
//! Each is a property test and checked by the fuzz target:
//! at most one transport at a time; a silent peer is dropped within `ping_interval +
//! pong_timeout` of its last sign of life; a peer that answers in time is never dropped; backoff
//! delays follow the configured formula and `max_attempts`; after `close()` nothing reconnects;
//! every message given to `send()` is sent once or handed back once, in order (replayed
//! messages, regenerated for every connection, are outside this count); `poll_timeout()`
//! is the earliest deadline and ticking never busy-loops; inputs from an old transport change
//! nothing; and no sequence of calls panics.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod backoff;
mod close;
mod config;
mod heartbeat;
mod io;
mod message;
mod queue;
mod replay;
mod rng;
mod stats;
mod supervisor;
mod time;
mod timer;

pub use bytes::Bytes;
pub use close::{
    CloseCode, ClosePolicy, ConnectFailure, Disconnect, ReconnectDecision, TransportError,
    default_close_policy,
};
pub use config::{
    Config, ConfigBuilder, ConfigError, Heartbeat, Jitter, Liveness, MAX_AUTH_RETRIES,
    MAX_QUEUE_MESSAGES, Matcher, Overflow, ServerPing,
};
pub use io::{
    Action, CloseError, ConnectionId, Event, Input, SendError, SendErrorKind, State,
    UndeliveredReason,
};
pub use message::{Frame, Message, PingPayload, Text};
pub use replay::Replay;
pub use stats::Stats;
pub use supervisor::Supervisor;
pub use time::Instant;
pub use timer::TimerReason;
