//! `wss://` for real: a local TLS WebSocket server with a CA made at test time.

mod common;

use std::time::Duration;

use common::{DEADLINE, echo, fast_config, listener, next_event, serve_tcp, until_end, wait_for};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use ws_testkit::pki::TestPki;
use ws_tokio::{ClientOptions, CloseCode, Disconnect, Error, Event, Message};

/// An echo server behind TLS on 127.0.0.1; returns its `wss://` URL.
async fn tls_echo_server(pki: &TestPki) -> String {
    let acceptor = TlsAcceptor::from(pki.server_config());
    let (listener, addr) = listener().await;
    serve_tcp(listener, move |_, tcp| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            if let Ok(socket) = tokio_tungstenite::accept_async(tls).await {
                echo(socket).await;
            }
        }
    });
    format!("wss://{addr}/secure?token=s3cret")
}

#[tokio::test]
async fn wss_with_the_right_ca_connects_and_echoes() {
    let pki = TestPki::new("ws-tokio test CA");
    let url = tls_echo_server(&pki).await;
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap())
        .tls(pki.trusting())
        .build()
        .unwrap();
    let (client, mut events) = ws_tokio::connect(options);
    wait_for(&mut events, "open", |e| matches!(e, Event::Open { .. })).await;
    client.send_text("over tls").await.unwrap();
    let Event::Message(message) = next_event(&mut events).await else {
        panic!("message expected")
    };
    assert_eq!(message, Message::from("over tls"));
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        until_end(&mut events).await.last(),
        Some(Event::Closed)
    ));
}

#[tokio::test]
async fn wss_with_a_wrong_ca_fails_fast_with_a_tls_error_and_stops() {
    let url = tls_echo_server(&TestPki::new("ws-tokio test CA")).await;
    let stranger = TestPki::new("some other CA");
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap()) // reconnects forever, except on permanent failures
        .tls(stranger.trusting())
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let (_client, mut events) = ws_tokio::connect(options);
    let all = timeout(DEADLINE, until_end(&mut events)).await.unwrap();
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
    assert_eq!(
        *cause,
        Disconnect::ConnectFailed(ws_tokio::ConnectFailure::Tls)
    );
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.starts_with("TLS with 127.0.0.1:") && text.contains("UnknownIssuer"),
        "{text}"
    );
}
