use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ws_core::{
    Action, CloseCode, ClosePolicy, ConnectFailure, Disconnect, Event, Input, Jitter, Message,
    ReconnectDecision, State, Text, UndeliveredReason,
};

use crate::support::{Sim, ms, secs};

fn fail_connect(sim: &mut Sim, failure: ConnectFailure, at: u64) -> crate::support::Output {
    let connection = sim.id();
    sim.conn = None;
    sim.input(
        Input::ConnectFailed {
            connection,
            failure,
        },
        at,
    )
}

fn fixed(build: impl FnOnce(ws_core::ConfigBuilder) -> ws_core::ConfigBuilder) -> Sim {
    Sim::with(|c| build(c.jitter(Jitter::None)))
}

#[test]
fn first_reconnect_waits_the_initial_delay_then_doubles_to_the_cap() {
    let mut sim = fixed(|c| c.initial_delay(secs(1)).max_delay(secs(8)).multiplier(2.0));
    sim.connect(0);
    let mut now = 0;
    let mut delays = Vec::new();
    for _ in 0..6 {
        let out = fail_connect(&mut sim, ConnectFailure::Io, now);
        let (attempt, delay) = out.reconnecting().expect("reconnecting");
        delays.push((attempt, delay.as_secs()));
        now += u64::try_from(delay.as_millis()).unwrap();
        assert!(
            sim.tick(now - 1).is_empty(),
            "connect before the delay is over"
        );
        assert_eq!(sim.tick(now).connect().map(|(_, a)| a), Some(attempt));
    }
    assert_eq!(delays, [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (6, 8)]);
}

#[test]
fn max_attempts_gives_up_once_and_hands_back_the_queue() {
    let mut sim = fixed(|c| c.max_attempts(Some(2)));
    sim.connect(0);
    sim.send("a", 1);
    sim.send("b", 2);
    let mut now = 10;
    fail_connect(&mut sim, ConnectFailure::Io, now);
    now += 1_000;
    sim.tick(now);
    fail_connect(&mut sim, ConnectFailure::Io, now);
    now += 2_000;
    sim.tick(now);
    let out = fail_connect(&mut sim, ConnectFailure::Io, now);
    assert_eq!(
        out.events,
        [
            Event::Disconnected {
                code: CloseCode::ABNORMAL,
                reason: Text::new(),
                cause: Disconnect::ConnectFailed(ConnectFailure::Io),
                will_reconnect: false,
            },
            Event::GaveUp {
                attempts: 2,
                undelivered: 2
            },
            Event::Undelivered {
                message: Message::from("a"),
                reason: UndeliveredReason::Stopped
            },
            Event::Undelivered {
                message: Message::from("b"),
                reason: UndeliveredReason::Stopped
            },
            Event::Closed,
        ]
    );
    assert_eq!(sim.sup.state(), State::Closed);
    assert!(sim.run_until(86_400_000).is_empty());
}

#[test]
fn max_attempts_zero_never_reconnects() {
    let mut sim = fixed(ws_core::ConfigBuilder::no_reconnect);
    sim.open_at(0);
    let out = sim.peer_closes(1001, 10);
    assert!(matches!(
        out.events[1],
        Event::GaveUp {
            attempts: 0,
            undelivered: 0
        }
    ));
    assert_eq!(sim.sup.poll_timeout(), None);
}

#[test]
fn connect_after_giving_up_starts_a_fresh_streak() {
    let mut sim = fixed(|c| c.max_attempts(Some(1)));
    sim.connect(0);
    fail_connect(&mut sim, ConnectFailure::Io, 0);
    sim.tick(1_000);
    fail_connect(&mut sim, ConnectFailure::Io, 1_000);
    assert_eq!(sim.sup.state(), State::Closed);
    let out = sim.connect(5_000);
    assert_eq!(out.events, [Event::Connecting { attempt: 0 }]);
    let again = fail_connect(&mut sim, ConnectFailure::Io, 5_000);
    assert_eq!(again.reconnecting(), Some((1, secs(1))));
}

#[test]
fn attempts_reset_after_the_connection_was_stable() {
    let mut sim = fixed(|c| c.stable_after(secs(10)));
    sim.connect(0);
    fail_connect(&mut sim, ConnectFailure::Io, 0);
    sim.tick(1_000);
    fail_connect(&mut sim, ConnectFailure::Io, 1_000);
    sim.tick(3_000);
    sim.opened(3_000);
    assert_eq!(sim.sup.stats().current_attempt, 2);
    // Lost before it was stable: the streak continues.
    let early = sim.peer_closes(1001, 12_999);
    assert_eq!(early.reconnecting(), Some((3, secs(4))));
    sim.tick(16_999);
    sim.opened(17_000);
    sim.tick(27_000);
    assert_eq!(sim.sup.stats().current_attempt, 0);
    assert_eq!(
        sim.peer_closes(1001, 30_000).reconnecting(),
        Some((1, secs(1)))
    );
}

#[test]
fn permanent_close_codes_stop_and_transient_ones_reconnect() {
    for (code, reconnects) in [(1008, false), (1002, false), (1012, true), (1000, true)] {
        let mut sim = fixed(|c| c);
        sim.open_at(0);
        let out = sim.peer_closes(code, 10);
        assert_eq!(out.reconnecting().is_some(), reconnects, "code {code}");
        assert_eq!(
            out.events.last() == Some(&Event::Closed),
            !reconnects,
            "code {code}"
        );
    }
}

#[test]
fn refused_handshake_with_401_stops_for_good() {
    let mut sim = fixed(|c| c);
    sim.connect(0);
    let out = fail_connect(
        &mut sim,
        ConnectFailure::Http {
            status: 401,
            retry_after: None,
        },
        50,
    );
    assert!(matches!(
        out.events[0],
        Event::Disconnected {
            will_reconnect: false,
            ..
        }
    ));
    assert_eq!(out.events.last(), Some(&Event::Closed));
    assert!(out.reconnecting().is_none());
}

#[test]
fn retry_after_on_503_is_a_floor_on_the_delay() {
    let mut sim = fixed(|c| c.initial_delay(secs(1)));
    sim.connect(0);
    let out = fail_connect(
        &mut sim,
        ConnectFailure::Http {
            status: 503,
            retry_after: Some(secs(7)),
        },
        0,
    );
    assert_eq!(out.reconnecting(), Some((1, secs(7))));
    assert!(sim.tick(6_999).connect().is_none());
    assert!(sim.tick(7_000).connect().is_some());
}

#[test]
fn retry_after_is_capped() {
    let mut sim = fixed(|c| c.retry_after_cap(secs(60)));
    sim.connect(0);
    let out = fail_connect(
        &mut sim,
        ConnectFailure::Http {
            status: 429,
            retry_after: Some(secs(86_400)),
        },
        0,
    );
    assert_eq!(out.reconnecting(), Some((1, secs(60))));
}

#[test]
fn custom_close_policy_overrides_the_default() {
    fn only_after_abnormal(cause: &Disconnect) -> ws_core::ReconnectDecision {
        if cause.close_code() == CloseCode::ABNORMAL {
            ws_core::ReconnectDecision::Reconnect
        } else {
            ws_core::ReconnectDecision::Stop
        }
    }
    let mut sim = fixed(|c| c.close_policy(only_after_abnormal));
    sim.open_at(0);
    assert!(sim.peer_closes(1012, 10).reconnecting().is_none());
}

#[test]
fn close_policy_carries_its_own_settings() {
    // The service's own "banned" and "account deleted" codes; everything else as usual.
    let stop_codes: BTreeSet<u16> = [4001, 4002].into();
    let build = move |c: ws_core::ConfigBuilder| {
        let stop_codes = stop_codes.clone();
        c.close_policy(move |cause| match cause {
            Disconnect::PeerClosed { code } if stop_codes.contains(&code.0) => {
                ReconnectDecision::Stop
            }
            other => ws_core::default_close_policy(other),
        })
    };
    for (code, reconnects) in [(4001, false), (4002, false), (4000, true), (1008, false)] {
        let mut sim = fixed(build.clone());
        sim.open_at(0);
        let out = sim.peer_closes(code, 10);
        assert_eq!(
            out.events[0],
            Event::Disconnected {
                code: CloseCode(code),
                reason: Text::from("bye"),
                cause: Disconnect::PeerClosed {
                    code: CloseCode(code)
                },
                will_reconnect: reconnects,
            },
            "code {code}"
        );
        if reconnects {
            assert_eq!(out.reconnecting(), Some((1, secs(1))), "code {code}");
        } else {
            assert_eq!(out.events[1..], [Event::Closed], "code {code}");
        }
    }
}

#[test]
fn close_policy_with_state_of_its_own_sees_every_end_in_order() {
    // At most two reconnects after a peer's close per process, shared by every connection
    // that uses the policy; lost links always reconnect.
    let peer_closes = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&peer_closes);
    let policy = ClosePolicy::new(move |cause| match cause {
        Disconnect::PeerClosed { .. } if counter.fetch_add(1, Ordering::Relaxed) >= 2 => {
            ReconnectDecision::Stop
        }
        other => ws_core::default_close_policy(other),
    });
    let mut first = fixed(|c| c.shared_close_policy(policy.clone()));
    let mut second = fixed(|c| c.shared_close_policy(policy));
    first.open_at(0);
    assert_eq!(
        first.peer_closes(1001, 10).reconnecting(),
        Some((1, secs(1)))
    );
    second.open_at(0);
    assert_eq!(
        second.peer_closes(1001, 20).reconnecting(),
        Some((1, secs(1)))
    );
    assert_eq!(peer_closes.load(Ordering::Relaxed), 2);
    first.tick(1_010);
    first.opened(1_010);
    let out = first.peer_closes(1001, 1_020);
    assert_eq!(out.reconnecting(), None);
    assert_eq!(out.events.last(), Some(&Event::Closed));
    assert_eq!(peer_closes.load(Ordering::Relaxed), 3);
    assert_eq!(first.sup.state(), State::Closed);
}

#[test]
fn close_policy_debug_says_whether_it_is_the_default() {
    assert_eq!(
        format!("{:?}", ClosePolicy::default()),
        "ClosePolicy(default)"
    );
    assert!(ClosePolicy::default().is_default());
    let custom = ClosePolicy::new(|_: &Disconnect| ReconnectDecision::Stop);
    assert_eq!(format!("{custom:?}"), "ClosePolicy(..)");
    assert!(!custom.is_default());
    assert_eq!(
        ClosePolicy::default().decide(&Disconnect::PeerClosed {
            code: CloseCode::POLICY_VIOLATION
        }),
        ReconnectDecision::Stop
    );
    let config = ws_core::Config::builder()
        .close_policy(|_| ReconnectDecision::Reconnect)
        .build()
        .unwrap();
    assert_eq!(
        config.close_policy().decide(&Disconnect::Application),
        ReconnectDecision::Reconnect
    );
}

#[test]
fn reconnect_now_skips_the_wait() {
    let mut sim = fixed(|c| c.initial_delay(secs(30)).max_delay(secs(30)));
    sim.open_at(0);
    sim.peer_closes(1001, 100);
    sim.sup.reconnect_now(ms(200));
    let out = sim.drain();
    assert_eq!(out.connect().map(|(_, attempt)| attempt), Some(1));
    assert_eq!(sim.sup.state(), State::Connecting);
}

#[test]
fn reconnect_now_replaces_an_open_transport_at_once() {
    let mut sim = fixed(|c| c);
    sim.open_at(0);
    sim.sup.reconnect_now(ms(500));
    let out = sim.drain();
    assert_eq!(out.actions[0], Action::Abort);
    assert!(matches!(out.actions[1], Action::Connect { .. }));
    assert!(matches!(
        out.events[0],
        Event::Disconnected {
            cause: Disconnect::ReconnectRequested,
            will_reconnect: true,
            ..
        }
    ));
}

#[test]
fn network_change_while_waiting_reconnects_at_once() {
    let mut sim = fixed(|c| c.initial_delay(secs(20)).max_delay(secs(20)));
    sim.open_at(0);
    sim.peer_closes(1001, 100);
    let out = sim.input(Input::NetworkChanged, 300);
    assert!(out.connect().is_some());
}

#[test]
fn only_one_transport_exists_at_a_time() {
    let mut sim = fixed(|c| c);
    sim.connect(0);
    // Repeated connects while connecting or open do nothing.
    assert!(sim.connect(10).is_empty());
    sim.opened(20);
    assert!(sim.connect(30).is_empty());
    // A late tick that would fire the connect timeout finds none armed.
    assert!(sim.tick(10_000).connect().is_none());
}

#[test]
fn full_jitter_delays_stay_within_the_base() {
    for seed in 0..50 {
        let config = ws_core::Config::builder()
            .initial_delay(secs(1))
            .max_delay(secs(4))
            .build()
            .unwrap();
        let mut sup = ws_core::Supervisor::new(config, seed);
        sup.connect(ms(0));
        let mut now = ms(0);
        for base in [1, 2, 4, 4] {
            let connection = sup.connection().unwrap();
            while sup.poll_action().is_some() {}
            sup.handle_input(
                Input::ConnectFailed {
                    connection,
                    failure: ConnectFailure::Io,
                },
                now,
            );
            let delay = std::iter::from_fn(|| sup.poll_event())
                .find_map(|e| match e {
                    Event::Reconnecting { delay, .. } => Some(delay),
                    _ => None,
                })
                .unwrap();
            assert!(
                delay <= Duration::from_secs(base),
                "seed {seed}: {delay:?} > {base}s"
            );
            now = sup.poll_timeout().unwrap();
            sup.handle_timeout(now);
        }
    }
}
