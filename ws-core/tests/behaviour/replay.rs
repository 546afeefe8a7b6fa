//! Replay on open: what the server forgets with each connection (subscriptions) goes out first
//! on every new one, ahead of the queue and of the flush gate.

use std::sync::{Arc, Mutex};

use ws_core::{
    CloseCode, ConnectFailure, ConnectionId, Event, Input, Jitter, Message, Text, UndeliveredReason,
};

use crate::support::{Sim, ms};

fn subscriptions(_: ConnectionId) -> Vec<Message> {
    vec![
        Message::from("subscribe:trades"),
        Message::from("subscribe:book"),
    ]
}

#[test]
fn replay_precedes_the_queue_on_the_first_open_and_on_every_reconnect() {
    let mut sim = Sim::with(|c| c.jitter(Jitter::None).replay_on_open(subscriptions));
    sim.connect(0);
    sim.send("queued-1", 5);
    let out = sim.opened(10);
    assert_eq!(
        out.sent(),
        ["subscribe:trades", "subscribe:book", "queued-1"].map(Message::from)
    );
    let stats = sim.sup.stats();
    assert_eq!(
        (
            stats.messages_replayed,
            stats.messages_sent,
            stats.queued_messages
        ),
        (2, 1, 0)
    );
    // Lost; the outage queues a message; the new connection replays again, then flushes.
    sim.peer_closes(1012, 100);
    sim.send("queued-2", 200);
    assert_eq!(sim.sup.stats().queued_messages, 1);
    assert_eq!(sim.run_until(1_100).connect(), Some((ConnectionId(2), 1)));
    let out = sim.opened(1_150);
    assert_eq!(
        out.sent(),
        ["subscribe:trades", "subscribe:book", "queued-2"].map(Message::from)
    );
    let stats = sim.sup.stats();
    assert_eq!(
        (
            stats.messages_replayed,
            stats.messages_sent,
            stats.queued_messages,
            stats.queued_bytes
        ),
        (4, 2, 0, 0)
    );
}

#[test]
fn replay_goes_out_at_open_while_the_gate_holds_the_queue() {
    let mut sim = Sim::with(|c| c.hold_queue_until_ready(true).replay_on_open(subscriptions));
    sim.connect(0);
    sim.send("queued", 5);
    let out = sim.opened(10);
    assert_eq!(
        out.sent(),
        ["subscribe:trades", "subscribe:book"].map(Message::from)
    );
    sim.sup
        .send_now(ConnectionId(1), Message::from("login"), ms(11))
        .unwrap();
    sim.sup.ready(ConnectionId(1), ms(12));
    assert_eq!(sim.drain().sent(), ["login", "queued"].map(Message::from));
}

#[test]
fn the_replay_function_receives_the_connection_that_opened() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&asked);
    let mut sim = Sim::with(|c| {
        c.jitter(Jitter::None).replay_on_open(move |connection| {
            record.lock().unwrap().push(connection);
            vec![Message::from(format!("resume after {connection}"))]
        })
    });
    sim.connect(0);
    // A failed attempt opens nothing: nothing is asked.
    let connection = sim.id();
    sim.conn = None;
    sim.input(
        Input::ConnectFailed {
            connection,
            failure: ConnectFailure::Io,
        },
        10,
    );
    assert!(asked.lock().unwrap().is_empty());
    sim.run_until(1_010);
    assert_eq!(sim.opened(1_020).sent(), [Message::from("resume after #2")]);
    sim.peer_closes(1001, 2_000);
    sim.run_until(4_000);
    assert_eq!(sim.opened(4_000).sent(), [Message::from("resume after #3")]);
    assert_eq!(*asked.lock().unwrap(), [ConnectionId(2), ConnectionId(3)]);
}

#[test]
fn replayed_messages_are_never_handed_back() {
    let mut sim = Sim::with(|c| {
        c.jitter(Jitter::None)
            .max_attempts(Some(1))
            .replay_on_open(subscriptions)
    });
    sim.open_at(0);
    sim.peer_closes(1001, 100);
    sim.send("queued", 200);
    assert_eq!(sim.run_until(1_100).connect(), Some((ConnectionId(2), 1)));
    let connection = sim.id();
    sim.conn = None;
    let out = sim.input(
        Input::ConnectFailed {
            connection,
            failure: ConnectFailure::Io,
        },
        1_200,
    );
    assert_eq!(
        out.events[1..],
        [
            Event::GaveUp {
                attempts: 1,
                undelivered: 1
            },
            Event::Undelivered {
                message: Message::from("queued"),
                reason: UndeliveredReason::Stopped
            },
            Event::Closed,
        ]
    );
    assert_eq!(sim.sup.stats().messages_replayed, 2);
    // Closed before it ever opened: nothing replayed, only the queue comes back.
    sim.connect(5_000);
    sim.send("queued-2", 5_001);
    sim.sup
        .close(CloseCode::NORMAL, Text::new(), ms(5_002))
        .unwrap();
    let out = sim.drain();
    assert!(out.sent().is_empty());
    assert_eq!(
        out.events[1..],
        [
            Event::Undelivered {
                message: Message::from("queued-2"),
                reason: UndeliveredReason::Closed
            },
            Event::Closed,
        ]
    );
    assert_eq!(sim.sup.stats().messages_replayed, 2);
}
