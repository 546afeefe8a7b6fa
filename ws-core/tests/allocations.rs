//! The steady state allocates nothing: an open connection passing messages and heartbeats
//! costs no heap traffic in the core beyond the payloads the application hands in.

mod common;

use common::steady::SteadyState;

#[test]
fn steady_state_cycles_allocate_nothing() {
    let mut steady = SteadyState::new();
    let pings_before = steady.sup.stats().pings_sent;
    let info = allocation_counter::measure(|| {
        for _ in 0..10_000 {
            steady.message_out();
            steady.message_in();
            steady.ping_pong();
            steady.idle_tick();
        }
    });
    assert_eq!(
        info.count_total, 0,
        "allocations in the steady state: {info:?}"
    );
    // The cycles really ran: each drained a Send, a Message and an Rtt (the Ping is taken
    // inside `ping_pong`), on top of the warm-up's outputs.
    let warm_up = SteadyState::new().drained;
    assert_eq!(steady.drained - warm_up, 30_000);
    assert_eq!(steady.sup.stats().pings_sent - pings_before, 10_000);
}

#[test]
fn queueing_during_an_outage_allocates_only_up_to_the_queue_capacity() {
    let mut steady = SteadyState::new();
    // Reach the queue's working capacity once.
    steady.sup.reconnect_now(steady.now);
    steady.drain();
    for _ in 0..16 {
        steady.message_out();
    }
    let connection = steady.sup.connection().expect("connecting");
    steady
        .sup
        .handle_input(ws_core::Input::Opened { connection }, steady.now);
    steady.connection = connection;
    steady.drain();
    // A second outage of the same size reuses the buffers.
    steady.sup.reconnect_now(steady.now);
    steady.drain();
    let info = allocation_counter::measure(|| {
        for _ in 0..16 {
            steady.message_out();
        }
        let connection = steady.sup.connection().expect("connecting");
        steady
            .sup
            .handle_input(ws_core::Input::Opened { connection }, steady.now);
        steady.drain();
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn released_queues_are_allocated_again_once_then_kept() {
    let mut steady = SteadyState::new();
    steady.sup.release_idle_memory();
    let again = allocation_counter::measure(|| {
        steady.message_out();
        steady.message_in();
    });
    // The action queue and the event queue, given back and grown again.
    assert_eq!(again.count_total, 2, "{again:?}");
    let kept = allocation_counter::measure(|| {
        for _ in 0..100 {
            steady.message_out();
            steady.message_in();
        }
    });
    assert_eq!(kept.count_total, 0, "{kept:?}");
}
