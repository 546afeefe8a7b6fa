//! Test kit for the resilient WebSocket client's adapters: a local WebSocket server whose
//! behaviour a test controls ([`TestServer`]), a TCP proxy that injects network faults
//! ([`FaultProxy`]), and the [`conformance`] scenarios every adapter must pass, run by one
//! line per adapter ([`conformance_suite!`]).
//!
//! The API is synchronous and runtime-neutral on purpose: the same scenarios drive the tokio,
//! smol/async-std and blocking adapters. Each handle runs its own tokio runtime on background
//! threads, so its methods can be called from a plain test thread or from inside any executor.
//! Everything binds to `127.0.0.1` only, every wait takes a deadline, and dropping a handle
//! closes its sockets and joins its threads.
//!
//! ```
//! use std::time::Duration;
//! use ws_testkit::{Behavior, HandshakeMode, TestServer};
//!
//! let server = TestServer::start_with(Behavior {
//!     handshake: HandshakeMode::Refuse { status: 503, retry_after: Some(2) },
//!     ..Behavior::default()
//! });
//! assert!(server.url().starts_with("ws://127.0.0.1:"));
//! assert!(!server.wait_for_connections(1, Duration::from_millis(1)));
//! ```

#![forbid(unsafe_code)]

mod behavior;
mod black_hole;
pub mod conformance;
mod connection;
mod handshake;
mod listen;
pub mod pki;
mod proxy;
mod proxy_server;
mod recording;
mod runtime;
mod server;
mod tinyproxy;
mod tls_front;
mod watched;
mod wire;

pub use behavior::{AppHeartbeat, Behavior, HandshakeMode, PingMode};
pub use black_hole::BlackHole;
pub use proxy::{FaultProxy, ProxyMode};
pub use proxy_server::{ProxyFault, ProxyProtocol, ProxyRequest, TestProxy};
pub use recording::{HandshakeRequest, Payload, Received};
pub use server::TestServer;
pub use tinyproxy::Tinyproxy;
pub use tls_front::TlsFront;
