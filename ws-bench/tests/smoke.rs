//! The smoke run, in-process: every case, client, fleet and recovery scenario, briefly, so the
//! benchmark cannot rot unnoticed. Numbers are not checked (a debug build on a shared CI
//! machine proves nothing about speed); completeness and correctness are: every echo was
//! validated inside the run, and every part produced a result.

use std::path::Path;
use std::time::{Duration, Instant};

use ws_bench::clients::ClientKind;
use ws_bench::{Plan, chart};

#[test]
fn the_smoke_run_covers_everything_and_every_echo_checks_out() {
    let plan = Plan::smoke();
    let started = Instant::now();
    // The fleets' server and each fleet run in child processes of the benchmark binary,
    // which cargo builds for this test.
    let executable = Path::new(env!("CARGO_BIN_EXE_ws-bench"));
    let report = ws_bench::run(&plan, Some(executable), &mut |_| {}).expect("smoke run failed");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );

    assert_eq!(report.cases.len(), 14);
    for case in &report.cases {
        assert_eq!(case.clients.len(), ClientKind::ALL.len(), "{}", case.title);
        for client in &case.clients {
            assert!(
                client.windows.iter().all(|w| w.messages > 0),
                "{}: {} echoed nothing",
                case.title,
                client.label
            );
        }
        // Each adapter against its two baselines.
        assert_eq!(case.comparisons.len(), 6, "{}", case.title);
    }
    assert!(
        report.calibration.allocations_per_message < 0.05,
        "the reference server allocates per message: {:?}",
        report.calibration
    );
    assert_eq!(report.fleet.len(), 7);
    assert!(
        report
            .fleet
            .iter()
            .all(|f| f.connections == 16 && f.disconnects == 0)
    );
    assert!(
        report
            .fleet
            .iter()
            .filter(|f| f.heartbeats_enabled)
            .all(|f| f.heartbeats > 0),
        "{:?}",
        report.fleet
    );
    assert_eq!(report.recovery.len(), 3);
    assert!(!report.goals.is_empty() && !report.headlines.is_empty());

    let markdown = report.markdown();
    assert!(
        markdown.contains("| 4 × 64 KiB, binary | ws-blocking |"),
        "{markdown}"
    );
    let svg = chart::svg(&report.cases);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    serde_json::to_string(&report).expect("the report serialises");
}
