//! Heartbeat scenarios: a dead peer is found within the configured bound, and the peer's own
//! pings are answered without the application doing anything.

use std::time::{Duration, Instant};

use ws_client::{Error, Event, Timeout};
use ws_core::{CloseCode, Disconnect};

use super::observe::{Scenario, is_disconnected, is_open};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, SLACK, WAIT};
use crate::{FaultProxy, ProxyMode, TestServer};

/// A half-open link (the proxy keeps both sockets but passes nothing, as a silent NAT or a
/// dead host would) is declared dead by the heartbeat, within `ping_interval + pong_timeout`
/// of the freeze, and not before a pong could have been late; once the link heals, the client
/// is back.
///
/// Why the bounds hold: the freeze starts right after a heartbeat round trip was measured, so
/// the next ping goes out at most `ping_interval` later and is never answered; the peer is
/// dead `pong_timeout` after that ping. Even a ping that slipped out just before the freeze
/// cannot be declared unanswered before `pong_timeout` has passed, which is the lower bound
/// (less a small allowance for a ping still in flight when the proxy froze).
pub fn dead_peer_is_detected_within_the_heartbeat_bound<A: Adapter>(adapter: &A) {
    const PING_INTERVAL: Duration = Duration::from_millis(100);
    const PONG_TIMEOUT: Duration = Duration::from_millis(200);
    const IN_FLIGHT: Duration = Duration::from_millis(50);
    let s = Scenario::new(adapter, "dead_peer_is_detected_within_the_heartbeat_bound");
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let config = fast_reconnect()
        .ping_interval(PING_INTERVAL)
        .pong_timeout(PONG_TIMEOUT);
    let mut client = adapter.start(build(options(&proxy.url(), config)));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    s.wait_for(&mut client, WAIT, "a heartbeat round trip (Rtt)", |e| {
        matches!(e, Event::Rtt(_))
    });

    let frozen_at = Instant::now();
    proxy.set_mode(ProxyMode::Freeze);
    let event = s.wait_for(&mut client, WAIT, "Disconnected", is_disconnected);
    let detected_after = frozen_at.elapsed();

    let Event::Disconnected {
        code,
        cause,
        will_reconnect,
        error,
        ..
    } = &event
    else {
        unreachable!("matched by is_disconnected")
    };
    s.check(*cause == Disconnect::HeartbeatTimeout, || {
        format!("expected cause HeartbeatTimeout, got {event:?}")
    });
    s.check(*code == CloseCode::ABNORMAL && *will_reconnect, || {
        format!("a dead peer is lost with 1006 and reconnected; got {event:?}")
    });
    s.check(
        matches!(
            error,
            Some(Error::Timeout {
                what: Timeout::Heartbeat,
                ..
            })
        ),
        || format!("expected error Some(Timeout {{ what: Heartbeat }}), got {error:?}"),
    );
    let earliest = PONG_TIMEOUT.saturating_sub(IN_FLIGHT);
    let latest = PING_INTERVAL + PONG_TIMEOUT + SLACK;
    s.check(detected_after >= earliest, || {
        format!(
            "declared dead {detected_after:?} after the freeze: before pong_timeout \
             ({PONG_TIMEOUT:?}) could have passed since a ping"
        )
    });
    s.check(detected_after <= latest, || {
        format!(
            "declared dead {detected_after:?} after the freeze, over the bound \
             ping_interval + pong_timeout + slack = {latest:?}"
        )
    });

    // The reconnect is under way through the still frozen proxy; healing the link lets it
    // finish.
    proxy.set_mode(ProxyMode::Pass);
    s.wait_for(
        &mut client,
        WAIT,
        "Open again after the link healed",
        is_open,
    );
}

/// Protocol pings from the server are answered while the application neither sends nor reads:
/// an idle client must not look dead to a server that checks its clients.
pub fn peer_pings_are_answered_while_the_application_is_idle<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "peer_pings_are_answered_while_the_application_is_idle",
    );
    let server = TestServer::start();
    let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
    s.wait_for(&mut client, WAIT, "Open", is_open);

    // From here on the test thread does not touch the client.
    for (n, payload) in [&b"are you there?"[..], b"still there?"]
        .into_iter()
        .enumerate()
    {
        let queued = server.send_ping(payload);
        s.check(queued == 1, || {
            format!("the server has {queued} open connections, expected 1")
        });
        s.check(server.wait_for_pongs(n + 1, WAIT), || {
            format!(
                "no Pong for ping {} within {WAIT:?} (pongs so far: {:?})",
                n + 1,
                server.pongs()
            )
        });
    }
    let pongs = server.pongs();
    s.check(
        pongs
            .iter()
            .map(|p| &p[..])
            .eq([&b"are you there?"[..], b"still there?"]),
        || format!("each Pong must echo its Ping's payload; got {pongs:?}"),
    );
}
