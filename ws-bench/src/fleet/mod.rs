//! The idle fleet: thousands of open, heartbeating connections per adapter, and what each one
//! costs in heap, resident memory and CPU.
//!
//! Each fleet is measured in a process of its own (this binary started again with
//! [`MEMBER_FLAG`]), against an echo server in another child process
//! ([`ChildServer`]). A fresh process per fleet is what
//! makes the resident-memory figure mean something: freed memory stays in the allocator's
//! arenas, so a second fleet in the same process would reuse the first one's pages and look
//! cheaper than it is. It also gives every fleet its own file-descriptor budget. Without an
//! executable to start (a library caller), the fleets run in-process, one after the other.
//!
//! The raw baselines are in the table too, idle and without heartbeats (tungstenite has
//! none), to show what the adapters' buffer tuning saves: their per-connection heap is the
//! 128 KiB default read buffer.

pub mod limits;
mod member;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clients::{ClientKind, Target};
use crate::error::{Error, Result};
use crate::server::EchoServer;
use crate::server::process::ChildServer;

/// The command-line flag that turns the benchmark binary into one fleet's measurement.
pub const MEMBER_FLAG: &str = "--fleet-member";

/// How the fleets are run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FleetPlan {
    /// Connections per fleet (fewer if the machine's limits do not allow them; the result
    /// says so).
    pub connections: usize,
    /// The clients, each a fleet of its own.
    pub clients: Vec<ClientKind>,
    /// The adapters' heartbeat interval.
    pub ping_interval: Duration,
    /// The adapters' pong timeout.
    pub pong_timeout: Duration,
    /// Time after the last connection opened before memory is read, so every connection has
    /// exchanged at least one ping and pong (its buffers have their working size).
    pub settle: Duration,
    /// The CPU measurement window.
    pub window: Duration,
    /// Connections opened at a time.
    pub batch: usize,
    /// The adapters' command and event channel capacity (`None`: their default, 256).
    pub channel_capacity: Option<usize>,
}

/// One fleet, for one member process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spec {
    /// What to measure.
    pub plan: FleetPlan,
    /// Which client.
    pub client: ClientKind,
    /// The server's address.
    pub server: std::net::SocketAddr,
}

/// What one fleet cost.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FleetResult {
    /// The client.
    pub client: ClientKind,
    /// Connections asked for.
    pub requested: usize,
    /// Connections opened and measured.
    pub connections: usize,
    /// Whether the connections sent heartbeats (the adapters) or sat idle (raw baselines).
    pub heartbeats_enabled: bool,
    /// Heap bytes per connection (counting allocator, after the settle time).
    pub heap_bytes_per_connection: f64,
    /// Resident bytes per connection (`/proc/self/statm`).
    pub rss_bytes_per_connection: f64,
    /// CPU milliseconds per second of the whole fleet (of the client process).
    pub cpu_ms_per_second: f64,
    /// Heartbeat round trips completed in the window (`Rtt` events).
    pub heartbeats: u64,
    /// Client CPU microseconds per heartbeat round trip.
    pub cpu_us_per_heartbeat: f64,
    /// Connections that dropped during the measurement (should be 0).
    pub disconnects: u64,
    /// Seconds to open the whole fleet.
    pub open_seconds: f64,
    /// Why the fleet is smaller than asked, if it is.
    pub note: Option<String>,
}

/// The echo server for the fleets: a child process when possible.
enum FleetServer {
    Child(ChildServer),
    Local(EchoServer),
}

impl FleetServer {
    fn addr(&self) -> std::net::SocketAddr {
        match self {
            FleetServer::Child(server) => server.addr(),
            FleetServer::Local(server) => server.addr(),
        }
    }
}

/// Runs every fleet of `plan`. With `executable` (this benchmark's binary), the server and
/// each fleet run in child processes; without, in this process.
pub fn run(
    plan: &FleetPlan,
    executable: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<FleetResult>> {
    let server = match executable {
        Some(executable) => FleetServer::Child(ChildServer::spawn(executable)?),
        None => FleetServer::Local(EchoServer::start()?),
    };
    let mut results = Vec::with_capacity(plan.clients.len());
    for &client in &plan.clients {
        let spec = Spec {
            plan: plan.clone(),
            client,
            server: server.addr(),
        };
        let result = match executable {
            Some(executable) => in_child(executable, &spec)?,
            None => member::measure(&spec)?,
        };
        progress(&format!(
            "fleet {:<28} {:>6} connections: {:>8.0} B heap, {:>8.0} B RSS per connection, {:.1} ms CPU/s",
            client.label(),
            result.connections,
            result.heap_bytes_per_connection,
            result.rss_bytes_per_connection,
            result.cpu_ms_per_second
        ));
        results.push(result);
    }
    drop(server);
    Ok(results)
}

/// Runs one fleet in a child process and reads its result (one JSON line).
fn in_child(executable: &Path, spec: &Spec) -> Result<FleetResult> {
    let mut child = Command::new(executable)
        .arg(MEMBER_FLAG)
        .arg(serde_json::to_string(spec)?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut output)?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(Error::new(format!(
            "the {} fleet process failed ({status})",
            spec.client
        )));
    }
    let line = output.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|error| {
        Error::new(format!(
            "the {} fleet process printed {line:?}: {error}",
            spec.client
        ))
    })
}

/// The body of a fleet member process: reads the spec from the argument, prints the result.
pub fn member_main(spec: &str) -> Result<()> {
    let spec: Spec = serde_json::from_str(spec)?;
    let result = member::measure(&spec)?;
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}

impl Spec {
    fn target(&self) -> Target {
        Target::new(self.server)
    }
}

/// How long opening one batch of connections may take.
const BATCH_PATIENCE: Duration = Duration::from_secs(30);
