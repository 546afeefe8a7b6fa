//! `wss://` for real: a local TLS WebSocket server (rustls on plain threads) with a CA made at
//! test time.

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fast_config, is_open, next_event, until_end, wait_for};
use ws_blocking::{ClientOptions, CloseCode, ConnectFailure, Disconnect, Error, Event, Message};
use ws_client::rustls::{self, ServerConnection, StreamOwned};
use ws_testkit::pki::TestPki;

/// A TLS echo server on `listener`, a thread per connection (left running: the test process
/// ends with them). Returns its `wss://` URL with a secret in the query.
fn tls_echo_server(pki: &TestPki, listener: TcpListener) -> String {
    let config = pki.server_config();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || echo(config, tcp));
        }
    });
    format!("wss://{addr}/secure?token=s3cret")
}

fn echo(config: Arc<rustls::ServerConfig>, tcp: TcpStream) {
    let tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
    let Ok(mut socket) = tungstenite::accept(tls) else {
        return;
    };
    while let Ok(message) = socket.read() {
        if (message.is_text() || message.is_binary()) && socket.send(message).is_err() {
            return;
        }
    }
}

fn echo_over_tls(listener: TcpListener) {
    let pki = TestPki::new("ws-blocking test CA");
    let url = tls_echo_server(&pki, listener);
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap())
        .tls(pki.trusting())
        .build()
        .unwrap();
    let (client, mut events) = ws_blocking::connect(options);
    wait_for(&mut events, "open", is_open);
    client.send_text("over tls").unwrap();
    let Event::Message(message) = next_event(&mut events) else {
        panic!("message expected")
    };
    assert_eq!(message, Message::from("over tls"));
    client.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(until_end(&mut events).last(), Some(Event::Closed)));
}

#[test]
fn wss_with_the_right_ca_connects_and_echoes() {
    echo_over_tls(TcpListener::bind("127.0.0.1:0").unwrap());
}

/// The server name given to rustls is the host without the URL's brackets.
#[test]
fn wss_to_an_ipv6_literal_verifies_the_address() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    };
    echo_over_tls(listener);
}

#[test]
fn wss_with_a_wrong_ca_fails_fast_with_a_tls_error_and_stops() {
    let url = tls_echo_server(
        &TestPki::new("ws-blocking test CA"),
        TcpListener::bind("127.0.0.1:0").unwrap(),
    );
    let stranger = TestPki::new("some other CA");
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap()) // reconnects forever, except on permanent failures
        .tls(stranger.trusting())
        .build()
        .unwrap();
    let started = Instant::now();
    let (_client, mut events) = ws_blocking::connect(options);
    let all = until_end(&mut events);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let [
        Event::Connecting { attempt: 0 },
        Event::Disconnected {
            cause,
            will_reconnect: false,
            error: Some(error),
            ..
        },
        Event::Closed,
    ] = all.as_slice()
    else {
        panic!("{all:?}");
    };
    assert_eq!(*cause, Disconnect::ConnectFailed(ConnectFailure::Tls));
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.starts_with("TLS with 127.0.0.1:") && text.contains("UnknownIssuer"),
        "{text}"
    );
}
