//! `ws-bench`: what the resilience layer costs, measured as ratios within one run.
//!
//! One binary (`cargo run --release -p ws-bench`) runs everything in one process and prints a
//! table; see BENCHMARKS.md at the workspace root for what each number means. The pieces, one
//! concept per module:
//!
//! - [`server`]: the reference echo server (one thread, batched replies, no allocation per
//!   message), its calibration, and its child-process form for the fleets;
//! - [`clients`]: the three adapters and their raw tungstenite baselines, all driving the same
//!   [`workload::Conversation`]s;
//! - [`cases`]: the echo workloads; [`throughput`]: running them interleaved and repeated;
//! - [`measure`]: CPU, allocation and memory readings; [`stats`]: histograms and medians;
//!   [`placement`]: the server on one core, the clients on the other;
//! - [`fleet`]: 10,000 idle heartbeating connections per adapter; [`recovery`]: dead-peer
//!   detection and reconnect timing;
//! - [`goals`], [`report`], [`chart`]: the verdicts, the tables and JSON, the SVG.

#![forbid(unsafe_code)]

pub mod cases;
pub mod chart;
pub mod clients;
pub mod error;
pub mod fleet;
pub mod goals;
pub mod measure;
pub mod placement;
pub mod plan;
pub mod recovery;
pub mod report;
pub mod server;
pub mod stats;
pub mod throughput;
pub mod workload;

use std::path::Path;
use std::time::Instant;

pub use error::{Error, Result};
pub use plan::{Mode, Plan};
pub use report::Report;

use crate::clients::Target;
use crate::measure::Meter;
use crate::report::Machine;
use crate::server::EchoServer;

/// Runs `plan` and returns its report. `executable` is this benchmark's binary, used to run
/// the fleets' server and each fleet in child processes (without it they run in this
/// process). `progress` hears a line per step.
pub fn run(
    plan: &Plan,
    executable: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<Report> {
    let started = Instant::now();
    let mut machine = Machine::now();
    let server = EchoServer::start()?;
    // After the server's thread exists (it pins itself), so only the clients inherit this.
    let pinned = placement::pin_client_thread();
    progress(&format!(
        "cores: server {:?}, clients {:?}",
        server.core(),
        pinned.as_ref().map(placement::Pinned::core)
    ));
    let meter = Meter::new(server.tid());
    let target = Target::new(server.addr());
    let calibration = server::calibrate::calibrate(server.addr(), &meter, plan.calibration_rounds)?;
    progress(&format!(
        "reference server: {:.3} allocations and {:.0} ns CPU per message",
        calibration.allocations_per_message, calibration.server_cpu_ns_per_message
    ));
    let cases = throughput::run(&plan.throughput, &target, &meter, progress)?;
    drop((server, pinned));
    let fleet = match &plan.fleet {
        Some(fleet) => fleet::run(fleet, executable, progress)?,
        None => Vec::new(),
    };
    let recovery = match &plan.recovery {
        Some(recovery) => recovery::run(recovery, progress)?,
        None => Vec::new(),
    };
    machine.load_after = report::load();
    let goals = goals::evaluate(&cases, &fleet, &recovery);
    let headlines = report::headlines(&cases, &fleet);
    Ok(Report {
        mode: plan.mode.name(),
        machine,
        wall: started.elapsed(),
        plan: plan.throughput.clone(),
        calibration,
        cases,
        fleet,
        recovery,
        goals,
        headlines,
    })
}
