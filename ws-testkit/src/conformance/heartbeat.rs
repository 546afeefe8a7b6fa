//! Heartbeat scenarios: a dead peer (silent link, deaf to pings, or no longer reading) is
//! found within the configured bound, the peer's own pings are answered without the
//! application doing anything, the heartbeat keeps going while the application does not
//! read, and a network change probes at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ws_client::{Error, Event, Timeout};
use ws_core::{Bytes, CloseCode, Disconnect, Message, State};

use super::observe::{Scenario, describe, is_disconnected, is_open};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, Handle, SLACK, WAIT};
use crate::{Behavior, FaultProxy, PingMode, ProxyMode, TestServer};

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
    s.send(&client, "after the partition");
    s.expect_texts(&mut client, &["after the partition"]);
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

/// A peer that reads and echoes data but never answers a Ping is dead: the ping goes out
/// `ping_interval` after the open, and the connection is dropped `pong_timeout` later, not
/// before, with a typed heartbeat timeout, and reconnected.
pub fn peer_deaf_to_pings_is_declared_dead_after_ping_interval_plus_pong_timeout<A: Adapter>(
    adapter: &A,
) {
    const PING_INTERVAL: Duration = Duration::from_millis(100);
    const PONG_TIMEOUT: Duration = Duration::from_millis(100);
    // The Open event reaches the test a moment after the driver saw the connection open.
    const DELIVERY: Duration = Duration::from_millis(10);
    let s = Scenario::new(
        adapter,
        "peer_deaf_to_pings_is_declared_dead_after_ping_interval_plus_pong_timeout",
    );
    let server = TestServer::start_with(Behavior {
        pings: PingMode::Ignore,
        ..Behavior::default()
    });
    let config = fast_reconnect()
        .ping_interval(PING_INTERVAL)
        .pong_timeout(PONG_TIMEOUT);
    let mut client = adapter.start(build(options(&server.url(), config)));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    let opened = Instant::now();
    let event = s.wait_for(&mut client, WAIT, "Disconnected", is_disconnected);
    let elapsed = opened.elapsed();
    s.check(
        matches!(
            &event,
            Event::Disconnected {
                code: CloseCode::ABNORMAL,
                cause: Disconnect::HeartbeatTimeout,
                will_reconnect: true,
                error: Some(Error::Timeout {
                    what: Timeout::Heartbeat,
                    ..
                }),
                ..
            }
        ),
        || format!("expected a reconnecting heartbeat timeout, got {event:?}"),
    );
    let bound = PING_INTERVAL + PONG_TIMEOUT;
    s.check(
        elapsed + DELIVERY >= bound && elapsed <= bound + SLACK,
        || format!("declared dead {elapsed:?} after Open; expected {bound:?} (+ slack {SLACK:?})"),
    );
    s.check(server.client_pings() == 1, || {
        format!(
            "expected exactly one unanswered ping, the server saw {}",
            server.client_pings()
        )
    });
    s.wait_for(&mut client, WAIT, "Open again", is_open);
}

/// The application reads nothing while the server floods it: the driver stops reading the
/// socket (TCP pushes back) instead of buffering, yet the heartbeat still goes out; once the
/// application reads again, every message arrives, in order, and the connection is still up.
pub fn slow_reader_keeps_the_heartbeat_going_and_loses_nothing<A: Adapter>(adapter: &A) {
    const COUNT: usize = 500;
    let s = Scenario::new(
        adapter,
        "slow_reader_keeps_the_heartbeat_going_and_loses_nothing",
    );
    let server = TestServer::start();
    let config = fast_reconnect()
        .ping_interval(Duration::from_millis(50))
        .pong_timeout(Duration::from_secs(4));
    let mut client = adapter.start(build(options(&server.url(), config).event_capacity(4)));
    s.check(server.wait_for_connections(1, WAIT), || {
        "the client never connected".to_owned()
    });
    for i in 0..COUNT {
        server.send_text(&format!("m{i}"));
    }
    // One ping per silence: the next waits for a sign of life, unread behind the messages.
    s.check(server.wait_for_client_pings(1, WAIT), || {
        "no heartbeat ping while the application was not reading".to_owned()
    });
    let read_while_stalled = client.stats().messages_received;
    s.check(read_while_stalled < 100, || {
        format!("read {read_while_stalled} messages with nobody listening")
    });

    let mut expected = 0;
    let deadline = Instant::now() + WAIT;
    while expected < COUNT {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(event) = client.next_event(left) else {
            s.fail(format_args!(
                "only {expected} of {COUNT} messages arrived within {WAIT:?}"
            ))
        };
        match &event {
            Event::Message(message) if message.as_text() == Some(&format!("m{expected}")) => {
                expected += 1;
            }
            Event::Connecting { attempt: 0 } | Event::Open { .. } if expected == 0 => {}
            Event::Rtt(_) => {}
            other => s.fail(format_args!(
                "expected message m{expected}, got {}",
                describe(other)
            )),
        }
    }
    s.check(client.state() == State::Open, || {
        format!(
            "expected state Open after the stall, got {:?}",
            client.state()
        )
    });
}

/// A peer that stops reading (the link freezes while the application floods it with 64 KiB
/// messages): writes block, then `send` blocks once the command channel is full, yet the
/// heartbeat's deadlines still fire and the dead peer is dropped on time; once the link heals
/// every blocked send returns.
pub fn peer_that_stops_reading_is_declared_dead_on_time_and_unblocks_the_sender<A: Adapter>(
    adapter: &A,
) {
    const PING_INTERVAL: Duration = Duration::from_millis(100);
    const PONG_TIMEOUT: Duration = Duration::from_millis(300);
    // 400 × 64 KiB is more than the kernel buffers between the client and the frozen proxy.
    const FLOOD: usize = 400;
    let s = Scenario::new(
        adapter,
        "peer_that_stops_reading_is_declared_dead_on_time_and_unblocks_the_sender",
    );
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let config = fast_reconnect()
        .ping_interval(PING_INTERVAL)
        .pong_timeout(PONG_TIMEOUT);
    let mut client = adapter.start(build(options(&proxy.url(), config).command_capacity(4)));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    proxy.set_mode(ProxyMode::Freeze);
    let frozen_at = Instant::now();

    let sent = Arc::new(AtomicUsize::new(0));
    let (done, flood_done) = mpsc::channel();
    let flood = {
        let (handle, sent) = (client.handle().clone(), Arc::clone(&sent));
        std::thread::spawn(move || {
            let payload = Bytes::from(vec![7u8; 64 * 1024]);
            for _ in 0..FLOOD {
                if handle.send(Message::Binary(payload.clone())).is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            let _ = done.send(());
        })
    };
    let lost = s.wait_for(&mut client, WAIT, "Disconnected", is_disconnected);
    let detected_after = frozen_at.elapsed();
    let sent_before = sent.load(Ordering::Relaxed);
    s.check(
        matches!(
            lost,
            Event::Disconnected {
                cause: Disconnect::HeartbeatTimeout,
                will_reconnect: true,
                ..
            }
        ),
        || format!("expected a reconnecting heartbeat timeout, got {lost:?}"),
    );
    s.check(sent_before < FLOOD, || {
        "the sender never blocked: is the proxy frozen?".to_owned()
    });
    let bound = PING_INTERVAL + PONG_TIMEOUT + SLACK;
    s.check(detected_after <= bound, || {
        format!("declared dead {detected_after:?} after the freeze (allowed {bound:?})")
    });
    proxy.set_mode(ProxyMode::Pass);
    // Keep reading, so the handed-back overflow never holds the driver up.
    let deadline = Instant::now() + WAIT;
    while flood_done.try_recv().is_err() {
        if Instant::now() >= deadline {
            s.fail(format_args!(
                "the sender is still blocked {WAIT:?} after the link healed ({} of {FLOOD} sent)",
                sent.load(Ordering::Relaxed)
            ));
        }
        let _ = client.next_event(Duration::from_millis(10));
    }
    let _ = flood.join();
    s.check(sent.load(Ordering::Relaxed) == FLOOD, || {
        format!(
            "only {} of {FLOOD} sends were taken",
            sent.load(Ordering::Relaxed)
        )
    });
}

/// `network_changed` on an open connection sends a probe ping at once (the hourly ping is not
/// due), and its pong comes back as a round trip.
pub fn network_changed_probes_an_open_connection_at_once<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "network_changed_probes_an_open_connection_at_once");
    let server = TestServer::start();
    let config = fast_reconnect().ping_interval(Duration::from_secs(3600));
    let mut client = adapter.start(build(options(&server.url(), config)));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    s.check(client.stats().pings_sent == 0, || {
        format!("no ping may be due yet, sent {}", client.stats().pings_sent)
    });
    if let Err(error) = client.network_changed() {
        s.fail(format_args!("network_changed failed: {error}"));
    }
    s.wait_for(&mut client, WAIT, "the probe's round trip (Rtt)", |e| {
        matches!(e, Event::Rtt(_))
    });
    let stats = client.stats();
    s.check(stats.pings_sent == 1 && stats.last_rtt.is_some(), || {
        format!("expected one probe ping and a round trip, got {stats:?}")
    });
    s.check(server.client_pings() == 1, || {
        format!("the server saw {} pings, expected 1", server.client_pings())
    });
}
