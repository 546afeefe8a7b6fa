//! [`TlsFront`]: TLS in front of a [`TestServer`](crate::TestServer), for `wss://` scenarios.
//!
//! It terminates TLS with a [`TestPki`](crate::pki::TestPki) certificate on a loopback
//! address (`127.0.0.1` or `::1`) and passes the plain bytes on to the server, so a `wss://`
//! scenario keeps every recording and knob of the server it fronts.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::pki::TestPki;
use crate::runtime::Background;
use crate::watched::Watched;

/// A TLS-terminating front for a server on `upstream`.
///
/// All methods are synchronous and callable from any thread; it runs on its own runtime.
/// Dropping it closes the listener and every connection and joins its threads.
pub struct TlsFront {
    background: Background,
    addr: SocketAddr,
    state: Arc<Watched<FrontState>>,
    listener: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

#[derive(Debug, Default)]
struct FrontState {
    /// TLS handshakes that succeeded.
    handshakes: usize,
    /// TLS handshakes that failed (the client did not trust the certificate, say).
    failed: usize,
}

impl std::fmt::Debug for TlsFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFront")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TlsFront {
    /// Starts a front on a free port of the loopback address `ip` (`127.0.0.1` or `::1`),
    /// presenting `pki`'s server certificate and forwarding to `upstream`.
    ///
    /// # Errors
    ///
    /// When `ip` cannot be bound (no IPv6 loopback on this machine, say).
    pub fn start(pki: &TestPki, ip: IpAddr, upstream: SocketAddr) -> io::Result<Self> {
        assert!(ip.is_loopback(), "ws-testkit listens on loopback only");
        let background = Background::new("tls");
        let listener = background.call(TcpListener::bind(SocketAddr::new(ip, 0)))?;
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(pki.server_config());
        let state = Arc::new(Watched::new(FrontState::default()));
        let (shutdown, stopped) = oneshot::channel();
        let task = background.spawn(accept_loop(
            listener,
            acceptor,
            upstream,
            Arc::clone(&state),
            stopped,
        ));
        Ok(Self {
            background,
            addr,
            state,
            listener: Mutex::new(Some((shutdown, task))),
        })
    }

    /// The front's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// TLS handshakes that succeeded so far.
    pub fn handshakes(&self) -> usize {
        self.state.read(|s| s.handshakes)
    }

    /// TLS handshakes that failed so far.
    pub fn failed_handshakes(&self) -> usize {
        self.state.read(|s| s.failed)
    }

    /// Waits until at least `n` TLS handshakes have failed; `false` on timeout.
    pub fn wait_for_failed_handshakes(&self, n: usize, timeout: std::time::Duration) -> bool {
        self.state.wait_until(timeout, |s| s.failed >= n)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((shutdown, task)) = listener {
            let _ = shutdown.send(());
            let _ = self.background.call(task);
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    upstream: SocketAddr,
    state: Arc<Watched<FrontState>>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(relay(tcp, acceptor.clone(), upstream, Arc::clone(&state)));
                }
                Err(err) => tracing::warn!(%err, "tls front accept failed"),
            },
            Some(_) = connections.join_next() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Completes the TLS handshake, then copies bytes both ways until either side ends.
async fn relay(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    upstream: SocketAddr,
    state: Arc<Watched<FrontState>>,
) {
    let _ = tcp.set_nodelay(true);
    let mut tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(err) => {
            tracing::debug!(%err, "tls front handshake failed");
            state.update(|s| s.failed += 1);
            return;
        }
    };
    state.update(|s| s.handshakes += 1);
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
}
