//! Which core runs what: the reference server on one core, everything else on another.
//!
//! On this two-core machine a TCP round trip costs about 12 µs when both ends share a core
//! and about 50 µs across cores, and the kernel may put the server and a client on the same
//! core in one window and on different cores in the next. Left alone, that makes one-in-flight
//! results bimodal (a factor of three between two windows of the same client) and ratios
//! meaningless. Pinning removes the coin toss: the server's thread runs on the last allowed
//! core, the benchmark's thread during the echo cases (and every thread it starts meanwhile,
//! which inherit its affinity: the clients' runtimes, ws-blocking's I/O threads)
//! on the first. With a single allowed core nothing is pinned.

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// The cores this process may run on, in order.
fn allowed() -> Vec<usize> {
    let Ok(set) = sched_getaffinity(Pid::from_raw(0)) else {
        return Vec::new();
    };
    (0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect()
}

/// Pins the calling thread to `cpu`; `false` if that was not possible.
fn pin(cpu: usize) -> bool {
    let mut set = CpuSet::new();
    set.set(cpu).is_ok() && sched_setaffinity(Pid::from_raw(0), &set).is_ok()
}

/// Pins the calling thread (the reference server's) to the last allowed core. Returns the
/// core, or `None` when there is only one.
pub fn pin_server_thread() -> Option<usize> {
    let cores = allowed();
    let &last = cores.last()?;
    (cores.len() >= 2 && pin(last)).then_some(last)
}

/// The benchmark's thread pinned to a core; dropping it restores the thread's earlier
/// affinity (so the fleet's child processes, started later, may use every core again).
#[derive(Debug)]
pub struct Pinned {
    core: usize,
    previous: CpuSet,
}

impl Pinned {
    /// The core.
    pub fn core(&self) -> usize {
        self.core
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = sched_setaffinity(Pid::from_raw(0), &self.previous);
    }
}

/// Pins the calling thread (the benchmark's, before it starts any client) to the first
/// allowed core, until the returned guard is dropped. `None` when there is only one core.
pub fn pin_client_thread() -> Option<Pinned> {
    let previous = sched_getaffinity(Pid::from_raw(0)).ok()?;
    let cores = allowed();
    let &first = cores.first()?;
    (cores.len() >= 2 && pin(first)).then_some(Pinned {
        core: first,
        previous,
    })
}
