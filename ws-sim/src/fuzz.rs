//! The checks behind the cargo-fuzz targets in `fuzz/`, kept here so that the ordinary test
//! run replays the committed corpus through exactly the same code on stable Rust.
//!
//! Each function panics on a broken guarantee: that is how libFuzzer learns of a crash.

use core::time::Duration;
use std::path::Path;

use ws_core::{Config, ConfigBuilder, Jitter, Overflow};

use crate::scenario::Scenario;

/// `supervisor` target: any bytes become a config, a seed and a script of application
/// commands, driver inputs and clock moves; every invariant is checked after every step, and
/// the script is run twice for determinism.
pub fn supervisor(data: &[u8]) {
    if let Err(failure) = Scenario::from_bytes(data).check() {
        panic!("{failure}");
    }
}

/// `driver` target: any bytes become client options and a schedule for ws-client's real
/// driver over a scripted runtime; every promise of the driver is checked after every step,
/// and the schedule is run twice for determinism. See [`crate::driver`].
pub fn driver(data: &[u8]) {
    crate::driver::check_bytes(data);
}

/// `config` target: any bytes become raw builder values, in range or not. Building must not
/// panic; a built config holds only documented values; a refusal names a real field.
pub fn config(data: &[u8]) {
    let mut words = data
        .chunks(8)
        .map(|chunk| chunk.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)));
    let mut next = move || words.next().unwrap_or(0);
    // Durations spread over zero, sub-millisecond, in range and far beyond any range.
    let mut duration = || Duration::from_nanos(next() >> (next() % 64));
    let builder: ConfigBuilder = Config::builder()
        .ping_interval(duration())
        .pong_timeout(duration())
        .idle_timeout(duration())
        .late_tick_threshold(duration())
        .connect_timeout(duration())
        .close_timeout(duration())
        .initial_delay(duration())
        .max_delay(duration())
        .stable_after(duration())
        .retry_after_cap(duration());
    let raw = data.first().copied().unwrap_or(0);
    let multiplier = f64::from_bits(u64::from_le_bytes(pad(data.get(1..9))));
    let builder = builder
        .multiplier(multiplier)
        .jitter(match raw % 4 {
            0 => Jitter::None,
            1 => Jitter::Full,
            2 => Jitter::Equal,
            _ => Jitter::Decorrelated,
        })
        .overflow(if raw & 4 == 0 {
            Overflow::RejectNew
        } else {
            Overflow::DropOldest
        })
        .queue_max_messages(
            usize::try_from(u64::from_le_bytes(pad(data.get(9..17)))).unwrap_or(usize::MAX),
        )
        .max_queue_age(
            (raw & 8 != 0).then(|| Duration::from_nanos(u64::from_le_bytes(pad(data.get(17..25))))),
        )
        // Past the bytes the older fields read, so the committed corpus keeps its meaning:
        // mostly 0..=100, sometimes far beyond.
        .auth_retries(u32::from(data.get(25).copied().unwrap_or(0)) << (raw >> 4))
        .credentials_refreshed(raw & 0x10 != 0);
    match builder.build() {
        Ok(config) => assert_valid(&config),
        Err(error) => {
            assert!(
                FIELDS.contains(&error.field()),
                "refusal names an unknown field: {error}"
            );
            assert!(error.to_string().contains(error.field()), "{error}");
        }
    }
}

const FIELDS: [&str; 15] = [
    "ping_interval",
    "pong_timeout",
    "idle_timeout",
    "late_tick_threshold",
    "connect_timeout",
    "close_timeout",
    "initial_delay",
    "max_delay",
    "multiplier",
    "stable_after",
    "retry_after_cap",
    "queue_max_messages",
    "max_queue_age",
    "queue_max_bytes",
    "auth_retries",
];

fn pad(bytes: Option<&[u8]>) -> [u8; 8] {
    let mut out = [0; 8];
    if let Some(bytes) = bytes {
        out[..bytes.len()].copy_from_slice(bytes);
    }
    out
}

fn assert_valid(config: &Config) {
    let ms = Duration::from_millis(1);
    let hour = Duration::from_secs(3600);
    let day = Duration::from_secs(86_400);
    for (name, value, low, high) in [
        ("ping_interval", config.ping_interval(), ms, hour),
        ("pong_timeout", config.pong_timeout(), ms, hour),
        ("idle_timeout", config.idle_timeout(), ms, day),
        (
            "late_tick_threshold",
            config.late_tick_threshold(),
            ms,
            hour,
        ),
        ("connect_timeout", config.connect_timeout(), ms, hour / 6),
        ("close_timeout", config.close_timeout(), ms, hour / 6),
        ("initial_delay", config.initial_delay(), ms, hour),
        ("max_delay", config.max_delay(), config.initial_delay(), day),
        ("stable_after", config.stable_after(), Duration::ZERO, day),
        (
            "retry_after_cap",
            config.retry_after_cap(),
            Duration::ZERO,
            day,
        ),
    ] {
        assert!(
            (low..=high).contains(&value),
            "built config has {name} = {value:?}, outside {low:?}..={high:?}"
        );
    }
    assert!((1.0..=100.0).contains(&config.multiplier()));
    assert!(config.queue_max_messages() <= ws_core::MAX_QUEUE_MESSAGES);
    assert!(config.auth_retries() <= ws_core::MAX_AUTH_RETRIES);
}

/// Runs `check` on every file under each of `folders` (missing folders are skipped); returns
/// how many files were replayed.
pub fn replay(folders: &[&Path], check: fn(&[u8])) -> usize {
    let mut replayed = 0;
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for file in files.iter().filter(|f| f.is_file()) {
            let data = std::fs::read(file)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", file.display()));
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check", file.display());
            replayed += 1;
        }
    }
    replayed
}
