//! The reference echo server allocates nothing per message: the benchmark's allocation
//! counter is process-wide, so every client's "allocations per message" relies on it.
//! Alone in its test binary, so no other test's allocations are counted.

use ws_bench::measure::Meter;
use ws_bench::server::EchoServer;
use ws_bench::server::calibrate::calibrate;

#[test]
fn the_echo_server_allocates_nothing_per_message() {
    let server = EchoServer::start().unwrap();
    let meter = Meter::new(server.tid());
    let calibration = calibrate(server.addr(), &meter, 200).unwrap();
    assert_eq!(calibration.messages, 200 * 18);
    assert!(
        calibration.allocations_per_message < 0.01,
        "{calibration:?}"
    );
}
