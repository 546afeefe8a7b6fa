//! Any bytes become raw config values; building never panics and never accepts a value outside
//! its documented range. See `ws_sim::fuzz::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_sim::fuzz::config(data));
