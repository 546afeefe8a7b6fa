//! What a run does: the full benchmark (a few minutes) or the smoke run (seconds, for CI).
//!
//! The smoke run keeps every case, client, fleet and scenario, only smaller and shorter: its
//! job is to keep the benchmark from rotting (every code path runs, every echo is checked),
//! not to produce numbers.

use std::time::Duration;

use serde::Serialize;

use crate::cases::Case;
use crate::clients::ClientKind;
use crate::fleet::FleetPlan;
use crate::recovery::RecoveryPlan;
use crate::throughput::ThroughputPlan;

/// The full benchmark or the smoke run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// Every case, warmed up and repeated; 10,000-connection fleets.
    Full,
    /// Every case once, briefly; small fleets.
    Smoke,
}

/// Everything a run does.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Full or smoke.
    pub mode: Mode,
    /// The echo cases.
    pub throughput: ThroughputPlan,
    /// Round trips per exchange of the server calibration.
    pub calibration_rounds: usize,
    /// The idle fleets (`None`: skipped).
    pub fleet: Option<FleetPlan>,
    /// The recovery scenarios (`None`: skipped).
    pub recovery: Option<RecoveryPlan>,
}

/// The fleets: every adapter (heartbeating) and the async raw baselines (idle). The blocking
/// baseline has no fleet: one thread per idle connection is not how anyone would hold 10,000.
fn fleet_clients() -> Vec<ClientKind> {
    vec![
        ClientKind::WsTokio,
        ClientKind::WsAsyncStd,
        ClientKind::WsBlocking,
        ClientKind::TokioTungsteniteDefault,
        ClientKind::TokioTungsteniteTuned,
        ClientKind::AsyncTungsteniteDefault,
        ClientKind::AsyncTungsteniteTuned,
    ]
}

impl Plan {
    /// The full benchmark: about six minutes on two cores.
    pub fn full() -> Plan {
        Plan {
            mode: Mode::Full,
            throughput: ThroughputPlan {
                cases: Case::all(),
                clients: ClientKind::ALL.to_vec(),
                window: Duration::from_millis(250),
                warmups: 1,
                repetitions: 7,
            },
            calibration_rounds: 2000,
            fleet: Some(FleetPlan {
                connections: 10_000,
                clients: fleet_clients(),
                ping_interval: Duration::from_secs(1),
                pong_timeout: Duration::from_secs(1),
                settle: Duration::from_millis(1500),
                window: Duration::from_secs(3),
                batch: 250,
                channel_capacity: None,
            }),
            recovery: Some(RecoveryPlan {
                clients: ClientKind::ADAPTERS.to_vec(),
                repetitions: 5,
                ping_interval: Duration::from_millis(200),
                pong_timeout: Duration::from_millis(200),
                backoff: Duration::from_millis(100),
            }),
        }
    }

    /// The smoke run: a few seconds in release, well under 30 s in a debug build.
    pub fn smoke() -> Plan {
        Plan {
            mode: Mode::Smoke,
            throughput: ThroughputPlan {
                cases: Case::all()
                    .iter()
                    .map(|case| case.with_connections_capped(4))
                    .collect(),
                clients: ClientKind::ALL.to_vec(),
                window: Duration::from_millis(10),
                warmups: 0,
                repetitions: 1,
            },
            calibration_rounds: 20,
            fleet: Some(FleetPlan {
                connections: 16,
                clients: fleet_clients(),
                ping_interval: Duration::from_millis(50),
                pong_timeout: Duration::from_millis(500),
                settle: Duration::from_millis(120),
                window: Duration::from_millis(100),
                batch: 8,
                channel_capacity: None,
            }),
            recovery: Some(RecoveryPlan {
                clients: ClientKind::ADAPTERS.to_vec(),
                repetitions: 1,
                ping_interval: Duration::from_millis(40),
                pong_timeout: Duration::from_millis(40),
                backoff: Duration::from_millis(20),
            }),
        }
    }

    /// Keeps only the cases whose id contains `filter`.
    pub fn only_cases(&mut self, filter: &str) {
        self.throughput
            .cases
            .retain(|case| case.id().contains(filter));
    }

    /// Keeps only the clients whose label contains `filter` (everywhere).
    pub fn only_clients(&mut self, filter: &str) {
        let keep = |client: &ClientKind| client.label().contains(filter);
        self.throughput.clients.retain(keep);
        if let Some(fleet) = &mut self.fleet {
            fleet.clients.retain(keep);
        }
        if let Some(recovery) = &mut self.recovery {
            recovery.clients.retain(keep);
        }
    }
}
