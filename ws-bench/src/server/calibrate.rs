//! The proof that the reference server allocates nothing per message, run at the start of
//! every benchmark.
//!
//! The allocation counter is process-wide, so a client's "allocations per message" are only
//! the client's if the server adds none. This check drives the server with a client that
//! cannot allocate either: plain `std::net`, frames masked once before the loop, echoes read
//! into a fixed buffer and compared. Whatever the counter sees per message is therefore the
//! server's. It covers single 20-byte frames, a batch of 16 in one write, and 64 KiB frames
//! (after one warm-up pass, so the buffers have already grown to their working size).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::Serialize;

use crate::measure::Meter;

/// What the server costs per message, measured with an allocation-free client.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Calibration {
    /// Messages echoed in the measured passes.
    pub messages: u64,
    /// Process-wide allocations per message: the server's, since the client makes none.
    pub allocations_per_message: f64,
    /// The server thread's CPU time per message, in nanoseconds.
    pub server_cpu_ns_per_message: f64,
}

/// A masked client frame and the server's expected echo.
struct Exchange {
    frames: Vec<u8>,
    echoes: Vec<u8>,
    count: u64,
}

impl Exchange {
    /// `count` binary messages of `size` bytes, all sent with one write.
    fn new(size: usize, count: usize) -> Exchange {
        let key = [0x5A, 0xC3, 0x0F, 0x96];
        let mut frames = Vec::new();
        let mut echoes = Vec::new();
        for n in 0..count {
            let payload: Vec<u8> = (0..size).map(|i| (i + n) as u8).collect();
            for (out, mask) in [(&mut frames, true), (&mut echoes, false)] {
                out.push(0x82);
                let mask_bit = if mask { 0x80 } else { 0x00 };
                match size {
                    0..=125 => out.push(mask_bit | size as u8),
                    126..=0xFFFF => {
                        out.push(mask_bit | 0x7E);
                        out.extend_from_slice(&(size as u16).to_be_bytes());
                    }
                    _ => {
                        out.push(mask_bit | 0x7F);
                        out.extend_from_slice(&(size as u64).to_be_bytes());
                    }
                }
                if mask {
                    out.extend_from_slice(&key);
                    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
                } else {
                    out.extend_from_slice(&payload);
                }
            }
        }
        Exchange {
            frames,
            echoes,
            count: count as u64,
        }
    }

    /// Sends the frames and checks the echoes, reading into `buffer` (as long as `echoes`).
    fn run(&self, tcp: &mut TcpStream, buffer: &mut [u8]) -> io::Result<()> {
        tcp.write_all(&self.frames)?;
        tcp.read_exact(buffer)?;
        if buffer != self.echoes.as_slice() {
            return Err(io::Error::other("the echo server returned a wrong echo"));
        }
        Ok(())
    }
}

/// Opens a WebSocket connection by hand (no library, nothing allocated after this).
fn open(addr: SocketAddr) -> io::Result<TcpStream> {
    let mut tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        tcp,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )?;
    let mut response = Vec::new();
    let mut byte = [0];
    while !response.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte)?;
        response.push(byte[0]);
    }
    if !response.starts_with(b"HTTP/1.1 101") {
        return Err(io::Error::other("the echo server refused the handshake"));
    }
    Ok(tcp)
}

/// Runs `rounds` of each exchange against the server at `addr` and reports the cost per
/// message. `meter` must know the server's thread.
pub fn calibrate(addr: SocketAddr, meter: &Meter, rounds: usize) -> io::Result<Calibration> {
    let mut tcp = open(addr)?;
    let exchanges = [
        Exchange::new(20, 1),
        Exchange::new(20, 16),
        Exchange::new(64 * 1024, 1),
    ];
    let mut buffers: Vec<Vec<u8>> = exchanges.iter().map(|e| vec![0; e.echoes.len()]).collect();
    // Warm-up: the server's buffers grow to the largest frame once.
    for (exchange, buffer) in exchanges.iter().zip(&mut buffers) {
        exchange.run(&mut tcp, buffer)?;
    }
    let mark = meter.mark();
    let mut messages = 0;
    for _ in 0..rounds {
        for (exchange, buffer) in exchanges.iter().zip(&mut buffers) {
            exchange.run(&mut tcp, buffer)?;
            messages += exchange.count;
        }
    }
    let usage = meter.since(&mark);
    let allocations = usage.allocations;
    Ok(Calibration {
        messages,
        allocations_per_message: allocations as f64 / messages.max(1) as f64,
        server_cpu_ns_per_message: usage.server_cpu.as_nanos() as f64 / messages.max(1) as f64,
    })
}
