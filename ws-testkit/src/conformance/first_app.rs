//! What a first application leans on: credentials that expire and recover, a subscription
//! replayed first on every connection, and a flush gate that belongs to one connection.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ws_client::{Attempt, ClientOptions, Endpoint, Error, Event, Message, Target};
use ws_core::{CloseCode, ConnectionId, SendErrorKind};

use super::observe::{Scenario, describe_all, is_connect_failed, is_open};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, Handle, WAIT, quiet_window};
use crate::{Behavior, HandshakeMode, TestServer};

/// What the URL function was told: each attempt's number and the HTTP status it was refused
/// with last time.
type Told = Arc<Mutex<Vec<(u32, Option<u16>)>>>;

fn refusing(status: u16) -> Behavior {
    Behavior {
        handshake: HandshakeMode::Refuse {
            status,
            retry_after: None,
        },
        ..Behavior::default()
    }
}

/// Options whose URL comes from a function (fresh credentials per attempt) that records what
/// it was told.
fn url_function(server: &TestServer, told: &Told) -> ClientOptions {
    let url = server.url();
    let told = Arc::clone(told);
    let endpoint = Endpoint::from_fn(move |attempt: Attempt| {
        told.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((attempt.number, attempt.previous_status()));
        Target::parse(format!("{url}feed?token=t{}", attempt.number))
    });
    build(ClientOptions::builder_with(endpoint).config(fast_reconnect().build().expect("valid")))
}

/// The server refuses a stale token with HTTP 401; the URL function, told so, mints a fresh
/// one and the next attempt opens. With credentials from a function one 401 is not permanent.
pub fn http_401_on_a_url_function_is_retried_with_fresh_credentials<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "http_401_on_a_url_function_is_retried_with_fresh_credentials",
    );
    let server = TestServer::start_with(refusing(401));
    let told: Told = Arc::default();
    let mut client = adapter.start(url_function(&server, &told));
    let refused = s.wait_for(&mut client, WAIT, "ConnectFailed (401)", is_connect_failed);
    s.check(
        matches!(
            &refused,
            Event::ConnectFailed {
                will_reconnect: true,
                error: Error::Http { status: 401, .. },
            }
        ),
        || format!("expected a 401 that will be retried, got {refused:?}"),
    );
    server.set_behavior(Behavior::default());
    s.wait_for(&mut client, WAIT, "Open with fresh credentials", is_open);
    let told = told.lock().unwrap_or_else(PoisonError::into_inner).clone();
    s.check(told == [(0, None), (1, Some(401))], || {
        format!("expected the function told (0, none) then (1, HTTP 401), got {told:?}")
    });
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    s.check(paths == ["/feed?token=t0", "/feed?token=t1"], || {
        format!("expected a fresh token on the second attempt, got {paths:?}")
    });
}

/// Fresh credentials refused `auth_retries + 1` times in a row (403 here) are refused for
/// good: the client stops after exactly that many attempts, as after a 401 on a fixed URL.
pub fn auth_refusals_beyond_auth_retries_are_permanent<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "auth_refusals_beyond_auth_retries_are_permanent");
    let server = TestServer::start_with(refusing(403));
    let told: Told = Arc::default();
    let mut client = adapter.start(url_function(&server, &told));
    let events = s.until_end(&mut client, WAIT, "three refusals");
    let refusals: Vec<bool> = events
        .iter()
        .filter_map(|event| match event {
            Event::ConnectFailed {
                error: Error::Http { status: 403, .. },
                will_reconnect,
            } => Some(*will_reconnect),
            _ => None,
        })
        .collect();
    s.check(refusals == [true, true, false], || {
        format!(
            "expected 403 retried twice (auth_retries 2), then permanent; events:{}",
            describe_all(&events)
        )
    });
    s.check(server.handshake_attempts() == 3, || {
        format!(
            "expected 3 handshakes, the server saw {}",
            server.handshake_attempts()
        )
    });
}

/// The subscription is the first message on every connection, across two restarts, and the
/// messages queued during each outage follow it, once and in order.
pub fn replay_on_open_goes_first_on_every_connection<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "replay_on_open_goes_first_on_every_connection");
    let server = TestServer::start();
    let config = fast_reconnect().replay_on_open(|_| vec![Message::from(r#"{"op":"subscribe"}"#)]);
    let mut client = adapter.start(build(options(&server.url(), config)));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    // A server that stops drops what is still in flight to it, as any crash does: each
    // connection's messages must arrive before the next stop.
    s.check(server.wait_for_received(1, WAIT), || {
        "the first subscription never reached the server".to_owned()
    });
    for round in 1..=2 {
        server.stop();
        s.wait_for(&mut client, WAIT, "Disconnected", |e| {
            matches!(e, Event::Disconnected { .. })
        });
        s.send(&client, format!("order {round}a"));
        s.send(&client, format!("order {round}b"));
        server.restart();
        s.wait_for(&mut client, WAIT, "Open after the restart", is_open);
        s.check(server.wait_for_received(1 + 3 * round, WAIT), || {
            format!("messages missing at the server: {:?}", server.received())
        });
    }
    s.check(server.wait_for_received(7, WAIT), || {
        format!(
            "expected 7 messages at the server, got {:?}",
            server.received()
        )
    });
    let per_connection: Vec<(usize, String)> = server
        .received()
        .iter()
        .map(|r| (r.conn, r.text().unwrap_or("(binary)").to_owned()))
        .collect();
    let subscribe = r#"{"op":"subscribe"}"#.to_owned();
    let expected = [
        (1, subscribe.clone()),
        (2, subscribe.clone()),
        (2, "order 1a".to_owned()),
        (2, "order 1b".to_owned()),
        (3, subscribe),
        (3, "order 2a".to_owned()),
        (3, "order 2b".to_owned()),
    ];
    s.check(per_connection == expected, || {
        format!("expected the subscription first on each connection: {per_connection:?}")
    });
}

/// With the queue held until the application is ready, a `ready` (or a `send_now`) meant for
/// an earlier connection does nothing to the current one: its queue stays held until a
/// `ready` names it, so the queued messages never overtake its login.
pub fn a_ready_for_an_earlier_connection_leaves_the_new_one_held<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "a_ready_for_an_earlier_connection_leaves_the_new_one_held",
    );
    let server = TestServer::start();
    let config = fast_reconnect().hold_queue_until_ready(true);
    let mut client = adapter.start(build(options(&server.url(), config)));
    let opened = |event: Event| match event {
        Event::Open { connection, .. } => connection,
        other => s.fail(format_args!("expected Open, got {other:?}")),
    };
    let first: ConnectionId = opened(s.wait_for(&mut client, WAIT, "Open", is_open));
    s.check(server.close_all(1012, "restarting") == 1, || {
        "expected 1 open connection at the server".to_owned()
    });
    let second = opened(s.wait_for(&mut client, WAIT, "Open again", is_open));
    s.check(first != second, || {
        format!("two connections named alike: {first:?}")
    });
    s.send(&client, "queued");
    if let Err(error) = client.ready(first) {
        s.fail(format_args!("ready failed: {error}"));
    }
    if let Err(error) = client.send_now(first, Message::from("login for the old one")) {
        s.fail(format_args!("send_now failed: {error}"));
    }
    let rejected = s.wait_for(&mut client, WAIT, "Rejected", |e| {
        matches!(e, Event::Rejected { .. })
    });
    s.check(
        matches!(
            &rejected,
            Event::Rejected { message, reason: SendErrorKind::StaleConnection }
                if message.as_text() == Some("login for the old one")
        ),
        || format!("expected the stale send_now handed back, got {rejected:?}"),
    );
    let window = quiet_window(Duration::from_millis(50));
    s.check(!server.wait_for_received(1, window), || {
        format!(
            "the queue went out on a stale ready: the server got {:?}",
            server.received_texts()
        )
    });
    if let Err(error) = client.send_now(second, Message::from("login")) {
        s.fail(format_args!("send_now failed: {error}"));
    }
    if let Err(error) = client.ready(second) {
        s.fail(format_args!("ready failed: {error}"));
    }
    s.check(server.wait_for_received(2, WAIT), || {
        format!(
            "expected login then queued, got {:?}",
            server.received_texts()
        )
    });
    let texts = server.received_texts();
    s.check(texts == ["login", "queued"], || {
        format!("expected the login ahead of the queue, got {texts:?}")
    });
    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
}
