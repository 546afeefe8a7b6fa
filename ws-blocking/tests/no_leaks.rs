//! Dropping the handles closes the connection and joins every thread the client started,
//! whatever it was doing. Alone in its test binary (one test, run in phases) so that no other
//! test's threads or sockets blur the counts.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use ws_blocking::{ClientOptions, Config, ConfigBuilder, Event, Events, Jitter};
use ws_testkit::conformance::WAIT;
use ws_testkit::{Behavior, FaultProxy, HandshakeMode, ProxyMode, TestServer};

/// Reconnects quickly and deterministically.
fn fast_config() -> ConfigBuilder {
    Config::builder()
        .initial_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(50))
        .jitter(Jitter::None)
}

fn is_open(event: &Event) -> bool {
    matches!(event, Event::Open { .. })
}

/// Skips events until one matches, within [`WAIT`].
fn wait_for(events: &mut Events, what: &str, matches: impl Fn(&Event) -> bool) {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if matches(&event) => return,
            Ok(event) => seen.push(event),
            Err(error) => panic!("no {what} ({error}); events seen: {seen:?}"),
        }
    }
}

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).expect("procfs").count()
}

fn threads() -> usize {
    count("/proc/self/task")
}

/// The thread count once it reaches `expected`, or whatever it is at the deadline: a joined
/// thread can stay listed in `/proc/self/task` for a moment after `join` returns.
fn threads_settle_at(expected: usize) -> usize {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = threads();
        if now == expected || Instant::now() >= deadline {
            return now;
        }
        std::thread::yield_now();
    }
}

/// How many of this process's file descriptors are TCP sockets connected to `port` on the
/// other end: the client's sockets (the test server's own sockets have it as their local
/// port). Exact at any moment, unlike a total that includes the server's sockets, which it
/// closes on its own runtime a moment after the client.
fn client_sockets_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("procfs");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields.get(2)?.split(':').nth(1)?;
            let inode = fields.get(9)?;
            (u16::from_str_radix(remote_port, 16).ok()? == port)
                .then(|| format!("socket:[{inode}]"))
        })
        .collect();
    std::fs::read_dir("/proc/self/fd")
        .expect("procfs")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| {
            inodes
                .iter()
                .any(|inode| target.as_os_str() == inode.as_str())
        })
        .count()
}

/// Waits until the process has `expected` file descriptors: the test kit closes its sockets
/// on its own runtime, shortly after its handles are dropped.
fn fds_settle_at(expected: usize) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if count("/proc/self/fd") == expected {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

#[test]
fn dropping_the_handles_closes_gracefully_and_leaks_nothing() {
    // A first test server, started and dropped before the baseline: tokio creates some
    // process-wide state once and keeps it (with its `signal` feature, which the workspace
    // build turns on, a Unix socket pair). That belongs to neither the kit nor the client.
    drop(TestServer::start());
    let fds_before = count("/proc/self/fd");
    let server = TestServer::start();
    let hanging = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Hang,
        ..Behavior::default()
    });
    let proxy = FaultProxy::start(server.addr());
    let threads_before = threads();

    // Open and idle: the drop closes with 1001 (going away) and waits for the server's reply.
    let (client, mut events) = ws_blocking::connect(
        ClientOptions::builder(server.url())
            .config(fast_config().build().unwrap())
            .build()
            .unwrap(),
    );
    wait_for(&mut events, "open", is_open);
    client.send_text("x").unwrap();
    wait_for(&mut events, "echo", |e| matches!(e, Event::Message(_)));
    assert_eq!(
        threads(),
        threads_before + 1,
        "the I/O thread, which also reads the socket"
    );
    assert_eq!(client_sockets_to(server.addr().port()), 1, "one socket");
    let other = client.clone();
    drop(client);
    drop(events);
    assert!(
        !server.wait_for_client_closes(1, Duration::from_millis(100)),
        "a client is still alive: nothing may close yet"
    );
    drop(other);
    assert_eq!(
        threads_settle_at(threads_before),
        threads_before,
        "the last drop joins the I/O thread"
    );
    assert_eq!(client_sockets_to(server.addr().port()), 0);
    assert!(server.wait_for_client_closes(1, WAIT));
    assert_eq!(server.client_close_codes(), [Some(1001)]);

    // Connecting to a server that never answers the handshake: the connect thread is joined.
    let (client, events) = ws_blocking::connect(
        ClientOptions::builder(hanging.url())
            .config(fast_config().build().unwrap())
            .build()
            .unwrap(),
    );
    assert!(hanging.wait_for_handshake_attempts(1, WAIT));
    assert_eq!(
        threads(),
        threads_before + 2,
        "an I/O thread and a connect thread"
    );
    assert_eq!(client_sockets_to(hanging.addr().port()), 1);
    let started = Instant::now();
    drop((client, events));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        threads_settle_at(threads_before),
        threads_before,
        "the connect thread is joined"
    );
    assert_eq!(client_sockets_to(hanging.addr().port()), 0);

    // Open through a frozen link: the server's Close never comes, close_timeout bounds the
    // drop.
    let close_timeout = Duration::from_millis(300);
    let (client, mut events) = ws_blocking::connect(
        ClientOptions::builder(proxy.url())
            .config(fast_config().close_timeout(close_timeout).build().unwrap())
            .build()
            .unwrap(),
    );
    wait_for(&mut events, "open", is_open);
    proxy.set_mode(ProxyMode::Freeze);
    let started = Instant::now();
    drop((client, events));
    let took = started.elapsed();
    assert!(
        took >= close_timeout && took < close_timeout + Duration::from_secs(1),
        "the drop took {took:?}"
    );
    assert_eq!(threads_settle_at(threads_before), threads_before);
    assert_eq!(client_sockets_to(proxy.addr().port()), 0);

    drop((proxy, hanging, server));
    assert!(fds_settle_at(fds_before), "a socket was left open");
}
