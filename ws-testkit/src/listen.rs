//! Binding listeners on the loopback interface.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::time::Instant;

/// `127.0.0.1:0`: a free loopback port chosen by the OS.
pub(crate) const ANY_LOOPBACK_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// Binds a listener with `SO_REUSEADDR`, so a port given up moments ago (its old connections in
/// `TIME_WAIT`) can be bound again. While the port is still in use, retries until `patience`
/// runs out.
pub(crate) async fn bind(addr: SocketAddr, patience: Duration) -> io::Result<TcpListener> {
    let deadline = Instant::now() + patience;
    loop {
        let attempt = TcpSocket::new_v4().and_then(|socket| {
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(1024)
        });
        match attempt {
            Err(err) if err.kind() == io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}
