//! `wss://` for real: a local TLS WebSocket server with a CA made at test time.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{DEADLINE, echo, fast_config, listener, next_event, serve_tcp, until_end, wait_for};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use ws_tokio::{ClientOptions, CloseCode, Disconnect, Error, Event, Message, Tls};
use ws_transport::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_transport::rustls::{self, RootCertStore};

/// A test CA and a server certificate it signed for 127.0.0.1 and localhost.
struct Pki {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn certificate_authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn pki() -> Pki {
    let ca = certificate_authority("ws-tokio test CA");
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &*ca).unwrap();
    Pki {
        ca: ca.der().clone(),
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

fn trusting(ca: CertificateDer<'static>) -> Tls {
    let mut roots = RootCertStore::empty();
    roots.add(ca).unwrap();
    Tls::with_root_certificates(roots)
}

/// An echo server behind TLS on 127.0.0.1; returns its `wss://` URL.
async fn tls_echo_server(pki: Pki) -> String {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(pki.chain, pki.key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
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
    let pki = pki();
    let ca = pki.ca.clone();
    let url = tls_echo_server(pki).await;
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap())
        .tls(trusting(ca))
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
    let url = tls_echo_server(pki()).await;
    let stranger = certificate_authority("some other CA");
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap()) // reconnects forever, except on permanent failures
        .tls(trusting(stranger.der().clone()))
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
