//! The goals, checked against one run's numbers: met or missed, and by how much.
//!
//! Every throughput goal is a ratio of two clients measured in the same run (the paired
//! median of [`Comparison::ratio`]), never an absolute figure, so it means the same on a
//! loaded laptop and on an idle server.

use serde::Serialize;

use crate::clients::ClientKind;
use crate::fleet::FleetResult;
use crate::recovery::RecoveryResult;
use crate::throughput::{CaseResult, Comparison};

/// One goal for one adapter.
#[derive(Clone, Debug, Serialize)]
pub struct Goal {
    /// What is asked, e.g. `ws-tokio ≥ 1.00× tokio-tungstenite (4 KiB) on 20 B`.
    pub name: String,
    /// Whether the run meets it.
    pub met: bool,
    /// The deciding (worst) figure.
    pub measured: String,
    /// Every figure that went into it.
    pub details: Vec<String>,
}

/// Heap per idle heartbeating connection allowed by the goal.
pub const HEAP_PER_CONNECTION: f64 = 8.0 * 1024.0;
/// How far past its bound a detection or reconnect may come.
pub const TIMING_SLACK_MS: f64 = 5.0;
/// Allocations per message an adapter may add to its tuned baseline's (measurement noise of
/// a window: a handful of allocations over tens of thousands of messages).
pub const ALLOCATION_SLACK: f64 = 0.01;

/// Checks every goal.
pub fn evaluate(
    cases: &[CaseResult],
    fleet: &[FleetResult],
    recovery: &[RecoveryResult],
) -> Vec<Goal> {
    let mut goals = Vec::new();
    for adapter in ClientKind::ADAPTERS {
        let Some((default, tuned)) = adapter.baselines() else {
            continue;
        };
        let small = |c: &&CaseResult| c.case.is_small();
        let large = |c: &&CaseResult| c.case.is_large();
        goals.extend(ratio_goal(cases, adapter, tuned, 1.0, "20 B", small));
        goals.extend(ratio_goal(cases, adapter, default, 1.3, "20 B", small));
        goals.extend(ratio_goal(
            cases,
            adapter,
            tuned,
            0.97,
            "16 KiB and 64 KiB",
            large,
        ));
        goals.extend(ratio_goal(
            cases,
            adapter,
            default,
            0.97,
            "16 KiB and 64 KiB",
            large,
        ));
        if adapter == ClientKind::WsBlocking {
            let one_in_flight = |c: &&CaseResult| c.case.in_flight == 1;
            goals.extend(ratio_goal(
                cases,
                adapter,
                default,
                0.95,
                "round trips (1 in flight)",
                one_in_flight,
            ));
        }
        goals.extend(allocation_goal(cases, adapter, tuned));
        if let Some(result) = fleet.iter().find(|f| f.client == adapter) {
            let per = result.heap_bytes_per_connection;
            goals.push(Goal {
                name: format!("{adapter}: ≤ 8 KiB heap per idle heartbeating connection"),
                met: per <= HEAP_PER_CONNECTION,
                measured: format!("{:.1} KiB", per / 1024.0),
                details: vec![format!(
                    "{} connections, {:.1} KiB RSS each",
                    result.connections,
                    result.rss_bytes_per_connection / 1024.0
                )],
            });
        }
        if let Some(result) = recovery.iter().find(|r| r.client == adapter) {
            goals.push(Goal {
                name: format!("{adapter}: detection ≤ ping_interval + pong_timeout + 5 ms"),
                met: result.detection_excess_ms.max <= TIMING_SLACK_MS,
                measured: format!(
                    "{:+.1} ms worst ({:.1} ms of {:.0} ms)",
                    result.detection_excess_ms.max,
                    result.detection_ms.max,
                    result.detection_bound_ms
                ),
                details: vec![format!(
                    "median {:+.1} ms, best {:+.1} ms",
                    result.detection_excess_ms.median, result.detection_excess_ms.min
                )],
            });
            goals.push(Goal {
                name: format!("{adapter}: reconnect ≤ backoff + 5 ms"),
                met: result.reconnect_lateness_ms.max <= TIMING_SLACK_MS,
                measured: format!(
                    "{:+.1} ms worst after a {:.0} ms backoff",
                    result.reconnect_lateness_ms.max, result.backoff_ms
                ),
                details: vec![format!(
                    "median {:+.1} ms; server return → open median {:.1} ms",
                    result.reconnect_lateness_ms.median, result.reconnect_after_return_ms.median
                )],
            });
        }
    }
    goals
}

/// `adapter ≥ target × baseline` (paired median) on every case `select` picks.
fn ratio_goal(
    cases: &[CaseResult],
    adapter: ClientKind,
    baseline: ClientKind,
    target: f64,
    scope: &str,
    select: impl Fn(&&CaseResult) -> bool,
) -> Option<Goal> {
    let found: Vec<(&CaseResult, &Comparison)> = cases
        .iter()
        .filter(select)
        .filter_map(|c| c.comparison(adapter, baseline).map(|cmp| (c, cmp)))
        .collect();
    let (worst_case, worst) = found
        .iter()
        .min_by(|a, b| a.1.ratio.median.total_cmp(&b.1.ratio.median))?;
    Some(Goal {
        name: format!("{adapter} ≥ {target:.2}× {baseline} on {scope}"),
        met: worst.ratio.median >= target,
        measured: format!(
            "{:.2}× worst ({}), {:+.0} % vs the goal",
            worst.ratio.median,
            worst_case.title,
            (worst.ratio.median / target - 1.0) * 100.0
        ),
        details: found
            .iter()
            .map(|(case, cmp)| {
                format!(
                    "{}: {:.2}× ({:.2}–{:.2})",
                    case.title, cmp.ratio.median, cmp.ratio.min, cmp.ratio.max
                )
            })
            .collect(),
    })
}

/// No allocation per message beyond the tuned baseline's (tungstenite's own).
fn allocation_goal(
    cases: &[CaseResult],
    adapter: ClientKind,
    baseline: ClientKind,
) -> Option<Goal> {
    let found: Vec<(&CaseResult, &Comparison)> = cases
        .iter()
        .filter_map(|c| c.comparison(adapter, baseline).map(|cmp| (c, cmp)))
        .collect();
    let (worst_case, worst) = found.iter().max_by(|a, b| {
        a.1.extra_allocations_per_message
            .median
            .total_cmp(&b.1.extra_allocations_per_message.median)
    })?;
    Some(Goal {
        name: format!("{adapter}: 0 allocations per message beyond tungstenite's own"),
        met: worst.extra_allocations_per_message.median <= ALLOCATION_SLACK,
        measured: format!(
            "{:+.2} per message worst ({})",
            worst.extra_allocations_per_message.median, worst_case.title
        ),
        details: found
            .iter()
            .map(|(case, cmp)| {
                let mine = case
                    .client(adapter)
                    .map_or(0.0, |r| r.allocations_per_message.median);
                format!(
                    "{}: {mine:.2} vs {:.2}",
                    case.title,
                    mine - cmp.extra_allocations_per_message.median
                )
            })
            .collect(),
    })
}
