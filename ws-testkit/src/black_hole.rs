//! [`BlackHole`]: a loopback address where a TCP connect hangs, as behind a firewall that
//! drops packets, without leaving loopback.
//!
//! A listener with a backlog of 0 that never accepts has room for one queued connection;
//! once that one is taken (by the black hole itself), the kernel drops every further SYN, so a
//! client's connect neither succeeds nor fails until its own timeout.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use tokio::net::TcpSocket;

use crate::runtime::Background;

/// How long a filling connect may take before the queue counts as full.
const FILL_PATIENCE: Duration = Duration::from_millis(200);

/// A listening address whose accept queue is full: connects to it hang.
pub struct BlackHole {
    addr: SocketAddr,
    _listener: std::net::TcpListener,
    _queued: Vec<TcpStream>,
}

impl std::fmt::Debug for BlackHole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BlackHole").field(&self.addr).finish()
    }
}

impl BlackHole {
    /// A black hole on a free port of `ip` (`127.0.0.1` or `::1`). `Err` when the address
    /// cannot be bound (no IPv6 on this machine) or the queue never fills.
    pub fn start(ip: IpAddr) -> io::Result<Self> {
        let background = Background::new("black-hole");
        let listener = background.call(async move {
            let socket = if ip.is_ipv6() {
                TcpSocket::new_v6()?
            } else {
                TcpSocket::new_v4()?
            };
            socket.bind(SocketAddr::new(ip, 0))?;
            socket.listen(0)?.into_std()
        })?;
        drop(background);
        let addr = listener.local_addr()?;
        let mut queued = Vec::new();
        // Fill the queue until a connect times out (a few at most: the backlog is 0).
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, FILL_PATIENCE) {
                Ok(stream) => queued.push(stream),
                Err(error) if error.kind() == io::ErrorKind::TimedOut => {
                    return Ok(BlackHole {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    });
                }
                Err(error) => return Err(error),
            }
        }
        Err(io::Error::other("the accept queue never filled"))
    }

    /// The address where connects hang.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
