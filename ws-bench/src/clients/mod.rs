//! The clients under test: the three adapters and the raw tungstenite code each one replaces.
//!
//! Every client runs the same [`Conversation`]s, one per connection, and follows the same
//! steps, so the only difference between two rows of the table is the library:
//!
//! 1. open every connection and wait until it is open (not measured);
//! 2. take the [`Meter`] readings, let every connection start (`in_flight` messages each), echo
//!    until the window closes, drain what is in flight, take the readings again;
//! 3. close the connections (not measured).
//!
//! Runtimes are chosen so that the adapter and its baseline run identically: the tokio
//! clients on a current-thread runtime, the smol clients on a `LocalExecutor` under
//! `smol::block_on`, both on the benchmark's thread (so the clients use one core and the
//! reference server the other); the blocking clients use one application thread per
//! connection, which is how blocking code is written.
//!
//! The raw baselines are written the way a careful user writes them with each library:
//! `TCP_NODELAY` on, the handshake via the library's `client_*_with_config`, `send` (write and
//! flush) per message, `next`/`read` per echo. "Default" uses tungstenite's
//! `WebSocketConfig::default()` (128 KiB read buffer), "tuned" the adapters' 4 KiB read
//! buffer and nothing else.

mod blocking_adapter;
mod blocking_raw;
mod smol_adapter;
mod smol_raw;
mod threads;
mod tokio_adapter;
mod tokio_raw;

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tungstenite::protocol::WebSocketConfig;

use crate::cases::{Case, Kind};
use crate::error::{Error, Result};
use crate::measure::{Meter, Usage};
use crate::stats::Histogram;
use crate::workload::Conversation;

pub(crate) use blocking_adapter::wait_open as wait_blocking_open;
pub(crate) use smol_adapter::{open as open_smol_adapter, wait_open as wait_smol_open};
pub(crate) use smol_raw::open as open_smol_raw;
pub(crate) use tokio_adapter::{open as open_tokio_adapter, wait_open as wait_tokio_open};
pub(crate) use tokio_raw::{open as open_tokio_raw, runtime as tokio_runtime};

/// One client implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClientKind {
    /// `ws-tokio`.
    WsTokio,
    /// tokio-tungstenite with `WebSocketConfig::default()`.
    TokioTungsteniteDefault,
    /// tokio-tungstenite with a 4 KiB read buffer.
    TokioTungsteniteTuned,
    /// `ws-async-std`, run on smol.
    WsAsyncStd,
    /// async-tungstenite on smol with `WebSocketConfig::default()`.
    AsyncTungsteniteDefault,
    /// async-tungstenite on smol with a 4 KiB read buffer.
    AsyncTungsteniteTuned,
    /// `ws-blocking`.
    WsBlocking,
    /// tungstenite over `std::net` with `WebSocketConfig::default()`.
    TungsteniteDefault,
    /// tungstenite over `std::net` with a 4 KiB read buffer.
    TungsteniteTuned,
}

/// The runtime family a client belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Family {
    /// tokio.
    Tokio,
    /// smol (futures-io, async-io).
    Smol,
    /// Plain threads.
    Blocking,
}

/// The tungstenite read buffer a raw baseline uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Buffers {
    /// `WebSocketConfig::default()`: 128 KiB, zero-filled per read.
    Default,
    /// The adapters' 4 KiB read buffer.
    Tuned,
}

impl Buffers {
    pub(crate) fn config(self) -> WebSocketConfig {
        match self {
            Buffers::Default => WebSocketConfig::default(),
            Buffers::Tuned => WebSocketConfig::default().read_buffer_size(4096),
        }
    }
}

impl ClientKind {
    /// Every client, adapters first within each family.
    pub const ALL: [ClientKind; 9] = [
        ClientKind::WsTokio,
        ClientKind::TokioTungsteniteDefault,
        ClientKind::TokioTungsteniteTuned,
        ClientKind::WsAsyncStd,
        ClientKind::AsyncTungsteniteDefault,
        ClientKind::AsyncTungsteniteTuned,
        ClientKind::WsBlocking,
        ClientKind::TungsteniteDefault,
        ClientKind::TungsteniteTuned,
    ];

    /// The three adapters.
    pub const ADAPTERS: [ClientKind; 3] = [
        ClientKind::WsTokio,
        ClientKind::WsAsyncStd,
        ClientKind::WsBlocking,
    ];

    /// The name used in tables.
    pub fn label(self) -> &'static str {
        match self {
            ClientKind::WsTokio => "ws-tokio",
            ClientKind::TokioTungsteniteDefault => "tokio-tungstenite (default)",
            ClientKind::TokioTungsteniteTuned => "tokio-tungstenite (4 KiB)",
            ClientKind::WsAsyncStd => "ws-async-std (smol)",
            ClientKind::AsyncTungsteniteDefault => "async-tungstenite (default)",
            ClientKind::AsyncTungsteniteTuned => "async-tungstenite (4 KiB)",
            ClientKind::WsBlocking => "ws-blocking",
            ClientKind::TungsteniteDefault => "tungstenite (default)",
            ClientKind::TungsteniteTuned => "tungstenite (4 KiB)",
        }
    }

    /// The runtime family.
    pub fn family(self) -> Family {
        match self {
            ClientKind::WsTokio
            | ClientKind::TokioTungsteniteDefault
            | ClientKind::TokioTungsteniteTuned => Family::Tokio,
            ClientKind::WsAsyncStd
            | ClientKind::AsyncTungsteniteDefault
            | ClientKind::AsyncTungsteniteTuned => Family::Smol,
            ClientKind::WsBlocking
            | ClientKind::TungsteniteDefault
            | ClientKind::TungsteniteTuned => Family::Blocking,
        }
    }

    /// Whether this is one of the resilient adapters.
    pub fn is_adapter(self) -> bool {
        Self::ADAPTERS.contains(&self)
    }

    /// The raw baselines of an adapter: `(default buffers, tuned buffers)`.
    pub fn baselines(self) -> Option<(ClientKind, ClientKind)> {
        match self {
            ClientKind::WsTokio => Some((
                ClientKind::TokioTungsteniteDefault,
                ClientKind::TokioTungsteniteTuned,
            )),
            ClientKind::WsAsyncStd => Some((
                ClientKind::AsyncTungsteniteDefault,
                ClientKind::AsyncTungsteniteTuned,
            )),
            ClientKind::WsBlocking => {
                Some((ClientKind::TungsteniteDefault, ClientKind::TungsteniteTuned))
            }
            _ => None,
        }
    }
}

impl fmt::Display for ClientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where the echo server is.
#[derive(Clone, Debug)]
pub struct Target {
    /// Its address.
    pub addr: SocketAddr,
    /// `ws://ADDR/`.
    pub url: String,
}

impl Target {
    /// The server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Target {
            addr,
            url: format!("ws://{addr}/"),
        }
    }
}

/// What one client did in one measured window.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Echoes received and checked.
    pub messages: u64,
    /// Payload bytes echoed.
    pub bytes: u64,
    /// CPU, wall time and allocations of the window.
    pub usage: Usage,
    /// Round-trip times of every message.
    pub rtt: Histogram,
}

impl Sample {
    fn collect<'a>(
        usage: Usage,
        conversations: impl IntoIterator<Item = &'a Conversation>,
    ) -> Self {
        let mut sample = Sample {
            messages: 0,
            bytes: 0,
            usage,
            rtt: Histogram::default(),
        };
        for conversation in conversations {
            sample.messages += conversation.received();
            sample.bytes += conversation.bytes();
            sample.rtt.merge(conversation.rtt());
        }
        sample
    }
}

/// Runs `case` with client `kind` against `target` for a window of `window`.
pub fn run(
    kind: ClientKind,
    target: &Target,
    case: &Case,
    window: Duration,
    meter: &Meter,
) -> Result<Sample> {
    let run = Run {
        target,
        case,
        window,
        meter,
    };
    let sample = match kind {
        ClientKind::WsTokio => tokio_adapter::run(&run),
        ClientKind::TokioTungsteniteDefault => tokio_raw::run(&run, Buffers::Default),
        ClientKind::TokioTungsteniteTuned => tokio_raw::run(&run, Buffers::Tuned),
        ClientKind::WsAsyncStd => smol_adapter::run(&run),
        ClientKind::AsyncTungsteniteDefault => smol_raw::run(&run, Buffers::Default),
        ClientKind::AsyncTungsteniteTuned => smol_raw::run(&run, Buffers::Tuned),
        ClientKind::WsBlocking => blocking_adapter::run(&run),
        ClientKind::TungsteniteDefault => blocking_raw::run(&run, Buffers::Default),
        ClientKind::TungsteniteTuned => blocking_raw::run(&run, Buffers::Tuned),
    };
    sample.map_err(|error| error.context(format_args!("{kind}, {case}")))
}

/// One measured run's parameters.
pub(crate) struct Run<'a> {
    pub(crate) target: &'a Target,
    pub(crate) case: &'a Case,
    pub(crate) window: Duration,
    pub(crate) meter: &'a Meter,
}

impl Run<'_> {
    /// The latest a conversation may still be running before the run is declared stuck.
    pub(crate) fn patience(&self) -> Duration {
        self.window + crate::workload::GRACE
    }
}

/// Sends every message the conversation allows now, through `send`.
pub(crate) fn send_allowed<E>(
    conversation: &mut Conversation,
    now: Instant,
    mut send: impl FnMut(usize) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    while let Some(index) = conversation.next_send(now) {
        send(index)?;
    }
    Ok(())
}

/// The payload ring as ws-core messages (for the adapters).
pub(crate) fn core_messages(conversation: &Conversation) -> Result<Vec<ws_core::Message>> {
    conversation
        .ring()
        .iter()
        .map(|bytes| match conversation.kind() {
            Kind::Binary => Ok(ws_core::Message::Binary(bytes.clone())),
            Kind::Text => ws_core::Text::from_utf8(bytes.clone())
                .map(ws_core::Message::Text)
                .map_err(|_| Error::new("payload is not UTF-8")),
        })
        .collect()
}

/// The payload ring as tungstenite messages (for the raw baselines).
pub(crate) fn wire_messages(conversation: &Conversation) -> Result<Vec<tungstenite::Message>> {
    conversation
        .ring()
        .iter()
        .map(|bytes| match conversation.kind() {
            Kind::Binary => Ok(tungstenite::Message::Binary(bytes.clone())),
            Kind::Text => tungstenite::Utf8Bytes::try_from(bytes.clone())
                .map(tungstenite::Message::Text)
                .map_err(|_| Error::new("payload is not UTF-8")),
        })
        .collect()
}

/// What a received ws-core message is, for [`Conversation::check`].
pub(crate) fn core_kind(message: &ws_core::Message) -> Result<Kind> {
    match message {
        ws_core::Message::Text(_) => Ok(Kind::Text),
        ws_core::Message::Binary(_) => Ok(Kind::Binary),
        #[allow(unreachable_patterns)]
        _ => Err(Error::new("a message of an unknown kind")),
    }
}

/// Checks a tungstenite message against the conversation; control frames are skipped.
pub(crate) fn check_wire(
    conversation: &mut Conversation,
    message: &tungstenite::Message,
    now: Instant,
) -> Result<()> {
    match message {
        tungstenite::Message::Text(text) => conversation.check(Kind::Text, text.as_bytes(), now)?,
        tungstenite::Message::Binary(bytes) => conversation.check(Kind::Binary, bytes, now)?,
        tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
        tungstenite::Message::Close(_) | tungstenite::Message::Frame(_) => {
            return Err(Error::new(format!("unexpected {message:?}")));
        }
    }
    Ok(())
}
