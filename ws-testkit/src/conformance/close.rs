//! Endings: the application's own close (also while a handshake hangs or a `Retry-After` is
//! waited out), a peer's close (permanent or not, answered in time), and a handshake refused
//! as unauthorised.

use std::time::{Duration, Instant};

use ws_client::{Error, Event};
use ws_core::{CloseCode, Disconnect, State};

use super::observe::{Scenario, describe_all, is_closed, is_disconnected, is_open};
use super::setup::{INITIAL_DELAY, build, fast_reconnect, options};
use super::{Adapter, Client, Events, Handle, SLACK, WAIT, quiet_window};
use crate::{Behavior, HandshakeMode, TestServer};

/// Checks that `events` (collected up to `Closed`) end with `Disconnected` or
/// `ConnectFailed`, handed-back messages if any, then `Closed`, with no attempt to connect
/// again; returns that last `Disconnected` or `ConnectFailed`.
#[track_caller]
pub(super) fn ended_for_good<'e>(s: &Scenario, events: &'e [Event]) -> &'e Event {
    let Some(at) = events
        .iter()
        .rposition(|e| matches!(e, Event::Disconnected { .. } | Event::ConnectFailed { .. }))
    else {
        s.fail(format_args!(
            "no Disconnected or ConnectFailed before Closed; events:{}",
            describe_all(events)
        ))
    };
    let tail_ok = events[at + 1..]
        .iter()
        .all(|e| matches!(e, Event::Undelivered { .. } | Event::Closed | Event::Rtt(_)));
    let (Event::Disconnected { will_reconnect, .. } | Event::ConnectFailed { will_reconnect, .. }) =
        &events[at]
    else {
        unreachable!("found by rposition")
    };
    s.check(!will_reconnect && tail_ok, || {
        format!(
            "expected an ending with will_reconnect: false then Closed with no attempt in \
             between; events:{}",
            describe_all(events)
        )
    });
    &events[at]
}

/// Checks that nothing follows `Closed` for a window and that the server sees no handshake
/// after the first one within it: the client stays closed.
#[track_caller]
fn stays_closed<H: Handle, E: Events>(
    s: &Scenario,
    client: &mut Client<H, E>,
    server: &TestServer,
) {
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

/// The application closes with 1000: a code that may not be sent (1005) is refused by the
/// call, the server receives a Close frame with 1000 and the reason, the client reports its
/// own close (`cause: Application`, no error) then `Closed` and the stream ends, and it never
/// reconnects.
pub fn graceful_close_sends_1000_and_does_not_reconnect<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "graceful_close_sends_1000_and_does_not_reconnect");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    let refused = client.close(CloseCode(1005), "");
    s.check(matches!(refused, Err(Error::InvalidClose(_))), || {
        format!("close(1005) must be refused with InvalidClose, got {refused:?}")
    });
    if let Err(error) = client.close(CloseCode::NORMAL, "done") {
        s.fail(format_args!("close(1000) failed: {error}"));
    }
    let events = s.until_end(&mut client, WAIT, "close(1000)");
    s.check(
        matches!(
            events.as_slice(),
            [
                Event::Disconnected {
                    code: CloseCode::NORMAL,
                    cause: Disconnect::Application,
                    will_reconnect: false,
                    error: None,
                    ..
                },
                Event::Closed,
            ]
        ),
        || {
            format!(
                "expected exactly Disconnected {{ code: 1000, cause: Application, \
                 will_reconnect: false, error: None }} then Closed; events:{}",
                describe_all(&events)
            )
        },
    );
    s.check(server.wait_for_client_closes(1, WAIT), || {
        "the server did not see the connection end".to_owned()
    });
    let frames = server.client_close_frames();
    s.check(frames == [Some((1000, "done".to_owned()))], || {
        format!("the server must receive a Close frame with 1000 \"done\"; it recorded {frames:?}")
    });
    s.check(client.closed_within(WAIT), || {
        "closed() did not return after Closed".to_owned()
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
/// application learns the status from a typed error whose text names the URL with its token
/// redacted.
pub fn no_reconnect_after_http_401<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "no_reconnect_after_http_401");
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 401,
            retry_after: None,
        },
        ..Behavior::default()
    });
    let url = format!("{}feed?token=s3cret", server.url());
    let mut client = adapter.start(build(options(&url, fast_reconnect())));

    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    let failed = ended_for_good(&s, &events);
    let Event::ConnectFailed {
        error:
            error @ Error::Http {
                status: 401,
                retry_after: None,
                ..
            },
        ..
    } = failed
    else {
        s.fail(format_args!(
            "expected ConnectFailed {{ error: Http {{ status: 401, retry_after: None }} }}; got \
             {failed:?}"
        ))
    };
    let expected = format!(
        "ws://{}/feed?token=*** answered HTTP 401 Unauthorized instead of switching to \
         WebSocket: \"ws-testkit refused: 401 Unauthorized\"",
        server.addr()
    );
    s.check(error.to_string() == expected, || {
        format!(
            "the error must read {expected:?}, got {:?}",
            error.to_string()
        )
    });
    s.check(!events.iter().any(is_open), || {
        format!(
            "a refused handshake cannot open; events:{}",
            describe_all(&events)
        )
    });
    stays_closed(&s, &mut client, &server);
}

/// `close` while the server holds the handshake unanswered: the attempt ends at once
/// (commands are taken while a handshake is under way), with the application's own ending and
/// `Closed`, and no further attempt.
pub fn close_during_a_hanging_handshake_ends_the_attempt_at_once<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "close_during_a_hanging_handshake_ends_the_attempt_at_once",
    );
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Hang,
        ..Behavior::default()
    });
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    let first = s.wait_for(&mut client, WAIT, "Connecting", |_| true);
    s.check(matches!(first, Event::Connecting { attempt: 0 }), || {
        format!("the first event must be Connecting {{ attempt: 0 }}, got {first:?}")
    });
    s.check(server.wait_for_handshake_attempts(1, WAIT), || {
        "the handshake request never reached the server".to_owned()
    });
    s.check(client.state() == State::Connecting, || {
        format!(
            "expected state Connecting while the handshake hangs, got {:?}",
            client.state()
        )
    });

    let started = Instant::now();
    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
    let events = s.until_end(&mut client, WAIT, "close during the handshake");
    let took = started.elapsed();
    s.check(
        matches!(
            events.as_slice(),
            [
                Event::Disconnected {
                    cause: Disconnect::Application,
                    will_reconnect: false,
                    error: None,
                    ..
                },
                Event::Closed
            ]
        ),
        || {
            format!(
                "expected exactly Disconnected {{ cause: Application, error: None }} then \
                 Closed; events:{}",
                describe_all(&events)
            )
        },
    );
    s.check(took <= SLACK, || {
        format!("close took {took:?} to end a hanging handshake (allowed {SLACK:?})")
    });
    s.check(
        !server.wait_for_handshake_attempts(2, quiet_window(INITIAL_DELAY)),
        || {
            format!(
                "the client tried again after its close: {} handshake requests",
                server.handshake_attempts()
            )
        },
    );
}

/// A 503 with `Retry-After: 3` puts the client in `WaitingToReconnect` for exactly 3 s;
/// `close` then ends it at once rather than after the wait, with no second attempt.
pub fn close_while_waiting_out_a_retry_after_ends_at_once<A: Adapter>(adapter: &A) {
    const RETRY_AFTER: Duration = Duration::from_secs(3);
    let s = Scenario::new(
        adapter,
        "close_while_waiting_out_a_retry_after_ends_at_once",
    );
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 503,
            retry_after: Some(RETRY_AFTER.as_secs()),
        },
        ..Behavior::default()
    });
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    let next = s.wait_for(&mut client, WAIT, "Reconnecting", |e| {
        matches!(e, Event::Reconnecting { .. })
    });
    s.check(
        matches!(next, Event::Reconnecting { attempt: 1, delay } if delay == RETRY_AFTER),
        || format!("expected Reconnecting {{ attempt: 1, delay: {RETRY_AFTER:?} }}, got {next:?}"),
    );
    s.check(client.state() == State::WaitingToReconnect, || {
        format!(
            "expected state WaitingToReconnect, got {:?}",
            client.state()
        )
    });

    let started = Instant::now();
    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
    let events = s.until_end(&mut client, WAIT, "close during the wait");
    let took = started.elapsed();
    s.check(took <= SLACK, || {
        format!("close took {took:?} during a {RETRY_AFTER:?} wait (allowed {SLACK:?})")
    });
    s.check(
        !events.iter().any(|e| matches!(e, Event::Connecting { .. })),
        || {
            format!(
                "no attempt may follow the close; events:{}",
                describe_all(&events)
            )
        },
    );
    s.check(server.handshake_attempts() == 1, || {
        format!(
            "expected 1 handshake attempt, the server saw {}",
            server.handshake_attempts()
        )
    });
}

/// The server closes with an application code (4001) and a reason: both reach the
/// application, typed and described; the client answers with the same code, and (4001 not
/// being permanent) reconnects.
pub fn peer_close_code_and_reason_reach_the_application<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "peer_close_code_and_reason_reach_the_application");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    s.check(server.close_all(4001, "kicked") == 1, || {
        "expected 1 open connection at the server".to_owned()
    });
    let event = s.wait_for(&mut client, WAIT, "Disconnected", is_disconnected);
    let Event::Disconnected {
        code: CloseCode(4001),
        reason,
        cause: Disconnect::PeerClosed {
            code: CloseCode(4001),
        },
        will_reconnect: true,
        error: Some(error),
    } = &event
    else {
        s.fail(format_args!(
            "expected Disconnected {{ code: 4001, cause: PeerClosed, will_reconnect: true, \
             error: Some }}, got {event:?}"
        ))
    };
    s.check(*reason == "kicked", || {
        format!("expected reason \"kicked\", got {reason:?}")
    });
    let text = error.to_string();
    s.check(
        text == "closed by the peer with code 4001 (\"kicked\")",
        || format!("unexpected error text {text:?}"),
    );
    s.check(server.wait_for_client_closes(1, WAIT), || {
        "the server did not see the connection end".to_owned()
    });
    let codes = server.client_close_codes();
    s.check(codes == [Some(4001)], || {
        format!("the client must answer the server's Close with 4001; the server saw {codes:?}")
    });
    s.wait_for(&mut client, WAIT, "Open again", is_open);
}

/// The server closes with 1001 (going away) and the client must answer: its Close reaches the
/// server within `close_timeout` of the server's, with the same code.
pub fn peer_close_is_answered_within_close_timeout<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "peer_close_is_answered_within_close_timeout");
    peer_close_is_answered(&s, adapter, false);
}

/// The server sends more messages than the event channel and the driver's backlog hold, then
/// closes, while the application reads nothing: the driver has stopped reading the socket (TCP
/// pushes back on the server), so the Close waits behind the unread messages — reading on
/// without bound is what backpressure exists to prevent. Once the application reads, every
/// message arrives in order and the Close is answered within `close_timeout`.
pub fn peer_close_behind_unread_messages_is_answered_once_the_application_reads<A: Adapter>(
    adapter: &A,
) {
    let s = Scenario::new(
        adapter,
        "peer_close_behind_unread_messages_is_answered_once_the_application_reads",
    );
    peer_close_is_answered(&s, adapter, true);
}

fn peer_close_is_answered<A: Adapter>(s: &Scenario, adapter: &A, not_reading: bool) {
    const CLOSE_TIMEOUT: Duration = Duration::from_millis(300);
    const EVENT_CAPACITY: usize = 4;
    // Well over the event channel and the driver's backlog together, and over the frames a
    // driver reads in one go: the Close sits behind messages the driver may not read yet.
    const UNREAD: usize = 200;
    let server = TestServer::start();
    let config = fast_reconnect().close_timeout(CLOSE_TIMEOUT);
    let mut client = adapter.start(build(
        options(&server.url(), config).event_capacity(EVENT_CAPACITY),
    ));
    s.check(server.wait_for_connections(1, WAIT), || {
        "the client never connected".to_owned()
    });
    if not_reading {
        for i in 0..UNREAD {
            server.send_text(&format!("unread-{i}"));
        }
    } else {
        s.wait_for(&mut client, WAIT, "Open", is_open);
    }

    s.check(server.close_all(1001, "going away") == 1, || {
        "expected 1 open connection at the server".to_owned()
    });
    if not_reading {
        // Nothing was lost meanwhile: every message, then the peer's close.
        skip_connecting_and_open(s, &mut client);
        let messages = s.next_messages(&mut client, UNREAD, WAIT);
        let texts: Vec<Option<&str>> = messages.iter().map(|m| m.as_text()).collect();
        let expected: Vec<String> = (0..UNREAD).map(|i| format!("unread-{i}")).collect();
        s.check(
            texts
                .iter()
                .zip(&expected)
                .all(|(t, e)| *t == Some(e.as_str())),
            || format!("expected {expected:?} in order, got {texts:?}"),
        );
    }
    // From here (the server's Close, or the application catching up) the reply is bounded.
    let answered = server.wait_for_close_replies(1, CLOSE_TIMEOUT + SLACK);
    let replies = server.close_replies();
    s.check(answered, || {
        format!(
            "the client did not answer the server's Close within close_timeout + slack ({:?}); \
             replies {replies:?}",
            CLOSE_TIMEOUT + SLACK
        )
    });
    s.check(
        matches!(replies[..], [Some(delay)] if not_reading || delay <= CLOSE_TIMEOUT + SLACK),
        || {
            format!(
                "expected one reply within {:?}, got {replies:?}",
                CLOSE_TIMEOUT + SLACK
            )
        },
    );
    s.check(server.wait_for_client_closes(1, WAIT), || {
        "the server did not see the connection end".to_owned()
    });
    let codes = server.client_close_codes();
    s.check(codes == [Some(1001)], || {
        format!("the client must answer with 1001; the server saw {codes:?}")
    });
    let lost = s.wait_for(&mut client, WAIT, "Disconnected", is_disconnected);
    s.check(
        matches!(
            lost,
            Event::Disconnected {
                code: CloseCode::GOING_AWAY,
                will_reconnect: true,
                ..
            }
        ),
        || format!("expected Disconnected {{ code: 1001, will_reconnect: true }}, got {lost:?}"),
    );
}

/// Reads `Connecting` and `Open`, the first two events, so that the next is the first
/// message.
#[track_caller]
fn skip_connecting_and_open<H: Handle, E: Events>(s: &Scenario, client: &mut Client<H, E>) {
    let connecting = client.next_event(WAIT);
    let open = client.next_event(WAIT);
    s.check(
        matches!(
            (&connecting, &open),
            (
                Some(Event::Connecting { attempt: 0 }),
                Some(Event::Open { .. })
            )
        ),
        || {
            format!(
                "expected Connecting {{ attempt: 0 }} then Open, got {connecting:?} then {open:?}"
            )
        },
    );
}
