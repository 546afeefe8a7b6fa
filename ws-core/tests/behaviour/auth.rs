//! Auth refusals (HTTP 401 or 403 to the upgrade request): permanent with a static URL, retried
//! a few times in a row when every attempt carries freshly fetched credentials.

use ws_core::{
    CloseCode, ConfigBuilder, ConnectFailure, ConnectionId, Disconnect, Event, Input, Jitter,
    Message, State, Text, UndeliveredReason,
};

use crate::support::{Output, Sim, secs};

fn refused(sim: &mut Sim, status: u16, at: u64) -> Output {
    failed(
        sim,
        ConnectFailure::Http {
            status,
            retry_after: None,
        },
        at,
    )
}

fn failed(sim: &mut Sim, failure: ConnectFailure, at: u64) -> Output {
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

/// Backoff without jitter: 1 s, 2 s, 4 s…
fn fresh_credentials(build: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Sim {
    Sim::with(|c| build(c.jitter(Jitter::None).credentials_refreshed(true)))
}

fn disconnected(status: u16, will_reconnect: bool) -> Event {
    Event::Disconnected {
        code: CloseCode::ABNORMAL,
        reason: Text::new(),
        cause: Disconnect::ConnectFailed(ConnectFailure::Http {
            status,
            retry_after: None,
        }),
        will_reconnect,
    }
}

#[test]
fn auth_refusal_with_fresh_credentials_is_retried_and_the_next_attempt_opens() {
    let mut sim = fresh_credentials(|c| c);
    sim.connect(0);
    let out = refused(&mut sim, 401, 40);
    assert_eq!(
        out.events,
        [
            disconnected(401, true),
            Event::Reconnecting {
                attempt: 1,
                delay: secs(1)
            }
        ]
    );
    assert_eq!(sim.sup.stats().auth_refusals, 1);
    assert!(sim.tick(1_039).is_empty());
    assert_eq!(sim.tick(1_040).connect(), Some((ConnectionId(2), 1)));
    assert_eq!(
        sim.opened(1_100).events,
        [Event::Open {
            connection: ConnectionId(2)
        }]
    );
    assert_eq!(sim.sup.stats().auth_refusals, 0);
}

#[test]
fn the_refusal_after_auth_retries_in_a_row_is_permanent() {
    for status in [401, 403] {
        let mut sim = fresh_credentials(|c| c.auth_retries(2));
        sim.connect(0);
        sim.send("hello", 0);
        assert_eq!(
            refused(&mut sim, status, 0).reconnecting(),
            Some((1, secs(1)))
        );
        assert_eq!(sim.tick(1_000).connect(), Some((ConnectionId(2), 1)));
        assert_eq!(
            refused(&mut sim, status, 1_000).reconnecting(),
            Some((2, secs(2)))
        );
        assert_eq!(sim.tick(3_000).connect(), Some((ConnectionId(3), 2)));
        let out = refused(&mut sim, status, 3_000);
        assert_eq!(
            out.events,
            [
                disconnected(status, false),
                Event::Undelivered {
                    message: Message::from("hello"),
                    reason: UndeliveredReason::Stopped
                },
                Event::Closed,
            ],
            "status {status}"
        );
        assert_eq!(sim.sup.state(), State::Closed);
        assert_eq!(sim.sup.poll_timeout(), None);
        assert_eq!(sim.sup.stats().auth_refusals, 3);
        // The application connects again (new credentials, say): a fresh streak.
        sim.connect(60_000);
        assert_eq!(sim.sup.stats().auth_refusals, 0);
        assert_eq!(
            refused(&mut sim, status, 60_000).reconnecting(),
            Some((1, secs(1)))
        );
    }
}

#[test]
fn a_static_url_stops_at_the_first_auth_refusal() {
    for retries in [0, 2, 100] {
        let mut sim = Sim::with(|c| c.jitter(Jitter::None).auth_retries(retries));
        sim.connect(0);
        let out = refused(&mut sim, 401, 50);
        assert_eq!(out.events, [disconnected(401, false), Event::Closed]);
        assert_eq!(sim.sup.stats().auth_refusals, 1);
    }
    // Fresh credentials with no retries allowed: the same.
    let mut sim = fresh_credentials(|c| c.auth_retries(0));
    sim.connect(0);
    let out = refused(&mut sim, 403, 50);
    assert_eq!(out.events, [disconnected(403, false), Event::Closed]);
}

#[test]
fn the_auth_refusal_streak_resets_when_a_connection_opens() {
    let mut sim = fresh_credentials(|c| c.auth_retries(1));
    sim.connect(0);
    assert_eq!(refused(&mut sim, 401, 0).reconnecting(), Some((1, secs(1))));
    sim.tick(1_000);
    sim.opened(1_000);
    assert_eq!(sim.sup.stats().auth_refusals, 0);
    // Lost before it was stable: the reconnect streak goes on, the auth streak starts over.
    assert_eq!(
        sim.peer_closes(1001, 2_000).reconnecting(),
        Some((2, secs(2)))
    );
    assert_eq!(sim.tick(4_000).connect(), Some((ConnectionId(3), 2)));
    assert_eq!(
        refused(&mut sim, 401, 4_000).reconnecting(),
        Some((3, secs(4)))
    );
    assert_eq!(sim.tick(8_000).connect(), Some((ConnectionId(4), 3)));
    let out = refused(&mut sim, 401, 8_000);
    assert_eq!(out.events, [disconnected(401, false), Event::Closed]);
}

#[test]
fn other_connect_failures_do_not_reset_the_auth_refusal_streak() {
    let mut sim = fresh_credentials(|c| c.auth_retries(2));
    sim.connect(0);
    assert_eq!(refused(&mut sim, 401, 0).reconnecting(), Some((1, secs(1))));
    sim.tick(1_000);
    assert_eq!(
        failed(&mut sim, ConnectFailure::Io, 1_000).reconnecting(),
        Some((2, secs(2)))
    );
    sim.tick(3_000);
    assert_eq!(
        refused(&mut sim, 403, 3_000).reconnecting(),
        Some((3, secs(4)))
    );
    sim.tick(7_000);
    let out = refused(&mut sim, 401, 7_000);
    assert_eq!(out.events, [disconnected(401, false), Event::Closed]);
}

#[test]
fn auth_retries_count_against_max_attempts() {
    let mut sim = fresh_credentials(|c| c.auth_retries(2).max_attempts(Some(1)));
    sim.connect(0);
    assert_eq!(refused(&mut sim, 401, 0).reconnecting(), Some((1, secs(1))));
    sim.tick(1_000);
    let out = refused(&mut sim, 401, 1_000);
    assert_eq!(
        out.events,
        [
            disconnected(401, false),
            Event::GaveUp {
                attempts: 1,
                undelivered: 0
            },
            Event::Closed,
        ]
    );
}
