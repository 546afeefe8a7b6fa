//! Steady-state cost of the core per input, on one core: `cargo bench -p ws-core`.
//!
//! Each benchmark is one driver-visible step (feed an input, drain the outputs). The figure
//! that matters is inputs per second; divan prints time per iteration.

#[path = "../tests/common/steady.rs"]
mod steady;

use steady::SteadyState;

fn main() {
    println!(
        "size_of::<Supervisor>() = {} bytes",
        std::mem::size_of::<ws_core::Supervisor>()
    );
    divan::main();
}

/// The application sends a message on an open connection.
#[divan::bench(sample_count = 100, sample_size = 1000)]
fn message_out(bencher: divan::Bencher) {
    let mut steady = SteadyState::new();
    bencher.bench_local(|| steady.message_out());
}

/// A message from the peer is delivered to the application.
#[divan::bench(sample_count = 100, sample_size = 1000)]
fn message_in(bencher: divan::Bencher) {
    let mut steady = SteadyState::new();
    bencher.bench_local(|| steady.message_in());
}

/// A full heartbeat: the ping falls due, goes out, and its pong is matched (two inputs).
#[divan::bench(sample_count = 100, sample_size = 1000)]
fn ping_pong_cycle(bencher: divan::Bencher) {
    let mut steady = SteadyState::new();
    bencher.bench_local(|| steady.ping_pong());
}

/// A spurious wake-up: a tick with nothing due.
#[divan::bench(sample_count = 100, sample_size = 1000)]
fn idle_tick(bencher: divan::Bencher) {
    let mut steady = SteadyState::new();
    bencher.bench_local(|| steady.idle_tick());
}
