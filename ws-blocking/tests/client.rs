//! The blocking adapter against real sockets on 127.0.0.1: what is specific to driving the
//! supervisor from threads (wake-ups, the connect thread, backpressure, providers). The
//! behaviour every adapter shares is in `conformance.rs`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{WAIT, fast_config, is_open, next_event, until_end, wait_for};
use ws_blocking::{
    ClientOptions, CloseCode, Disconnect, Endpoint, Error, Event, Heartbeat, Matcher, Message,
    MessageExt, State, Target, Text,
};
use ws_testkit::{AppHeartbeat, Behavior, FaultProxy, HandshakeMode, ProxyMode, TestServer};

fn options(url: &str) -> ws_blocking::ClientOptionsBuilder {
    ClientOptions::builder(url)
        .config(fast_config().build().unwrap())
        .seed(1)
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Chat {
    cmd: u8,
    msg: String,
}

#[test]
fn echoes_text_binary_and_json_and_tracks_state() {
    let server = TestServer::start();
    let (client, events) = ws_blocking::connect(options(&server.url()).build().unwrap());
    assert!(matches!(
        next_event(&events),
        Event::Connecting { attempt: 0 }
    ));
    assert!(matches!(
        next_event(&events),
        Event::Open { subprotocol: None }
    ));
    assert_eq!(client.state(), State::Open);

    client.send_text("hello").unwrap();
    client.send_binary(vec![1u8, 2, 3]).unwrap();
    let chat = Chat {
        cmd: 1,
        msg: "hi".into(),
    };
    client.send_json(&chat).unwrap();
    let Event::Message(text) = next_event(&events) else {
        panic!("text expected")
    };
    assert_eq!(text.as_text(), Some("hello"));
    let Event::Message(binary) = next_event(&events) else {
        panic!("binary expected")
    };
    assert_eq!(binary, Message::from(vec![1u8, 2, 3]));
    let Event::Message(json) = next_event(&events) else {
        panic!("json expected")
    };
    assert_eq!(json.json::<Chat>().unwrap(), chat);

    let stats = client.stats();
    assert_eq!(
        (stats.messages_sent, stats.messages_received, stats.attempts),
        (3, 3, 1)
    );
    client.close(CloseCode::NORMAL, "done").unwrap();
    let rest = until_end(&events);
    assert!(matches!(rest.last(), Some(Event::Closed)), "{rest:?}");
    assert!(client.stopped_timeout(WAIT));
    assert_eq!(client.state(), State::Closed);
    assert!(matches!(client.send_text("late"), Err(Error::Stopped)));
    assert!(server.wait_for_client_closes(1, WAIT));
    assert_eq!(server.client_close_codes(), [Some(1000)]);
}

/// With a 30 s ping interval the I/O thread's only deadline is 30 s away: a send that waited
/// for it (or for a read timeout) would take that long. Each send must wake it at once.
#[test]
fn a_send_wakes_the_io_thread_at_once() {
    let server = TestServer::start();
    let config = fast_config()
        .ping_interval(Duration::from_secs(30))
        .build()
        .unwrap();
    let (client, events) =
        ws_blocking::connect(options(&server.url()).config(config).build().unwrap());
    wait_for(&events, "open", is_open);
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let started = Instant::now();
        client.send_text(format!("m{i}")).unwrap();
        assert!(
            server.wait_for_received(i + 1, WAIT),
            "message {i} never arrived"
        );
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a send took {slowest:?} to reach the server"
    );
}

/// A peer that stops reading fills the socket: writes block, `send` blocks once the command
/// channel is full too, yet the heartbeat's deadlines still fire and the dead peer is dropped
/// on time (which unblocks the sender).
#[test]
fn a_peer_that_stops_reading_is_still_declared_dead_on_time() {
    const PING_INTERVAL: Duration = Duration::from_millis(100);
    const PONG_TIMEOUT: Duration = Duration::from_millis(300);
    const FLOOD: usize = 400;
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let config = fast_config()
        .ping_interval(PING_INTERVAL)
        .pong_timeout(PONG_TIMEOUT)
        .build()
        .unwrap();
    let options = options(&proxy.url())
        .config(config)
        .command_capacity(4)
        .build()
        .unwrap();
    let (client, events) = ws_blocking::connect(options);
    wait_for(&events, "open", is_open);
    proxy.set_mode(ProxyMode::Freeze);
    let frozen_at = Instant::now();

    // 400 × 64 KiB is more than the kernel buffers between the client and the frozen proxy.
    let sent = Arc::new(AtomicUsize::new(0));
    let flood = {
        let (client, sent) = (client.clone(), Arc::clone(&sent));
        std::thread::spawn(move || {
            for _ in 0..FLOOD {
                if client.send_binary(vec![7u8; 64 * 1024]).is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let lost = wait_for(&events, "disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    });
    let detected_after = frozen_at.elapsed();
    let sent_before = sent.load(Ordering::Relaxed);
    assert!(
        matches!(
            lost,
            Event::Disconnected {
                cause: Disconnect::HeartbeatTimeout,
                will_reconnect: true,
                ..
            }
        ),
        "{lost:?}"
    );
    assert!(
        sent_before < FLOOD,
        "the sender never blocked: is the proxy frozen?"
    );
    assert!(
        detected_after <= PING_INTERVAL + PONG_TIMEOUT + Duration::from_secs(1),
        "declared dead {detected_after:?} after the freeze"
    );
    proxy.set_mode(ProxyMode::Pass);
    flood.join().unwrap();
}

/// The handshake runs on a connect thread, so the I/O thread still takes commands while a
/// server hangs: `close` ends the attempt at once.
#[test]
fn close_works_while_the_handshake_hangs() {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Hang,
        ..Behavior::default()
    });
    let (client, events) = ws_blocking::connect(options(&server.url()).build().unwrap());
    assert!(matches!(next_event(&events), Event::Connecting { .. }));
    assert!(server.wait_for_handshake_attempts(1, WAIT));
    assert_eq!(client.state(), State::Connecting);

    let started = Instant::now();
    client.close(CloseCode::NORMAL, "").unwrap();
    let rest = until_end(&events);
    assert!(
        matches!(
            rest.as_slice(),
            [
                Event::Disconnected {
                    cause: Disconnect::Application,
                    error: None,
                    ..
                },
                Event::Closed
            ]
        ),
        "{rest:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_refused_port_is_reported_as_refused() {
    let server = TestServer::start();
    let addr = server.addr();
    server.stop();
    let config = fast_config().no_reconnect().build().unwrap();
    let (_client, events) =
        ws_blocking::connect(options(&server.url()).config(config).build().unwrap());
    let all = until_end(&events);
    let Some(Event::Disconnected {
        error: Some(error),
        will_reconnect: false,
        ..
    }) = all.get(1)
    else {
        panic!("{all:?}");
    };
    assert!(
        matches!(error, Error::Refused { addr: refused, .. } if *refused == addr),
        "{error:?}"
    );
}

/// The application reads nothing while the server floods it: the I/O thread stops reading the
/// socket (TCP pushes back) instead of buffering, the heartbeat still goes out, and once the
/// application reads again every message arrives, in order.
#[test]
fn a_slow_reader_keeps_the_heartbeat_going_and_loses_nothing() {
    const COUNT: usize = 500;
    let server = TestServer::start_with(Behavior {
        app_heartbeat: Some(AppHeartbeat::reply("ping", "pong")),
        ..Behavior::default()
    });
    let config = fast_config()
        .heartbeat(Heartbeat::Application {
            ping: Message::from("ping"),
            pong: Matcher::Exact(Text::from("pong")),
        })
        .ping_interval(Duration::from_millis(50))
        .pong_timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    let options = options(&server.url())
        .config(config)
        .event_capacity(4)
        .build()
        .unwrap();
    let (client, mut events) = ws_blocking::connect(options);
    assert!(server.wait_for_connections(1, WAIT));
    for i in 0..COUNT {
        server.send_text(&format!("m{i}"));
    }

    // Nobody reads, yet the heartbeat goes out (one ping per silence: the next one waits for
    // a sign of life, which sits unread behind the messages).
    assert!(server.wait_for_app_pings(1, WAIT));
    let read_while_stalled = client.stats().messages_received;
    assert!(
        read_while_stalled < 100,
        "read {read_while_stalled} messages with nobody listening"
    );

    let mut expected = 0;
    for event in events.by_ref() {
        match event {
            Event::Message(message) => {
                assert_eq!(message.as_text(), Some(format!("m{expected}").as_str()));
                expected += 1;
                if expected == COUNT {
                    break;
                }
            }
            Event::Connecting { attempt: 0 } | Event::Open { .. } if expected == 0 => {}
            other => panic!("unexpected {other:?} after {expected} messages"),
        }
    }
    assert_eq!(expected, COUNT);
    assert_eq!(client.state(), State::Open);
}

/// The provider runs on the connect thread before every attempt; an async one is polled there
/// without any runtime.
#[test]
fn every_attempt_asks_the_provider_even_an_async_one_without_a_runtime() {
    let server = TestServer::start();
    let url = server.url();
    let issued = AtomicU32::new(0);
    let endpoint = Endpoint::from_async_fn(move |_attempt| {
        let url = format!(
            "{url}feed?token=t{}",
            issued.fetch_add(1, Ordering::Relaxed)
        );
        async move { Target::parse(&url) }
    });
    let options = ClientOptions::builder_with(endpoint)
        .config(fast_config().build().unwrap())
        .build()
        .unwrap();
    let (client, events) = ws_blocking::connect(options);
    wait_for(&events, "open", is_open);
    client.reconnect_now().unwrap();
    wait_for(&events, "open again", is_open);
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/feed?token=t0", "/feed?token=t1"]);
}

#[test]
fn tokens_never_show_in_debug_output() {
    let server = TestServer::start();
    let addr = server.addr();
    server.stop();
    let options = ClientOptions::builder(&format!("ws://{addr}/x?token=s3cret&room=1"))
        .config(fast_config().no_reconnect().build().unwrap())
        .build()
        .unwrap();
    let shown_options = format!("{options:?}");
    let (client, events) = ws_blocking::connect(options);
    let all: Vec<Event> = events.collect();
    let shown = format!("{shown_options} {client:?} {all:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("token=***&room=***"), "{shown}");
}
