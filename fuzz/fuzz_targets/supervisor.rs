//! Any bytes become a config, a seed and a script; every invariant of the supervisor is
//! checked after every step. See `ws_sim::fuzz::supervisor`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_sim::fuzz::supervisor(data));
