//! The adapter against real sockets on 127.0.0.1 (ws-testkit's server and fault proxy), every
//! test once under smol and once under async-std.

mod common;

use std::time::{Duration, Instant};

use common::{
    DEADLINE, Executor, closed_port, eventually, fast_config, next_event, options, timeout,
    until_end, wait_for,
};
use futures_util::StreamExt;
use ws_async_std::{
    ClientOptions, CloseCode, Disconnect, Endpoint, Error, Event, Message, MessageExt, State,
    Target, TransportError, TrySendError,
};
use ws_testkit::{Behavior, FaultProxy, HandshakeMode, PingMode, ProxyMode, TestServer};

on_both_executors!(
    echoes_text_binary_and_json_and_tracks_state,
    a_10_mib_message_round_trips_intact,
    an_oversized_message_is_a_typed_error_and_is_not_retried,
    an_invalid_frame_is_a_protocol_error,
    peer_pings_are_answered_while_the_application_is_silent,
    reconnects_after_the_server_restarts_and_delivers_the_queue_once_in_order,
    an_http_401_refusal_is_permanent_and_typed,
    an_http_503_retry_after_sets_the_reconnect_delay,
    a_hanging_handshake_can_be_closed_and_hits_the_connect_timeout,
    a_refused_port_is_reported_as_refused,
    a_peer_deaf_to_pings_is_dropped_by_the_heartbeat,
    a_frozen_link_is_dropped_by_the_heartbeat_and_the_client_reconnects,
    a_graceful_close_sends_the_code_and_ends_the_stream,
    the_peers_close_code_and_reason_reach_the_application,
    the_provider_gives_every_attempt_a_fresh_token,
    reconnect_now_replaces_an_open_connection,
    network_changed_probes_an_open_connection_at_once,
    a_slow_reader_keeps_the_heartbeat_going_and_loses_nothing,
    dropping_every_handle_closes_with_going_away,
    dropping_the_driver_stops_the_client,
    headers_and_subprotocols_are_sent_and_the_choice_reported,
    tokens_never_show_in_debug_output,
    sends_while_connecting_are_queued_and_refusals_come_back,
    the_driver_also_runs_inline_on_the_test_thread,
);

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Chat {
    cmd: u8,
    msg: String,
}

fn is_open(event: &Event) -> bool {
    matches!(event, Event::Open { .. })
}

fn is_disconnect(event: &Event) -> bool {
    matches!(event, Event::Disconnected { .. })
}

async fn echoes_text_binary_and_json_and_tracks_state(executor: Executor) {
    let server = TestServer::start();
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());

    assert!(matches!(
        next_event(&mut events).await,
        Event::Connecting { attempt: 0 }
    ));
    assert!(matches!(
        next_event(&mut events).await,
        Event::Open { subprotocol: None }
    ));
    assert_eq!(client.state(), State::Open);

    client.send_text("hello").await.unwrap();
    client.send_binary(vec![1u8, 2, 3]).await.unwrap();
    let chat = Chat {
        cmd: 1,
        msg: "hi".into(),
    };
    client.send_json(&chat).await.unwrap();

    let Event::Message(text) = next_event(&mut events).await else {
        panic!("text expected")
    };
    assert_eq!(text.as_text(), Some("hello"));
    let Event::Message(binary) = next_event(&mut events).await else {
        panic!("binary expected")
    };
    assert_eq!(binary, Message::from(vec![1u8, 2, 3]));
    let Event::Message(json) = next_event(&mut events).await else {
        panic!("json expected")
    };
    assert_eq!(json.json::<Chat>().unwrap(), chat);

    let stats = client.stats();
    assert_eq!(
        (stats.messages_sent, stats.messages_received, stats.attempts),
        (3, 3, 1)
    );
    client.close(CloseCode::NORMAL, "done").await.unwrap();
    let rest = until_end(&mut events).await;
    assert!(matches!(rest.last(), Some(Event::Closed)), "{rest:?}");
    timeout(DEADLINE, client.stopped()).await.unwrap();
    assert_eq!(client.state(), State::Closed);
    assert!(matches!(
        client.send_text("late").await,
        Err(Error::Stopped)
    ));
    assert!(matches!(
        client.try_send("later"),
        Err(TrySendError::Stopped(m)) if m.as_text() == Some("later")
    ));
    assert!(server.wait_for_client_closes(1, DEADLINE));
    assert_eq!(server.client_close_codes(), [Some(1000)]);
}

async fn a_10_mib_message_round_trips_intact(executor: Executor) {
    let server = TestServer::start();
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    wait_for(&mut events, "open", is_open).await;

    let payload: Vec<u8> = (0..10 * 1024 * 1024)
        .map(|i: u32| (i % 251) as u8)
        .collect();
    client.send_binary(payload.clone()).await.unwrap();
    let Event::Message(Message::Binary(echoed)) = next_event(&mut events).await else {
        panic!("binary expected");
    };
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "payload changed on the way");
}

async fn an_oversized_message_is_a_typed_error_and_is_not_retried(executor: Executor) {
    let server = TestServer::start();
    let options = options(&server.url())
        .max_message_size(1024 * 1024)
        .build()
        .unwrap();
    let (_client, mut events) = executor.connect(options);
    wait_for(&mut events, "open", is_open).await;
    assert_eq!(server.send_binary(&vec![0u8; 2 * 1024 * 1024]), 1);

    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    let Event::Disconnected {
        cause,
        will_reconnect,
        error: Some(error),
        ..
    } = event
    else {
        panic!("{event:?}");
    };
    assert_eq!(
        cause,
        Disconnect::Transport(TransportError::MessageTooLarge)
    );
    assert!(!will_reconnect);
    assert!(
        matches!(
            error,
            Error::MessageTooLarge {
                size: 2_097_152,
                max: 1_048_576
            }
        ),
        "{error:?}"
    );
    assert!(matches!(
        until_end(&mut events).await.last(),
        Some(Event::Closed)
    ));
    assert_eq!(server.connections(), 1);
}

async fn an_invalid_frame_is_a_protocol_error(executor: Executor) {
    let server = TestServer::start();
    let (_client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    wait_for(&mut events, "open", is_open).await;
    // FIN + all three reserved bits + text opcode, empty and unmasked.
    assert_eq!(server.send_raw(&[0xF1, 0x00]), 1);

    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    let Event::Disconnected {
        cause,
        will_reconnect: false,
        error: Some(Error::Protocol { reason, .. }),
        ..
    } = event
    else {
        panic!("{event:?}");
    };
    assert_eq!(cause, Disconnect::Transport(TransportError::Protocol));
    assert!(reason.contains("Reserved bits"), "{reason}");
}

async fn peer_pings_are_answered_while_the_application_is_silent(executor: Executor) {
    let server = TestServer::start();
    let (_client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    wait_for(&mut events, "open", is_open).await;
    // The application neither sends nor reads: only the driver's flush after the Ping can
    // carry tungstenite's queued Pong out.
    assert_eq!(server.send_ping(b"are you there"), 1);
    assert!(server.wait_for_pongs(1, DEADLINE), "no pong");
    assert_eq!(server.pongs()[0].as_ref(), b"are you there");
}

async fn reconnects_after_the_server_restarts_and_delivers_the_queue_once_in_order(
    executor: Executor,
) {
    let server = TestServer::start();
    let config = fast_config()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(200))
        .build()
        .unwrap();
    let options = ClientOptions::builder(&server.url())
        .config(config)
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
    wait_for(&mut events, "open", is_open).await;

    server.stop(); // connection lost without a close frame, and reconnects are refused
    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    let Event::Disconnected {
        will_reconnect: true,
        error: Some(error),
        ..
    } = event
    else {
        panic!("{event:?}");
    };
    assert!(
        error.to_string().contains("without a close frame"),
        "{error}"
    );
    for text in ["one", "two", "three"] {
        client.send_text(text).await.unwrap();
    }
    let event = wait_for(&mut events, "reconnect", |e| {
        matches!(e, Event::Reconnecting { .. })
    })
    .await;
    assert!(
        matches!(event, Event::Reconnecting { attempt: 1, delay } if delay == Duration::from_millis(100)),
        "{event:?}"
    );
    eventually("queued messages", || client.stats().queued_messages == 3).await;
    server.restart();
    wait_for(&mut events, "second open", is_open).await;
    let mut echoed = Vec::new();
    while echoed.len() < 3 {
        match next_event(&mut events).await {
            Event::Message(message) => echoed.push(message.as_text().unwrap().to_owned()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(echoed, ["one", "two", "three"]);
    assert_eq!(server.received_texts(), ["one", "two", "three"]);
    assert!(server.received().iter().all(|r| r.conn == 2));
    assert_eq!(client.stats().messages_sent, 3);
}

async fn an_http_401_refusal_is_permanent_and_typed(executor: Executor) {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 401,
            retry_after: None,
        },
        ..Behavior::default()
    });
    let url = format!("{}feed?token=s3cret", server.url());
    let (_client, mut events) = executor.connect(options(&url).build().unwrap());

    let all = until_end(&mut events).await;
    let Some(Event::Disconnected {
        will_reconnect: false,
        error: Some(error),
        ..
    }) = all.iter().find(|e| is_disconnect(e))
    else {
        panic!("{all:?}");
    };
    assert!(
        matches!(
            error,
            Error::Http {
                status: 401,
                retry_after: None,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with(&format!(
            "ws://{}/feed?token=*** answered HTTP 401 Unauthorized",
            server.addr()
        )),
        "{error}"
    );
    assert!(matches!(all.last(), Some(Event::Closed)));
    assert_eq!(server.handshake_attempts(), 1);
}

async fn an_http_503_retry_after_sets_the_reconnect_delay(executor: Executor) {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 503,
            retry_after: Some(3),
        },
        ..Behavior::default()
    });
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());

    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    assert!(
        matches!(&event, Event::Disconnected { will_reconnect: true, error: Some(Error::Http { status: 503, retry_after: Some(wait), .. }), .. } if *wait == Duration::from_secs(3)),
        "{event:?}"
    );
    let event = next_event(&mut events).await;
    assert!(
        matches!(event, Event::Reconnecting { attempt: 1, delay } if delay == Duration::from_secs(3)),
        "{event:?}"
    );
    assert_eq!(client.state(), State::WaitingToReconnect);
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        until_end(&mut events).await.last(),
        Some(Event::Closed)
    ));
    assert_eq!(server.handshake_attempts(), 1);
}

async fn a_hanging_handshake_can_be_closed_and_hits_the_connect_timeout(executor: Executor) {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Hang,
        ..Behavior::default()
    });

    // Commands are taken while the handshake hangs: close ends it at once.
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    assert!(matches!(
        next_event(&mut events).await,
        Event::Connecting { .. }
    ));
    assert!(server.wait_for_handshake_attempts(1, DEADLINE));
    client.close(CloseCode::NORMAL, "").await.unwrap();
    let rest = until_end(&mut events).await;
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

    // The connect timeout fires while the handshake hangs.
    let config = fast_config()
        .connect_timeout(Duration::from_millis(200))
        .no_reconnect()
        .build()
        .unwrap();
    let options = ClientOptions::builder(&server.url())
        .config(config)
        .build()
        .unwrap();
    let started = Instant::now();
    let (_client, mut events) = executor.connect(options);
    let all = until_end(&mut events).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    let Some(Event::Disconnected {
        cause: Disconnect::ConnectTimeout,
        error: Some(error),
        ..
    }) = all.get(1)
    else {
        panic!("{all:?}");
    };
    assert_eq!(
        error.to_string(),
        format!("connecting to {} timed out", server.url())
    );
}

async fn a_refused_port_is_reported_as_refused(executor: Executor) {
    let addr = closed_port();
    let config = fast_config().no_reconnect().build().unwrap();
    let options = ClientOptions::builder(&format!("ws://{addr}/"))
        .config(config)
        .build()
        .unwrap();
    let (_client, mut events) = executor.connect(options);
    let all = until_end(&mut events).await;
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

/// Heartbeat config for the dead-peer tests: a silent peer must be dropped 200 ms after the
/// connection opened (ping at 100 ms, no pong by 200 ms).
fn quick_heartbeat() -> ws_async_std::Config {
    fast_config()
        .ping_interval(Duration::from_millis(100))
        .pong_timeout(Duration::from_millis(100))
        .build()
        .unwrap()
}

async fn a_peer_deaf_to_pings_is_dropped_by_the_heartbeat(executor: Executor) {
    let server = TestServer::start_with(Behavior {
        pings: PingMode::Ignore,
        ..Behavior::default()
    });
    let options = ClientOptions::builder(&server.url())
        .config(quick_heartbeat())
        .build()
        .unwrap();
    let (_client, mut events) = executor.connect(options);
    wait_for(&mut events, "open", is_open).await;
    let opened = Instant::now();
    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    let elapsed = opened.elapsed();
    assert!(
        matches!(
            &event,
            Event::Disconnected {
                cause: Disconnect::HeartbeatTimeout,
                will_reconnect: true,
                error: Some(Error::Timeout { .. }),
                ..
            }
        ),
        "{event:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(190) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

async fn a_frozen_link_is_dropped_by_the_heartbeat_and_the_client_reconnects(executor: Executor) {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let options = ClientOptions::builder(&proxy.url())
        .config(quick_heartbeat())
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
    wait_for(&mut events, "open", is_open).await;

    // Half-open: the socket stays up, nothing gets through, no FIN, no RST.
    proxy.set_mode(ProxyMode::Freeze);
    let frozen = Instant::now();
    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    assert!(
        matches!(
            event,
            Event::Disconnected {
                cause: Disconnect::HeartbeatTimeout,
                will_reconnect: true,
                ..
            }
        ),
        "{event:?}"
    );
    // At most ping_interval + pong_timeout after the last sign of life (before the freeze).
    assert!(
        frozen.elapsed() < Duration::from_millis(200) + Duration::from_secs(1),
        "{:?}",
        frozen.elapsed()
    );

    proxy.set_mode(ProxyMode::Pass);
    wait_for(&mut events, "reopen", is_open).await;
    client.send_text("after the partition").await.unwrap();
    let event = wait_for(&mut events, "echo", |e| matches!(e, Event::Message(_))).await;
    assert!(
        matches!(&event, Event::Message(m) if m.as_text() == Some("after the partition")),
        "{event:?}"
    );
}

async fn a_graceful_close_sends_the_code_and_ends_the_stream(executor: Executor) {
    let server = TestServer::start();
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    wait_for(&mut events, "open", is_open).await;
    assert!(matches!(
        client.close(CloseCode(1005), "").await,
        Err(Error::InvalidClose(_))
    ));
    client.close(CloseCode::NORMAL, "bye").await.unwrap();

    let rest = until_end(&mut events).await;
    assert!(
        matches!(
            rest.as_slice(),
            [
                Event::Disconnected {
                    cause: Disconnect::Application,
                    will_reconnect: false,
                    ..
                },
                Event::Closed
            ]
        ),
        "{rest:?}"
    );
    assert!(server.wait_for_client_closes(1, DEADLINE));
    assert_eq!(server.client_close_codes(), [Some(1000)]);
    assert_eq!(server.connections(), 1, "reconnected after a close");
}

async fn the_peers_close_code_and_reason_reach_the_application(executor: Executor) {
    let server = TestServer::start();
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    wait_for(&mut events, "open", is_open).await;
    assert_eq!(server.close_all(4001, "kicked"), 1);
    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    let Event::Disconnected {
        code,
        reason,
        will_reconnect: true,
        error: Some(error),
        ..
    } = event
    else {
        panic!("{event:?}");
    };
    assert_eq!((code, reason.as_str()), (CloseCode(4001), "kicked"));
    assert_eq!(
        error.to_string(),
        "closed by the peer with code 4001 (\"kicked\")"
    );
    // The client answered the server's Close with the same code.
    assert!(server.wait_for_client_closes(1, DEADLINE));
    assert_eq!(server.client_close_codes(), [Some(4001)]);
    wait_for(&mut events, "reopen", is_open).await;
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        until_end(&mut events).await.last(),
        Some(Event::Closed)
    ));
}

async fn the_provider_gives_every_attempt_a_fresh_token(executor: Executor) {
    let server = TestServer::start();
    let addr = server.addr();
    let endpoint = Endpoint::from_async_fn(move |attempt| async move {
        Target::parse(&format!("ws://{addr}/chat?token=t{attempt}"))?
            .with_header("authorization", &format!("Bearer b{attempt}"))
    });
    let options = ClientOptions::builder_with(endpoint)
        .config(fast_config().build().unwrap())
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
    wait_for(&mut events, "open", is_open).await;
    for _ in 0..2 {
        server.close_all(1012, "restarting");
        wait_for(&mut events, "reopen", is_open).await;
    }
    client.close(CloseCode::NORMAL, "").await.unwrap();
    until_end(&mut events).await;
    let seen: Vec<(String, Option<String>)> = server
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.header("authorization").map(str::to_owned)))
        .collect();
    assert_eq!(
        seen,
        [
            ("/chat?token=t0".to_owned(), Some("Bearer b0".to_owned())),
            ("/chat?token=t1".to_owned(), Some("Bearer b1".to_owned())),
            ("/chat?token=t2".to_owned(), Some("Bearer b2".to_owned())),
        ]
    );
}

async fn reconnect_now_replaces_an_open_connection(executor: Executor) {
    let server = TestServer::start();
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    wait_for(&mut events, "open", is_open).await;
    client.reconnect_now().await.unwrap();
    let event = wait_for(&mut events, "disconnect", is_disconnect).await;
    assert!(
        matches!(
            event,
            Event::Disconnected {
                will_reconnect: true,
                error: None,
                ..
            }
        ),
        "{event:?}"
    );
    wait_for(&mut events, "reopen", is_open).await;
    assert!(server.wait_for_connections(2, DEADLINE));
    assert_eq!(client.stats().opened, 2);
}

async fn network_changed_probes_an_open_connection_at_once(executor: Executor) {
    let server = TestServer::start();
    let config = fast_config()
        .ping_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let options = ClientOptions::builder(&server.url())
        .config(config)
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
    wait_for(&mut events, "open", is_open).await;
    assert_eq!(client.stats().pings_sent, 0);
    client.network_changed().await.unwrap();
    // The probe's pong comes back as a round-trip sample, long before the hourly ping.
    wait_for(&mut events, "rtt", |e| matches!(e, Event::Rtt(_))).await;
    assert_eq!(client.stats().pings_sent, 1);
    assert!(client.stats().last_rtt.is_some());
}

async fn a_slow_reader_keeps_the_heartbeat_going_and_loses_nothing(executor: Executor) {
    const COUNT: usize = 500;
    let server = TestServer::start();
    let config = fast_config()
        .ping_interval(Duration::from_millis(50))
        .pong_timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    let options = ClientOptions::builder(&server.url())
        .config(config)
        .event_capacity(4)
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
    assert!(server.wait_for_connections(1, DEADLINE));
    for i in 0..COUNT {
        server.send_text(&format!("m{i}"));
    }
    // The application reads nothing, yet the heartbeat goes out (one ping per silence: the
    // next one waits for a sign of life, which sits unread behind the messages).
    eventually("a ping while nobody reads", || {
        client.stats().pings_sent >= 1
    })
    .await;
    let read_while_stalled = client.stats().messages_received;
    assert!(
        read_while_stalled < 100,
        "read {read_while_stalled} messages with nobody listening"
    );

    let mut expected = 0;
    while expected < COUNT {
        match next_event(&mut events).await {
            Event::Message(message) => {
                assert_eq!(message.as_text(), Some(format!("m{expected}").as_str()));
                expected += 1;
            }
            Event::Connecting { attempt: 0 } | Event::Open { .. } if expected == 0 => {}
            Event::Rtt(_) => {}
            other => panic!("unexpected {other:?} after {expected} messages"),
        }
    }
    assert_eq!(client.state(), State::Open);
}

async fn dropping_every_handle_closes_with_going_away(executor: Executor) {
    let server = TestServer::start();
    let (client, mut events) = executor.connect(options(&server.url()).build().unwrap());
    wait_for(&mut events, "open", is_open).await;
    drop(client);
    drop(events);
    assert!(server.wait_for_client_closes(1, DEADLINE));
    assert_eq!(server.client_close_codes(), [Some(1001)]);
}

async fn dropping_the_driver_stops_the_client(_executor: Executor) {
    let (client, mut events, driver) = ws_async_std::connect(
        options(&format!("ws://{}/", closed_port()))
            .build()
            .unwrap(),
    );
    drop(driver);
    assert!(matches!(client.send_text("x").await, Err(Error::Stopped)));
    timeout(DEADLINE, client.stopped()).await.unwrap();
    assert!(timeout(DEADLINE, events.next()).await.unwrap().is_none());
}

async fn headers_and_subprotocols_are_sent_and_the_choice_reported(executor: Executor) {
    let server = TestServer::start();
    let options = options(&server.url())
        .header("x-app", "demo")
        .subprotocol("chat.v2")
        .subprotocol("chat.v1")
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
    let event = wait_for(&mut events, "open", is_open).await;
    assert!(
        matches!(event, Event::Open { subprotocol: Some(ref p) } if p == "chat.v2"),
        "{event:?}"
    );
    let request = &server.requests()[0];
    assert_eq!(request.header("x-app"), Some("demo"));
    assert_eq!(
        request.header("sec-websocket-protocol"),
        Some("chat.v2, chat.v1")
    );
    client.close(CloseCode::NORMAL, "").await.unwrap();
    until_end(&mut events).await;
}

async fn tokens_never_show_in_debug_output(executor: Executor) {
    let addr = closed_port();
    let options = ClientOptions::builder(&format!("ws://{addr}/x?token=s3cret&room=1"))
        .config(fast_config().no_reconnect().build().unwrap())
        .build()
        .unwrap();
    let shown_options = format!("{options:?}");
    let (client, mut events, driver) = ws_async_std::connect(options);
    let shown_driver = format!("{driver:?}");
    executor.spawn(driver);
    let all = until_end(&mut events).await;
    let shown = format!("{shown_options} {shown_driver} {client:?} {all:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("token=***&room=***"), "{shown}");
}

async fn sends_while_connecting_are_queued_and_refusals_come_back(executor: Executor) {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Delay(Duration::from_millis(200)),
        ..Behavior::default()
    });
    let config = fast_config().queue_max_messages(2).build().unwrap();
    let options = ClientOptions::builder(&server.url())
        .config(config)
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
    // Sent while the handshake is held back: queued (two fit), the third is refused.
    for text in ["a", "b", "c"] {
        client.try_send(text).unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 4 {
        match next_event(&mut events).await {
            Event::Rejected { message, reason } => {
                seen.push(format!(
                    "rejected {} {reason:?}",
                    message.as_text().unwrap()
                ));
            }
            Event::Message(message) => seen.push(format!("echo {}", message.as_text().unwrap())),
            Event::Open { .. } => seen.push("open".into()),
            _ => {}
        }
    }
    assert_eq!(seen, ["rejected c QueueFull", "open", "echo a", "echo b"]);
}

/// No spawning at all: the driver and the application share one future on the test thread,
/// which shows the driver needs nothing from an executor but to be polled.
async fn the_driver_also_runs_inline_on_the_test_thread(_executor: Executor) {
    let server = TestServer::start();
    let (client, mut events, driver) =
        ws_async_std::connect(options(&server.url()).build().unwrap());
    let application = async {
        wait_for(&mut events, "open", is_open).await;
        client.send_text("inline").await.unwrap();
        let event = wait_for(&mut events, "echo", |e| matches!(e, Event::Message(_))).await;
        client.close(CloseCode::NORMAL, "").await.unwrap();
        let rest = until_end(&mut events).await;
        (event, rest)
    };
    let ((event, rest), ()) = futures_util::future::join(application, driver).await;
    assert!(
        matches!(&event, Event::Message(m) if m.as_text() == Some("inline")),
        "{event:?}"
    );
    assert!(matches!(rest.last(), Some(Event::Closed)), "{rest:?}");
}
