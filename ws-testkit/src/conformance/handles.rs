//! The handles' contract: what a closed client's calls give back, what dropping the handles
//! (or the driver) does, where the driver may run, and the state watch.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use ws_client::{Error, Event, SendError, TrySendError};
use ws_core::{CloseCode, Message, State};

use super::observe::{Scenario, describe_all, is_connect_failed, is_disconnected, is_open};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, Client, Driver, Handle, SLACK, WAIT, quiet_window};
use crate::{Behavior, HandshakeMode, TestServer};

/// Once the client has closed, `closed` returns, the state is `Closed`, and every call fails
/// at once: each send gives its message back, untouched, in its error.
pub fn sends_after_close_are_handed_back_in_the_error<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "sends_after_close_are_handed_back_in_the_error");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
    s.until_end(&mut client, WAIT, "close");
    s.check(client.closed_within(WAIT), || {
        "closed() did not return after Closed".to_owned()
    });
    s.check(client.state() == State::Closed, || {
        format!("expected state Closed, got {:?}", client.state())
    });

    let send = client.send(Message::from("late"));
    s.check(send == Err(SendError(Message::from("late"))), || {
        format!("send must give the message back, got {send:?}")
    });
    let text = client.send_text("late text");
    s.check(text == Err(SendError(Message::from("late text"))), || {
        format!("send_text must give the message back, got {text:?}")
    });
    let within = client.send_with_deadline(Message::from("late, timed"), WAIT);
    s.check(
        within == Err(SendError(Message::from("late, timed"))),
        || format!("send_with_deadline must give the message back, got {within:?}"),
    );
    let try_send = client.try_send(Message::from("later"));
    s.check(
        try_send == Err(TrySendError::Closed(Message::from("later"))),
        || format!("try_send must give the message back as Closed, got {try_send:?}"),
    );
    let json = client.send_json(&serde_json::json!({ "late": true }));
    s.check(matches!(json, Err(Error::Closed)), || {
        format!("send_json must fail with Closed, got {json:?}")
    });
    let others = (
        client.close(CloseCode::NORMAL, ""),
        client.reconnect_now(),
        client.network_changed(),
    );
    s.check(
        matches!(
            others,
            (Err(Error::Closed), Err(Error::Closed), Err(Error::Closed))
        ),
        || format!("close, reconnect_now and network_changed must fail with Closed: {others:?}"),
    );
}

/// Dropping the handle and the events of an open client closes the connection with 1001
/// (going away), like a browser tab that is closed.
pub fn dropping_every_handle_closes_with_1001<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "dropping_every_handle_closes_with_1001");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    client.drop_handle();
    client.drop_events();
    s.check(server.wait_for_client_closes(1, WAIT), || {
        "the connection did not end after every handle was dropped".to_owned()
    });
    let codes = server.client_close_codes();
    s.check(codes == [Some(1001)], || {
        format!("expected a Close with 1001, the server saw {codes:?}")
    });
}

/// With the server down and the client waiting to reconnect (messages queued), dropping the
/// handle and the events stops the driver: the drops return at once (the blocking adapter
/// joins its thread there), and no attempt reaches the server once it is back.
pub fn dropping_every_handle_during_an_outage_stops_the_driver<A: Adapter>(adapter: &A) {
    const MAX_DELAY: Duration = Duration::from_millis(100);
    const QUEUED: [&str; 3] = ["queued-1", "queued-2", "queued-3"];
    let s = Scenario::new(
        adapter,
        "dropping_every_handle_during_an_outage_stops_the_driver",
    );
    let server = TestServer::start();
    let config = fast_reconnect().max_delay(MAX_DELAY);
    let mut client = adapter.start(build(options(&server.url(), config)));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    server.stop();
    s.wait_for(&mut client, WAIT, "Disconnected", is_disconnected);
    for text in QUEUED {
        s.send(&client, text);
    }
    // Reconnecting and failing, with the messages queued.
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        s.wait_for(&mut client, left, "a failed attempt", is_connect_failed);
        if client.stats().queued_messages == QUEUED.len() {
            break;
        }
    }

    let attempts = server.handshake_attempts();
    let started = Instant::now();
    client.drop_handle();
    client.drop_events();
    let took = started.elapsed();
    s.check(took <= SLACK, || {
        format!("dropping the handles took {took:?} (allowed {SLACK:?})")
    });
    server.restart();
    let window = quiet_window(MAX_DELAY);
    s.check(
        !server.wait_for_handshake_attempts(attempts + 1, window),
        || {
            format!(
                "the driver kept reconnecting after every handle was dropped: {} handshake \
             requests after the restart",
                server.handshake_attempts() - attempts
            )
        },
    );
}

/// A driver dropped before it ran stops the client: sends give their message back, `closed`
/// returns, and the event stream ends with nothing in it.
pub fn dropping_the_driver_stops_the_client<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "dropping_the_driver_stops_the_client");
    let server = TestServer::start();
    let (handle, events, driver) =
        adapter.connect_with_driver(build(options(&server.url(), fast_reconnect())));
    drop(driver);
    let mut client = Client::new(handle, events);
    let send = client.send(Message::from("x"));
    s.check(send == Err(SendError(Message::from("x"))), || {
        format!("send must give the message back, got {send:?}")
    });
    s.check(client.closed_within(WAIT), || {
        "closed() did not return once the driver was dropped".to_owned()
    });
    let started = Instant::now();
    let event = client.next_event(WAIT);
    s.check(event.is_none() && started.elapsed() < WAIT, || {
        format!("the event stream must end at once, got {event:?}")
    });
    s.check(server.handshake_attempts() == 0, || {
        "a driver that never ran made an attempt".to_owned()
    });
}

/// The driver runs wherever the application runs it (here, a thread of its own, blocking on
/// the adapter's runtime or loop): the client works, and the driver returns once the client
/// has closed.
pub fn the_driver_runs_on_a_thread_of_the_applications_choosing<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "the_driver_runs_on_a_thread_of_the_applications_choosing",
    );
    let server = TestServer::start();
    let (handle, events, driver) =
        adapter.connect_with_driver(build(options(&server.url(), fast_reconnect())));
    let (done, finished) = mpsc::channel();
    let running = std::thread::spawn(move || {
        driver.run();
        let _ = done.send(());
    });
    let mut client = Client::new(handle, events);
    s.wait_for(&mut client, WAIT, "Open", is_open);
    s.send(&client, "on my thread");
    s.expect_texts(&mut client, &["on my thread"]);
    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
    s.until_end(&mut client, WAIT, "close");
    s.check(finished.recv_timeout(WAIT).is_ok(), || {
        "the driver did not return after the client closed".to_owned()
    });
    let _ = running.join();
}

/// A client reports `Connecting` from the start, not `Closed`: the application asked it to
/// connect, even if its driver has not run yet.
pub fn a_new_client_reports_connecting_before_its_driver_runs<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "a_new_client_reports_connecting_before_its_driver_runs",
    );
    let server = TestServer::start();
    let (handle, events, driver) =
        adapter.connect_with_driver(build(options(&server.url(), fast_reconnect())));
    let before = handle.state();
    let closed = handle.closed_within(Duration::ZERO);
    let running = std::thread::spawn(move || driver.run());
    let mut client = Client::new(handle, events);
    s.wait_for(&mut client, WAIT, "Open", is_open);
    let _ = client.close(CloseCode::NORMAL, "");
    s.until_end(&mut client, WAIT, "close");
    let _ = running.join();
    s.check(before == State::Connecting && !closed, || {
        format!(
            "before its driver ran, the client reported state {before:?} (closed: {closed}); \
             expected Connecting, not closed"
        )
    });
}

/// The state watch follows the lifecycle: `Connecting` then `Open`; after the server stops,
/// `Connecting`/`WaitingToReconnect` then `Open` again once it is back; after `close`,
/// `Closed` last, and then the watch ends.
pub fn state_watch_follows_the_lifecycle_and_ends_when_closed<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "state_watch_follows_the_lifecycle_and_ends_when_closed",
    );
    // Long enough for `Connecting` to be seen before the handshake completes.
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Delay(Duration::from_millis(300)),
        ..Behavior::default()
    });
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Connecting", |e| {
        matches!(e, Event::Connecting { attempt: 0 })
    });
    let mut watch = client.watch_state();
    let connecting = watch.get();
    let first = changes(&s, &mut *watch, |state| state == State::Open, "Open");
    s.check(
        connecting == State::Connecting && first == [State::Open],
        || format!("expected Connecting then Open, got {connecting:?} then {first:?}"),
    );

    server.stop();
    let outage = changes(&s, &mut *watch, |state| state != State::Open, "the outage");
    server.restart();
    let back = changes(&s, &mut *watch, |state| state == State::Open, "Open again");
    let reconnecting =
        |state: &State| matches!(state, State::Connecting | State::WaitingToReconnect);
    s.check(
        outage.iter().all(reconnecting) && back[..back.len() - 1].iter().all(reconnecting),
        || {
            format!(
                "during the outage only Connecting/WaitingToReconnect, got {outage:?} then {back:?}"
            )
        },
    );

    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
    let closing = changes(&s, &mut *watch, |state| state == State::Closed, "Closed");
    s.check(
        closing
            .iter()
            .all(|state| matches!(state, State::Closing | State::Closed)),
        || format!("after close only Closing then Closed, got {closing:?}"),
    );
    let end = watch.changed_within(WAIT);
    s.check(end == Err(RecvTimeoutError::Disconnected), || {
        format!("the watch must end after Closed, got {end:?}")
    });
    s.check(watch.get() == State::Closed, || {
        "the watch must still read Closed".to_owned()
    });
    let events = s.until_end(&mut client, WAIT, "close");
    s.check(events.iter().any(is_open), || {
        format!(
            "the reconnect must show in the events too:{}",
            describe_all(&events)
        )
    });
}

/// The states `watch` reports, up to and including the first one for which `until` holds.
#[track_caller]
fn changes(
    s: &Scenario,
    watch: &mut dyn super::StateWatch,
    until: impl Fn(State) -> bool,
    what: &str,
) -> Vec<State> {
    let mut seen = Vec::new();
    loop {
        match watch.changed_within(WAIT) {
            Ok(state) => {
                seen.push(state);
                if until(state) {
                    return seen;
                }
            }
            Err(error) => s.fail(format_args!(
                "the watch gave {error:?} waiting for {what}; states seen: {seen:?}"
            )),
        }
    }
}
