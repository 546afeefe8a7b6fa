//! `wss://` for real: a local TLS WebSocket server (rustls on plain threads) with a CA made at
//! test time.

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fast_config, is_open, next_event, until_end, wait_for};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use ws_blocking::{
    ClientOptions, CloseCode, ConnectFailure, Disconnect, Error, Event, Message, Tls,
};
use ws_transport::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_transport::rustls::{self, RootCertStore, ServerConnection, StreamOwned};

/// A test CA and a server certificate it signed for `127.0.0.1`, `::1` and `localhost`.
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
    let ca = certificate_authority("ws-blocking test CA");
    let key = KeyPair::generate().unwrap();
    let names = ["127.0.0.1", "::1", "localhost"]
        .map(str::to_owned)
        .to_vec();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &*ca)
        .unwrap();
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

/// A TLS echo server on `listener`, a thread per connection (left running: the test process
/// ends with them). Returns its `wss://` URL with a secret in the query.
fn tls_echo_server(pki: Pki, listener: TcpListener) -> String {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(pki.chain, pki.key)
    .unwrap();
    let config = Arc::new(config);
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
    let pki = pki();
    let ca = pki.ca.clone();
    let url = tls_echo_server(pki, listener);
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap())
        .tls(trusting(ca))
        .build()
        .unwrap();
    let (client, events) = ws_blocking::connect(options);
    wait_for(&events, "open", is_open);
    client.send_text("over tls").unwrap();
    let Event::Message(message) = next_event(&events) else {
        panic!("message expected")
    };
    assert_eq!(message, Message::from("over tls"));
    client.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(until_end(&events).last(), Some(Event::Closed)));
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
    let url = tls_echo_server(pki(), TcpListener::bind("127.0.0.1:0").unwrap());
    let stranger = certificate_authority("some other CA");
    let options = ClientOptions::builder(&url)
        .config(fast_config().build().unwrap()) // reconnects forever, except on permanent failures
        .tls(trusting(stranger.der().clone()))
        .build()
        .unwrap();
    let started = Instant::now();
    let (_client, events) = ws_blocking::connect(options);
    let all = until_end(&events);
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
