//! Readings a run is judged by: CPU time of the whole process and of one thread, heap
//! allocations, resident memory.
//!
//! Why these sources:
//! - Allocations come from a process-wide counting allocator ([`stats_alloc`], atomic
//!   counters). The adapters allocate on threads of their own (ws-blocking's I/O thread, a
//!   tokio or smol task that may run anywhere), so a thread-local counter would
//!   miss them. The reference echo server shares the process, so it is written to allocate
//!   nothing per message, and [`crate::server::calibrate`] checks that in every run.
//! - Process CPU comes from `getrusage(RUSAGE_SELF)` (microseconds, includes threads that
//!   already exited), the server thread's CPU from `/proc/self/task/<tid>/schedstat`
//!   (nanoseconds; `stat`'s `utime + stime` in clock ticks is the fallback). Client CPU is the
//!   difference, so every thread a client uses is counted without knowing its threads.
//! - Resident memory comes from `VmRSS` in `/proc/self/status`.

use std::alloc::System;
use std::fs;
use std::time::{Duration, Instant};

use serde::Serialize;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Clock ticks per second of `/proc/.../stat` times (`getconf CLK_TCK`, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// The counting allocator's totals since the process started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Heap {
    /// Allocations plus reallocations: every call that may have gone to the system allocator.
    pub allocations: u64,
    /// Bytes currently allocated.
    pub live_bytes: i64,
}

/// The allocator's counters now.
pub fn heap() -> Heap {
    let stats = GLOBAL.stats();
    let allocated = i64::try_from(stats.bytes_allocated).unwrap_or(i64::MAX);
    let freed = i64::try_from(stats.bytes_deallocated).unwrap_or(i64::MAX);
    Heap {
        allocations: (stats.allocations + stats.reallocations) as u64,
        live_bytes: allocated - freed + stats.bytes_reallocated as i64,
    }
}

/// CPU time used by the whole process so far, every thread included (also exited ones),
/// user and system (`getrusage(RUSAGE_SELF)`, microseconds).
pub fn process_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    use nix::sys::time::TimeValLike;
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |usage| {
        let micros = usage.user_time().num_microseconds() + usage.system_time().num_microseconds();
        Duration::from_micros(u64::try_from(micros).unwrap_or(0))
    })
}

/// The kernel's id of the calling thread, read from `/proc/thread-self` (`PID/task/TID`), so
/// other threads can read its CPU time later.
pub fn current_tid() -> Option<u32> {
    let link = fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU time used so far by thread `tid` of this process; zero if it cannot be read.
pub fn thread_cpu(tid: u32) -> Duration {
    if let Ok(schedstat) = fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
        && let Some(Ok(nanos)) = schedstat.split_whitespace().next().map(str::parse::<u64>)
    {
        return Duration::from_nanos(nanos);
    }
    let Ok(stat) = fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return Duration::ZERO;
    };
    // The command name may contain spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    // After the name: state is field 3, utime field 14, stime field 15 (1-based, man proc).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// Resident memory of the process in bytes (`VmRSS` in `/proc/self/status`).
pub fn rss_bytes() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Takes readings before and after a measured window.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    server_tid: Option<u32>,
}

/// The readings at the start of a window.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    /// When the window started.
    pub at: Instant,
    process: Duration,
    server: Duration,
    heap: Heap,
}

/// What a window cost.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Usage {
    /// Wall-clock length of the window.
    pub wall: Duration,
    /// CPU time of every thread but the server's.
    pub client_cpu: Duration,
    /// CPU time of the reference server's thread.
    pub server_cpu: Duration,
    /// Allocations (and reallocations) made in the window, by any thread.
    pub allocations: u64,
}

impl Meter {
    /// A meter that separates the CPU time of thread `server_tid` (the reference server)
    /// from the rest of the process.
    pub fn new(server_tid: Option<u32>) -> Self {
        Meter { server_tid }
    }

    fn server_cpu(self) -> Duration {
        self.server_tid.map_or(Duration::ZERO, thread_cpu)
    }

    /// Readings now, for the start of a window.
    pub fn mark(self) -> Mark {
        // Reading /proc allocates: read the allocator last here and first in `since`, so the
        // meter's own allocations stay outside the window.
        let server = self.server_cpu();
        let process = process_cpu();
        let heap = heap();
        Mark {
            at: Instant::now(),
            process,
            server,
            heap,
        }
    }

    /// What was used since `mark`.
    pub fn since(self, mark: &Mark) -> Usage {
        let heap = heap();
        let wall = mark.at.elapsed();
        let process = process_cpu();
        let server = self.server_cpu();
        let server_cpu = server.saturating_sub(mark.server);
        Usage {
            wall,
            client_cpu: process
                .saturating_sub(mark.process)
                .saturating_sub(server_cpu),
            server_cpu,
            allocations: heap.allocations - mark.heap.allocations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_move_forward() {
        let tid = current_tid().expect("/proc/thread-self");
        let meter = Meter::new(Some(tid));
        let mark = meter.mark();
        let mut spin = 0_u64;
        while mark.at.elapsed() < Duration::from_millis(30) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let kept: Vec<u64> = std::hint::black_box((0..100).collect());
        let usage = meter.since(&mark);
        assert!(usage.server_cpu >= Duration::from_millis(10), "{usage:?}");
        assert!(usage.allocations >= 1, "{usage:?}");
        assert_eq!(kept.len(), 100);
        assert!(rss_bytes() > 0);
    }
}
