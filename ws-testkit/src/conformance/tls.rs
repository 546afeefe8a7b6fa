//! `wss://` for real, through each adapter's own TLS wiring: the kit's server behind a
//! [`TlsFront`] whose certificate a test CA ([`TestPki`]) signed for `127.0.0.1`, `::1` and
//! `localhost`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use ws_client::{Error, Event};
use ws_core::CloseCode;

use super::observe::{Scenario, describe_all, is_open};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, Handle, SLACK, WAIT};
use crate::pki::TestPki;
use crate::{TestServer, TlsFront};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Connects over TLS to `host` (the front's port), echoes one message and closes cleanly.
fn echo_over_tls<A: Adapter>(
    s: &Scenario,
    adapter: &A,
    pki: &TestPki,
    front: &TlsFront,
    host: &str,
    server: &TestServer,
) {
    let url = format!("wss://{host}:{}/secure?token=s3cret", front.addr().port());
    let mut client = adapter.start(build(options(&url, fast_reconnect()).tls(pki.trusting())));
    s.wait_for(&mut client, WAIT, "Open over TLS", is_open);
    s.send(&client, "over tls");
    s.expect_texts(&mut client, &["over tls"]);
    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
    s.until_end(&mut client, WAIT, "close");
    let requests = server.requests();
    s.check(
        requests.len() == 1 && requests[0].path == "/secure?token=s3cret",
        || format!("expected one request for /secure?token=s3cret, got {requests:?}"),
    );
    s.check(server.received_texts() == ["over tls"], || {
        format!(
            "the server must receive \"over tls\", got {:?}",
            server.received_texts()
        )
    });
}

/// With the right CA, a `wss://` connection opens, carries a message both ways and closes.
pub fn wss_with_the_right_ca_connects_and_echoes<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "wss_with_the_right_ca_connects_and_echoes");
    let pki = TestPki::new("conformance CA");
    let server = TestServer::start();
    let front = TlsFront::start(&pki, V4, server.addr()).expect("bind 127.0.0.1");
    echo_over_tls(&s, adapter, &pki, &front, "127.0.0.1", &server);
}

/// A host name goes through the resolver, and rustls checks the certificate against the
/// name (not an address).
pub fn wss_to_a_host_name_checks_the_certificate_against_the_name<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "wss_to_a_host_name_checks_the_certificate_against_the_name",
    );
    let pki = TestPki::new("conformance CA");
    let server = TestServer::start();
    let front = TlsFront::start(&pki, V4, server.addr()).expect("bind 127.0.0.1");
    echo_over_tls(&s, adapter, &pki, &front, "localhost", &server);
}

/// An IPv6 literal (`wss://[::1]:port/`): the name rustls checks is the address without the
/// URL's brackets.
pub fn wss_to_an_ipv6_literal_verifies_the_address<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "wss_to_an_ipv6_literal_verifies_the_address");
    let pki = TestPki::new("conformance CA");
    let server = TestServer::start();
    let Ok(front) = TlsFront::start(&pki, IpAddr::V6(Ipv6Addr::LOCALHOST), server.addr()) else {
        eprintln!("no IPv6 loopback on this machine: scenario skipped");
        return;
    };
    echo_over_tls(&s, adapter, &pki, &front, "[::1]", &server);
}

/// A server whose certificate the client's CA did not sign: the first attempt fails with a
/// typed TLS error naming the server and rustls' reason, at once, and the client stops (a
/// certificate does not fix itself).
pub fn wss_with_a_wrong_ca_fails_at_once_and_stops<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "wss_with_a_wrong_ca_fails_at_once_and_stops");
    let server = TestServer::start();
    let front = TlsFront::start(&TestPki::new("conformance CA"), V4, server.addr())
        .expect("bind 127.0.0.1");
    let stranger = TestPki::new("some other CA");
    let url = format!("wss://{}/secure?token=s3cret", front.addr());
    let started = Instant::now();
    let mut client = adapter.start(build(
        options(&url, fast_reconnect()).tls(stranger.trusting()),
    ));
    let events = s.until_end(&mut client, WAIT, "the TLS failure");
    let took = started.elapsed();
    let [
        Event::Connecting { attempt: 0 },
        Event::ConnectFailed {
            error: error @ Error::Tls { .. },
            will_reconnect: false,
        },
        Event::Closed,
    ] = events.as_slice()
    else {
        s.fail(format_args!(
            "expected exactly Connecting {{ attempt: 0 }}, ConnectFailed {{ error: Tls, \
             will_reconnect: false }}, Closed; events:{}",
            describe_all(&events)
        ))
    };
    let text = error.to_string();
    let server_name = format!("TLS with {}", front.addr());
    s.check(
        text.starts_with(&server_name) && text.contains("UnknownIssuer"),
        || format!("expected an error starting {server_name:?} naming UnknownIssuer, got {text:?}"),
    );
    s.check(took <= SLACK, || {
        format!("the TLS failure took {took:?} to end the client (allowed {SLACK:?})")
    });
    let failed = front.wait_for_failed_handshakes(1, WAIT);
    s.check(
        failed && front.handshakes() == 0 && server.handshake_attempts() == 0,
        || {
            format!(
                "expected one failed TLS handshake and nothing at the server; got {} failed, \
                 {} completed, {} at the server",
                front.failed_handshakes(),
                front.handshakes(),
                server.handshake_attempts()
            )
        },
    );
}
