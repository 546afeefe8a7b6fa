//! The reconnect-storm study: `cargo run --release -p ws-sim --example storm`.
//!
//! 10,000 clients lose the same server at the same moment, once per jitter mode; prints the
//! peak connect attempts per 100 ms window and the time until all are open again, and writes
//! the chart to `docs/reconnect-storm.svg`.

use std::time::Duration;

use ws_core::Jitter;
use ws_sim::storm::{StormSetup, chart, run};

fn main() -> std::io::Result<()> {
    let base = StormSetup {
        clients: 10_000,
        outage: Duration::from_secs(5),
        capacity_per_window: 300,
        window: Duration::from_millis(100),
        jitter: Jitter::None,
    };
    println!(
        "{} clients, server down {:?}, then {} handshakes per {:?}",
        base.clients, base.outage, base.capacity_per_window, base.window
    );
    println!(
        "{:<14} {:>22} {:>20} {:>16}",
        "jitter", "peak attempts/100 ms", "all open after (s)", "total attempts"
    );
    let mut results = Vec::new();
    for jitter in [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
    ] {
        let result = run(&StormSetup {
            jitter,
            ..base.clone()
        });
        println!(
            "{:<14} {:>22} {:>20.1} {:>16}",
            format!("{jitter:?}"),
            result.peak_attempts,
            result.all_reconnected_after.as_secs_f64(),
            result.total_attempts
        );
        results.push(result);
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/reconnect-storm.svg");
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs"))?;
    std::fs::write(path, chart(&results, &base, Duration::from_secs(60)))?;
    println!("chart written to docs/reconnect-storm.svg");
    Ok(())
}
