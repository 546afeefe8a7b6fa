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
//! scenario sees an adapter through a small blocking facade: implement [`Adapter`],
//! [`Handle`], [`Events`], [`Driver`] and [`StateWatch`] in the adapter's test crate (an
//! async one owns a runtime and blocks on it for every call, from whichever thread makes it),
//! then generate one `#[test]` per scenario:
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
mod facade;
mod first_app;
mod handles;
mod handshake;
mod heartbeat;
mod messages;
mod observe;
mod proxy;
mod race;
mod reconnect;
mod setup;
mod strict;
mod tls;

use std::time::Duration;

pub use close::{
    close_during_a_hanging_handshake_ends_the_attempt_at_once,
    close_while_waiting_out_a_retry_after_ends_at_once,
    graceful_close_sends_1000_and_does_not_reconnect, no_reconnect_after_close_1008,
    no_reconnect_after_http_401,
    peer_close_behind_unread_messages_is_answered_once_the_application_reads,
    peer_close_code_and_reason_reach_the_application, peer_close_is_answered_within_close_timeout,
};
pub use facade::{Adapter, Client, Driver, Events, Handle, StateWatch};
pub use first_app::{
    a_ready_for_an_earlier_connection_leaves_the_new_one_held,
    auth_refusals_beyond_auth_retries_are_permanent,
    http_401_on_a_url_function_is_retried_with_fresh_credentials,
    replay_on_open_goes_first_on_every_connection,
};
pub use handles::{
    a_new_client_reports_connecting_before_its_driver_runs, dropping_every_handle_closes_with_1001,
    dropping_every_handle_during_an_outage_stops_the_driver, dropping_the_driver_stops_the_client,
    sends_after_close_are_handed_back_in_the_error,
    state_watch_follows_the_lifecycle_and_ends_when_closed,
    the_driver_runs_on_a_thread_of_the_applications_choosing,
};
pub use handshake::{
    async_url_function_is_awaited_before_every_attempt,
    headers_and_subprotocols_are_sent_and_the_choice_reported, tokens_never_show_in_debug_output,
    url_function_gives_every_attempt_a_fresh_token,
};
pub use heartbeat::{
    dead_peer_is_detected_within_the_heartbeat_bound,
    network_changed_probes_an_open_connection_at_once,
    peer_deaf_to_pings_is_declared_dead_after_ping_interval_plus_pong_timeout,
    peer_pings_are_answered_while_the_application_is_idle,
    peer_that_stops_reading_is_declared_dead_on_time_and_unblocks_the_sender,
    slow_reader_keeps_the_heartbeat_going_and_loses_nothing,
};
pub use messages::{
    a_reply_to_the_message_before_a_bad_frame_goes_out_before_the_close,
    binary_messages_round_trip, each_send_wakes_the_driver_at_once,
    invalid_frame_is_a_typed_protocol_error, invalid_utf8_is_refused_before_its_frame_is_complete,
    json_messages_round_trip, oversized_message_is_a_typed_error_without_reconnect,
    sends_while_connecting_are_queued_and_overflow_is_rejected, ten_mib_message_round_trips_intact,
    text_binary_and_json_echo_in_order_and_are_counted,
};
pub use observe::{Observe, collect_until, expect_no_event_matching, wait_for};
pub use proxy::{
    black_holed_addresses_time_out_in_the_tcp_stage_naming_them,
    black_holed_first_address_costs_250_ms_not_the_connect_timeout,
    garbage_from_the_proxy_is_a_typed_error_at_once, hanging_proxy_is_a_proxy_stage_timeout,
    http_connect_proxy_with_credentials_tunnels_and_redacts_them,
    https_proxy_is_reached_over_verified_tls, oversized_proxy_reply_is_refused_at_8_kib,
    proxy_407_stops_with_a_typed_redacted_error, proxy_503_is_retried_until_the_tunnel_opens,
    slow_proxy_reply_still_opens, socks5_proxy_gets_an_address_resolved_by_the_client,
    socks5h_proxy_resolves_the_name_with_rfc_1929_credentials,
    tinyproxy_tunnels_with_basic_credentials, wss_inside_an_https_proxy_is_tls_inside_tls,
};
pub use race::{
    sends_racing_the_close_each_end_in_exactly_one_outcome,
    sends_racing_the_last_handle_drop_are_all_delivered,
};
pub use reconnect::{
    gives_up_after_max_attempts_and_hands_back_the_queue,
    hanging_handshake_hits_the_connect_timeout_and_retries,
    reconnect_now_replaces_an_open_connection, refused_port_is_a_typed_refused_error,
    restart_reconnects_and_delivers_the_queue_once_in_order, retry_after_is_honoured_on_http_503,
};
pub use strict::unoffered_extension_fails_the_connection_by_name;
pub use tls::{
    wss_to_a_host_name_checks_the_certificate_against_the_name,
    wss_to_an_ipv6_literal_verifies_the_address, wss_with_a_wrong_ca_fails_at_once_and_stops,
    wss_with_the_right_ca_connects_and_echoes,
};

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
            // heartbeat
            dead_peer_is_detected_within_the_heartbeat_bound,
            peer_deaf_to_pings_is_declared_dead_after_ping_interval_plus_pong_timeout,
            peer_pings_are_answered_while_the_application_is_idle,
            slow_reader_keeps_the_heartbeat_going_and_loses_nothing,
            peer_that_stops_reading_is_declared_dead_on_time_and_unblocks_the_sender,
            network_changed_probes_an_open_connection_at_once,
            // reconnect
            restart_reconnects_and_delivers_the_queue_once_in_order,
            gives_up_after_max_attempts_and_hands_back_the_queue,
            retry_after_is_honoured_on_http_503,
            hanging_handshake_hits_the_connect_timeout_and_retries,
            refused_port_is_a_typed_refused_error,
            reconnect_now_replaces_an_open_connection,
            // endings
            no_reconnect_after_close_1008,
            no_reconnect_after_http_401,
            graceful_close_sends_1000_and_does_not_reconnect,
            close_during_a_hanging_handshake_ends_the_attempt_at_once,
            close_while_waiting_out_a_retry_after_ends_at_once,
            peer_close_code_and_reason_reach_the_application,
            peer_close_is_answered_within_close_timeout,
            peer_close_behind_unread_messages_is_answered_once_the_application_reads,
            // messages
            text_binary_and_json_echo_in_order_and_are_counted,
            binary_messages_round_trip,
            json_messages_round_trip,
            ten_mib_message_round_trips_intact,
            oversized_message_is_a_typed_error_without_reconnect,
            invalid_frame_is_a_typed_protocol_error,
            a_reply_to_the_message_before_a_bad_frame_goes_out_before_the_close,
            invalid_utf8_is_refused_before_its_frame_is_complete,
            sends_while_connecting_are_queued_and_overflow_is_rejected,
            each_send_wakes_the_driver_at_once,
            // handshake
            headers_and_subprotocols_are_sent_and_the_choice_reported,
            url_function_gives_every_attempt_a_fresh_token,
            async_url_function_is_awaited_before_every_attempt,
            tokens_never_show_in_debug_output,
            // handles
            sends_after_close_are_handed_back_in_the_error,
            sends_racing_the_close_each_end_in_exactly_one_outcome,
            sends_racing_the_last_handle_drop_are_all_delivered,
            dropping_every_handle_closes_with_1001,
            dropping_every_handle_during_an_outage_stops_the_driver,
            dropping_the_driver_stops_the_client,
            the_driver_runs_on_a_thread_of_the_applications_choosing,
            state_watch_follows_the_lifecycle_and_ends_when_closed,
            a_new_client_reports_connecting_before_its_driver_runs,
            // wss://
            wss_with_the_right_ca_connects_and_echoes,
            wss_with_a_wrong_ca_fails_at_once_and_stops,
            wss_to_a_host_name_checks_the_certificate_against_the_name,
            wss_to_an_ipv6_literal_verifies_the_address,
            // a first application: expiring credentials, replay, the gate
            http_401_on_a_url_function_is_retried_with_fresh_credentials,
            auth_refusals_beyond_auth_retries_are_permanent,
            replay_on_open_goes_first_on_every_connection,
            a_ready_for_an_earlier_connection_leaves_the_new_one_held,
            // proxies, Happy Eyeballs, strict handshake
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
            wss_inside_an_https_proxy_is_tls_inside_tls,
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
