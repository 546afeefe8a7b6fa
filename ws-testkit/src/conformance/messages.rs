//! Payload scenarios: text, binary and JSON round trips, a 10 MiB message, sends queued while
//! connecting, sends that must not wait for a timer, and what happens when the server sends
//! something the client must refuse (too large, or an invalid frame).

use std::time::{Duration, Instant};

use ws_client::{Error, Event};
use ws_core::{Bytes, Disconnect, Message, SendErrorKind, State, TransportError};

use super::observe::{Scenario, describe, describe_all, is_closed, is_open};
use super::setup::{INITIAL_DELAY, build, fast_reconnect, options};
use super::{Adapter, Client, Events, Handle, SLACK, WAIT, quiet_window};
use crate::{Behavior, HandshakeMode, TestServer};

/// The first events are exactly `Connecting { attempt: 0 }` and `Open` (no subprotocol was
/// offered); a text, a binary and a JSON message sent through their own calls come back in
/// order, and the counters say 3 sent, 3 received, 1 attempt.
pub fn text_binary_and_json_echo_in_order_and_are_counted<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "text_binary_and_json_echo_in_order_and_are_counted",
    );
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    let first = client.next_event(WAIT);
    let second = client.next_event(WAIT);
    s.check(
        matches!(
            (&first, &second),
            (
                Some(Event::Connecting { attempt: 0 }),
                Some(Event::Open { subprotocol: None, .. })
            )
        ),
        || format!("expected Connecting {{ attempt: 0 }} then Open {{ subprotocol: None }}, got {first:?} then {second:?}"),
    );
    s.check(client.state() == State::Open, || {
        format!("expected state Open, got {:?}", client.state())
    });

    let json = serde_json::json!({ "cmd": 1, "msg": "hi" });
    let sent = (
        client.send_text("hello"),
        client.send_binary(Bytes::from_static(&[1, 2, 3])),
        client.send_json(&json).map_err(|e| e.to_string()),
    );
    s.check(matches!(sent, (Ok(()), Ok(()), Ok(()))), || {
        format!("the sends must be taken: {sent:?}")
    });
    let echoed = s.next_messages(&mut client, 3, WAIT);
    let parsed = echoed[2]
        .as_text()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    s.check(
        echoed[0].as_text() == Some("hello")
            && echoed[1] == Message::Binary(Bytes::from_static(&[1, 2, 3]))
            && parsed.as_ref() == Some(&json),
        || format!("expected \"hello\", [1, 2, 3] and {json} back in order, got {echoed:?}"),
    );
    let stats = client.stats();
    s.check(
        (stats.messages_sent, stats.messages_received, stats.attempts) == (3, 3, 1),
        || format!("expected 3 sent, 3 received, 1 attempt; stats {stats:?}"),
    );
}

/// Binary payloads (every byte value, and an empty one) come back from an echo server
/// unchanged and in order.
pub fn binary_messages_round_trip<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "binary_messages_round_trip");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    let every_byte: Vec<u8> = (0..=255).collect();
    let payloads = [Bytes::from(every_byte), Bytes::new()];
    for payload in &payloads {
        s.send(&client, Message::Binary(payload.clone()));
    }
    let echoed = s.next_messages(&mut client, payloads.len(), WAIT);
    let expected: Vec<Message> = payloads.iter().cloned().map(Message::Binary).collect();
    s.check(echoed == expected, || {
        format!("expected the binary payloads back unchanged: sent {expected:?}, got {echoed:?}")
    });
    let received = server.received();
    let server_saw: Vec<Option<&[u8]>> = received.iter().map(|r| r.binary()).collect();
    let sent: Vec<Option<&[u8]>> = payloads.iter().map(|p| Some(&p[..])).collect();
    s.check(server_saw == sent, || {
        format!("the server must receive the binary payloads as sent; it saw {server_saw:?}")
    });
}

/// A JSON value sent through the adapter's JSON path arrives as one text message that parses
/// back to the same value, at the server and in the echo.
pub fn json_messages_round_trip<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "json_messages_round_trip");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    let value = serde_json::json!({
        "action": "subscribe",
        "channels": ["trades", "book"],
        "depth": 25,
        "ratio": 0.5,
        "snapshot": true,
        "cursor": null,
        "note": "héllo ✓ \"quoted\"",
    });
    if let Err(error) = client.handle().send_json(&value) {
        s.fail(format_args!("send_json failed: {error}"));
    }
    let echoed = s.next_messages(&mut client, 1, WAIT);
    let parsed = echoed[0]
        .as_text()
        .map(serde_json::from_str::<serde_json::Value>);
    s.check(matches!(&parsed, Some(Ok(v)) if *v == value), || {
        format!(
            "expected a text message holding {value}, got {:?} (parsed: {parsed:?})",
            echoed[0]
        )
    });
    let texts = server.received_texts();
    let at_server: Vec<serde_json::Value> = texts
        .iter()
        .filter_map(|text| serde_json::from_str(text).ok())
        .collect();
    s.check(texts.len() == 1 && at_server == [value.clone()], || {
        format!("the server must receive one text message holding {value}; it saw {texts:?}")
    });
}

/// A single 10 MiB binary message (under the default 64 MiB message and 16 MiB frame limits)
/// goes out and comes back intact. It is sent once the client is open: while disconnected it
/// would be refused, as the default queue holds at most 4 MiB.
pub fn ten_mib_message_round_trips_intact<A: Adapter>(adapter: &A) {
    const SIZE: usize = 10 << 20;
    let s = Scenario::new(adapter, "ten_mib_message_round_trips_intact");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    // A pattern whose period (251) does not divide any power of two, so a shifted, truncated
    // or repeated chunk cannot look right.
    let payload: Bytes = (0..SIZE)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    s.send(&client, Message::Binary(payload.clone()));
    let echoed = s.next_messages(&mut client, 1, WAIT);
    s.check(echoed[0] == Message::Binary(payload.clone()), || {
        format!(
            "expected the 10 MiB message back intact, got {:?}",
            echoed[0]
        )
    });
    let server_saw = server.received();
    s.check(
        server_saw.len() == 1 && server_saw[0].binary() == Some(&payload[..]),
        || {
            let sizes: Vec<Option<usize>> = server_saw
                .iter()
                .map(|r| r.binary().map(<[u8]>::len))
                .collect();
            format!(
                "the server must receive the 10 MiB message intact; binary sizes seen: {sizes:?}"
            )
        },
    );
}

/// The server sends 1 MiB to a client that accepts at most 64 KiB: a typed
/// `MessageTooLarge` error (never a panic, never a truncated message), and no reconnect, as
/// the server would only send it again.
pub fn oversized_message_is_a_typed_error_without_reconnect<A: Adapter>(adapter: &A) {
    const LIMIT: usize = 64 << 10;
    const SENT: usize = 1 << 20;
    let s = Scenario::new(
        adapter,
        "oversized_message_is_a_typed_error_without_reconnect",
    );
    let server = TestServer::start();
    let mut client = adapter.start(build(
        options(&server.url(), fast_reconnect()).max_message_size(LIMIT),
    ));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    let sent = server.send_binary(&vec![0x5a; SENT]);
    s.check(sent == 1, || {
        format!("the server has {sent} open connections, expected 1")
    });
    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    let disconnected = events
        .iter()
        .find(|e| matches!(e, Event::Disconnected { .. }));
    s.check(
        matches!(
            disconnected,
            Some(Event::Disconnected {
                cause: Disconnect::Transport(TransportError::MessageTooLarge),
                will_reconnect: false,
                error: Some(Error::MessageTooLarge {
                    size: SENT,
                    max: LIMIT
                }),
                ..
            })
        ),
        || {
            format!(
                "expected Disconnected {{ cause: Transport(MessageTooLarge), will_reconnect: \
                 false, error: MessageTooLarge {{ size: {SENT}, max: {LIMIT} }} }}; events:{}",
                describe_all(&events)
            )
        },
    );
    let text = disconnected
        .and_then(|e| match e {
            Event::Disconnected {
                error: Some(error), ..
            } => Some(error.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    s.check(
        text == "the peer sent a message of 1048576 bytes, over the limit of 65536 bytes",
        || format!("unexpected error text {text:?}"),
    );
    no_message_and_no_reconnect(&s, &mut client, &server, &events);
}

/// A frame with the reserved bits set (no extension was negotiated): a typed protocol error,
/// and no reconnect, as a server that breaks the protocol will break it again.
pub fn invalid_frame_is_a_typed_protocol_error<A: Adapter>(adapter: &A) {
    /// FIN, all three reserved bits, opcode text; unmasked, empty.
    const RESERVED_BITS_FRAME: [u8; 2] = [0xF1, 0x00];
    let s = Scenario::new(adapter, "invalid_frame_is_a_typed_protocol_error");
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    let sent = server.send_raw(&RESERVED_BITS_FRAME);
    s.check(sent == 1, || {
        format!("the server has {sent} open connections, expected 1")
    });
    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    let disconnected = events
        .iter()
        .find(|e| matches!(e, Event::Disconnected { .. }));
    s.check(
        matches!(
            disconnected,
            Some(Event::Disconnected {
                cause: Disconnect::Transport(TransportError::Protocol),
                will_reconnect: false,
                error: Some(Error::Protocol { reason, .. }),
                ..
            }) if reason.contains("Reserved bits")
        ),
        || {
            format!(
                "expected Disconnected {{ cause: Transport(Protocol), will_reconnect: false, \
                 error: Protocol {{ reason: \"…Reserved bits…\" }} }}; events:{}",
                describe_all(&events)
            )
        },
    );
    no_message_and_no_reconnect(&s, &mut client, &server, &events);
}

/// After a refused payload: nothing was delivered as a message, nothing follows `Closed`, and
/// the server sees no second handshake.
#[track_caller]
fn no_message_and_no_reconnect<H: Handle, E: Events>(
    s: &Scenario,
    client: &mut Client<H, E>,
    server: &TestServer,
    events: &[Event],
) {
    s.check(
        !events.iter().any(|e| matches!(e, Event::Message(_))),
        || {
            format!(
                "a refused payload must not be delivered; events:{}",
                describe_all(events)
            )
        },
    );
    let left = s.expect_silence(client, quiet_window(INITIAL_DELAY), "Closed");
    s.check(!server.wait_for_handshake_attempts(2, left), || {
        format!(
            "expected no reconnect, the server saw {} handshake requests",
            server.handshake_attempts()
        )
    });
}

/// Sent while the handshake is held back, two messages fit the queue (`queue_max_messages`
/// 2) and the third is handed back at once as rejected; the two go out, in order, as soon as
/// the connection opens.
pub fn sends_while_connecting_are_queued_and_overflow_is_rejected<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "sends_while_connecting_are_queued_and_overflow_is_rejected",
    );
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Delay(Duration::from_millis(200)),
        ..Behavior::default()
    });
    let config = fast_reconnect().queue_max_messages(2);
    let mut client = adapter.start(build(options(&server.url(), config)));
    for text in ["a", "b", "c"] {
        if let Err(error) = client.try_send(Message::from(text)) {
            s.fail(format_args!("try_send({text:?}) failed: {error}"));
        }
    }
    let mut seen = Vec::new();
    let deadline = Instant::now() + WAIT;
    while seen.len() < 4 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(event) = client.next_event(left) else {
            s.fail(format_args!("only saw {seen:?} within {WAIT:?}"))
        };
        match &event {
            Event::Rejected {
                message,
                reason: SendErrorKind::QueueFull,
            } => seen.push(format!(
                "rejected {}",
                message.as_text().unwrap_or("<binary>")
            )),
            Event::Message(message) => {
                seen.push(format!("echo {}", message.as_text().unwrap_or("<binary>")));
            }
            Event::Open { .. } => seen.push("open".to_owned()),
            Event::Connecting { attempt: 0 } | Event::Rtt(_) => {}
            other => seen.push(describe(other)),
        }
    }
    s.check(seen == ["rejected c", "open", "echo a", "echo b"], || {
        format!("expected [rejected c, open, echo a, echo b], got {seen:?}")
    });
}

/// With an hourly ping, the driver's only deadline is an hour away: a send that waited for it
/// would never arrive. Each of 20 sends must reach the server at once.
pub fn each_send_wakes_the_driver_at_once<A: Adapter>(adapter: &A) {
    const SENDS: usize = 20;
    let s = Scenario::new(adapter, "each_send_wakes_the_driver_at_once");
    let server = TestServer::start_with(Behavior {
        echo: false,
        ..Behavior::default()
    });
    let config = fast_reconnect().ping_interval(Duration::from_secs(3600));
    let mut client = adapter.start(build(options(&server.url(), config)));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    let mut slowest = Duration::ZERO;
    for i in 0..SENDS {
        let started = Instant::now();
        s.send(&client, format!("m{i}"));
        s.check(server.wait_for_received(i + 1, WAIT), || {
            format!("message {i} never reached the server")
        });
        slowest = slowest.max(started.elapsed());
    }
    s.check(slowest <= SLACK, || {
        format!("a send took {slowest:?} to reach the server (allowed {SLACK:?})")
    });
}

/// A text frame ("hello") and, in the same write, a frame with the reserved bits set. A
/// client that reads one message at a time (read, reply, read again) answers "hello" before
/// it even reads the bad frame; this client must do the same although it reads both at once:
/// the reply goes out, then the Close with 1002, and nothing is lost in between.
pub fn a_reply_to_the_message_before_a_bad_frame_goes_out_before_the_close<A: Adapter>(
    adapter: &A,
) {
    const HELLO_THEN_RESERVED_BITS: [u8; 9] =
        [0x81, 0x05, b'h', b'e', b'l', b'l', b'o', 0xF1, 0x00];
    let s = Scenario::new(
        adapter,
        "a_reply_to_the_message_before_a_bad_frame_goes_out_before_the_close",
    );
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    s.check(server.send_raw(&HELLO_THEN_RESERVED_BITS) == 1, || {
        "expected one open connection on the server".to_owned()
    });
    s.wait_for(
        &mut client,
        WAIT,
        "the message before the bad frame",
        |e| matches!(e, Event::Message(m) if m.as_text() == Some("hello")),
    );
    s.send(&client, "reply to hello");
    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    s.check(server.wait_for_received(1, WAIT), || {
        format!(
            "the reply never reached the server (it got {:?}); events:{}",
            server.received_texts(),
            describe_all(&events)
        )
    });
    s.check(server.received_texts() == ["reply to hello"], || {
        format!("the server got {:?}", server.received_texts())
    });
    s.check(server.wait_for_client_closes(1, WAIT), || {
        "the client sent no Close".to_owned()
    });
    s.check(server.client_close_codes() == [Some(1002)], || {
        format!(
            "expected the client's Close with 1002, got {:?}",
            server.client_close_codes()
        )
    });
}

/// The first 15 of a text frame's 20 bytes, holding an invalid sequence (`F4 90 80 80`, past
/// U+10FFFF), and then nothing (Autobahn 6.4.3): the client must not wait for the rest of a
/// frame that can only fail. It fails the connection at once with a typed invalid-UTF-8 error
/// and tells the server with Close 1007.
pub fn invalid_utf8_is_refused_before_its_frame_is_complete<A: Adapter>(adapter: &A) {
    const PARTIAL_FRAME: [u8; 17] = [
        0x81, 20, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4, 0x90,
        0x80, 0x80,
    ];
    let s = Scenario::new(
        adapter,
        "invalid_utf8_is_refused_before_its_frame_is_complete",
    );
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    s.check(server.send_raw(&PARTIAL_FRAME) == 1, || {
        "expected one open connection on the server".to_owned()
    });
    let events = s.collect_until(&mut client, WAIT, "Closed", is_closed);
    let disconnected = events
        .iter()
        .find(|e| matches!(e, Event::Disconnected { .. }));
    s.check(
        matches!(
            disconnected,
            Some(Event::Disconnected {
                cause: Disconnect::Transport(TransportError::Protocol),
                will_reconnect: false,
                error: Some(Error::InvalidUtf8 { .. }),
                ..
            })
        ),
        || {
            format!(
                "expected Disconnected {{ cause: Transport(Protocol), will_reconnect: false, \
                 error: InvalidUtf8 }}; events:{}",
                describe_all(&events)
            )
        },
    );
    s.check(server.wait_for_client_closes(1, WAIT), || {
        "the client sent no Close".to_owned()
    });
    s.check(server.client_close_codes() == [Some(1007)], || {
        format!(
            "expected the client's Close with 1007, got {:?}",
            server.client_close_codes()
        )
    });
    no_message_and_no_reconnect(&s, &mut client, &server, &events);
}
