//! The fault simulator: thousands of seeded schedules, each hours of virtual time of a
//! misbehaving server and network, with every invariant checked on every call.

use ws_core::Jitter;
use ws_sim::{Report, Schedule, simulate};

/// Hours of virtual time per schedule.
const HOURS: u64 = 2;

/// Runs seeds `range` and returns the summed report; panics with the first failure's seed and
/// minimal reproduction.
fn run(range: core::ops::Range<u64>) -> Report {
    let mut report = Report::default();
    for seed in range {
        match simulate(seed, HOURS) {
            Ok(measurements) => report.add(measurements),
            Err(failure) => panic!("{failure}"),
        }
    }
    report
}

#[test]
fn thousands_of_seeded_schedules_keep_every_guarantee() {
    let report = run(0..3_000);
    assert_eq!(report.runs, 3_000);
    // The schedules really exercised what they claim to.
    assert!(report.opens > 100_000, "{report}");
    assert!(report.detections.len() > 10_000, "{report}");
    assert!(report.gave_up > 1_000, "{report}");
    assert!(report.probes > 0, "{report}");
    assert!(
        report.backoffs.iter().any(|(_, s)| s.retry_after),
        "{report}"
    );
}

#[test]
fn report_figures_stay_within_the_bounds() {
    let report = run(10_000..10_300);
    // A punctual driver catches a silent peer at the bound, never after it.
    let (at_bound, beyond) = report.detections_at_and_beyond_the_bound();
    assert_eq!(beyond, 0, "{report}");
    assert!(at_bound > 0, "{report}");
    // Most drops happen exactly at the bound (earlier: a network-change probe cut it short).
    assert!(
        at_bound * 2 > report.punctual_detections().count(),
        "{report}"
    );
    // Every delay lies in its range; jittered ones spread over it.
    assert_eq!(report.backoffs_outside_the_formula(), 0, "{report}");
    for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
        let position = report.backoff_position(jitter).expect("delays");
        assert!(
            position.min >= 0.0 && position.max <= 1.0,
            "{jitter:?}: {position}"
        );
        assert!(
            position.p99 - position.min > 0.5,
            "{jitter:?} does not spread: {position}"
        );
    }
    let (exact, fixed) = report.fixed_delays(Jitter::None);
    assert_eq!(exact, fixed);
    assert!(fixed > 0);
}

#[test]
fn a_seed_reproduces_its_whole_run() {
    for seed in [1, 77, 4_242] {
        let first = simulate(seed, HOURS).expect("passes");
        let second = simulate(seed, HOURS).expect("passes");
        assert_eq!(first.calls, second.calls);
        assert_eq!(first.counters, second.counters);
        assert_eq!(first.detections, second.detections);
        assert_eq!(first.backoffs, second.backoffs);
        assert_eq!(
            format!("{:?}", Schedule::generate(seed, HOURS)),
            format!("{:?}", Schedule::generate(seed, HOURS))
        );
    }
}

#[test]
fn schedules_cover_hours_of_every_fault() {
    let schedule = Schedule::generate(5, 3);
    assert_eq!(schedule.duration().as_secs(), 3 * 3_600);
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..50 {
        for phase in Schedule::generate(seed, HOURS).phases {
            kinds.insert(
                format!("{:?}", phase.behaviour)
                    .split([' ', '{'])
                    .next()
                    .map(str::to_owned),
            );
        }
    }
    assert_eq!(kinds.len(), 7, "{kinds:?}");
}
