//! Reconnect scenarios: back after a server restart with nothing lost or doubled, giving up
//! after `max_attempts`, a server's `Retry-After` honoured, a hanging handshake cut off by
//! `connect_timeout`, a refused port typed as such, and `reconnect_now`.

use std::time::{Duration, Instant};

use ws_client::{ConnectStage, Error, Event};
use ws_core::State;

use super::observe::{
    Scenario, describe_all, is_closed, is_connect_failed, is_disconnected, is_open,
};
use super::setup::{INITIAL_DELAY, build, fast_reconnect, options};
use super::{Adapter, Handle, SLACK, WAIT, quiet_window};
use crate::{Behavior, FaultProxy, HandshakeMode, TestServer};
use ws_core::UndeliveredReason;

/// The server goes away and comes back on the same port: the client reconnects by itself,
/// and the messages sent during the outage reach the server exactly once, in order, on the
/// new connection, while those delivered before the outage are not sent again.
///
/// The outage messages are sent only once the client has reported the loss: a message written
/// into a socket whose peer just vanished is lost in the kernel, and no client can know it.
pub fn restart_reconnects_and_delivers_the_queue_once_in_order<A: Adapter>(adapter: &A) {
    const BEFORE: [&str; 2] = ["before-1", "before-2"];
    const DURING: [&str; 3] = ["during-1", "during-2", "during-3"];
    const MARKER: &str = "after-the-outage";
    let s = Scenario::new(
        adapter,
        "restart_reconnects_and_delivers_the_queue_once_in_order",
    );
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    for text in BEFORE {
        s.send(&client, text);
    }
    s.expect_texts(&mut client, &BEFORE);

    server.stop();
    let lost = s.wait_for(
        &mut client,
        WAIT,
        "Disconnected after the server stopped",
        is_disconnected,
    );
    s.check(
        matches!(
            &lost,
            Event::Disconnected {
                will_reconnect: true,
                error: Some(error),
                ..
            } if error.to_string().contains("without a close frame")
        ),
        || {
            format!(
                "a connection lost without a Close must be reconnected, with an error saying \
                 so; got {lost:?}"
            )
        },
    );
    for text in DURING {
        s.send(&client, text);
    }
    // The outage spans at least one failed attempt, which must not lose the queue.
    let outage = s.collect_until(
        &mut client,
        WAIT,
        "a failed reconnect attempt against the stopped server",
        |e| {
            matches!(
                e,
                Event::ConnectFailed {
                    will_reconnect: true,
                    ..
                }
            )
        },
    );
    check_first_wait(&s, &outage);
    server.restart();
    s.wait_for(&mut client, WAIT, "Open after the restart", is_open);
    s.expect_texts(&mut client, &DURING);

    // A duplicate would have been sent before the marker on the same connection, so once the
    // marker is back the server's record is complete.
    s.send(&client, MARKER);
    s.expect_texts(&mut client, &[MARKER]);
    let received: Vec<(usize, String)> = server
        .received()
        .iter()
        .map(|r| (r.conn, r.text().unwrap_or("<binary>").to_owned()))
        .collect();
    let reconnected = server.connections();
    let expected: Vec<(usize, String)> = BEFORE
        .iter()
        .map(|text| (1, (*text).to_owned()))
        .chain(
            DURING
                .iter()
                .chain(&[MARKER])
                .map(|text| (reconnected, (*text).to_owned())),
        )
        .collect();
    s.check(reconnected == 2, || {
        format!("expected exactly one reconnect, the server saw {reconnected} connections")
    });
    s.check(received == expected, || {
        format!(
            "the server must receive each message once, in order, the outage's on the new \
             connection: expected (connection, text) {expected:?}, got {received:?}"
        )
    });
    let stats = client.stats();
    s.check((stats.reconnects, stats.messages_sent) == (1, 6), || {
        format!("expected 1 reconnect and 6 messages sent; stats {stats:?}")
    });
}

/// The first wait after a loss is `Reconnecting { attempt: 1, delay: initial_delay }`.
#[track_caller]
fn check_first_wait(s: &Scenario, events: &[Event]) {
    let first_wait = events
        .iter()
        .find(|e| matches!(e, Event::Reconnecting { .. }));
    s.check(
        matches!(first_wait, Some(Event::Reconnecting { attempt: 1, delay }) if *delay == INITIAL_DELAY),
        || {
            format!(
                "expected Reconnecting {{ attempt: 1, delay: {INITIAL_DELAY:?} }} first; \
                 events:{}",
                describe_all(events)
            )
        },
    );
}

/// With `max_attempts(Some(2))` and the server gone for good: two attempts, then exactly one
/// `GaveUp`, the queued messages handed back in order, `Closed`, and nothing after it (no
/// event, no connection reaching the proxy).
pub fn gives_up_after_max_attempts_and_hands_back_the_queue<A: Adapter>(adapter: &A) {
    // Long enough that the queued sends are surely taken before the client gives up.
    const RETRY_DELAY: Duration = Duration::from_millis(200);
    const QUEUED: [&str; 3] = ["queued-1", "queued-2", "queued-3"];
    let s = Scenario::new(
        adapter,
        "gives_up_after_max_attempts_and_hands_back_the_queue",
    );
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let config = fast_reconnect()
        .initial_delay(RETRY_DELAY)
        .max_delay(RETRY_DELAY)
        .multiplier(1.0)
        .max_attempts(Some(2));
    let mut client = adapter.start(build(options(&proxy.url(), config)));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    server.stop();
    let lost = s.wait_for(
        &mut client,
        WAIT,
        "Disconnected after the server stopped",
        is_disconnected,
    );
    s.check(
        matches!(
            lost,
            Event::Disconnected {
                will_reconnect: true,
                ..
            }
        ),
        || format!("the first loss must be reconnected; got {lost:?}"),
    );
    for text in QUEUED {
        s.send(&client, text);
    }
    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);

    check_give_up(&s, &events, &QUEUED);
    // The first connection plus two attempts.
    let connects = proxy.connections();
    s.check(connects == 3, || {
        format!("expected 3 connections at the proxy by the time of Closed, got {connects}")
    });

    let left = s.expect_silence(&mut client, quiet_window(RETRY_DELAY), "Closed");
    s.check(!proxy.wait_for_connections(4, left), || {
        format!(
            "the client connected again after giving up: {} connections",
            proxy.connections()
        )
    });
    s.check(client.state() == State::Closed, || {
        format!("expected state Closed, got {:?}", client.state())
    });
}

/// Checks the events from the loss to `Closed` of a client with `max_attempts(Some(2))`:
/// attempts 1 and 2 fail (the last one not to be retried), then exactly one `GaveUp`, then
/// the `queued` messages handed back in order, then `Closed`.
#[track_caller]
fn check_give_up(s: &Scenario, events: &[Event], queued: &[&str]) {
    let gave_up: Vec<usize> = (0..events.len())
        .filter(|&i| matches!(events[i], Event::GaveUp { .. }))
        .collect();
    let [gave_up] = gave_up[..] else {
        s.fail(format_args!(
            "expected exactly one GaveUp before Closed; events:{}",
            describe_all(events)
        ))
    };
    let (before, after) = events.split_at(gave_up);
    s.check(
        matches!(
            after[0],
            Event::GaveUp { attempts: 2, undelivered } if undelivered == queued.len()
        ),
        || {
            format!(
                "expected GaveUp {{ attempts: 2, undelivered: {} }}, got {:?}",
                queued.len(),
                after[0]
            )
        },
    );
    // `after` ends with `Closed`: in between, only the handed-back messages.
    let handed_back: Vec<Option<&str>> = after[1..after.len() - 1]
        .iter()
        .map(|event| match event {
            Event::Undelivered {
                message,
                reason: UndeliveredReason::Stopped,
            } => message.as_text(),
            _ => None,
        })
        .collect();
    let expected: Vec<Option<&str>> = queued.iter().copied().map(Some).collect();
    s.check(handed_back == expected, || {
        format!(
            "after GaveUp: the queued messages {queued:?} handed back (Stopped) in order, then \
             Closed; events after GaveUp:{}",
            describe_all(after)
        )
    });
    let attempts: Vec<u32> = before
        .iter()
        .filter_map(|event| match event {
            Event::Connecting { attempt } => Some(*attempt),
            _ => None,
        })
        .collect();
    let last_verdict = before.iter().rev().find_map(|event| match event {
        Event::ConnectFailed { will_reconnect, .. } => Some(*will_reconnect),
        _ => None,
    });
    s.check(
        attempts == [1, 2] && last_verdict == Some(false) && !before.iter().any(is_open),
        || {
            format!(
                "expected attempts 1 and 2 to fail, the last with will_reconnect: false; \
                 events:{}",
                describe_all(events)
            )
        },
    );
}

/// A handshake refused with 503 and `Retry-After: 1`: the next attempt waits the server's
/// second even though the backoff says 20 ms, measured where the attempts arrive; once the
/// server accepts, the client is open.
pub fn retry_after_is_honoured_on_http_503<A: Adapter>(adapter: &A) {
    const RETRY_AFTER: Duration = Duration::from_secs(1);
    // Both times are read on the same monotonic clock; this only absorbs its granularity.
    const TOLERANCE: Duration = Duration::from_millis(20);
    let s = Scenario::new(adapter, "retry_after_is_honoured_on_http_503");
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 503,
            retry_after: Some(RETRY_AFTER.as_secs()),
        },
        ..Behavior::default()
    });
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));

    let refused = s.wait_for(
        &mut client,
        WAIT,
        "ConnectFailed (refused)",
        is_connect_failed,
    );
    s.check(
        matches!(
            &refused,
            Event::ConnectFailed {
                will_reconnect: true,
                error: Error::Http {
                    status: 503,
                    retry_after: Some(wait),
                    ..
                },
            } if *wait == RETRY_AFTER
        ),
        || {
            format!(
                "expected a reconnecting ConnectFailed with HTTP 503 and Retry-After 1 s; got \
                 {refused:?}"
            )
        },
    );
    let next = s.wait_for(&mut client, WAIT, "Reconnecting", |e| {
        matches!(e, Event::Reconnecting { .. })
    });
    s.check(
        matches!(next, Event::Reconnecting { attempt: 1, delay } if delay == RETRY_AFTER),
        || format!("expected Reconnecting {{ attempt: 1, delay: {RETRY_AFTER:?} }}, got {next:?}"),
    );

    server.set_behavior(Behavior::default());
    s.wait_for(&mut client, WAIT, "Open once the server accepts", is_open);
    let times = server.handshake_attempt_times();
    s.check(times.len() >= 2, || {
        format!(
            "expected at least 2 handshake attempts, the server saw {}",
            times.len()
        )
    });
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    s.check(
        gaps.iter()
            .all(|gap| *gap >= RETRY_AFTER.saturating_sub(TOLERANCE)),
        || format!("attempts came sooner than Retry-After ({RETRY_AFTER:?}): gaps {gaps:?}"),
    );
}

/// A server that takes the request and never answers: the attempt's budget (`connect_timeout`
/// less a tenth, 180 ms of 200) ends the attempt with a stage timeout that names the WebSocket
/// upgrade and the address tried, no sooner and not much later, and the next attempt follows.
pub fn hanging_handshake_hits_the_connect_timeout_and_retries<A: Adapter>(adapter: &A) {
    const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
    let s = Scenario::new(
        adapter,
        "hanging_handshake_hits_the_connect_timeout_and_retries",
    );
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Hang,
        ..Behavior::default()
    });
    let config = fast_reconnect().connect_timeout(CONNECT_TIMEOUT);
    let started = Instant::now();
    let mut client = adapter.start(build(options(&server.url(), config)));

    let expected_text = format!(
        "connecting to {} timed out in the WebSocket upgrade after",
        server.url()
    );
    let timed_out = |event: &Event| {
        matches!(
            event,
            Event::ConnectFailed {
                will_reconnect: true,
                error: error @ Error::StageTimeout {
                    stage: ConnectStage::Upgrade,
                    tried,
                    ..
                },
            } if error.to_string().starts_with(&expected_text) && *tried == [server.addr()]
        )
    };
    let first = s.wait_for(&mut client, WAIT, "ConnectFailed", is_connect_failed);
    let elapsed = started.elapsed();
    s.check(timed_out(&first), || {
        format!(
            "expected a reconnecting ConnectFailed with a StageTimeout {{ stage: Upgrade, tried: \
             [{}] }} reading {expected_text:?}…; got {first:?}",
            server.addr()
        )
    });
    s.check(
        elapsed >= CONNECT_TIMEOUT * 9 / 10 && elapsed <= CONNECT_TIMEOUT + SLACK,
        || {
            format!(
                "the upgrade stage of a {CONNECT_TIMEOUT:?} connect timeout timed out after \
                 {elapsed:?} (allowed up to {:?})",
                CONNECT_TIMEOUT + SLACK
            )
        },
    );

    s.wait_for(&mut client, WAIT, "Connecting { attempt: 1 }", |e| {
        matches!(e, Event::Connecting { attempt: 1 })
    });
    let second = s.wait_for(
        &mut client,
        WAIT,
        "the second ConnectFailed",
        is_connect_failed,
    );
    s.check(timed_out(&second), || {
        format!("the retry must time out the same way; got {second:?}")
    });
    s.check(server.wait_for_handshake_attempts(2, WAIT), || {
        format!(
            "the server saw {} handshake requests, expected 2",
            server.handshake_attempts()
        )
    });
}

/// Nothing listens on the port: the attempt fails with a typed `Refused` naming the address,
/// and with reconnects off (`max_attempts` 0) the client ends there.
pub fn refused_port_is_a_typed_refused_error<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "refused_port_is_a_typed_refused_error");
    let server = TestServer::start();
    let addr = server.addr();
    server.stop();
    let config = fast_reconnect().no_reconnect();
    let mut client = adapter.start(build(options(&server.url(), config)));
    let events = s.until_end(&mut client, WAIT, "the refused attempt");
    s.check(
        matches!(
            events.get(..2),
            Some([
                Event::Connecting { attempt: 0 },
                Event::ConnectFailed {
                    error: Error::Refused { addr: refused, .. },
                    will_reconnect: false,
                },
            ]) if *refused == addr
        ),
        || {
            format!(
                "expected Connecting {{ attempt: 0 }} then ConnectFailed {{ error: Refused \
                 {{ addr: {addr} }}, will_reconnect: false }}; events:{}",
                describe_all(&events)
            )
        },
    );
}

/// `reconnect_now` on an open connection replaces it at once: the old one ends (no error:
/// the application asked), a new one opens, and the server sees two connections.
pub fn reconnect_now_replaces_an_open_connection<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "reconnect_now_replaces_an_open_connection");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    if let Err(error) = client.reconnect_now() {
        s.fail(format_args!("reconnect_now failed: {error}"));
    }
    let event = s.wait_for(&mut client, WAIT, "Disconnected", is_disconnected);
    s.check(
        matches!(
            event,
            Event::Disconnected {
                will_reconnect: true,
                error: None,
                ..
            }
        ),
        || format!("expected Disconnected {{ will_reconnect: true, error: None }}, got {event:?}"),
    );
    s.wait_for(&mut client, WAIT, "Open again", is_open);
    s.check(server.wait_for_connections(2, WAIT), || {
        format!(
            "the server saw {} connections, expected 2",
            server.connections()
        )
    });
    let opened = client.stats().opened;
    s.check(opened == 2, || {
        format!("expected stats.opened 2, got {opened}")
    });
}
