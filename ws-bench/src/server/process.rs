//! The same echo server in a child process, for the idle fleet.
//!
//! Ten thousand connections are measured by the heap and resident memory they add to the
//! process, and each needs a descriptor on both ends. With the server in the same process its
//! buffers and tasks would be counted as the clients', and the two ends together would need
//! more than the 20,000 descriptors this machine allows a process. So the fleet's server runs
//! in a child: this binary started again with [`SERVE_FLAG`]. It prints its address on one
//! line and serves until its standard input closes, so it never outlives the benchmark.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::EchoServer;

/// The command-line flag that turns the benchmark binary into a bare echo server.
pub const SERVE_FLAG: &str = "--serve-echo";

const LISTENING: &str = "listening on ";

/// Runs the echo server until standard input closes (the parent exited or let go).
pub fn serve_until_stdin_closes() -> io::Result<()> {
    crate::fleet::limits::raise_descriptor_limit();
    let server = EchoServer::start()?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{LISTENING}{}", server.addr())?;
    stdout.flush()?;
    let mut sink = Vec::new();
    let _ = io::stdin().lock().read_to_end(&mut sink);
    drop(server);
    Ok(())
}

/// An echo server running in a child process. Dropping it ends the child.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl ChildServer {
    /// Starts `executable` (this benchmark's binary) as an echo server and waits for its
    /// address.
    pub fn spawn(executable: &Path) -> io::Result<ChildServer> {
        let mut child = Command::new(executable)
            .arg(SERVE_FLAG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout from the server process"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix(LISTENING)
            .and_then(|addr| addr.parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!(
                "the server process said {line:?} instead of its address"
            )));
        };
        Ok(ChildServer { child, stdin, addr })
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// CPU time the child used so far (`/proc/PID/stat`, clock-tick resolution).
    pub fn cpu(&self) -> Duration {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())) else {
            return Duration::ZERO;
        };
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
            .sum();
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // End of input asks the child to stop; kill it if it has not within a few seconds.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
