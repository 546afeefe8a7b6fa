//! What a run does: the full benchmark (a few minutes), the quick run (one case, seconds) or
//! the smoke run (seconds, for CI).
//!
//! The smoke run keeps every case, client, fleet and scenario, only smaller and shorter: its
//! job is to keep the benchmark from rotting (every code path runs, every echo is checked),
//! not to produce numbers. The quick run is the opposite trade: one case, measured exactly as
//! the full run measures it, so a change to an adapter can be judged in under a minute.

use std::time::Duration;

use serde::Serialize;

use crate::cases::Case;
use crate::clients::ClientKind;
use crate::fleet::FleetPlan;
use crate::recovery::RecoveryPlan;
use crate::throughput::ThroughputPlan;

/// The full benchmark, the quick run or the smoke run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// Every case, warmed up and repeated; 10,000-connection fleets.
    Full,
    /// One case, warmed up and repeated as in the full run, for the chosen clients and their
    /// raw baselines; no fleet, no recovery.
    Quick,
    /// Every case once, briefly; small fleets.
    Smoke,
}

impl Mode {
    /// Its name in reports: `full`, `quick` or `smoke`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Quick => "quick",
            Mode::Smoke => "smoke",
        }
    }
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
            throughput: full_rounds(),
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

    /// The quick run, before [`Plan::only_cases`] and [`Plan::only_clients`] narrow it and
    /// [`Plan::complete_quick`] checks it: every case's rounds are the full run's (one
    /// warm-up, seven rounds of 250 ms), so its ratios and their spread compare with a full
    /// run's; what makes it quick is measuring one case and skipping the fleets and recovery
    /// scenarios, which take most of the full run. A shorter calibration still proves the
    /// server allocates nothing per message (the allocation figures rely on it).
    pub fn quick() -> Plan {
        Plan {
            mode: Mode::Quick,
            throughput: full_rounds(),
            calibration_rounds: 200,
            fleet: None,
            recovery: None,
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

    /// Keeps only the cases whose id contains `filter`; an error if none does (a typo would
    /// otherwise run nothing and report nothing, after minutes of fleets).
    pub fn only_cases(&mut self, filter: &str) -> Result<(), String> {
        let ids = self.case_ids();
        self.throughput
            .cases
            .retain(|case| case.id().contains(filter));
        if self.throughput.cases.is_empty() {
            return Err(format!(
                "--case `{filter}` matches no case (cases: {})",
                ids.join(", ")
            ));
        }
        Ok(())
    }

    /// Keeps only the clients (everywhere: echo cases, fleet, recovery) whose label contains
    /// one of the comma-separated names in `filter`, e.g. `ws-tokio` or `ws-tokio,ws-blocking`
    /// (no label contains a comma, so a single name reads as it always did). An error if a
    /// name matches no client at all, or if no echo client is left.
    pub fn only_clients(&mut self, filter: &str) -> Result<(), String> {
        let labels = || ClientKind::ALL.map(ClientKind::label).join(", ");
        let names: Vec<&str> = filter
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        if names.is_empty() {
            return Err(format!(
                "--client needs a client name (clients: {})",
                labels()
            ));
        }
        if let Some(unknown) = names
            .iter()
            .find(|name| !ClientKind::ALL.iter().any(|c| c.label().contains(**name)))
        {
            return Err(format!(
                "--client `{unknown}` names no client (clients: {})",
                labels()
            ));
        }
        let keep = |client: &ClientKind| names.iter().any(|name| client.label().contains(name));
        self.throughput.clients.retain(keep);
        if let Some(fleet) = &mut self.fleet {
            fleet.clients.retain(keep);
        }
        if let Some(recovery) = &mut self.recovery {
            recovery.clients.retain(keep);
        }
        if self.throughput.clients.is_empty() {
            return Err(format!("--client `{filter}`: no client left"));
        }
        Ok(())
    }

    /// The quick run's last step, after the filters: it must be down to one case, and every
    /// chosen adapter gets the two raw baselines its ratios are computed against (tuned and
    /// default), in the usual order.
    pub fn complete_quick(&mut self) -> Result<(), String> {
        if self.throughput.cases.len() != 1 {
            return Err(format!(
                "--quick measures one case; choose it with --case ID (now {}: {})",
                self.throughput.cases.len(),
                self.case_ids().join(", ")
            ));
        }
        let chosen = &self.throughput.clients;
        let wanted = |client: &ClientKind| {
            chosen.contains(client)
                || chosen.iter().any(|adapter| {
                    adapter
                        .baselines()
                        .is_some_and(|(default, tuned)| *client == default || *client == tuned)
                })
        };
        self.throughput.clients = ClientKind::ALL.into_iter().filter(wanted).collect();
        Ok(())
    }

    fn case_ids(&self) -> Vec<String> {
        self.throughput.cases.iter().map(Case::id).collect()
    }
}

/// The full run's echo rounds: every case and client, one warm-up round, then seven measured
/// rounds of 250 ms per client.
fn full_rounds() -> ThroughputPlan {
    ThroughputPlan {
        cases: Case::all(),
        clients: ClientKind::ALL.to_vec(),
        window: Duration::from_millis(250),
        warmups: 1,
        repetitions: 7,
    }
}
