//! `wss://` for real: a local TLS WebSocket server (futures-rustls + async-tungstenite on
//! async-io) with a CA made at test time, under both executors.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use async_io::Async;
use common::{DEADLINE, Executor, fast_config, next_event, timeout, until_end, wait_for};
use futures_rustls::TlsAcceptor;
use futures_util::StreamExt;
use ws_async_std::{ClientOptions, CloseCode, ConnectFailure, Disconnect, Error, Event, Message};
use ws_testkit::pki::TestPki;

on_both_executors!(
    wss_with_the_right_ca_connects_and_echoes,
    wss_to_a_host_name_resolves_and_checks_the_name,
    wss_with_a_wrong_ca_fails_fast_with_a_tls_error_and_stops,
);

fn tls_echo_server(executor: Executor, pki: &TestPki) -> SocketAddr {
    let acceptor = TlsAcceptor::from(pki.server_config());
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
    let addr = listener.get_ref().local_addr().unwrap();
    executor.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            executor.spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut socket) = async_tungstenite::accept_async(tls).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    if (message.is_text() || message.is_binary())
                        && socket.send(message).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

async fn echo_once_over(executor: Executor, url: &str, pki: &TestPki) {
    let options = ClientOptions::builder(url)
        .config(fast_config().build().unwrap())
        .tls(pki.trusting())
        .build()
        .unwrap();
    let (client, mut events) = executor.connect(options);
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

async fn wss_with_the_right_ca_connects_and_echoes(executor: Executor) {
    let pki = TestPki::new("ws-async-std test CA");
    let addr = tls_echo_server(executor, &pki);
    echo_once_over(executor, &format!("wss://{addr}/secure?token=s3cret"), &pki).await;
}

/// `localhost` goes through the resolver (async-net's thread pool) and may come back as `::1`
/// first, where nothing listens: the attempt must move on to 127.0.0.1, and rustls must check
/// the certificate against the name.
async fn wss_to_a_host_name_resolves_and_checks_the_name(executor: Executor) {
    let pki = TestPki::new("ws-async-std test CA");
    let addr = tls_echo_server(executor, &pki);
    let url = format!("wss://localhost:{}/secure", addr.port());
    echo_once_over(executor, &url, &pki).await;
}

async fn wss_with_a_wrong_ca_fails_fast_with_a_tls_error_and_stops(executor: Executor) {
    let addr = tls_echo_server(executor, &TestPki::new("ws-async-std test CA"));
    let stranger = TestPki::new("some other CA");
    let options = ClientOptions::builder(format!("wss://{addr}/secure?token=s3cret"))
        .config(fast_config().build().unwrap()) // reconnects forever, except on permanent failures
        .tls(stranger.trusting())
        .build()
        .unwrap();
    let started = Instant::now();
    let (_client, mut events) = executor.connect(options);
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
    assert_eq!(*cause, Disconnect::ConnectFailed(ConnectFailure::Tls));
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.starts_with("TLS with 127.0.0.1:") && text.contains("UnknownIssuer"),
        "{text}"
    );
}
