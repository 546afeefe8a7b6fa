//! The browser rules, proven on the host with a virtual clock: the session is what the
//! browser binding drives, minus the JavaScript.

use std::time::Duration;

use ws_core::{
    CloseCode, Config, ConnectionId, Disconnect, Heartbeat, Instant, Matcher, Message, State, Text,
};

use crate::close::BrowserClose;
use crate::error::{BrowserCloseError, Error};
use crate::event::Event;
use crate::options::ClientOptions;
use crate::session::{Session, Work};

const PING_INTERVAL: Duration = Duration::from_secs(10);
const PONG_TIMEOUT: Duration = Duration::from_secs(5);

fn at(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

fn app_heartbeat() -> Heartbeat {
    Heartbeat::Application {
        ping: Message::from("ping"),
        pong: Matcher::Exact(Text::from("pong")),
    }
}

fn session_with(heartbeat: Heartbeat) -> Session {
    let config = Config::builder()
        .heartbeat(heartbeat)
        .ping_interval(PING_INTERVAL)
        .pong_timeout(PONG_TIMEOUT)
        .initial_delay(Duration::from_secs(1))
        .max_delay(Duration::from_secs(1))
        .build()
        .unwrap();
    let options = ClientOptions::builder("ws://127.0.0.1:9/")
        .config(config)
        .build()
        .unwrap();
    Session::new(&options, 1)
}

fn work(session: &mut Session) -> Vec<Work> {
    std::iter::from_fn(|| session.poll_work()).collect()
}

fn events(session: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

/// Starts and opens a connection at t = 0, with everything drained.
fn open(session: &mut Session) -> ConnectionId {
    session.start(at(0));
    let [Work::Connect { connection, .. }] = work(session)[..] else {
        panic!("expected one connect");
    };
    session.opened(connection, "", at(0));
    let _ = events(session);
    connection
}

fn ping() -> Work {
    Work::Send(Message::from("ping"))
}

#[test]
fn the_application_heartbeat_pings_and_its_reply_is_a_round_trip_not_a_message() {
    let mut session = session_with(app_heartbeat());
    let connection = open(&mut session);
    assert_eq!(session.poll_timeout(), Some(at(10_000)));
    session.tick(at(10_000));
    assert_eq!(work(&mut session), [ping()]);
    session.received(connection, Message::from("pong"), at(10_040));
    assert!(matches!(
        events(&mut session)[..],
        [Event::Rtt(rtt)] if rtt == Duration::from_millis(40)
    ));
}

#[test]
fn a_network_change_probes_an_open_connection_at_once_and_a_live_peer_stays() {
    let mut session = session_with(app_heartbeat());
    let connection = open(&mut session);
    session.network_changed(at(2_000));
    assert_eq!(work(&mut session), [ping()]);
    assert_eq!(session.poll_timeout(), Some(at(7_000)), "one pong_timeout");
    session.received(connection, Message::from("pong"), at(2_010));
    session.tick(at(7_000));
    assert!(work(&mut session).is_empty());
    assert_eq!(session.state(), State::Open);
}

#[test]
fn a_dropped_wifi_is_noticed_one_pong_timeout_after_offline() {
    let mut session = session_with(app_heartbeat());
    let _ = open(&mut session);
    session.network_changed(at(2_000));
    assert_eq!(work(&mut session), [ping()]);
    session.tick(at(6_999));
    assert!(work(&mut session).is_empty());
    session.tick(at(7_000));
    assert_eq!(work(&mut session), [Work::Abort]);
    assert!(matches!(
        events(&mut session)[0],
        Event::Disconnected {
            cause: Disconnect::HeartbeatTimeout,
            will_reconnect: true,
            ..
        }
    ));
}

#[test]
fn without_an_application_heartbeat_a_network_change_leaves_an_open_connection_alone() {
    for heartbeat in [Heartbeat::Disabled, Heartbeat::ServerDriven] {
        let mut session = session_with(heartbeat);
        let _ = open(&mut session);
        let before = session.poll_timeout();
        session.network_changed(at(2_000));
        assert!(work(&mut session).is_empty());
        assert_eq!(session.poll_timeout(), before);
    }
}

#[test]
fn a_network_change_while_waiting_to_reconnect_retries_at_once() {
    let mut session = session_with(Heartbeat::Disabled);
    let connection = open(&mut session);
    let lost = BrowserClose {
        code: 1006,
        reason: String::new(),
        was_clean: false,
    };
    session.closed(connection, lost, at(100));
    assert_eq!(session.state(), State::WaitingToReconnect);
    let events = events(&mut session);
    assert!(
        matches!(
            &events[..],
            [
                Event::Disconnected {
                    code: CloseCode::ABNORMAL,
                    cause: Disconnect::Transport(_),
                    will_reconnect: true,
                    error: None,
                    ..
                },
                Event::Reconnecting { attempt: 1, .. }
            ]
        ),
        "a lost open connection is a disconnect, not a failed attempt: {events:?}"
    );
    session.network_changed(at(150));
    assert!(matches!(
        work(&mut session)[..],
        [Work::Connect { attempt: 1, .. }]
    ));
}

#[test]
fn a_laptop_that_wakes_long_after_the_pong_deadline_probes_instead_of_dropping() {
    let mut session = session_with(app_heartbeat());
    let connection = open(&mut session);
    session.tick(at(10_000));
    assert_eq!(work(&mut session), [ping()]);
    // Asleep from just after the ping until long after its deadline (15 s); on waking the
    // page becomes visible, which ticks and reports a possible network change.
    session.tick(at(600_000));
    session.network_changed(at(600_000));
    assert_eq!(
        work(&mut session),
        [ping(), ping()],
        "a probe, not an abort"
    );
    assert_eq!(session.state(), State::Open);
    session.received(connection, Message::from("pong"), at(600_030));
    session.tick(at(605_000));
    assert!(work(&mut session).is_empty());
    assert_eq!(session.state(), State::Open);
}

#[test]
fn a_refused_handshake_is_a_failed_attempt_naming_the_url_and_is_retried() {
    let mut session = session_with(Heartbeat::Disabled);
    session.start(at(0));
    let [Work::Connect { connection, .. }] = work(&mut session)[..] else {
        panic!("expected a connect");
    };
    // What a browser reports for an HTTP 401 answer, a refused port or a DNS failure alike.
    let refused = BrowserClose {
        code: 1006,
        reason: String::new(),
        was_clean: false,
    };
    session.closed(connection, refused, at(5));
    let events = events(&mut session);
    assert!(
        matches!(
            &events[..],
            [
                Event::Connecting { attempt: 0 },
                Event::ConnectFailed {
                    error: Error::NotOpened { url },
                    will_reconnect: true,
                },
                Event::Reconnecting { attempt: 1, .. },
            ] if url == "ws://127.0.0.1:9/"
        ),
        "{events:?}"
    );
    let Event::ConnectFailed { error, .. } = &events[1] else {
        unreachable!()
    };
    assert_eq!(
        error.to_string(),
        "the browser could not open ws://127.0.0.1:9/ (refused, unreachable, TLS or an HTTP \
         error: a page is not told which)"
    );
}

#[test]
fn an_attempt_that_outlives_the_connect_timeout_is_a_failed_attempt() {
    let config = Config::builder()
        .heartbeat(Heartbeat::Disabled)
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let options = ClientOptions::builder("ws://h/feed?token=secret")
        .config(config)
        .build()
        .unwrap();
    let mut session = Session::new(&options, 1);
    session.start(at(0));
    let _ = work(&mut session);
    session.tick(at(3_000));
    assert_eq!(work(&mut session), [Work::Abort]);
    let events = events(&mut session);
    assert!(
        matches!(
            &events[1],
            Event::ConnectFailed {
                error: Error::ConnectTimeout { url },
                will_reconnect: true,
            } if url == "ws://h/feed?token=***"
        ),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. })),
        "{events:?}"
    );
}

#[test]
fn a_failed_attempt_names_the_url_the_provider_gave_redacted() {
    let endpoint = crate::options::Endpoint::provider(|_| async { Ok(String::new()) });
    let config = Config::builder()
        .heartbeat(Heartbeat::Disabled)
        .initial_delay(Duration::from_secs(1))
        .build()
        .unwrap();
    let options = ClientOptions::builder_with(endpoint)
        .config(config)
        .build()
        .unwrap();
    let mut session = Session::new(&options, 1);
    let failed = |session: &mut Session| match &events(session)[..] {
        [
            ..,
            Event::ConnectFailed { error, .. },
            Event::Reconnecting { .. },
        ] => error.clone(),
        other => panic!("{other:?}"),
    };
    let refused = BrowserClose {
        code: 1006,
        reason: String::new(),
        was_clean: false,
    };

    session.start(at(0));
    let [Work::Connect { connection, .. }] = work(&mut session)[..] else {
        panic!("expected a connect");
    };
    session.opening(connection, "wss://h/?token=t0");
    session.closed(connection, refused.clone(), at(5));
    assert!(matches!(
        failed(&mut session),
        Error::NotOpened { url } if url == "wss://h/?token=***"
    ));

    // The next attempt times out before its provider answers: no URL to name yet.
    session.tick(at(1_005));
    let [Work::Connect { .. }] = work(&mut session)[..] else {
        panic!("expected a connect");
    };
    session.tick(at(11_005));
    assert!(matches!(
        failed(&mut session),
        Error::ConnectTimeout { url } if url == "(provider)"
    ));
}

#[test]
fn an_attempt_the_application_calls_off_is_a_disconnect() {
    let mut session = session_with(Heartbeat::Disabled);
    session.start(at(0));
    let _ = work(&mut session);
    let _ = events(&mut session);
    session
        .close(CloseCode::NORMAL, Text::new(), at(1))
        .unwrap();
    let events = events(&mut session);
    assert!(
        matches!(
            &events[..],
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
        "{events:?}"
    );
}

#[test]
fn a_permanent_close_code_from_the_server_stops_for_good() {
    let mut session = session_with(Heartbeat::Disabled);
    let connection = open(&mut session);
    assert_eq!(session.send(Message::from("x"), at(1)).ok(), Some(()));
    let _ = work(&mut session);
    let policy = BrowserClose {
        code: 1008,
        reason: "not allowed".into(),
        was_clean: true,
    };
    session.closed(connection, policy, at(10));
    let events = events(&mut session);
    assert!(matches!(
        &events[..],
        [
            Event::Disconnected {
                code: CloseCode::POLICY_VIOLATION,
                will_reconnect: false,
                ..
            },
            Event::Closed
        ]
    ));
    assert!(session.is_closed());
    assert!(matches!(
        session.send(Message::from("late"), at(20)),
        Err(Error::Stopped)
    ));
}

#[test]
fn close_codes_a_browser_refuses_are_an_error_and_change_nothing() {
    let mut session = session_with(Heartbeat::Disabled);
    let _ = open(&mut session);
    let refused = session.close(CloseCode::GOING_AWAY, Text::new(), at(1));
    assert!(matches!(
        refused,
        Err(Error::Close(BrowserCloseError::CodeNotAllowed(CloseCode(
            1001
        ))))
    ));
    assert!(work(&mut session).is_empty());
    assert_eq!(session.state(), State::Open);
    session
        .close(CloseCode(4000), Text::from("bye"), at(2))
        .unwrap();
    assert_eq!(
        work(&mut session),
        [Work::Close {
            code: CloseCode(4000),
            reason: Text::from("bye")
        }]
    );
}

#[test]
fn a_provider_failure_is_a_failed_attempt_that_carries_its_error() {
    let mut session = session_with(Heartbeat::Disabled);
    session.start(at(0));
    let [Work::Connect { connection, .. }] = work(&mut session)[..] else {
        panic!("expected a connect");
    };
    session.connect_failed(
        connection,
        Error::Provider("token service down".into()),
        at(3),
    );
    let events = events(&mut session);
    assert!(
        matches!(
            &events[1],
            Event::ConnectFailed {
                error: Error::Provider(reason),
                will_reconnect: true,
            } if reason == "token service down"
        ),
        "{events:?}"
    );
}

#[test]
fn a_late_tick_of_a_server_driven_heartbeat_waits_instead_of_sending_a_ping() {
    let config = Config::builder()
        .heartbeat(Heartbeat::ServerDriven)
        .idle_timeout(Duration::from_secs(30))
        .pong_timeout(PONG_TIMEOUT)
        .build()
        .unwrap();
    let options = ClientOptions::builder("ws://h/")
        .config(config)
        .build()
        .unwrap();
    let mut session = Session::new(&options, 1);
    let connection = open(&mut session);
    session.tick(at(100_000));
    assert!(
        work(&mut session).is_empty(),
        "no protocol ping in a browser"
    );
    assert_eq!(session.unsendable_pings(), 1);
    assert_eq!(session.state(), State::Open);
    session.received(connection, Message::from("server heartbeat"), at(101_000));
    assert_eq!(session.state(), State::Open);
}

#[test]
fn subprotocol_and_queue_flush_on_open() {
    let mut session = session_with(Heartbeat::Disabled);
    session.start(at(0));
    let [Work::Connect { connection, .. }] = work(&mut session)[..] else {
        panic!("expected a connect");
    };
    session.send(Message::from("queued"), at(1)).unwrap();
    assert!(work(&mut session).is_empty());
    session.opened(connection, "chat.v2", at(2));
    assert_eq!(work(&mut session), [Work::Send(Message::from("queued"))]);
    let events = events(&mut session);
    assert!(
        matches!(&events[1], Event::Open { subprotocol: Some(p), .. } if p == "chat.v2"),
        "{events:?}"
    );
}
