//! The conformance suite: the behaviour every adapter (tokio, smol/async-std, blocking std)
//! must show on real sockets, written once.
//!
//! The policy lives in ws-core and is proven there in virtual time; what an adapter can still
//! get wrong is the driving: a timer armed late or not at all, a deadline compared with a stale
//! `now`, a Pong left unflushed, a typed error lost on the way, a reconnect after a permanent
//! failure. These scenarios catch that by running each adapter against the kit's
//! [`TestServer`](crate::TestServer) and [`FaultProxy`](crate::FaultProxy) with short real
//! intervals (tens to hundreds of milliseconds).
//!
//! # Plugging an adapter in
//!
//! Async adapters cannot share test code directly (each runtime has its own executor), so a
//! scenario sees an adapter through a small blocking facade: implement [`Adapter`] and
//! [`Client`] in the adapter's test crate (an async one owns a runtime and blocks on it from
//! the test thread), then generate one `#[test]` per scenario:
//!
//! ```ignore
//! // tests/conformance.rs of an adapter crate
//! ws_testkit::conformance_suite!(MyAdapter::new());
//! ```
//!
//! # Timing rules
//!
//! Every wait has a deadline and no scenario sleeps to let things happen: it waits for the
//! event, or for the server to observe something. Timing assertions have a strict side (a
//! deadline that fired early is a bug, so the lower bounds are tight) and a generous side
//! ([`SLACK`], for a loaded machine). "Nothing happens" checks observe for a bounded window
//! derived from the configured delays ([`quiet_window`]): the window is the assertion.

mod close;
mod heartbeat;
mod messages;
mod observe;
mod proxy;
mod reconnect;
mod setup;
mod strict;

use std::time::Duration;

pub use close::{
    graceful_close_sends_1000_and_does_not_reconnect, no_reconnect_after_close_1008,
    no_reconnect_after_http_401,
};
pub use heartbeat::{
    dead_peer_is_detected_within_the_heartbeat_bound,
    peer_pings_are_answered_while_the_application_is_idle,
};
pub use messages::{
    binary_messages_round_trip, invalid_frame_is_a_typed_protocol_error, json_messages_round_trip,
    oversized_message_is_a_typed_error_without_reconnect, ten_mib_message_round_trips_intact,
};
pub use observe::{collect_until, expect_no_event_matching, wait_for};
pub use proxy::{
    black_holed_addresses_time_out_in_the_tcp_stage_naming_them,
    black_holed_first_address_costs_250_ms_not_the_connect_timeout,
    garbage_from_the_proxy_is_a_typed_error_at_once, hanging_proxy_is_a_proxy_stage_timeout,
    http_connect_proxy_with_credentials_tunnels_and_redacts_them,
    https_proxy_is_reached_over_verified_tls, oversized_proxy_reply_is_refused_at_8_kib,
    proxy_407_stops_with_a_typed_redacted_error, proxy_503_is_retried_until_the_tunnel_opens,
    slow_proxy_reply_still_opens, socks5_proxy_gets_an_address_resolved_by_the_client,
    socks5h_proxy_resolves_the_name_with_rfc_1929_credentials,
    tinyproxy_tunnels_with_basic_credentials,
};
pub use reconnect::{
    gives_up_after_max_attempts_and_hands_back_the_queue,
    hanging_handshake_hits_the_connect_timeout_and_retries,
    restart_reconnects_and_delivers_the_queue_once_in_order, retry_after_is_honoured_on_http_503,
};
pub use strict::unoffered_extension_fails_the_connection_by_name;

/// One adapter, seen through a blocking facade so the same scenarios run on every runtime.
pub trait Adapter: Sync {
    /// The client this adapter starts.
    type Client: Client;
    /// The adapter's name, for failure messages.
    fn name(&self) -> &'static str;
    /// Starts a client that connects at once with these options.
    fn start(&self, options: ws_client::ClientOptions) -> Self::Client;
}

/// A running client, driven from a test thread.
pub trait Client: Send {
    /// Sends (or queues) a message; blocks only until the adapter accepted the command.
    fn send(&self, message: ws_core::Message) -> Result<(), String>;
    /// Sends a JSON value through the adapter's own JSON path (`serde_json`).
    fn send_json(&self, value: &serde_json::Value) -> Result<(), String>;
    /// Starts a graceful close.
    fn close(&self, code: ws_core::CloseCode, reason: &str);
    /// The next event, waiting at most `timeout`; None on timeout or once the stream ended.
    fn next_event(&mut self, timeout: std::time::Duration) -> Option<ws_client::Event>;
    /// The lifecycle state now.
    fn state(&self) -> ws_core::State;
}

/// Deadline for anything that should happen promptly. Only a failing scenario waits this long.
pub const WAIT: Duration = Duration::from_secs(5);

/// What a timing upper bound allows on top of the configured durations, for a shared, loaded
/// machine: a bound that flakes there proves nothing. On a two-core machine running the suite
/// 14 tests at a time next to three busy loops, the deadlines measured here overshot by at most
/// 55 ms; this is about ten times that, and still catches a timer that is not re-armed (which
/// shows as a delay of a whole `ping_interval` or more, or as no event at all).
pub const SLACK: Duration = Duration::from_millis(500);

/// How long a "nothing more happens" check observes, for a client whose next reconnect (had it
/// wrongly decided to reconnect) would start after `reconnect_delay`: ten times that, kept
/// within 300–800 ms so the check both means something and stays quick.
pub fn quiet_window(reconnect_delay: Duration) -> Duration {
    (reconnect_delay * 10).clamp(Duration::from_millis(300), Duration::from_millis(800))
}

/// Expands to one `#[test]` per conformance scenario, each running it against `$adapter`, so
/// an adapter's whole conformance test file is one line and a failing scenario is named in
/// the test output.
///
/// `$adapter` is evaluated once per test and passed by reference: a fresh adapter value
/// (`MyAdapter::new()`) gives each test its own runtime; `*SHARED` (a `LazyLock`) shares one.
///
/// To run the suite on several runtimes from one file, name a module for each; the module
/// sees the file's items (`use super::*`) and prefixes the test names (`smol::…`):
///
/// ```ignore
/// ws_testkit::conformance_suite!(smol: SmolAdapter::new());
/// ws_testkit::conformance_suite!(async_std: AsyncStdAdapter::new());
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($module:ident : $adapter:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_suite!($adapter);
        }
    };
    ($adapter:expr) => {
        $crate::conformance_suite!(@tests $adapter;
            dead_peer_is_detected_within_the_heartbeat_bound,
            peer_pings_are_answered_while_the_application_is_idle,
            restart_reconnects_and_delivers_the_queue_once_in_order,
            gives_up_after_max_attempts_and_hands_back_the_queue,
            retry_after_is_honoured_on_http_503,
            hanging_handshake_hits_the_connect_timeout_and_retries,
            no_reconnect_after_close_1008,
            no_reconnect_after_http_401,
            graceful_close_sends_1000_and_does_not_reconnect,
            binary_messages_round_trip,
            json_messages_round_trip,
            ten_mib_message_round_trips_intact,
            oversized_message_is_a_typed_error_without_reconnect,
            invalid_frame_is_a_typed_protocol_error,
            http_connect_proxy_with_credentials_tunnels_and_redacts_them,
            socks5h_proxy_resolves_the_name_with_rfc_1929_credentials,
            socks5_proxy_gets_an_address_resolved_by_the_client,
            proxy_407_stops_with_a_typed_redacted_error,
            proxy_503_is_retried_until_the_tunnel_opens,
            hanging_proxy_is_a_proxy_stage_timeout,
            garbage_from_the_proxy_is_a_typed_error_at_once,
            oversized_proxy_reply_is_refused_at_8_kib,
            slow_proxy_reply_still_opens,
            black_holed_first_address_costs_250_ms_not_the_connect_timeout,
            black_holed_addresses_time_out_in_the_tcp_stage_naming_them,
            tinyproxy_tunnels_with_basic_credentials,
            https_proxy_is_reached_over_verified_tls,
            unoffered_extension_fails_the_connection_by_name,
        );
    };
    (@tests $adapter:expr; $($scenario:ident),* $(,)?) => {
        $(
            #[test]
            fn $scenario() {
                $crate::conformance::$scenario(&$adapter);
            }
        )*
    };
}
