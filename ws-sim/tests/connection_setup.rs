//! The observer knows the connection-setup rules: auth refusals retried with fresh credentials,
//! the replay at every open, and `ready`/`send_now` naming their connection. Scripted runs with
//! exact counts prove it accepts them, and a wrong supervisor output would be flagged.

use core::time::Duration;

use ws_core::{Config, ConnectFailure, Jitter, SendErrorKind};
use ws_sim::strategy::replay;
use ws_sim::{Harness, Returned, Step, Target};

fn run(config: Config, steps: &[Step]) -> Harness {
    let mut harness = Harness::new(config, 3);
    for (index, step) in steps.iter().enumerate() {
        if let Err(violation) = harness.apply(step) {
            panic!("step {index} ({step:?}): {violation}");
        }
    }
    harness
}

fn refused(status: u16) -> Step {
    Step::ConnectFailed(
        Target::Current,
        ConnectFailure::Http {
            status,
            retry_after: None,
        },
    )
}

#[test]
fn auth_refusals_with_fresh_credentials_are_retried_then_stop() {
    let config = Config::builder()
        .jitter(Jitter::None)
        .credentials_refreshed(true)
        .auth_retries(2)
        .build()
        .unwrap();
    let steps = [
        Step::Connect,
        refused(401),
        Step::TickOnTime,
        refused(403),
        Step::TickOnTime,
        refused(401),
    ];
    let harness = run(config, &steps);
    let counters = harness.observed().observer().counters();
    assert_eq!((counters.connects, counters.reconnects_scheduled), (3, 2));
    assert_eq!(counters.gave_up, 0);
    assert!(harness.observed().observer().is_idle());
    assert_eq!(harness.now().since_origin(), Duration::from_secs(3));
}

#[test]
fn a_static_url_stops_at_the_first_refusal() {
    let config = Config::builder().auth_retries(2).build().unwrap();
    let harness = run(config, &[Step::Connect, refused(401)]);
    assert_eq!(
        harness
            .observed()
            .observer()
            .counters()
            .reconnects_scheduled,
        0
    );
    assert!(harness.observed().observer().is_idle());
}

#[test]
fn replay_at_every_open_and_a_late_ready_for_an_old_connection() {
    let config = Config::builder()
        .jitter(Jitter::None)
        .hold_queue_until_ready(true)
        .replay_on_open(replay(2))
        .build()
        .unwrap();
    let steps = [
        Step::Connect,
        Step::Send {
            binary: false,
            len: 8,
        },
        Step::Opened(Target::Current),
        Step::SendNow {
            target: Target::Current,
            len: 5,
        },
        Step::Ready(Target::Current),
        Step::Closed(Target::Current, 1012),
        Step::Send {
            binary: false,
            len: 8,
        },
        Step::TickOnTime,
        Step::Opened(Target::Current),
        // The login and ready meant for the first connection arrive after the reconnect.
        Step::SendNow {
            target: Target::Previous(0),
            len: 5,
        },
        Step::Ready(Target::Previous(0)),
        Step::Ready(Target::Current),
    ];
    let harness = run(config, &steps);
    let counters = harness.observed().observer().counters();
    assert_eq!(counters.replayed, 4);
    // The first login and both queued messages; the late login was refused.
    assert_eq!(counters.sent, 3);
    assert_eq!(counters.stale_inputs, 1);
    assert_eq!(harness.observed().supervisor().stats().stale_inputs, 1);
    assert_eq!(harness.observed().supervisor().stats().messages_replayed, 4);
    let refused = harness.transcript().iter().find_map(|o| match &o.returned {
        Returned::Send(Err(error)) => Some(error.kind()),
        _ => None,
    });
    assert_eq!(refused, Some(SendErrorKind::StaleConnection));
}
