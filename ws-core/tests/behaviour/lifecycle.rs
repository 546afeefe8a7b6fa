use ws_core::{
    Action, CloseCode, CloseError, ConnectionId, Disconnect, Event, Input, Message, SendErrorKind,
    State, Text, TimerReason, UndeliveredReason,
};

use crate::support::{Sim, ms, secs};

#[test]
fn connect_then_open_reports_connecting_and_open() {
    let mut sim = Sim::with(|c| c);
    let out = sim.connect(0);
    assert_eq!(out.events, [Event::Connecting { attempt: 0 }]);
    assert_eq!(out.connect(), Some((ConnectionId(1), 0)));
    assert_eq!(sim.sup.state(), State::Connecting);
    assert_eq!(
        sim.opened(50).events,
        [Event::Open {
            connection: ConnectionId(1)
        }]
    );
    assert_eq!(sim.sup.state(), State::Open);
    assert_eq!(sim.sup.stats().opened, 1);
}

#[test]
fn connect_timeout_fires_exactly_at_the_deadline() {
    let mut sim = Sim::with(|c| c.connect_timeout(secs(10)).jitter(ws_core::Jitter::None));
    sim.connect(0);
    assert!(sim.tick(9_999).is_empty());
    let out = sim.tick(10_000);
    assert_eq!(out.actions, [Action::Abort]);
    assert!(matches!(
        out.disconnected(),
        Some(Event::Disconnected {
            cause: Disconnect::ConnectTimeout,
            will_reconnect: true,
            ..
        })
    ));
    assert_eq!(out.reconnecting(), Some((1, secs(1))));
}

#[test]
fn graceful_close_waits_for_the_peer_and_never_reconnects() {
    let mut sim = Sim::with(|c| c);
    sim.open_at(0);
    sim.sup
        .close(CloseCode::NORMAL, Text::from("done"), ms(1_000))
        .unwrap();
    let out = sim.drain();
    assert_eq!(
        out.actions,
        [Action::Close {
            code: CloseCode::NORMAL,
            reason: Text::from("done")
        }]
    );
    assert_eq!(sim.sup.state(), State::Closing);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(6_000), TimerReason::CloseTimeout))
    );
    let out = sim.peer_closes(1000, 1_020);
    assert_eq!(
        out.events,
        [
            Event::Disconnected {
                code: CloseCode::NORMAL,
                reason: Text::from("bye"),
                cause: Disconnect::Application,
                will_reconnect: false,
            },
            Event::Closed,
        ]
    );
    assert_eq!(sim.sup.state(), State::Closed);
    assert_eq!(sim.sup.poll_timeout(), None);
}

#[test]
fn close_timeout_aborts_exactly_at_the_deadline() {
    let mut sim = Sim::with(|c| c.close_timeout(secs(5)));
    sim.open_at(0);
    sim.sup
        .close(CloseCode::GOING_AWAY, Text::new(), ms(1_000))
        .unwrap();
    sim.drain();
    assert!(sim.tick(5_999).is_empty());
    let out = sim.tick(6_000);
    assert_eq!(out.actions, [Action::Abort]);
    assert_eq!(out.events.last(), Some(&Event::Closed));
    assert_eq!(sim.sup.poll_timeout(), None);
}

#[test]
fn heartbeat_stops_while_closing() {
    let mut sim = Sim::with(|c| c.ping_interval(secs(1)).close_timeout(secs(5)));
    sim.open_at(0);
    sim.sup
        .close(CloseCode::NORMAL, Text::new(), ms(500))
        .unwrap();
    sim.drain();
    // Messages that arrive before the peer's Close are still delivered.
    assert_eq!(
        sim.text("last words", 600).messages(),
        [Message::from("last words")]
    );
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(5_500), TimerReason::CloseTimeout))
    );
}

#[test]
fn close_refuses_codes_that_may_not_be_sent_and_long_reasons() {
    let mut sim = Sim::with(|c| c);
    sim.open_at(0);
    assert_eq!(
        sim.sup.close(CloseCode::ABNORMAL, Text::new(), ms(1)),
        Err(CloseError::CodeNotSendable(CloseCode::ABNORMAL))
    );
    let long = Text::from("x".repeat(124));
    assert_eq!(
        sim.sup.close(CloseCode::NORMAL, long, ms(1)),
        Err(CloseError::ReasonTooLong(124))
    );
    assert_eq!(sim.sup.state(), State::Open);
}

#[test]
fn close_while_connecting_aborts_and_hands_back_the_queue() {
    let mut sim = Sim::with(|c| c);
    sim.connect(0);
    sim.send("queued", 10);
    sim.sup
        .close(CloseCode::NORMAL, Text::new(), ms(20))
        .unwrap();
    let out = sim.drain();
    assert_eq!(out.actions, [Action::Abort]);
    assert_eq!(
        out.events,
        [
            Event::Disconnected {
                code: CloseCode::NORMAL,
                reason: Text::new(),
                cause: Disconnect::Application,
                will_reconnect: false,
            },
            Event::Undelivered {
                message: Message::from("queued"),
                reason: UndeliveredReason::Closed
            },
            Event::Closed,
        ]
    );
    assert_eq!(sim.sup.poll_timeout(), None);
}

#[test]
fn close_while_waiting_to_reconnect_cancels_the_attempt() {
    let mut sim = Sim::with(|c| c);
    sim.open_at(0);
    sim.peer_closes(1012, 100);
    assert_eq!(sim.sup.state(), State::WaitingToReconnect);
    sim.sup
        .close(CloseCode::NORMAL, Text::new(), ms(200))
        .unwrap();
    assert_eq!(sim.drain().events, [Event::Closed]);
    assert!(sim.run_until(3_600_000).is_empty());
}

#[test]
fn send_after_close_is_refused_with_the_message() {
    let mut sim = Sim::with(|c| c);
    let err = sim.sup.send(Message::from("early"), ms(0)).unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::Closed);
    assert_eq!(err.into_message(), Message::from("early"));
}

#[test]
fn connect_during_close_handshake_reconnects_once_it_is_over() {
    let mut sim = Sim::with(|c| c);
    sim.open_at(0);
    sim.sup
        .close(CloseCode::NORMAL, Text::new(), ms(10))
        .unwrap();
    sim.sup.connect(ms(20));
    sim.sup
        .send(Message::from("for the next one"), ms(30))
        .unwrap();
    sim.drain();
    let out = sim.peer_closes(1000, 40);
    assert!(matches!(
        out.events[0],
        Event::Disconnected {
            will_reconnect: true,
            ..
        }
    ));
    assert_eq!(out.events[1], Event::Connecting { attempt: 0 });
    assert_eq!(out.connect(), Some((ConnectionId(2), 0)));
    assert_eq!(sim.opened(50).sent(), [Message::from("for the next one")]);
}

#[test]
fn stale_inputs_from_an_old_transport_change_nothing() {
    let mut sim = Sim::with(|c| c.jitter(ws_core::Jitter::None));
    sim.open_at(0);
    let old = sim.id();
    sim.peer_closes(1001, 100);
    sim.run_until(1_100);
    let new = sim.id();
    assert_ne!(old, new);
    let deadline = sim.sup.poll_timeout();
    for input in [
        Input::Opened { connection: old },
        Input::Closed {
            connection: old,
            code: CloseCode::NORMAL,
            reason: Text::new(),
        },
        Input::Error {
            connection: old,
            error: ws_core::TransportError::Io,
        },
    ] {
        assert!(sim.input(input, 1_200).is_empty());
    }
    assert_eq!(sim.sup.stats().stale_inputs, 3);
    assert_eq!(sim.sup.state(), State::Connecting);
    assert_eq!(sim.sup.poll_timeout(), deadline);
}

#[test]
fn inputs_that_make_no_sense_are_ignored_and_counted() {
    let mut sim = Sim::with(|c| c);
    sim.connect(0);
    let frame_before_open = sim.text("too early", 10);
    assert!(frame_before_open.is_empty());
    sim.opened(20);
    let id = sim.id();
    assert!(sim.input(Input::Opened { connection: id }, 30).is_empty());
    assert_eq!(sim.sup.stats().ignored_inputs, 2);
}

#[test]
fn time_going_backwards_is_clamped_and_counted() {
    let mut sim = Sim::with(|c| c.ping_interval(secs(20)));
    sim.open_at(10_000);
    assert!(sim.tick(5_000).is_empty());
    assert_eq!(sim.sup.stats().clock_regressions, 1);
    assert_eq!(sim.tick(30_000).pings(), [1]);
}

#[test]
fn early_and_repeated_ticks_do_nothing() {
    let mut sim = Sim::with(|c| c);
    sim.open_at(0);
    let deadline = sim.sup.poll_timeout().unwrap();
    for at in [0, 1, 5_000, 9_999] {
        assert!(sim.tick(at).is_empty());
        assert_eq!(sim.sup.poll_timeout(), Some(deadline));
    }
}

#[test]
fn stats_count_attempts_opens_and_reconnects() {
    let mut sim = Sim::with(|c| c.jitter(ws_core::Jitter::None));
    sim.open_at(0);
    sim.peer_closes(1001, 100);
    sim.run_until(1_100);
    sim.opened(1_200);
    let stats = sim.sup.stats();
    assert_eq!((stats.attempts, stats.opened, stats.reconnects), (2, 2, 1));
}

#[test]
fn no_busy_loop_when_deadlines_saturate_at_the_end_of_the_clock() {
    let mut sup = ws_core::Supervisor::new(ws_core::Config::default(), 1);
    sup.connect(ws_core::Instant::from_duration(
        ws_core::Instant::MAX.since_origin().saturating_sub(secs(5)),
    ));
    while sup.poll_action().is_some() {}
    sup.handle_timeout(ws_core::Instant::MAX);
    let connects = std::iter::from_fn(|| sup.poll_action())
        .filter(|a| matches!(a, Action::Connect { .. }))
        .count();
    assert!(connects <= 1, "{connects} connects in one tick");
    assert_eq!(sup.poll_timeout(), None);
}
