//! The `TestServer`'s knobs, each driven by a plain blocking tungstenite client.

mod common;

use std::time::{Duration, Instant};

use common::{QUIET, WAIT, connect, is_timeout, read, read_text, set_read_timeout, try_connect};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Error, Message};
use ws_testkit::{AppHeartbeat, Behavior, HandshakeMode, Payload, PingMode, Received, TestServer};

#[test]
fn echoes_text_and_binary_and_records_them() {
    let server = TestServer::start();
    assert!(server.url().starts_with("ws://127.0.0.1:"));
    let mut client = connect(&server.url());
    client.send(Message::text("hello")).unwrap();
    assert_eq!(read_text(&mut client), "hello");
    client.send(Message::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(read(&mut client), Message::binary(vec![1, 2, 3]));

    assert_eq!(server.connections(), 1);
    assert_eq!(server.handshake_attempts(), 1);
    assert_eq!(
        server.received(),
        vec![
            Received {
                conn: 1,
                payload: Payload::Text("hello".into())
            },
            Received {
                conn: 1,
                payload: Payload::Binary(vec![1, 2, 3].into())
            },
        ]
    );
}

#[test]
fn echo_can_be_switched_off_on_an_open_connection() {
    let server = TestServer::start();
    let mut client = connect(&server.url());
    server.set_behavior(Behavior {
        echo: false,
        ..server.behavior()
    });
    client.send(Message::text("not echoed")).unwrap();
    assert!(server.wait_for_received(1, WAIT));
    // Had "not echoed" come back, it would arrive before the marker.
    assert_eq!(server.send_text("marker"), 1);
    assert_eq!(read_text(&mut client), "marker");
    assert_eq!(server.received_texts(), ["not echoed"]);
}

#[test]
fn refused_handshake_returns_status_and_retry_after() {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 503,
            retry_after: Some(7),
        },
        ..Behavior::default()
    });
    let err = try_connect(server.url(), None).expect_err("handshake must be refused");
    let Error::Http(response) = *err else {
        panic!("expected an HTTP error, got {err:?}")
    };
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").unwrap(), "7");
    assert_eq!(server.handshake_attempts(), 1);
    assert_eq!(server.connections(), 0);

    // Switching back lets the next attempt in.
    server.set_behavior(Behavior::default());
    let mut client = connect(&server.url());
    client.send(Message::text("in")).unwrap();
    assert_eq!(read_text(&mut client), "in");
    assert_eq!(server.handshake_attempts(), 2);
    let times = server.handshake_attempt_times();
    assert_eq!(times.len(), 2);
    assert!(times[0] <= times[1] && times[1] <= Instant::now());
}

#[test]
fn request_target_headers_and_subprotocol_are_recorded() {
    let server = TestServer::start();
    let mut request = format!("{}feed?token=abc", server.url())
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("x-test", HeaderValue::from_static("yes"));
    headers.insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("chat.v1, chat.v2"),
    );
    let (_client, response) = try_connect(request, None).expect("connect");
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        "chat.v1"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/feed?token=abc");
    assert_eq!(requests[0].header("X-Test"), Some("yes"));
    assert_eq!(
        requests[0].header("sec-websocket-protocol"),
        Some("chat.v1, chat.v2")
    );
}

#[test]
fn app_heartbeat_is_answered_and_not_recorded() {
    let server = TestServer::start_with(Behavior {
        app_heartbeat: Some(AppHeartbeat::reply("ping", "pong")),
        ..Behavior::default()
    });
    let mut client = connect(&server.url());
    client.send(Message::text("ping")).unwrap();
    assert_eq!(read_text(&mut client), "pong");
    client.send(Message::text("data")).unwrap();
    assert_eq!(read_text(&mut client), "data");
    assert_eq!(server.app_pings(), 1);
    assert_eq!(server.received_texts(), ["data"]);
}

#[test]
fn app_heartbeat_can_be_swallowed() {
    let server = TestServer::start_with(Behavior {
        app_heartbeat: Some(AppHeartbeat::ignore("ping")),
        ..Behavior::default()
    });
    let mut client = connect(&server.url());
    client.send(Message::text("ping")).unwrap();
    client.send(Message::text("data")).unwrap();
    // Neither a pong nor an echo of "ping" comes before the echo of "data".
    assert_eq!(read_text(&mut client), "data");
    assert!(server.wait_for_app_pings(1, WAIT));
    assert_eq!(server.received_texts(), ["data"]);
}

#[test]
fn protocol_pings_are_answered_by_default() {
    let server = TestServer::start();
    let mut client = connect(&server.url());
    client.send(Message::Ping("p1".into())).unwrap();
    assert_eq!(read(&mut client), Message::Pong("p1".into()));
}

#[test]
fn ignored_pings_get_no_pong_while_data_still_flows() {
    let server = TestServer::start_with(Behavior {
        pings: PingMode::Ignore,
        ..Behavior::default()
    });
    let mut client = connect(&server.url());
    client.send(Message::Ping("p1".into())).unwrap();
    client.send(Message::text("after")).unwrap();
    // A Pong would be written before the echo of the later message.
    assert_eq!(read_text(&mut client), "after");
    set_read_timeout(&client, QUIET);
    let err = client.read().expect_err("no Pong may arrive");
    assert!(is_timeout(&err), "{err:?}");

    // Back to answering: the same connection gets Pongs again.
    server.set_behavior(Behavior::default());
    set_read_timeout(&client, WAIT);
    client.send(Message::Ping("p2".into())).unwrap();
    assert_eq!(read(&mut client), Message::Pong("p2".into()));
}

#[test]
fn delayed_pings_are_answered_after_the_delay_without_holding_data() {
    let delay = Duration::from_millis(400);
    let server = TestServer::start_with(Behavior {
        pings: PingMode::Delay(delay),
        ..Behavior::default()
    });
    let mut client = connect(&server.url());
    let sent = Instant::now();
    client.send(Message::Ping("late".into())).unwrap();
    client.send(Message::text("now")).unwrap();
    assert_eq!(read_text(&mut client), "now");
    assert!(sent.elapsed() < delay);
    assert_eq!(read(&mut client), Message::Pong("late".into()));
    assert!(sent.elapsed() >= delay);
}

#[test]
fn server_pings_and_records_the_pongs() {
    let server = TestServer::start();
    let mut client = connect(&server.url());
    assert!(server.wait_for_connections(1, WAIT));
    assert_eq!(server.send_ping(b"sp"), 1);
    assert_eq!(read(&mut client), Message::Ping("sp".into()));
    // tungstenite queued the Pong; a flush sends it.
    client.flush().unwrap();
    assert!(server.wait_for_pongs(1, WAIT));
    assert_eq!(server.pongs(), [&b"sp"[..]]);
}

#[test]
fn stall_makes_a_client_read_time_out_with_the_socket_open() {
    let server = TestServer::start();
    let mut client = connect(&server.url());
    client.send(Message::text("before")).unwrap();
    assert_eq!(read_text(&mut client), "before");
    assert_eq!(server.stall(), 1);

    client.send(Message::text("into the void")).unwrap();
    client.send(Message::Ping("anyone?".into())).unwrap();
    set_read_timeout(&client, QUIET);
    let err = client.read().expect_err("a stalled server answers nothing");
    assert!(is_timeout(&err), "a timeout, not a closed socket: {err:?}");
    assert_eq!(server.received_texts(), ["before"]);

    // Later connections are served normally.
    let mut fresh = connect(&server.url());
    fresh.send(Message::text("fresh")).unwrap();
    assert_eq!(read_text(&mut fresh), "fresh");
}

#[test]
fn close_all_delivers_code_and_reason_and_records_the_reply() {
    let server = TestServer::start();
    let mut client = connect(&server.url());
    assert!(server.wait_for_connections(1, WAIT));
    assert_eq!(server.close_all(4000, "going away for a test"), 1);
    let Message::Close(Some(frame)) = read(&mut client) else {
        panic!("expected a Close frame")
    };
    assert_eq!(u16::from(frame.code), 4000);
    assert_eq!(frame.reason.as_str(), "going away for a test");
    // Reading on lets tungstenite send the Close reply and see the end of the connection.
    assert!(matches!(client.read(), Err(Error::ConnectionClosed)));
    assert!(server.wait_for_client_closes(1, WAIT));
    assert_eq!(server.client_close_codes(), [Some(4000)]);
}

#[test]
fn client_initiated_close_code_is_recorded() {
    let server = TestServer::start();
    let mut client = connect(&server.url());
    client
        .close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "bye".into(),
        }))
        .unwrap();
    loop {
        match client.read() {
            Ok(_) => {}
            Err(Error::ConnectionClosed) => break,
            Err(err) => panic!("unexpected error {err:?}"),
        }
    }
    assert!(server.wait_for_client_closes(1, WAIT));
    assert_eq!(server.client_close_codes(), [Some(1001)]);
}

#[test]
fn stop_drops_connections_and_restart_reuses_the_port_and_recording() {
    let server = TestServer::start();
    let addr = server.addr();
    let mut client = connect(&server.url());
    client.send(Message::text("one")).unwrap();
    assert_eq!(read_text(&mut client), "one");

    server.stop();
    let err = client.read().expect_err("the connection was dropped");
    assert!(
        !is_timeout(&err),
        "the connection must end, not hang: {err:?}"
    );
    let err = try_connect(server.url(), None).expect_err("nobody listens");
    assert!(
        matches!(&*err, Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused),
        "{err:?}"
    );

    server.restart();
    assert_eq!(server.addr(), addr);
    let mut client = connect(&server.url());
    client.send(Message::text("two")).unwrap();
    assert_eq!(read_text(&mut client), "two");
    assert_eq!(server.received_texts(), ["one", "two"]);
    assert_eq!(server.received()[1].conn, 2);
    assert_eq!(server.connections(), 2);
}

#[test]
fn delayed_handshake_completes_after_the_delay() {
    let delay = Duration::from_millis(300);
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Delay(delay),
        ..Behavior::default()
    });
    let started = Instant::now();
    let mut client = connect(&server.url());
    assert!(started.elapsed() >= delay);
    client.send(Message::text("late")).unwrap();
    assert_eq!(read_text(&mut client), "late");
}

#[test]
fn hanging_handshake_is_never_answered() {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Hang,
        ..Behavior::default()
    });
    let request = server.url().into_client_request().unwrap();
    let stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(QUIET)).unwrap();
    let result = tungstenite::client(request, stream);
    assert!(
        matches!(result, Err(tungstenite::HandshakeError::Interrupted(_))),
        "the handshake read must time out"
    );
    assert!(server.wait_for_handshake_attempts(1, WAIT));
    assert_eq!(server.requests()[0].path, "/");
    assert_eq!(server.connections(), 0);
}

#[test]
fn invalid_raw_frames_cause_client_protocol_errors() {
    let server = TestServer::start();
    // FIN + all three reserved bits + text opcode, empty payload.
    let mut client = connect(&server.url());
    assert!(server.wait_for_connections(1, WAIT));
    assert_eq!(server.send_raw(&[0xF1, 0x00]), 1);
    let err = client
        .read()
        .expect_err("reserved bits are a protocol error");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    drop(client);

    // A masked frame from the server.
    let mut client = connect(&server.url());
    assert!(server.wait_for_connections(2, WAIT));
    server.send_raw(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
    let err = client
        .read()
        .expect_err("a masked server frame is a protocol error");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
}

#[test]
fn twenty_mib_messages_travel_both_ways() {
    const SIZE: usize = 20 << 20;
    let big = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let server = TestServer::start_with(Behavior {
        echo: false,
        ..Behavior::default()
    });
    let (mut client, _) = try_connect(server.url(), Some(big)).expect("connect");
    assert!(server.wait_for_connections(1, WAIT));

    let payload: Vec<u8> = (0..SIZE).map(|i| i as u8).collect();
    server.send_binary(&payload);
    let Message::Binary(received) = read(&mut client) else {
        panic!("expected binary")
    };
    assert_eq!(received.len(), SIZE);
    assert!(received == payload);

    client.send(Message::binary(payload.clone())).unwrap();
    assert!(server.wait_for_received(1, WAIT));
    assert_eq!(server.received()[0].binary().map(<[u8]>::len), Some(SIZE));
}

#[test]
fn dropping_the_server_frees_the_port() {
    let server = TestServer::start();
    let addr = server.addr();
    let _client = connect(&server.url());
    drop(server);
    let err = std::net::TcpStream::connect(addr).expect_err("the port is closed");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}
