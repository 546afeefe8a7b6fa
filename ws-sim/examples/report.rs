//! Prints the fault simulator's report: dead-peer detection time against its bound, and where
//! reconnect delays fall in the range of their jitter formula.
//!
//! `cargo run -p ws-sim --example report -- [runs] [hours]` (default: 3,000 runs of 2 h).

use ws_sim::{Report, simulate};

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3_000);
    let hours: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let mut report = Report::default();
    let mut failures = 0;
    for seed in 0..runs {
        match simulate(seed, hours) {
            Ok(measurements) => report.add(measurements),
            Err(failure) => {
                failures += 1;
                eprintln!("{failure}");
            }
        }
    }
    println!("{report}");
    if failures > 0 {
        println!("{failures} runs broke an invariant (see above)");
        std::process::exit(1);
    }
}
