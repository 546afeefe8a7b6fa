//! The storm study's claim, on a small fleet: jitter spreads a synchronised reconnect.

use std::time::Duration;

use ws_core::Jitter;
use ws_sim::storm::{StormSetup, run};

fn storm(jitter: Jitter) -> ws_sim::storm::StormResult {
    run(&StormSetup {
        clients: 1_000,
        outage: Duration::from_secs(5),
        capacity_per_window: 50,
        window: Duration::from_millis(100),
        jitter,
    })
}

#[test]
fn without_jitter_every_client_retries_in_the_same_window() {
    let none = storm(Jitter::None);
    // The first reconnect comes exactly 1 s (window 10) after the loss, for everyone at once.
    assert_eq!(none.peak_attempts, 1_000);
    assert_eq!(none.attempts_per_window[10], 1_000);
    assert!(none.attempts_per_window[..10].iter().all(|&n| n == 0));
}

#[test]
fn full_jitter_cuts_the_peak_and_brings_everyone_back_sooner() {
    let none = storm(Jitter::None);
    let full = storm(Jitter::Full);
    assert!(
        full.peak_attempts * 4 < none.peak_attempts,
        "full {} vs none {}",
        full.peak_attempts,
        none.peak_attempts
    );
    assert!(full.all_reconnected_after < none.all_reconnected_after);
    assert!(full.total_attempts < none.total_attempts);
}
