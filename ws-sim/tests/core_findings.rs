//! ws-core bugs found by the observer, each pinned by a test with exact values so that they
//! stay fixed (both were fixed in ws-core by commit 2f54aa4, as described on each test).

use core::time::Duration;

use ws_core::{Action, Config, Event, Instant, Message, Overflow, Supervisor, UndeliveredReason};
use ws_sim::{Call, Harness};

/// Five seconds before the largest `Instant`.
fn near_the_end() -> Instant {
    Instant::from_duration(
        Instant::from_duration(Duration::MAX)
            .since_origin()
            .saturating_sub(Duration::from_secs(5)),
    )
}

fn drain(supervisor: &mut Supervisor) -> (Vec<Action>, Vec<Event>) {
    (
        core::iter::from_fn(|| supervisor.poll_action()).collect(),
        core::iter::from_fn(|| supervisor.poll_event()).collect(),
    )
}

/// Invariant 6 ("nothing is dropped without cause"): with `Overflow::DropOldest` and a full
/// queue, `send_with_deadline` of a message whose deadline has already passed drops the oldest
/// queued message to make room, then hands the new one back as expired without queueing it.
/// The dropped message was lost for nothing.
///
/// Fix (ws-core `Supervisor::enqueue`): the effective deadline is computed and an already
/// expired message handed back *before* the overflow handling.
#[test]
fn an_already_expired_message_does_not_push_an_older_one_out_of_a_full_queue() {
    let config = Config::builder()
        .queue_max_messages(1)
        .overflow(Overflow::DropOldest)
        .build()
        .expect("valid");
    let mut supervisor = Supervisor::new(config, 0);
    let now = Instant::from_millis(1_000);
    supervisor.connect(now);
    let _ = drain(&mut supervisor);
    supervisor
        .send(Message::from("older"), now)
        .expect("queued while connecting");
    supervisor
        .send_with_deadline(Message::from("stale"), now, now)
        .expect("accepted, then handed back as expired");
    let (_, events) = drain(&mut supervisor);
    assert_eq!(
        events,
        [Event::Undelivered {
            message: Message::from("stale"),
            reason: UndeliveredReason::Expired,
        }]
    );
    assert_eq!(
        supervisor.stats().queued_messages,
        1,
        "\"older\" must stay queued"
    );
}

/// The same finding through the observer, which reports it as a conservation violation.
#[test]
fn observer_sees_no_needless_drop_when_an_expired_message_meets_a_full_queue() {
    let config = Config::builder()
        .queue_max_messages(1)
        .overflow(Overflow::DropOldest)
        .build()
        .expect("valid");
    let mut harness = Harness::new(config, 0);
    harness.call(Call::Connect).expect("connects");
    harness
        .call(Call::Send {
            message: Message::from("older"),
            deadline: None,
        })
        .expect("queued");
    let verdict = harness
        .call(Call::Send {
            message: Message::from("stale"),
            deadline: Some(Instant::ZERO),
        })
        .cloned();
    assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
}

/// Invariant 7 (no busy loop) at the end of the clock: when `now + delay` saturates at the
/// largest `Instant` (584 years after the origin), every re-armed deadline equals `now`, so
/// one `handle_timeout` fires its 64-timer cap — here 32 `Connect`/`Abort` pairs, a connect
/// storm — and leaves `poll_timeout() == now`, so the driver spins. Low severity (a driver
/// would need a clock origin centuries back, or a bad conversion), but the core promises to
/// be total.
///
/// Fix (ws-core `Timers::set`): a deadline that saturated at `Instant::MAX` cannot be
/// represented and is stored as "never", so `poll_timeout()` is `None` rather than `now` and
/// nothing fires in a loop. The observer models the same rule.
#[test]
fn no_busy_loop_when_deadlines_saturate_at_the_end_of_the_clock() {
    let config = Config::builder().build().expect("valid");
    let mut supervisor = Supervisor::new(config, 1);
    let end = Instant::from_duration(Duration::MAX);
    supervisor.connect(near_the_end());
    let _ = drain(&mut supervisor);
    supervisor.handle_timeout(end);
    let (actions, _) = drain(&mut supervisor);
    let connects = actions
        .iter()
        .filter(|a| matches!(a, Action::Connect { .. }))
        .count();
    assert!(connects <= 1, "{connects} connects in one tick");
    assert!(
        supervisor.poll_timeout().is_none_or(|at| at > end),
        "busy loop: poll_timeout() = {:?} after handle_timeout({end:?})",
        supervisor.poll_timeout()
    );
}

/// The same finding through the observer, which reports the spin as a busy loop
/// (invariant 7).
#[test]
fn observer_sees_no_busy_loop_at_the_end_of_the_clock() {
    let config = Config::builder().build().expect("valid");
    let mut harness = Harness::new(config, 1);
    harness.set_now(near_the_end());
    harness.call(Call::Connect).expect("connects");
    let connection = harness
        .observed()
        .observer()
        .latest_connection()
        .expect("asked");
    harness
        .call(Call::Input(ws_core::Input::Opened { connection }))
        .expect("opens");
    harness.set_now(Instant::MAX);
    let verdict = harness.call(Call::Tick).cloned();
    assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    assert_eq!(harness.observed().supervisor().poll_timeout(), None);
}
