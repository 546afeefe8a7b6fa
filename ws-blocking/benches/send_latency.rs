//! The latency ws-blocking adds to a send: from `Client::send` returning to the server
//! reading the message, against raw tungstenite writing and flushing the same message on the
//! calling thread.
//!
//! ```text
//! cargo bench -p ws-blocking --bench send_latency
//! ```
//!
//! The path through ws-blocking: command channel, doorbell (a condition variable), the I/O
//! thread waking, encoding and flushing. Both variants share everything else (loopback TCP,
//! the server thread waking up in `read`), so the difference of the two is what the adapter
//! adds. Sends go one at a time (the next after the server read the previous one) and the
//! variants alternate in rounds, so drift on a shared machine hits both. A plain harness
//! rather than criterion or divan: the measured interval ends on another thread.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use ws_blocking::{Bytes, ClientOptions, Config, Event, Message};

const ROUNDS: usize = 5;
const SENDS_PER_ROUND: usize = 2_000;
const PAYLOAD: [u8; 16] = *b"0123456789abcdef";

/// A WebSocket server that reports when each binary message was read.
fn sink() -> (SocketAddr, Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (arrivals, arrived) = mpsc::channel();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let arrivals = arrivals.clone();
            thread::spawn(move || {
                tcp.set_nodelay(true).unwrap();
                let mut socket = tungstenite::accept(tcp).unwrap();
                while let Ok(message) = socket.read() {
                    if message.is_binary() && arrivals.send(Instant::now()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, arrived)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn report(name: &str, samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    let median = percentile(samples, 50);
    println!(
        "{name:<16} {:>9.1?} {:>9.1?} {:>9.1?} {:>9.1?}",
        percentile(samples, 10),
        median,
        percentile(samples, 90),
        percentile(samples, 99),
    );
    median
}

fn main() {
    let (addr, arrived) = sink();

    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    let (mut raw, _) = tungstenite::client(format!("ws://{addr}/"), tcp).unwrap();

    // No heartbeat during the run: only sends wake the I/O thread.
    let config = Config::builder()
        .ping_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let options = ClientOptions::builder(format!("ws://{addr}/"))
        .config(config)
        .build()
        .unwrap();
    let (client, mut events) = ws_blocking::connect(options);
    while !matches!(events.recv(), Some(Event::Open { .. })) {}

    let mut raw_samples = Vec::with_capacity(ROUNDS * SENDS_PER_ROUND);
    let mut adapter_samples = Vec::with_capacity(ROUNDS * SENDS_PER_ROUND);
    for _ in 0..ROUNDS {
        for _ in 0..SENDS_PER_ROUND {
            let message = tungstenite::Message::Binary(Bytes::from_static(&PAYLOAD));
            let sent = Instant::now();
            raw.send(message).unwrap();
            raw_samples.push(arrived.recv().unwrap() - sent);
        }
        for _ in 0..SENDS_PER_ROUND {
            let message = Message::Binary(Bytes::from_static(&PAYLOAD));
            let sent = Instant::now();
            client.send(message).unwrap();
            adapter_samples.push(arrived.recv().unwrap() - sent);
        }
    }

    println!(
        "send -> server read, {}-byte binary messages, {ROUNDS} x {SENDS_PER_ROUND} sends each, one at a time",
        PAYLOAD.len()
    );
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>9}",
        "", "p10", "median", "p90", "p99"
    );
    let raw_median = report("raw tungstenite", &mut raw_samples);
    let adapter_median = report("ws-blocking", &mut adapter_samples);
    println!(
        "added (median)   {:>9.1?}",
        adapter_median.saturating_sub(raw_median)
    );
}
