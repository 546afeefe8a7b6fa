//! Endings that must stay ended: the application's own close, a peer's permanent close code,
//! and a handshake refused as unauthorised.

use ws_client::{Error, Event};
use ws_core::{CloseCode, ConnectFailure, Disconnect, State};

use super::observe::{Scenario, describe_all, is_closed, is_open};
use super::setup::{INITIAL_DELAY, build, fast_reconnect, options};
use super::{Adapter, Client, WAIT, quiet_window};
use crate::{Behavior, HandshakeMode, TestServer};

/// Checks that `events` (collected up to `Closed`) end with `Disconnected`, handed-back
/// messages if any, then `Closed`, with no attempt to connect again; returns the
/// `Disconnected`.
#[track_caller]
fn ended_for_good<'e>(s: &Scenario, events: &'e [Event]) -> &'e Event {
    let Some(at) = events
        .iter()
        .rposition(|e| matches!(e, Event::Disconnected { .. }))
    else {
        s.fail(format_args!(
            "no Disconnected before Closed; events:{}",
            describe_all(events)
        ))
    };
    let tail_ok = events[at + 1..]
        .iter()
        .all(|e| matches!(e, Event::Undelivered { .. } | Event::Closed | Event::Rtt(_)));
    let Event::Disconnected { will_reconnect, .. } = &events[at] else {
        unreachable!("found by rposition")
    };
    s.check(!will_reconnect && tail_ok, || {
        format!(
            "expected Disconnected {{ will_reconnect: false }} then Closed with no attempt in \
             between; events:{}",
            describe_all(events)
        )
    });
    &events[at]
}

/// Checks that nothing follows `Closed` for a window and that the server sees no handshake
/// after the first one within it: the client stays closed.
#[track_caller]
fn stays_closed<C: Client>(s: &Scenario, client: &mut C, server: &TestServer) {
    let left = s.expect_silence(client, quiet_window(INITIAL_DELAY), "Closed");
    s.check(!server.wait_for_handshake_attempts(2, left), || {
        format!(
            "expected exactly one handshake attempt, the server saw {}",
            server.handshake_attempts()
        )
    });
    s.check(client.state() == State::Closed, || {
        format!("expected state Closed, got {:?}", client.state())
    });
}

/// The application closes with 1000: the server receives a Close frame with 1000, the client
/// reports its own close (`cause: Application`, no error) then `Closed`, and never reconnects.
pub fn graceful_close_sends_1000_and_does_not_reconnect<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "graceful_close_sends_1000_and_does_not_reconnect");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    client.close(CloseCode::NORMAL, "done");
    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    let disconnected = ended_for_good(&s, &events);
    s.check(
        matches!(
            disconnected,
            Event::Disconnected {
                code: CloseCode::NORMAL,
                cause: Disconnect::Application,
                error: None,
                ..
            }
        ),
        || {
            format!(
                "expected Disconnected {{ code: 1000, cause: Application, error: None }}, got \
                 {disconnected:?}"
            )
        },
    );
    s.check(server.wait_for_client_closes(1, WAIT), || {
        "the server did not see the connection end".to_owned()
    });
    let codes = server.client_close_codes();
    s.check(codes == [Some(1000)], || {
        format!("the server must receive a Close frame with 1000; it recorded {codes:?}")
    });
    stays_closed(&s, &mut client, &server);
}

/// The server closes with 1008 (policy violation, often "not authorised"): reconnecting would
/// only hammer it, so the client reports the code with a typed error and stops.
pub fn no_reconnect_after_close_1008<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "no_reconnect_after_close_1008");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    let closed = server.close_all(1008, "not allowed");
    s.check(closed == 1, || {
        format!("the server has {closed} open connections, expected 1")
    });
    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    let disconnected = ended_for_good(&s, &events);
    s.check(
        matches!(
            disconnected,
            Event::Disconnected {
                code: CloseCode::POLICY_VIOLATION,
                cause: Disconnect::PeerClosed { code: CloseCode::POLICY_VIOLATION },
                error: Some(Error::ClosedByPeer { code: CloseCode::POLICY_VIOLATION, reason }),
                reason: event_reason,
                ..
            } if *reason == "not allowed" && *event_reason == "not allowed"
        ),
        || {
            format!(
                "expected Disconnected with code 1008, reason \"not allowed\", cause PeerClosed \
                 and error ClosedByPeer; got {disconnected:?}"
            )
        },
    );
    stays_closed(&s, &mut client, &server);
}

/// The handshake is refused with HTTP 401: permanent, so exactly one attempt, and the
/// application learns the status from a typed error.
pub fn no_reconnect_after_http_401<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "no_reconnect_after_http_401");
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 401,
            retry_after: None,
        },
        ..Behavior::default()
    });
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));

    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    let disconnected = ended_for_good(&s, &events);
    s.check(
        matches!(
            disconnected,
            Event::Disconnected {
                cause: Disconnect::ConnectFailed(ConnectFailure::Http { status: 401, .. }),
                error: Some(Error::Http { status: 401, .. }),
                ..
            }
        ),
        || {
            format!(
                "expected Disconnected with cause ConnectFailed(Http 401) and error Http \
                 {{ status: 401 }}; got {disconnected:?}"
            )
        },
    );
    s.check(!events.iter().any(is_open), || {
        format!(
            "a refused handshake cannot open; events:{}",
            describe_all(&events)
        )
    });
    stays_closed(&s, &mut client, &server);
}
