//! The tokio adapter against real sockets on 127.0.0.1.

// tungstenite's handshake callbacks return `Result<Response, ErrorResponse>`, a large `Err`.
#![allow(clippy::result_large_err)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    DEADLINE, echo, fast_config, listener, next_event, serve, serve_tcp, server_next, until_end,
    wait_for,
};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WireMessage;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use ws_tokio::{
    ClientOptions, CloseCode, Disconnect, Endpoint, Error, Event, Message, MessageExt, State,
    Target,
};

fn options(url: &str) -> ws_tokio::ClientOptionsBuilder {
    ClientOptions::builder(url)
        .config(fast_config().build().unwrap())
        .seed(1)
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Chat {
    cmd: u8,
    msg: String,
}

#[tokio::test]
async fn echoes_text_binary_and_json_and_tracks_state() {
    let (listener, addr) = listener().await;
    serve(listener, |_, socket| echo(socket));
    let (client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());

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
}

#[tokio::test]
async fn a_10_mib_message_round_trips_intact() {
    let (listener, addr) = listener().await;
    serve(listener, |_, socket| echo(socket));
    let (client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());
    wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;

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

#[tokio::test]
async fn an_oversized_message_is_a_typed_error_and_is_not_retried() {
    let (listener, addr) = listener().await;
    serve(listener, |_, mut socket| async move {
        let big = vec![0u8; 2 * 1024 * 1024];
        let _ = socket.send(WireMessage::Binary(big.into())).await;
        let _ = socket.next().await;
    });
    let options = options(&format!("ws://{addr}/"))
        .max_message_size(1024 * 1024)
        .build()
        .unwrap();
    let (_client, mut events) = ws_tokio::connect(options);

    let event = wait_for(&mut events, "disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
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
        Disconnect::Transport(ws_tokio::TransportError::MessageTooLarge)
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
    assert_eq!(
        error.to_string(),
        "the peer sent a message of 2097152 bytes, over the limit of 1048576 bytes"
    );
    assert!(matches!(
        until_end(&mut events).await.last(),
        Some(Event::Closed)
    ));
}

#[tokio::test]
async fn an_invalid_frame_is_a_protocol_error() {
    let (listener, addr) = listener().await;
    serve(listener, |_, mut socket| async move {
        // FIN + all three reserved bits + text opcode, empty and unmasked.
        let _ = socket.get_mut().write_all(&[0xF1, 0x00]).await;
        let _ = socket.get_mut().flush().await;
        let _ = socket.next().await;
    });
    let (_client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());

    let event = wait_for(&mut events, "disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
    let Event::Disconnected {
        cause,
        will_reconnect: false,
        error: Some(Error::Protocol { reason, .. }),
        ..
    } = event
    else {
        panic!("{event:?}");
    };
    assert_eq!(
        cause,
        Disconnect::Transport(ws_tokio::TransportError::Protocol)
    );
    assert!(reason.contains("Reserved bits"), "{reason}");
}

#[tokio::test]
async fn peer_pings_are_answered_while_the_application_is_silent() {
    let (listener, addr) = listener().await;
    let (pong_sender, mut pongs) = mpsc::unbounded_channel();
    serve(listener, move |_, mut socket| {
        let pong_sender = pong_sender.clone();
        async move {
            socket
                .send(WireMessage::Ping(b"are you there".to_vec().into()))
                .await
                .unwrap();
            let reply = server_next(&mut socket).await;
            pong_sender.send(reply).unwrap();
            let _ = socket.next().await;
        }
    });
    let (_client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());
    wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;

    let reply = timeout(DEADLINE, pongs.recv()).await.unwrap().unwrap();
    assert_eq!(reply, WireMessage::Pong(b"are you there".to_vec().into()));
}

#[tokio::test]
async fn reconnects_after_the_server_drops_and_delivers_the_queue_in_order() {
    let (listener, addr) = listener().await;
    serve(listener, |index, socket| async move {
        if index == 0 {
            drop(socket); // connection lost without a close frame
        } else {
            echo(socket).await;
        }
    });
    let config = fast_config()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(200))
        .build()
        .unwrap();
    let options = ClientOptions::builder(&format!("ws://{addr}/"))
        .config(config)
        .build()
        .unwrap();
    let (client, mut events) = ws_tokio::connect(options);

    let event = wait_for(&mut events, "disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
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
        matches!(event, Event::Reconnecting { attempt: 1, delay } if delay == Duration::from_millis(100))
    );
    wait_for(&mut events, "second open", |e| {
        matches!(e, Event::Open { .. })
    })
    .await;
    let mut received = Vec::new();
    while received.len() < 3 {
        match next_event(&mut events).await {
            Event::Message(message) => received.push(message.as_text().unwrap().to_owned()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(received, ["one", "two", "three"]);
    assert_eq!(
        (client.stats().reconnects, client.stats().messages_sent),
        (1, 3)
    );
}

fn refuse(
    status: u16,
    retry_after: Option<&'static str>,
) -> impl Fn(usize, tokio::net::TcpStream) -> futures_util::future::BoxFuture<'static, ()>
+ Send
+ Sync
+ 'static {
    move |_, tcp| {
        Box::pin(async move {
            let callback = move |_: &Request, _: Response| -> Result<Response, ErrorResponse> {
                let mut response = Response::builder().status(status);
                if let Some(value) = retry_after {
                    response = response.header("Retry-After", value);
                }
                Err(response.body(Some("not today".to_owned())).unwrap())
            };
            let _ = tokio_tungstenite::accept_hdr_async(tcp, callback).await;
        })
    }
}

#[tokio::test]
async fn an_http_401_refusal_is_permanent_and_typed() {
    let (listener, addr) = listener().await;
    serve_tcp(listener, refuse(401, None));
    let (_client, mut events) = ws_tokio::connect(
        options(&format!("ws://{addr}/feed?token=s3cret"))
            .build()
            .unwrap(),
    );

    let all = until_end(&mut events).await;
    let Some(Event::Disconnected {
        will_reconnect: false,
        error: Some(error),
        ..
    }) = all.iter().find(|e| matches!(e, Event::Disconnected { .. }))
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
    assert_eq!(
        error.to_string(),
        format!(
            "ws://{addr}/feed?token=*** answered HTTP 401 Unauthorized instead of switching to \
             WebSocket: \"not today\""
        )
    );
    assert!(matches!(all.last(), Some(Event::Closed)));
}

#[tokio::test]
async fn an_http_503_retry_after_sets_the_reconnect_delay() {
    let (listener, addr) = listener().await;
    serve_tcp(listener, refuse(503, Some("3")));
    let (client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());

    let event = wait_for(&mut events, "disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
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
}

#[tokio::test]
async fn a_hanging_handshake_can_be_closed_and_hits_the_connect_timeout() {
    let (listener, addr) = listener().await;
    // Accept TCP, then say nothing: the handshake hangs.
    serve_tcp(listener, |_, tcp| async move {
        std::future::pending::<()>().await;
        drop(tcp);
    });

    // Close works while the handshake hangs.
    let (client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());
    assert!(matches!(
        next_event(&mut events).await,
        Event::Connecting { .. }
    ));
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
    let options = ClientOptions::builder(&format!("ws://{addr}/"))
        .config(config)
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let (_client, mut events) = ws_tokio::connect(options);
    let all = until_end(&mut events).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
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
        format!("connecting to ws://{addr}/ timed out")
    );
}

#[tokio::test]
async fn a_refused_port_is_reported_as_refused() {
    let (listener, addr) = listener().await;
    drop(listener);
    let config = fast_config().no_reconnect().build().unwrap();
    let options = ClientOptions::builder(&format!("ws://{addr}/"))
        .config(config)
        .build()
        .unwrap();
    let (_client, mut events) = ws_tokio::connect(options);
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

#[tokio::test]
async fn a_silent_peer_is_dropped_by_the_heartbeat() {
    let (listener, addr) = listener().await;
    // Never read: pings are not answered.
    serve(listener, |_, socket| async move {
        std::future::pending::<()>().await;
        drop(socket);
    });
    let config = fast_config()
        .ping_interval(Duration::from_millis(100))
        .pong_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let options = ClientOptions::builder(&format!("ws://{addr}/"))
        .config(config)
        .build()
        .unwrap();
    let (_client, mut events) = ws_tokio::connect(options);
    wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;
    let opened = tokio::time::Instant::now();
    let event = wait_for(&mut events, "disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
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

#[tokio::test]
async fn a_graceful_close_sends_code_and_reason_and_ends_the_stream() {
    let (listener, addr) = listener().await;
    let (close_sender, mut closes) = mpsc::unbounded_channel();
    serve(listener, move |_, mut socket| {
        let close_sender = close_sender.clone();
        async move {
            while let Some(Ok(message)) = socket.next().await {
                if let WireMessage::Close(frame) = message {
                    close_sender.send(frame).unwrap();
                }
            }
        }
    });
    let (client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());
    wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;
    assert!(matches!(
        client.close(CloseCode(1005), "").await,
        Err(Error::InvalidClose(_))
    ));
    client.close(CloseCode::NORMAL, "bye").await.unwrap();

    let frame = timeout(DEADLINE, closes.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1000, "bye")
    );
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
}

#[tokio::test]
async fn the_peers_close_code_and_reason_reach_the_application() {
    let (listener, addr) = listener().await;
    serve(listener, |_, mut socket| async move {
        let frame = CloseFrame {
            code: 4001.into(),
            reason: "kicked".into(),
        };
        let _ = socket.close(Some(frame)).await;
    });
    let (client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());
    let event = wait_for(&mut events, "disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
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
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        until_end(&mut events).await.last(),
        Some(Event::Closed)
    ));
}

#[tokio::test]
async fn the_provider_gives_every_attempt_a_fresh_token() {
    let (listener, addr) = listener().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    serve_tcp(listener, move |_, tcp| {
        let record = record.clone();
        async move {
            let callback =
                |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
                    let auth = request
                        .headers()
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_owned());
                    record
                        .lock()
                        .unwrap()
                        .push((request.uri().to_string(), auth));
                    Ok(response)
                };
            // Each connection is dropped right after the handshake, forcing a reconnect.
            drop(tokio_tungstenite::accept_hdr_async(tcp, callback).await);
        }
    });
    let endpoint = Endpoint::from_fn(move |attempt| {
        Target::parse(&format!("ws://{addr}/chat?token=t{attempt}"))?
            .with_header("authorization", &format!("Bearer b{attempt}"))
    });
    let options = ClientOptions::builder_with(endpoint)
        .config(fast_config().build().unwrap())
        .build()
        .unwrap();
    let (client, mut events) = ws_tokio::connect(options);
    for _ in 0..3 {
        wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;
    }
    client.close(CloseCode::NORMAL, "").await.unwrap();
    until_end(&mut events).await;
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[..3],
        [
            ("/chat?token=t0".to_owned(), Some("Bearer b0".to_owned())),
            ("/chat?token=t1".to_owned(), Some("Bearer b1".to_owned())),
            ("/chat?token=t2".to_owned(), Some("Bearer b2".to_owned())),
        ]
    );
}

#[tokio::test]
async fn a_slow_reader_keeps_the_heartbeat_going_and_loses_nothing() {
    const COUNT: usize = 500;
    let (listener, addr) = listener().await;
    let (ping_sender, mut pings) = mpsc::unbounded_channel();
    serve(listener, move |_, mut socket| {
        let ping_sender = ping_sender.clone();
        async move {
            for i in 0..COUNT {
                socket
                    .feed(WireMessage::Text(format!("m{i}").into()))
                    .await
                    .unwrap();
            }
            socket.flush().await.unwrap();
            // The client must keep pinging while its application reads nothing.
            loop {
                match server_next(&mut socket).await {
                    WireMessage::Ping(_) => {
                        let _ = ping_sender.send(());
                    }
                    WireMessage::Close(_) => return,
                    _ => {}
                }
            }
        }
    });
    let config = fast_config()
        .ping_interval(Duration::from_millis(50))
        .pong_timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    let options = ClientOptions::builder(&format!("ws://{addr}/"))
        .config(config)
        .event_capacity(4)
        .build()
        .unwrap();
    let (client, mut events) = ws_tokio::connect(options);

    // The application reads nothing, yet the heartbeat goes out (one ping per silence: the
    // next one waits for a sign of life, which sits unread behind the messages).
    timeout(DEADLINE, pings.recv()).await.unwrap().unwrap();
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
            other => panic!("unexpected {other:?} after {expected} messages"),
        }
    }
    assert_eq!(client.state(), State::Open);
}

#[tokio::test]
async fn dropping_every_handle_closes_with_going_away() {
    let (listener, addr) = listener().await;
    let (close_sender, mut closes) = mpsc::unbounded_channel();
    serve(listener, move |_, mut socket| {
        let close_sender = close_sender.clone();
        async move {
            while let Some(Ok(message)) = socket.next().await {
                if let WireMessage::Close(frame) = message {
                    close_sender.send(frame.map(|f| u16::from(f.code))).unwrap();
                }
            }
        }
    });
    let (client, mut events) =
        ws_tokio::connect(options(&format!("ws://{addr}/")).build().unwrap());
    wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;
    drop(client);
    drop(events);
    let code = timeout(DEADLINE, closes.recv()).await.unwrap().unwrap();
    assert_eq!(code, Some(1001));
}

#[tokio::test]
async fn headers_and_subprotocols_are_sent_and_the_choice_reported() {
    let (listener, addr) = listener().await;
    serve_tcp(listener, |_, tcp| async move {
        let callback =
            |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
                assert_eq!(request.headers()["x-app"], "demo");
                assert_eq!(
                    request.headers()["sec-websocket-protocol"],
                    "chat.v2, chat.v1"
                );
                response
                    .headers_mut()
                    .insert("sec-websocket-protocol", "chat.v1".parse().unwrap());
                Ok(response)
            };
        if let Ok(socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
            echo(socket).await;
        }
    });
    let options = options(&format!("ws://{addr}/"))
        .header("x-app", "demo")
        .subprotocol("chat.v2")
        .subprotocol("chat.v1")
        .build()
        .unwrap();
    let (client, mut events) = ws_tokio::connect(options);
    let event = wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;
    assert!(
        matches!(event, Event::Open { subprotocol: Some(ref p) } if p == "chat.v1"),
        "{event:?}"
    );
    client.close(CloseCode::NORMAL, "").await.unwrap();
    until_end(&mut events).await;
}

#[tokio::test]
async fn tokens_never_show_in_debug_output() {
    let (listener, addr) = listener().await;
    drop(listener);
    let options = ClientOptions::builder(&format!("ws://{addr}/x?token=s3cret&room=1"))
        .config(fast_config().no_reconnect().build().unwrap())
        .build()
        .unwrap();
    let shown_options = format!("{options:?}");
    let (client, mut events) = ws_tokio::connect(options);
    let all = until_end(&mut events).await;
    let shown = format!("{shown_options} {client:?} {all:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("token=***&room=***"), "{shown}");
}

#[tokio::test]
async fn sends_while_connecting_are_queued_and_refusals_come_back() {
    let (listener, addr) = listener().await;
    serve(listener, |_, socket| echo(socket));
    let config = fast_config().queue_max_messages(2).build().unwrap();
    let options = ClientOptions::builder(&format!("ws://{addr}/"))
        .config(config)
        .build()
        .unwrap();
    let (client, mut events) = ws_tokio::connect(options);
    // Sent before the handshake can finish: queued (two fit), the third is refused.
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
