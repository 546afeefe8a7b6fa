//! Any bytes become client options and a schedule for ws-client's real driver over a
//! scripted runtime; every promise of the driver is checked after every step, and the
//! schedule is run twice for determinism. See `ws_sim::driver` and `ws_sim::fuzz::driver`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_sim::fuzz::driver(data));
