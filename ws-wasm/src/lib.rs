//! `ws-wasm`: a resilient WebSocket client for the browser.
//!
//! ws-core's supervisor (heartbeat, reconnect with backoff, outbound queue, close policy)
//! driven by the browser's own `WebSocket`, with the same API shape as the native adapters:
//! [`connect`] with [`ClientOptions`] returns a cloneable [`Client`] (`send_text`,
//! `send_binary`, `send_json`, `close`, `reconnect_now`, `network_changed`, `state`,
//! `stats`) and the [`Events`] stream (`Stream` + `recv()`).
//!
//! ```ignore
//! use ws_wasm::{ClientOptions, CloseCode, Config, Event, Heartbeat, Matcher, Message, Text};
//!
//! let config = Config::builder()
//!     .heartbeat(Heartbeat::Application {
//!         ping: Message::from("ping"),
//!         pong: Matcher::Exact(Text::from("pong")),
//!     })
//!     .build()?;
//! let options = ClientOptions::builder("wss://example.com/feed").config(config).build()?;
//! let (client, mut events) = ws_wasm::connect(options);
//! client.send_text("hello").await?; // queued until the connection opens
//! while let Some(event) = events.recv().await {
//!     if let Event::Message(message) = event {
//!         web_sys::console::log_1(&message.as_text().unwrap_or("(binary)").into());
//!     }
//! }
//! client.close(CloseCode::NORMAL, "bye").await?;
//! ```
//!
//! # What a browser allows, and what it hides
//!
//! - **Heartbeats.** A page cannot send protocol Ping frames (the browser answers the server's
//!   pings itself, invisibly), so [`Heartbeat::Protocol`] is refused by the options builder.
//!   Use [`Heartbeat::Application`] (a message such as `"ping"` or `{"action":4}` your server
//!   answers; its round trip is measured) or [`Heartbeat::ServerDriven`] (the server sends
//!   heartbeats; silence for `idle_timeout` means dead).
//! - **Close codes.** A page may only send 1000 and 3000–4999 with a reason of at most 123
//!   bytes; [`Client::close`] refuses anything else with [`Error::Close`] rather than letting
//!   the browser throw. When every handle is dropped the socket is closed with 1000.
//! - **Failed handshakes.** A refused connection, a DNS or TLS failure and a handshake the
//!   server answered with HTTP 401 or 503 all reach the page as code 1006 with no detail: the
//!   close policy sees a network failure and reconnects (see [`close`] for what it can and
//!   cannot know). As on the native adapters, a failed attempt is an [`Event::ConnectFailed`]
//!   (its [`Error::NotOpened`] names the URL, and no more), and [`Event::Disconnected`] is
//!   kept for connections that were open. Close codes a server sends on an open connection
//!   arrive intact.
//! - **Tokens.** The browser's WebSocket takes no headers: pass a token in the URL, from an
//!   [`Endpoint::provider`] called before every attempt so it is fresh.
//! - **Binary.** Messages arrive as `ArrayBuffer` (`binaryType = "arraybuffer"`) and are
//!   copied once into wasm memory; outgoing bytes are handed to the browser as a view of wasm
//!   memory, which the browser copies once. Text crosses the JavaScript boundary once each
//!   way (UTF-8 to UTF-16 and back): the copies the browser forces, and no others.
//! - **Backpressure.** A browser cannot pause reading a WebSocket, so unread events wait in
//!   the [`Events`] stream without a bound.
//!
//! # Time, timer, seed, and the page's signals
//!
//! The supervisor's clock is `performance.now()`, its one timer a single `setTimeout` that is
//! cleared and set again whenever the next deadline changes, and its jitter seed comes from
//! `crypto.getRandomValues` unless [`ClientOptionsBuilder::seed`] fixes it. `online` and
//! `offline` report network changes (with an application heartbeat an open connection is probed
//! at once; a backoff wait is cut short), and the page becoming visible again ticks the
//! supervisor at once, so a tab or laptop that wakes up probes its connection instead of
//! declaring a live peer dead. The
//! listeners are removed when the client stops.
//!
//! On targets other than `wasm32` only the browser-independent parts are compiled (options
//! and their checks, close-code rules, events, JSON helpers), so the workspace builds and
//! tests them on the host.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// The crate documentation links the browser-only items (`connect`, `Client`, `Events`), which a
// host build does not have.
#![cfg_attr(not(target_arch = "wasm32"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(target_arch = "wasm32")]
mod browser;
pub mod close;
mod error;
mod event;
mod json;
mod options;
// The session is driven by the browser binding; on the host only its tests use it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod session;
#[cfg(test)]
mod tests;

#[cfg(target_arch = "wasm32")]
pub use browser::{Client, Events, TrySendError, connect};
pub use close::check_browser_close;
pub use error::{BrowserCloseError, Error};
pub use event::Event;
pub use json::{MessageExt, json_message};
pub use options::{ClientOptions, ClientOptionsBuilder, Endpoint, LocalBoxFuture, redact};
pub use ws_core::{
    Bytes, CloseCode, Config, ConfigBuilder, ConfigError, ConnectFailure, Disconnect, Heartbeat,
    Jitter, Liveness, Matcher, Message, Overflow, SendErrorKind, ServerPing, State, Stats, Text,
    TransportError, UndeliveredReason,
};
