//! Real networks: proxies (the kit's [`TestProxy`] with its faults, and Debian's tinyproxy),
//! Happy Eyeballs past a black-holed address, stage timeouts that say where they were.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ws_client::ProxyFailure;
use ws_client::{ConnectStage, Error, Event};

use super::observe::{Scenario, is_closed, is_connect_failed, is_open};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, Client, Events, Handle, Observe, SLACK, WAIT};
use crate::{BlackHole, ProxyFault, ProxyProtocol, TestProxy, TestServer, Tinyproxy};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Opens, then checks that a text goes to the server and back.
#[track_caller]
fn opens_and_echoes<H: Handle, E: Events>(s: &Scenario, client: &mut Client<H, E>, text: &str) {
    s.wait_for(client, WAIT, "Open", is_open);
    s.send(client, text.to_owned());
    s.expect_texts(client, &[text]);
}

/// The first failed attempt's error and whether another will follow.
#[track_caller]
fn first_failure<C: Observe>(s: &Scenario, client: &mut C) -> (Error, bool) {
    match s.wait_for(client, WAIT, "ConnectFailed", is_connect_failed) {
        Event::ConnectFailed {
            error,
            will_reconnect,
        } => (error, will_reconnect),
        other => s.fail(format_args!("expected a ConnectFailed, got {other:?}")),
    }
}

/// Through an HTTP `CONNECT` proxy that wants credentials: the client sends them as
/// `Proxy-Authorization: Basic`, asks for the server's `host:port`, messages flow, and the
/// password never shows in the options' `Debug`.
pub fn http_connect_proxy_with_credentials_tunnels_and_redacts_them<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "http_connect_proxy_with_credentials_tunnels_and_redacts_them",
    );
    let server = TestServer::start();
    let proxy = TestProxy::start_with(
        ProxyProtocol::HttpConnect,
        Some(("alice", "s3cret")),
        ProxyFault::None,
    );
    let options = build(options(&server.url(), fast_reconnect()).proxy(&proxy.url(true)));
    let shown = format!("{options:?}");
    s.check(!shown.contains("s3cret") && shown.contains("***@"), || {
        format!("the proxy password shows in the options: {shown}")
    });
    let mut client = adapter.start(options);
    opens_and_echoes(&s, &mut client, "through the proxy");
    let requests = proxy.requests();
    s.check(
        requests.len() == 1
            && requests[0].target == server.addr().to_string()
            && requests[0].credentials.as_deref() == Some("Basic YWxpY2U6czNjcmV0"),
        || format!("the proxy saw {requests:?}"),
    );
}

/// `socks5h://` with credentials: RFC 1929 authentication, and the server's name (not an
/// address) goes to the proxy.
pub fn socks5h_proxy_resolves_the_name_with_rfc_1929_credentials<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "socks5h_proxy_resolves_the_name_with_rfc_1929_credentials",
    );
    let server = TestServer::start();
    let proxy = TestProxy::start_with(ProxyProtocol::Socks5, Some(("bob", "pw")), ProxyFault::None);
    let url = format!("ws://localhost:{}/", server.addr().port());
    let mut client = adapter.start(build(
        options(&url, fast_reconnect()).proxy(&proxy.url(true)),
    ));
    opens_and_echoes(&s, &mut client, "through socks5h");
    let requests = proxy.requests();
    s.check(
        requests.len() == 1
            && requests[0].target == format!("localhost:{}", server.addr().port())
            && requests[0].by_name
            && requests[0].credentials.as_deref() == Some("bob:pw"),
        || format!("the proxy saw {requests:?}"),
    );
}

/// `socks5://` resolves the server's name in the client and sends the proxy an address.
pub fn socks5_proxy_gets_an_address_resolved_by_the_client<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "socks5_proxy_gets_an_address_resolved_by_the_client",
    );
    let server = TestServer::start();
    let proxy = TestProxy::start(ProxyProtocol::Socks5);
    let url = format!("ws://localhost:{}/", server.addr().port());
    let mut client = adapter.start(build(
        options(&url, fast_reconnect()).proxy(&proxy.url(false)),
    ));
    opens_and_echoes(&s, &mut client, "through socks5");
    let requests = proxy.requests();
    s.check(
        requests.len() == 1
            && requests[0].target == format!("127.0.0.1:{}", server.addr().port())
            && !requests[0].by_name,
        || format!("the proxy saw {requests:?}"),
    );
}

/// A proxy that answers 407 to wrong credentials: a typed `Error::Proxy` naming the proxy
/// (password hidden) and the status, and no reconnect.
pub fn proxy_407_stops_with_a_typed_redacted_error<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "proxy_407_stops_with_a_typed_redacted_error");
    let server = TestServer::start();
    let proxy = TestProxy::start_with(
        ProxyProtocol::HttpConnect,
        Some(("alice", "s3cret")),
        ProxyFault::None,
    );
    let wrong = format!("http://alice:wr0ng@{}", proxy.addr());
    let mut client = adapter.start(build(
        options(&server.url(), fast_reconnect()).proxy(&wrong),
    ));
    let (error, will_reconnect) = first_failure(&s, &mut client);
    let shown = error.to_string();
    s.check(
        matches!(
            &error,
            Error::Proxy { failure: ProxyFailure::Status { status: 407, .. }, proxy, .. }
                if *proxy == format!("http://***@{}", proxy_addr(&wrong))
        ) && !shown.contains("wr0ng")
            && !format!("{error:?}").contains("wr0ng")
            && !will_reconnect,
        || format!("expected a permanent Error::Proxy with 407, got {error:?} ({shown})"),
    );
    s.wait_for(&mut client, WAIT, "Closed", is_closed);
    s.check(server.handshake_attempts() == 0, || {
        "the server saw a handshake through a refusing proxy".to_owned()
    });
}

fn proxy_addr(url: &str) -> &str {
    url.rsplit_once('@').map_or(url, |(_, addr)| addr)
}

/// 503 from the proxy is temporary: the client retries, and opens once the proxy lets it.
pub fn proxy_503_is_retried_until_the_tunnel_opens<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "proxy_503_is_retried_until_the_tunnel_opens");
    let server = TestServer::start();
    let proxy = TestProxy::start_with(
        ProxyProtocol::HttpConnect,
        None,
        ProxyFault::Refuse {
            status: 503,
            retry_after: None,
        },
    );
    let mut client = adapter.start(build(
        options(&server.url(), fast_reconnect()).proxy(&proxy.url(true)),
    ));
    let (error, will_reconnect) = first_failure(&s, &mut client);
    s.check(
        matches!(
            error,
            Error::Proxy {
                failure: ProxyFailure::Status { status: 503, .. },
                ..
            }
        ) && will_reconnect,
        || format!("expected a retried Error::Proxy with 503, got {error:?}"),
    );
    proxy.set_fault(ProxyFault::None);
    opens_and_echoes(&s, &mut client, "after the outage");
}

/// Runs a client through a proxy with `fault` and returns the first error, how long it took,
/// and whether the client will reconnect.
fn failure_through<A: Adapter>(
    adapter: &A,
    s: &Scenario,
    protocol: ProxyProtocol,
    fault: ProxyFault,
    connect_timeout: Duration,
) -> (Error, Duration, TestProxy) {
    let server = TestServer::start();
    let proxy = TestProxy::start_with(protocol, None, fault);
    let config = fast_reconnect().connect_timeout(connect_timeout);
    let started = Instant::now();
    let mut client = adapter.start(build(
        options(&server.url(), config).proxy(&proxy.url(true)),
    ));
    let (error, _) = first_failure(s, &mut client);
    (error, started.elapsed(), proxy)
}

/// A proxy that takes the request and never answers: the attempt ends in the proxy stage,
/// within `connect_timeout`, with an error that says so and names the proxy's address.
pub fn hanging_proxy_is_a_proxy_stage_timeout<A: Adapter>(adapter: &A) {
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
    let s = Scenario::new(adapter, "hanging_proxy_is_a_proxy_stage_timeout");
    let (error, elapsed, proxy) = failure_through(
        adapter,
        &s,
        ProxyProtocol::HttpConnect,
        ProxyFault::Hang,
        CONNECT_TIMEOUT,
    );
    s.check(
        matches!(&error, Error::StageTimeout { stage: ConnectStage::Proxy, tried, .. }
            if *tried == [proxy.addr()]),
        || {
            format!(
                "expected a proxy stage timeout naming {}, got {error:?}",
                proxy.addr()
            )
        },
    );
    s.check(
        elapsed >= CONNECT_TIMEOUT * 8 / 10 && elapsed <= CONNECT_TIMEOUT + SLACK,
        || {
            format!(
                "the proxy stage timed out after {elapsed:?} (connect_timeout {CONNECT_TIMEOUT:?})"
            )
        },
    );
}

/// A proxy that answers something else than HTTP: a typed error at once, not a timeout.
pub fn garbage_from_the_proxy_is_a_typed_error_at_once<A: Adapter>(adapter: &A) {
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
    let s = Scenario::new(adapter, "garbage_from_the_proxy_is_a_typed_error_at_once");
    for protocol in [ProxyProtocol::HttpConnect, ProxyProtocol::Socks5] {
        let (error, elapsed, _proxy) =
            failure_through(adapter, &s, protocol, ProxyFault::Garbage, CONNECT_TIMEOUT);
        s.check(
            matches!(
                error,
                Error::Proxy {
                    failure: ProxyFailure::Malformed(_),
                    ..
                }
            ) && elapsed < CONNECT_TIMEOUT / 2,
            || format!("{protocol:?}: expected a malformed-reply error at once, got {error:?} after {elapsed:?}"),
        );
    }
}

/// A proxy whose reply headers never end: refused at 8 KiB, not read for ever.
pub fn oversized_proxy_reply_is_refused_at_8_kib<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "oversized_proxy_reply_is_refused_at_8_kib");
    let (error, _, _proxy) = failure_through(
        adapter,
        &s,
        ProxyProtocol::HttpConnect,
        ProxyFault::Oversized,
        Duration::from_secs(3),
    );
    s.check(
        matches!(
            error,
            Error::Proxy {
                failure: ProxyFailure::TooLarge { limit: 8192 },
                ..
            }
        ),
        || format!("expected a too-large proxy reply error, got {error:?}"),
    );
}

/// A proxy that dribbles its reply (HTTP and SOCKS5) still opens the tunnel within
/// `connect_timeout`: the handshake reads as much as it needs, however it arrives.
pub fn slow_proxy_reply_still_opens<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "slow_proxy_reply_still_opens");
    for protocol in [ProxyProtocol::HttpConnect, ProxyProtocol::Socks5] {
        let server = TestServer::start();
        let proxy =
            TestProxy::start_with(protocol, None, ProxyFault::Slow(Duration::from_millis(3)));
        let config = fast_reconnect().connect_timeout(Duration::from_secs(4));
        let mut client = adapter.start(build(
            options(&server.url(), config).proxy(&proxy.url(true)),
        ));
        opens_and_echoes(&s, &mut client, "slowly");
    }
}

/// Happy Eyeballs: the first address is a black hole (connects hang), the second is the
/// server. The client opens about 250 ms after starting, not after `connect_timeout`.
pub fn black_holed_first_address_costs_250_ms_not_the_connect_timeout<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "black_holed_first_address_costs_250_ms_not_the_connect_timeout",
    );
    let server = TestServer::start();
    let hole = BlackHole::start(LOOPBACK).unwrap_or_else(|e| s.fail(format!("black hole: {e}")));
    let url = format!("ws://ws.test:{}/", server.addr().port());
    let config = fast_reconnect().connect_timeout(Duration::from_secs(5));
    let options = options(&url, config).resolve("ws.test", &[hole.addr(), server.addr()]);
    let started = Instant::now();
    let mut client = adapter.start(build(options));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    let elapsed = started.elapsed();
    println!(
        "[{}] opened past the black hole after {elapsed:?}",
        adapter.name()
    );
    let delay = ws_client::runtime::ATTEMPT_DELAY;
    s.check(
        elapsed >= delay.saturating_sub(Duration::from_millis(20)) && elapsed <= delay + SLACK,
        || format!("opened after {elapsed:?}; expected about {delay:?}"),
    );
    s.send(&client, "past the hole");
    s.expect_texts(&mut client, &["past the hole"]);
}

/// Every address black-holed: the attempt fails in the TCP stage within `connect_timeout`,
/// naming both addresses in the order tried.
pub fn black_holed_addresses_time_out_in_the_tcp_stage_naming_them<A: Adapter>(adapter: &A) {
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
    let s = Scenario::new(
        adapter,
        "black_holed_addresses_time_out_in_the_tcp_stage_naming_them",
    );
    let holes = [BlackHole::start(LOOPBACK), BlackHole::start(LOOPBACK)];
    let [Ok(first), Ok(second)] = &holes else {
        s.fail(format!("black holes: {holes:?}"));
    };
    let config = fast_reconnect().connect_timeout(CONNECT_TIMEOUT);
    let addrs: [SocketAddr; 2] = [first.addr(), second.addr()];
    let options = options("ws://ws.test/", config).resolve("ws.test", &addrs);
    let started = Instant::now();
    let mut client = adapter.start(build(options));
    let (error, will_reconnect) = first_failure(&s, &mut client);
    let elapsed = started.elapsed();
    s.check(
        matches!(&error, Error::StageTimeout { stage: ConnectStage::Tcp, tried, .. } if *tried == addrs)
            && will_reconnect,
        || format!("expected a retried TCP stage timeout naming {addrs:?}, got {error:?}"),
    );
    s.check(
        elapsed >= CONNECT_TIMEOUT * 8 / 10 && elapsed <= CONNECT_TIMEOUT + SLACK,
        || format!("timed out after {elapsed:?} (connect_timeout {CONNECT_TIMEOUT:?})"),
    );
}

/// Through Debian's tinyproxy (a real proxy) with Basic credentials: messages flow; wrong
/// credentials stop (tinyproxy 1.11 answers wrong ones with 401, missing ones with 407). Skipped with a message when tinyproxy is not installed,
/// except under CI.
pub fn tinyproxy_tunnels_with_basic_credentials<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "tinyproxy_tunnels_with_basic_credentials");
    let server = TestServer::start();
    let Some(tinyproxy) = Tinyproxy::start(server.addr().port(), Some(("alice", "s3cret"))) else {
        return;
    };
    let mut client = adapter.start(build(
        options(&server.url(), fast_reconnect()).proxy(&tinyproxy.url()),
    ));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    s.send(&client, "through tinyproxy");
    s.expect_texts(&mut client, &["through tinyproxy"]);

    let wrong = tinyproxy.url().replace("s3cret", "wr0ng");
    let mut refused = adapter.start(build(
        options(&server.url(), fast_reconnect()).proxy(&wrong),
    ));
    let (error, will_reconnect) = first_failure(&s, &mut refused);
    s.check(
        matches!(
            error,
            Error::Proxy {
                failure: ProxyFailure::Status {
                    status: 401 | 407,
                    ..
                },
                ..
            }
        ) && !will_reconnect,
        || {
            format!(
                "expected a permanent 401 or 407 from tinyproxy, got {error:?}; log:\n{}",
                tinyproxy.log()
            )
        },
    );
}

/// An `https://` proxy: TLS to the proxy (verified against the options' roots), then the
/// tunnel; a proxy certificate that does not verify is a TLS error naming the proxy, and
/// stops.
pub fn https_proxy_is_reached_over_verified_tls<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "https_proxy_is_reached_over_verified_tls");
    let server = TestServer::start();
    let pki = crate::pki::TestPki::new("proxy CA");
    let proxy = TestProxy::start_tls(&pki);
    let trusted = options(&server.url(), fast_reconnect())
        .proxy(&proxy.url(true))
        .tls(pki.trusting());
    let mut client = adapter.start(build(trusted));
    opens_and_echoes(&s, &mut client, "through TLS to the proxy");
    let requests = proxy.requests();
    s.check(
        requests.len() == 1 && requests[0].target == server.addr().to_string(),
        || format!("the proxy saw {requests:?}"),
    );

    let stranger = crate::pki::TestPki::new("another CA");
    let untrusted = options(&server.url(), fast_reconnect())
        .proxy(&proxy.url(true))
        .tls(stranger.trusting());
    let mut refused = adapter.start(build(untrusted));
    let (error, will_reconnect) = first_failure(&s, &mut refused);
    s.check(
        matches!(&error, Error::Tls { server, .. } if *server == proxy.addr().to_string())
            && !will_reconnect,
        || format!("expected a permanent TLS error naming the proxy, got {error:?}"),
    );
}

/// `wss://` through an `https://` proxy: TLS to the proxy, `CONNECT`, then TLS to the server
/// inside the proxy's TLS (two TLS sessions, one inside the other), both verified.
pub fn wss_inside_an_https_proxy_is_tls_inside_tls<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "wss_inside_an_https_proxy_is_tls_inside_tls");
    let pki = crate::pki::TestPki::new("proxy and server CA");
    let server = TestServer::start();
    let front = crate::TlsFront::start(&pki, IpAddr::V4(Ipv4Addr::LOCALHOST), server.addr())
        .expect("bind 127.0.0.1");
    let proxy = TestProxy::start_tls(&pki);
    let url = format!("wss://127.0.0.1:{}/inside", front.addr().port());
    let trusted = options(&url, fast_reconnect())
        .proxy(&proxy.url(true))
        .tls(pki.trusting());
    let mut client = adapter.start(build(trusted));
    opens_and_echoes(&s, &mut client, "TLS inside TLS");
    let requests = proxy.requests();
    s.check(
        requests.len() == 1 && requests[0].target == front.addr().to_string(),
        || {
            format!(
                "the proxy saw {requests:?}, expected one CONNECT to {}",
                front.addr()
            )
        },
    );
    s.check(
        server.requests().len() == 1 && server.requests()[0].path == "/inside",
        || format!("the server saw {:?}", server.requests()),
    );
}
