use ws_core::{
    Action, ConnectionId, Event, Message, Overflow, SendErrorKind, TimerReason, UndeliveredReason,
};

use crate::support::{Sim, ms, secs};

#[test]
fn messages_sent_while_connecting_are_flushed_in_order_on_open() {
    let mut sim = Sim::with(|c| c);
    sim.connect(0);
    for text in ["one", "two", "three"] {
        assert!(sim.send(text, 5).is_empty());
    }
    assert_eq!(sim.sup.stats().queued_messages, 3);
    assert_eq!(sim.sup.stats().queued_bytes, 11);
    let out = sim.opened(10);
    assert_eq!(out.sent(), ["one", "two", "three"].map(Message::from));
    assert_eq!(sim.sup.stats().queued_messages, 0);
    // Once open, a send goes straight out.
    assert_eq!(sim.send("four", 11).sent(), [Message::from("four")]);
}

#[test]
fn full_queue_rejects_the_new_message_and_gives_it_back() {
    let mut sim = Sim::with(|c| c.queue_max_messages(2));
    sim.connect(0);
    sim.send("a", 1);
    sim.send("b", 1);
    let err = sim.sup.send(Message::from("c"), ms(1)).unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::QueueFull);
    assert_eq!(err.into_message(), Message::from("c"));
}

#[test]
fn byte_limit_applies_and_an_oversized_message_is_refused() {
    let mut sim = Sim::with(|c| c.queue_max_bytes(4));
    sim.connect(0);
    let err = sim.sup.send(Message::from("12345"), ms(1)).unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::TooLargeForQueue);
    sim.send("123", 1);
    let err = sim.sup.send(Message::from("45"), ms(1)).unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::QueueFull);
}

#[test]
fn drop_oldest_hands_the_dropped_message_back() {
    let mut sim = Sim::with(|c| c.queue_max_messages(2).overflow(Overflow::DropOldest));
    sim.connect(0);
    sim.send("a", 1);
    sim.send("b", 1);
    let out = sim.send("c", 2);
    assert_eq!(
        out.events,
        [Event::Undelivered {
            message: Message::from("a"),
            reason: UndeliveredReason::Dropped
        }]
    );
    assert_eq!(sim.opened(3).sent(), ["b", "c"].map(Message::from));
}

#[test]
fn flush_gate_holds_the_queue_until_ready_and_lets_login_go_first() {
    let mut sim = Sim::with(|c| c.hold_queue_until_ready(true));
    sim.connect(0);
    sim.send("queued-1", 1);
    let out = sim.opened(10);
    assert_eq!(
        out.events,
        [Event::Open {
            connection: ConnectionId(1)
        }]
    );
    assert!(out.sent().is_empty());
    let connection = ConnectionId(1);
    sim.sup
        .send_now(connection, Message::from("login"), ms(11))
        .unwrap();
    assert_eq!(sim.drain().sent(), [Message::from("login")]);
    // An ordinary send still waits behind the queue.
    assert!(sim.send("queued-2", 12).sent().is_empty());
    sim.sup.ready(connection, ms(13));
    assert_eq!(
        sim.drain().sent(),
        ["queued-1", "queued-2"].map(Message::from)
    );
    assert_eq!(sim.send("live", 14).sent(), [Message::from("live")]);
    assert_eq!(sim.sup.stats().stale_inputs, 0);
}

#[test]
fn flush_gate_closes_again_on_every_new_transport() {
    let mut sim = Sim::with(|c| c.hold_queue_until_ready(true).jitter(ws_core::Jitter::None));
    sim.open_at(0);
    sim.sup.ready(ConnectionId(1), ms(1));
    sim.peer_closes(1012, 10);
    sim.send("after outage", 20);
    sim.run_until(1_010);
    assert!(sim.opened(1_020).sent().is_empty());
    sim.sup.ready(ConnectionId(2), ms(1_030));
    assert_eq!(sim.drain().sent(), [Message::from("after outage")]);
}

#[test]
fn a_late_ready_for_an_earlier_connection_does_not_open_the_new_ones_gate() {
    let mut sim = Sim::with(|c| c.hold_queue_until_ready(true).jitter(ws_core::Jitter::None));
    sim.open_at(0);
    // The application starts logging in on connection 1; the link drops before it is done.
    sim.send("queued", 5);
    sim.peer_closes(1012, 10);
    assert_eq!(sim.run_until(1_010).connect(), Some((ConnectionId(2), 1)));
    assert_eq!(
        sim.opened(1_020).events,
        [Event::Open {
            connection: ConnectionId(2)
        }]
    );
    // Its ready() and login for connection 1 arrive now: ignored, counted, nothing sent.
    sim.sup.ready(ConnectionId(1), ms(1_025));
    assert!(sim.drain().is_empty());
    assert_eq!(sim.sup.stats().stale_inputs, 1);
    assert_eq!(sim.sup.stats().queued_messages, 1);
    let err = sim
        .sup
        .send_now(ConnectionId(1), Message::from("login for #1"), ms(1_026))
        .unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::StaleConnection);
    assert_eq!(err.into_message(), Message::from("login for #1"));
    assert!(sim.drain().is_empty());
    // The login for connection 2 goes first, then its ready() releases the queue.
    sim.sup
        .send_now(ConnectionId(2), Message::from("login for #2"), ms(1_030))
        .unwrap();
    sim.sup.ready(ConnectionId(2), ms(1_030));
    assert_eq!(
        sim.drain().sent(),
        ["login for #2", "queued"].map(Message::from)
    );
    assert_eq!(sim.sup.stats().stale_inputs, 1);
}

#[test]
fn ready_before_open_is_ignored_and_counted() {
    let mut sim = Sim::with(|c| c.hold_queue_until_ready(true));
    sim.connect(0);
    sim.send("queued", 1);
    sim.sup.ready(ConnectionId(1), ms(2));
    assert!(sim.drain().is_empty());
    assert_eq!(sim.sup.stats().stale_inputs, 1);
    assert!(sim.opened(10).sent().is_empty());
}

#[test]
fn send_now_needs_its_connection_open() {
    let mut sim = Sim::with(|c| c);
    sim.connect(0);
    let err = sim
        .sup
        .send_now(ConnectionId(1), Message::from("login"), ms(1))
        .unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::NotOpen);
    let err = sim
        .sup
        .send_now(ConnectionId(7), Message::from("login"), ms(1))
        .unwrap_err();
    assert_eq!(err.kind(), SendErrorKind::StaleConnection);
    assert_eq!(
        err.to_string(),
        "message of 5 bytes refused: send_now named a connection that has ended"
    );
}

#[test]
fn queued_message_expires_exactly_at_its_deadline() {
    let mut sim = Sim::with(|c| c);
    sim.connect(0);
    sim.sup
        .send_with_deadline(Message::from("stale soon"), ms(5_000), ms(10))
        .unwrap();
    sim.send("forever", 20);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(5_000), TimerReason::MessageExpiry))
    );
    assert!(sim.tick(4_999).is_empty());
    let out = sim.tick(5_000);
    assert_eq!(
        out.events,
        [Event::Undelivered {
            message: Message::from("stale soon"),
            reason: UndeliveredReason::Expired
        }]
    );
    assert_eq!(sim.opened(6_000).sent(), [Message::from("forever")]);
}

#[test]
fn max_queue_age_expires_messages_that_waited_too_long() {
    let mut sim = Sim::with(|c| c.max_queue_age(Some(secs(2))).connect_timeout(secs(60)));
    sim.connect(0);
    sim.send("old", 0);
    sim.send("young", 1_500);
    let out = sim.tick(2_000);
    assert_eq!(out.events.len(), 1);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(3_500), TimerReason::MessageExpiry))
    );
    assert_eq!(sim.opened(3_000).sent(), [Message::from("young")]);
    assert_eq!(
        sim.sup.next_deadline().map(|(_, r)| r),
        Some(TimerReason::ConnectionStable)
    );
}

#[test]
fn deadline_already_passed_expires_at_once() {
    let mut sim = Sim::with(|c| c);
    sim.connect(100);
    sim.sup
        .send_with_deadline(Message::from("too late"), ms(50), ms(100))
        .unwrap();
    assert_eq!(
        sim.drain().events,
        [Event::Undelivered {
            message: Message::from("too late"),
            reason: UndeliveredReason::Expired
        }]
    );
}

#[test]
fn queued_messages_survive_an_outage_and_are_sent_exactly_once() {
    let mut sim = Sim::with(|c| c.jitter(ws_core::Jitter::None).initial_delay(secs(1)));
    sim.open_at(0);
    sim.peer_closes(1006, 1_000);
    sim.send("during outage", 1_200);
    let reconnect = sim.run_until(2_000);
    assert!(reconnect.connect().is_some());
    assert!(reconnect.sent().is_empty());
    let open = sim.opened(2_100);
    assert_eq!(open.sent(), [Message::from("during outage")]);
    assert_eq!(sim.sup.stats().messages_sent, 1);
    assert!(
        open.actions
            .iter()
            .all(|a| !matches!(a, Action::Heartbeat(_)))
    );
}

#[test]
fn an_expired_message_does_not_push_an_older_one_out_of_a_full_queue() {
    let mut sim = Sim::with(|c| c.queue_max_messages(1).overflow(Overflow::DropOldest));
    sim.connect(1_000);
    sim.send("older", 1_000);
    sim.sup
        .send_with_deadline(Message::from("stale"), ms(1_000), ms(1_000))
        .unwrap();
    assert_eq!(
        sim.drain().events,
        [Event::Undelivered {
            message: Message::from("stale"),
            reason: UndeliveredReason::Expired
        }]
    );
    assert_eq!(sim.opened(1_001).sent(), [Message::from("older")]);
}
