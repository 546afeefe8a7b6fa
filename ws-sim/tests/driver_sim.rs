//! ws-client's real driver in the deterministic simulation (`ws_sim::driver`): random
//! schedules decoded from bytes, the same space the `driver` fuzz target searches.

use std::time::Duration;

use proptest::prelude::*;
use ws_client::{ClientOptions, Config, Heartbeat};
use ws_sim::driver::{Advance, DriverScenario, DriverSim, DriverStep};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every promise of the driver holds on any schedule, and two runs agree.
    #[test]
    fn the_driver_keeps_its_promises_on_any_schedule(data in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let scenario = DriverScenario::from_bytes(&data);
        if let Err(failure) = scenario.check() {
            return Err(TestCaseError::fail(failure.to_string()));
        }
    }
}

fn meter(poll: &mut dyn FnMut()) -> u64 {
    allocation_counter::measure(poll).count_total
}

/// An open connection with messages flowing both ways, `rounds` times: a send, a message
/// from the peer, the application reading; every `ping_every` rounds (if any) the clock
/// moves to the timer's deadline and the peer answers the heartbeat.
fn steady_state(sim: &mut DriverSim, rounds: usize, ping_every: Option<usize>) {
    for round in 0..rounds {
        let mut steps = vec![
            DriverStep::TrySend {
                client: 0,
                binary: round % 2 == 0,
            },
            DriverStep::PeerData {
                binary: round % 3 == 0,
            },
            DriverStep::ReadEvents(255),
        ];
        if ping_every.is_some_and(|every| round % every == 0) {
            steps.extend([
                DriverStep::Advance(Advance::ToDeadline),
                DriverStep::PeerPong,
                DriverStep::ReadEvents(255),
            ]);
        }
        for step in &steps {
            sim.step(step).unwrap();
        }
    }
}

fn open_sim(heartbeat: Heartbeat) -> DriverSim {
    let config = Config::builder()
        .heartbeat(heartbeat)
        .ping_interval(Duration::from_secs(1))
        .pong_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let options = ClientOptions::builder("ws://sim/")
        .config(config)
        .seed(7)
        .build()
        .unwrap();
    let mut sim = DriverSim::new(options, true, Some(meter));
    for step in [DriverStep::Resolve(0), DriverStep::ReadEvents(255)] {
        sim.step(&step).unwrap();
    }
    sim
}

/// DESIGN §3: the steady state allocates nothing beyond the payloads the application hands
/// in. Counted inside the driver's polls only (the application's messages and the
/// simulation's own bookkeeping are made outside them), after a warm-up in which the queues
/// and channels reach their working size.
#[test]
fn the_steady_state_allocates_nothing_per_message() {
    let mut sim = open_sim(Heartbeat::Disabled);
    steady_state(&mut sim, 200, None);
    let before = sim.counters();
    sim.reset_allocations();
    steady_state(&mut sim, 500, None);
    let after = sim.counters();
    assert_eq!(after.on_wire - before.on_wire, 500);
    assert_eq!(sim.allocations(), 0, "allocations in 500 rounds");
    sim.wind_down().unwrap();
}

/// Protocol heartbeats allocate nothing in the steady state either: each Ping's 8-byte
/// sequence number is written into one buffer per connection whose allocation comes back once
/// the previous Ping was written (it cost one allocation per `ping_interval` before).
#[test]
fn with_protocol_heartbeats_pings_allocate_nothing() {
    let mut sim = open_sim(Heartbeat::Protocol);
    steady_state(&mut sim, 200, Some(10));
    sim.reset_allocations();
    let before = sim.counters();
    steady_state(&mut sim, 500, Some(10));
    let after = sim.counters();
    assert_eq!(after.on_wire - before.on_wire, 500);
    let pings = after.pings - before.pings;
    assert_eq!(pings, 50);
    assert_eq!(sim.allocations(), 0, "allocations with {pings} pings");
    sim.wind_down().unwrap();
}

/// The driver benchmark's runtime (`benches/driver_messages.rs`) carries every message both
/// ways, one wake-up per message and direction, so what it counts is the real path.
#[test]
fn the_driver_bench_moves_every_message() {
    use ws_sim::driver::bench::{Kind, MessageBench};
    for kind in [Kind::Binary, Kind::Text] {
        let mut bench = MessageBench::new(kind, 20);
        let before = bench.counters();
        bench.echo(50);
        bench.send(30);
        bench.receive(20);
        let after = bench.counters();
        assert_eq!(after.fed - before.fed, 80, "{kind:?}");
        assert_eq!(after.read - before.read, 70, "{kind:?}");
        assert_eq!(after.delivered - before.delivered, 70, "{kind:?}");
        assert_eq!(
            after.polls - before.polls,
            150,
            "{kind:?}: one poll per wake-up"
        );
    }
}
