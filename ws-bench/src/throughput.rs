//! The echo cases: every client on every case, interleaved, warmed up, repeated, summarised.
//!
//! Machines drift (other processes, frequency, caches), so clients are never measured in
//! blocks: each repetition runs every client once, in an order rotated by one per
//! repetition, and an adapter is compared with its baselines repetition by repetition
//! (the paired ratio), then the median of those ratios is reported with its range.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::cases::Case;
use crate::clients::{self, ClientKind, Sample, Target};
use crate::error::Result;
use crate::measure::Meter;
use crate::stats::{Histogram, Spread};

/// How the cases are run.
#[derive(Clone, Debug, Serialize)]
pub struct ThroughputPlan {
    /// The cases, in report order.
    pub cases: Vec<Case>,
    /// The clients, in report order.
    pub clients: Vec<ClientKind>,
    /// Length of one measured window.
    pub window: Duration,
    /// Rounds run and discarded first (connections, caches, allocator arenas warm up).
    pub warmups: usize,
    /// Rounds measured.
    pub repetitions: usize,
}

/// One measured window, summarised.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    /// Echoes checked.
    pub messages: u64,
    /// Messages per second.
    pub messages_per_second: f64,
    /// Payload megabytes (10^6 bytes) echoed per second, one direction.
    pub megabytes_per_second: f64,
    /// Client CPU nanoseconds per message (every thread but the server's).
    pub client_cpu_ns_per_message: f64,
    /// Allocations per message, by any thread (the server makes none).
    pub allocations_per_message: f64,
    /// The server thread's CPU time as a share of the window's wall time (1.0 = a whole core).
    pub server_core_share: f64,
    /// The client's CPU time as a share of the window's wall time.
    pub client_core_share: f64,
}

impl Window {
    fn of(sample: &Sample) -> Window {
        let seconds = sample.usage.wall.as_secs_f64().max(1e-9);
        let messages = sample.messages.max(1) as f64;
        Window {
            messages: sample.messages,
            messages_per_second: sample.messages as f64 / seconds,
            megabytes_per_second: sample.bytes as f64 / seconds / 1e6,
            client_cpu_ns_per_message: sample.usage.client_cpu.as_nanos() as f64 / messages,
            allocations_per_message: sample.usage.allocations as f64 / messages,
            server_core_share: sample.usage.server_cpu.as_secs_f64() / seconds,
            client_core_share: sample.usage.client_cpu.as_secs_f64() / seconds,
        }
    }
}

/// One client on one case, over every measured repetition.
#[derive(Clone, Debug, Serialize)]
pub struct ClientResult {
    /// The client.
    pub client: ClientKind,
    /// Its name in tables.
    pub label: &'static str,
    /// Every measured window, in repetition order.
    pub windows: Vec<Window>,
    /// Messages per second.
    pub messages_per_second: Spread,
    /// Megabytes per second.
    pub megabytes_per_second: Spread,
    /// Median round trip over every message of every window, microseconds.
    pub rtt_p50_us: f64,
    /// 99th-percentile round trip, microseconds.
    pub rtt_p99_us: f64,
    /// Client CPU nanoseconds per message.
    pub client_cpu_ns_per_message: Spread,
    /// Allocations per message.
    pub allocations_per_message: Spread,
    /// The server thread's share of a core.
    pub server_core_share: Spread,
}

/// An adapter against one of its baselines on one case.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The adapter.
    pub adapter: ClientKind,
    /// The baseline.
    pub baseline: ClientKind,
    /// Adapter messages/s ÷ baseline messages/s, paired by repetition.
    pub ratio: Spread,
    /// Adapter allocations per message − baseline's (medians).
    pub extra_allocations_per_message: f64,
    /// Adapter CPU ns per message ÷ baseline's (medians).
    pub cpu_ratio: f64,
}

/// Everything measured on one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// Its identifier.
    pub id: String,
    /// Its description.
    pub title: String,
    /// One entry per client, in plan order.
    pub clients: Vec<ClientResult>,
    /// Each adapter against its default and tuned baselines.
    pub comparisons: Vec<Comparison>,
}

impl CaseResult {
    /// The result of `client`, if it ran.
    pub fn client(&self, client: ClientKind) -> Option<&ClientResult> {
        self.clients.iter().find(|r| r.client == client)
    }

    /// The comparison of `adapter` with `baseline`, if both ran.
    pub fn comparison(&self, adapter: ClientKind, baseline: ClientKind) -> Option<&Comparison> {
        self.comparisons
            .iter()
            .find(|c| c.adapter == adapter && c.baseline == baseline)
    }
}

/// Runs every case of `plan` against the server at `target`; `progress` hears one line per
/// case.
pub fn run(
    plan: &ThroughputPlan,
    target: &Target,
    meter: &Meter,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<CaseResult>> {
    let mut results = Vec::with_capacity(plan.cases.len());
    for case in &plan.cases {
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); plan.clients.len()];
        for round in 0..plan.warmups + plan.repetitions {
            let count = plan.clients.len();
            for step in 0..count {
                let slot = (step + round) % count;
                let sample = clients::run(plan.clients[slot], target, case, plan.window, meter)?;
                if round >= plan.warmups {
                    samples[slot].push(sample);
                }
            }
        }
        let result = summarise(case, &plan.clients, &samples);
        progress(&progress_line(&result));
        results.push(result);
    }
    Ok(results)
}

fn summarise(case: &Case, kinds: &[ClientKind], samples: &[Vec<Sample>]) -> CaseResult {
    let clients: Vec<ClientResult> = kinds
        .iter()
        .zip(samples)
        .map(|(&client, samples)| {
            let windows: Vec<Window> = samples.iter().map(Window::of).collect();
            let spread =
                |f: fn(&Window) -> f64| Spread::of(&windows.iter().map(f).collect::<Vec<_>>());
            let mut rtt = Histogram::default();
            for sample in samples {
                rtt.merge(&sample.rtt);
            }
            let micros = |d: Duration| d.as_nanos() as f64 / 1e3;
            ClientResult {
                client,
                label: client.label(),
                messages_per_second: spread(|w| w.messages_per_second),
                megabytes_per_second: spread(|w| w.megabytes_per_second),
                rtt_p50_us: micros(rtt.quantile(0.5)),
                rtt_p99_us: micros(rtt.quantile(0.99)),
                client_cpu_ns_per_message: spread(|w| w.client_cpu_ns_per_message),
                allocations_per_message: spread(|w| w.allocations_per_message),
                server_core_share: spread(|w| w.server_core_share),
                windows,
            }
        })
        .collect();
    let mut comparisons = Vec::new();
    for adapter in clients.iter().filter(|r| r.client.is_adapter()) {
        let Some((default, tuned)) = adapter.client.baselines() else {
            continue;
        };
        for baseline in [tuned, default] {
            let Some(base) = clients.iter().find(|r| r.client == baseline) else {
                continue;
            };
            let paired: Vec<f64> = adapter
                .windows
                .iter()
                .zip(&base.windows)
                .map(|(a, b)| a.messages_per_second / b.messages_per_second.max(1e-9))
                .collect();
            comparisons.push(Comparison {
                adapter: adapter.client,
                baseline,
                ratio: Spread::of(&paired),
                extra_allocations_per_message: adapter.allocations_per_message.median
                    - base.allocations_per_message.median,
                cpu_ratio: adapter.client_cpu_ns_per_message.median
                    / base.client_cpu_ns_per_message.median.max(1e-9),
            });
        }
    }
    CaseResult {
        case: case.clone(),
        id: case.id(),
        title: case.to_string(),
        clients,
        comparisons,
    }
}

fn progress_line(result: &CaseResult) -> String {
    let mut line = format!("{:<34}", result.title);
    for comparison in &result.comparisons {
        let kind = if comparison.baseline.label().contains("4 KiB") {
            "tuned"
        } else {
            "default"
        };
        let _ = write!(
            line,
            " {}/{kind} {:.2}×",
            comparison.adapter.label().split(' ').next().unwrap_or(""),
            comparison.ratio.median
        );
    }
    line
}
