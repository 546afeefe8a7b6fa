//! How many connections and threads this process may have: file descriptors
//! (`RLIMIT_NOFILE`) and kernel task ids (`/proc/sys/kernel/pid_max`).
//!
//! The fleet wants 10,000 connections per adapter. Each costs one descriptor (ws-blocking:
//! three, the socket plus its I/O thread's poller and waker) and, for ws-blocking, one
//! thread. The soft descriptor limit is raised to the hard one in-process (no `ulimit` step
//! for the user); a hard limit cannot be raised without privileges, so a fleet that would not
//! fit is made smaller and the report says so.

use std::fs;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors kept free for everything else (listeners, pipes, the runtime's own).
const DESCRIPTOR_RESERVE: u64 = 200;
/// Task ids kept free for the rest of the machine (other users' builds, our own threads).
const TASK_RESERVE: u64 = 3000;
/// Memory mappings kept free for the allocator, the runtime and short-lived helper threads
/// (ws-blocking starts a connect thread per attempt).
const MAP_RESERVE: u64 = 6000;
/// Mappings per thread: stack, stack guard, signal stack, signal-stack guard.
const MAPS_PER_THREAD: u64 = 4;

/// Raises the soft descriptor limit as far as the hard limit allows (at most 1 << 20) and
/// returns the soft limit in force.
pub fn raise_descriptor_limit() -> u64 {
    let Ok((current, maximum)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024;
    };
    let wanted = maximum.min(1 << 20);
    if current < wanted {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, wanted, maximum);
    }
    getrlimit(Resource::RLIMIT_NOFILE).map_or(current, |(current, _)| current)
}

/// The hard descriptor limit, which only a privileged process can raise.
pub fn descriptor_hard_limit() -> u64 {
    getrlimit(Resource::RLIMIT_NOFILE).map_or(0, |(_, maximum)| maximum)
}

/// The most connections of `descriptors_each` descriptors that fit under the soft limit.
pub fn connections_for_descriptors(descriptors_each: u64) -> usize {
    let limit = raise_descriptor_limit();
    (limit.saturating_sub(DESCRIPTOR_RESERVE) / descriptors_each.max(1)) as usize
}

/// The most connections of `threads_each` threads that fit: in the kernel's task-id space,
/// given the tasks running now on the whole machine, and in this process's memory-map limit
/// (`vm.max_map_count`), since every thread maps its stack, its guard page and its signal
/// stack with its own guard page.
pub fn connections_for_threads(threads_each: u64) -> usize {
    let read = |path: &str| fs::read_to_string(path).unwrap_or_default();
    let pid_max: u64 = read("/proc/sys/kernel/pid_max")
        .trim()
        .parse()
        .unwrap_or(32_768);
    let threads_max: u64 = read("/proc/sys/kernel/threads-max")
        .trim()
        .parse()
        .unwrap_or(pid_max);
    // The fourth field of /proc/loadavg is "running/total" scheduling entities (threads).
    let running: u64 = read("/proc/loadavg")
        .split_whitespace()
        .nth(3)
        .and_then(|field| field.split_once('/'))
        .and_then(|(_, total)| total.parse().ok())
        .unwrap_or(0);
    let by_ids = pid_max
        .min(threads_max)
        .saturating_sub(running + TASK_RESERVE);
    let map_count: u64 = read("/proc/sys/vm/max_map_count")
        .trim()
        .parse()
        .unwrap_or(65_530);
    let mapped = read("/proc/self/maps").lines().count() as u64;
    let by_maps = map_count.saturating_sub(mapped + MAP_RESERVE) / MAPS_PER_THREAD;
    (by_ids.min(by_maps) / threads_each.max(1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_positive_here() {
        assert!(raise_descriptor_limit() >= 1024);
        assert!(connections_for_descriptors(2) >= 400);
        assert!(connections_for_threads(2) >= 1000);
    }
}
