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

#[test]
fn dropping_server_and_proxy_leaves_no_threads_or_sockets() {
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
    assert_eq!(settles_at("/proc/self/task", threads), threads);
    assert_eq!(settles_at("/proc/self/fd", fds), fds);
}
