//! The client configurations the scenarios start from.
//!
//! Production defaults (ping every 20 s, reconnect after 1 s with jitter) would make every
//! scenario last seconds and vary from run to run; these keep the defaults' shape with
//! intervals in milliseconds and no jitter, so every wait and bound can be derived from them.

use std::time::Duration;

use ws_client::{ClientOptions, ClientOptionsBuilder};
use ws_core::{Config, ConfigBuilder, Jitter};

/// The first reconnect delay of [`fast_reconnect`].
pub(crate) const INITIAL_DELAY: Duration = Duration::from_millis(20);

/// A fixed jitter seed: the schedules are deterministic anyway (no jitter), and a fixed seed
/// keeps a custom adapter configuration reproducible too.
const SEED: u64 = 0x5EED;

/// The defaults, except reconnects: 20 ms doubling to 100 ms, no jitter.
pub(crate) fn fast_reconnect() -> ConfigBuilder {
    Config::builder()
        .initial_delay(INITIAL_DELAY)
        .max_delay(Duration::from_millis(100))
        .multiplier(2.0)
        .jitter(Jitter::None)
}

/// Options for `url` with `config` and a fixed seed.
pub(crate) fn options(url: &str, config: ConfigBuilder) -> ClientOptionsBuilder {
    let config = config
        .build()
        .unwrap_or_else(|error| panic!("conformance config is invalid: {error}"));
    ClientOptions::builder(url).config(config).seed(SEED)
}

/// Builds options, naming the scenario's mistake if they are invalid.
pub(crate) fn build(builder: ClientOptionsBuilder) -> ClientOptions {
    builder
        .build()
        .unwrap_or_else(|error| panic!("conformance options are invalid: {error}"))
}
