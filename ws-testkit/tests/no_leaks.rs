//! Dropping the handles joins every thread and closes every socket. Alone in its test binary so
//! that no other test's threads or sockets blur the counts.

#![cfg(target_os = "linux")]

mod common;

use common::{WAIT, connect, read_text};
use tungstenite::Message;
use ws_testkit::{FaultProxy, ProxyMode, TestServer};

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).expect("procfs").count()
}

/// Waits, with a deadline, until `dir` lists `expected` entries. tokio's runtime counts a
/// worker as gone just before its OS thread finishes exiting, so the thread can still be
/// listed for a moment after the drop returns.
fn settles_at(dir: &str, expected: usize) -> usize {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = count(dir);
        if now == expected || std::time::Instant::now() >= deadline {
            return now;
        }
        std::thread::yield_now();
    }
}

/// The names of this process's threads, to say which ones were left behind.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("procfs")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// What each open descriptor refers to, to say which ones were left behind.
fn descriptors() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .expect("procfs")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .map(|target| {
            let target = target.display().to_string();
            let inode = target.trim_start_matches("socket:[").trim_end_matches(']');
            let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
            match tcp
                .lines()
                .find(|line| line.split_whitespace().nth(9) == Some(inode))
            {
                Some(line) if target.starts_with("socket:") => format!("{target} {line}"),
                _ => target,
            }
        })
        .collect()
}

#[test]
fn dropping_server_and_proxy_leaves_no_threads_or_sockets() {
    // A first server and proxy, started and dropped before the baseline: tokio creates some
    // process-wide state once and keeps it (with its `signal` feature, which the workspace
    // build turns on, a Unix socket pair). That is not a leak per server.
    drop((
        FaultProxy::start(TestServer::start().addr()),
        TestServer::start(),
    ));
    let threads = count("/proc/self/task");
    let fds = count("/proc/self/fd");
    {
        let server = TestServer::start();
        let proxy = FaultProxy::start(server.addr());
        let mut direct = connect(&server.url());
        let mut proxied = connect(&proxy.url());
        direct.send(Message::text("x")).unwrap();
        assert_eq!(read_text(&mut direct), "x");
        proxied.send(Message::text("y")).unwrap();
        assert_eq!(read_text(&mut proxied), "y");
        server.stall();
        proxy.set_mode(ProxyMode::Freeze);
        assert!(server.wait_for_connections(2, WAIT));
        drop(proxy);
        drop(server);
    }
    assert_eq!(
        settles_at("/proc/self/task", threads),
        threads,
        "threads still running: {:?}",
        thread_names()
    );
    assert_eq!(
        settles_at("/proc/self/fd", fds),
        fds,
        "descriptors still open: {:?}",
        descriptors()
    );
}
