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

/// An adapter against one of its baselines on one case. Every figure is paired by round
/// (round `i` of the adapter with round `i` of the baseline, see [`Spread::paired_ratio`]):
/// the median over the rounds and their min–max.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The adapter.
    pub adapter: ClientKind,
    /// The baseline.
    pub baseline: ClientKind,
    /// Adapter messages/s ÷ baseline messages/s.
    pub ratio: Spread,
    /// Adapter allocations per message − baseline's.
    pub extra_allocations_per_message: Spread,
    /// Adapter client CPU ns per message ÷ baseline's (below 1: the adapter is cheaper).
    pub cpu_ratio: Spread,
}

impl Comparison {
    /// `adapter` against `baseline`, from their windows of the same rounds.
    pub fn paired(adapter: &ClientResult, baseline: &ClientResult) -> Comparison {
        let per_round = |result: &ClientResult, f: fn(&Window) -> f64| -> Vec<f64> {
            result.windows.iter().map(f).collect()
        };
        let both = |f: fn(&Window) -> f64| (per_round(adapter, f), per_round(baseline, f));
        let (rate, base_rate) = both(|w| w.messages_per_second);
        let (cpu, base_cpu) = both(|w| w.client_cpu_ns_per_message);
        let (allocations, base_allocations) = both(|w| w.allocations_per_message);
        Comparison {
            adapter: adapter.client,
            baseline: baseline.client,
            ratio: Spread::paired_ratio(&rate, &base_rate),
            extra_allocations_per_message: Spread::paired_difference(
                &allocations,
                &base_allocations,
            ),
            cpu_ratio: Spread::paired_ratio(&cpu, &base_cpu),
        }
    }
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
            if let Some(base) = clients.iter().find(|r| r.client == baseline) {
                comparisons.push(Comparison::paired(adapter, base));
            }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A client's result with only what a comparison reads: per round, messages/s, CPU ns per
    /// message and allocations per message.
    pub(crate) fn result(client: ClientKind, rounds: &[(f64, f64, f64)]) -> ClientResult {
        let windows: Vec<Window> = rounds
            .iter()
            .map(|&(rate, cpu, allocations)| Window {
                messages: 1000,
                messages_per_second: rate,
                megabytes_per_second: 0.0,
                client_cpu_ns_per_message: cpu,
                allocations_per_message: allocations,
                server_core_share: 0.0,
                client_core_share: 0.0,
            })
            .collect();
        let spread = |f: fn(&Window) -> f64| Spread::of(&windows.iter().map(f).collect::<Vec<_>>());
        ClientResult {
            client,
            label: client.label(),
            messages_per_second: spread(|w| w.messages_per_second),
            megabytes_per_second: Spread::default(),
            rtt_p50_us: 0.0,
            rtt_p99_us: 0.0,
            client_cpu_ns_per_message: spread(|w| w.client_cpu_ns_per_message),
            allocations_per_message: spread(|w| w.allocations_per_message),
            server_core_share: Spread::default(),
            windows,
        }
    }

    /// `case` with these clients' results and every adapter's comparisons, as `run` makes it.
    pub(crate) fn case_result(case: Case, clients: Vec<ClientResult>) -> CaseResult {
        let mut comparisons = Vec::new();
        for adapter in clients.iter().filter(|r| r.client.is_adapter()) {
            let (default, tuned) = adapter.client.baselines().unwrap();
            for baseline in [tuned, default] {
                if let Some(base) = clients.iter().find(|r| r.client == baseline) {
                    comparisons.push(Comparison::paired(adapter, base));
                }
            }
        }
        CaseResult {
            id: case.id(),
            title: case.to_string(),
            case,
            clients,
            comparisons,
        }
    }

    #[test]
    fn comparisons_pair_round_i_with_round_i() {
        let adapter = result(
            ClientKind::WsTokio,
            &[
                (200.0, 1100.0, 0.5),
                (150.0, 900.0, 0.0),
                (300.0, 1200.0, 1.0),
            ],
        );
        let tuned = result(
            ClientKind::TokioTungsteniteTuned,
            &[
                (100.0, 1000.0, 0.5),
                (200.0, 1000.0, 0.0),
                (200.0, 800.0, 0.25),
            ],
        );
        let comparison = Comparison::paired(&adapter, &tuned);
        assert_eq!(comparison.baseline, ClientKind::TokioTungsteniteTuned);
        // 200/100, 150/200, 300/200.
        assert_eq!(
            comparison.ratio,
            Spread {
                median: 1.5,
                min: 0.75,
                max: 2.0
            }
        );
        // 1100/1000, 900/1000, 1200/800.
        assert_eq!(
            comparison.cpu_ratio,
            Spread {
                median: 1.1,
                min: 0.9,
                max: 1.5
            }
        );
        // 0.5 − 0.5, 0 − 0, 1 − 0.25.
        assert_eq!(
            comparison.extra_allocations_per_message,
            Spread {
                median: 0.0,
                min: 0.0,
                max: 0.75
            }
        );
    }
}
