//! [`FaultProxy`]: a TCP proxy on `127.0.0.1` that injects network faults between a client and
//! a server. It works below WebSocket, so it sees neither frames nor handshakes: it models what
//! the network does (a silent partition, a reset, a refusing host).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::listen::{ANY_LOOPBACK_PORT, bind};
use crate::runtime::Background;
use crate::watched::Watched;

/// Upper bound for `reset_all` to wait for connections to confirm the reset.
const RESET_CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

/// What the proxy does with traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward bytes both ways, including half-closes.
    #[default]
    Pass,
    /// Half-open partition: keep every socket open but forward nothing, in either direction,
    /// not even a close. Nothing is read while frozen, so the kernel buffers fill up and senders
    /// eventually block, as on a real dead path. Switching back to `Pass` resumes forwarding on
    /// the same connections; new connections made while frozen are accepted (the TCP handshake
    /// is the kernel's) but frozen too.
    Freeze,
    /// Every new connection is accepted and at once reset (RST), so the client's connect
    /// succeeds at the TCP level but its WebSocket handshake fails with a reset or an
    /// unexpected EOF. Open connections are not affected. (For `ECONNREFUSED` itself, connect
    /// to a stopped [`TestServer`](crate::TestServer).)
    Refuse,
}

/// A fault-injecting TCP proxy from its own loopback port to `upstream`.
///
/// All methods are synchronous and callable from any thread; the proxy runs on its own runtime.
/// Dropping it closes the listener and every proxied connection and joins its threads.
pub struct FaultProxy {
    background: Background,
    addr: SocketAddr,
    upstream: SocketAddr,
    mode: watch::Sender<ProxyMode>,
    state: Arc<Watched<ProxyState>>,
    listener: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

/// Connection bookkeeping shared with the proxy's tasks.
#[derive(Debug, Default)]
struct ProxyState {
    accepted: usize,
    next_id: u64,
    /// Reset triggers of the live proxied connections; the sender travels back as confirmation.
    live: HashMap<u64, oneshot::Sender<std_mpsc::Sender<()>>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream)
            .field("mode", &*self.mode.borrow())
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy in [`ProxyMode::Pass`] on a free loopback port, forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let background = Background::new("proxy");
        let listener = background
            .call(bind(ANY_LOOPBACK_PORT, Duration::ZERO))
            .expect("ws-testkit: cannot bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let (mode, _) = watch::channel(ProxyMode::Pass);
        let state = Arc::new(Watched::new(ProxyState::default()));
        let (shutdown, stopped) = oneshot::channel();
        let task = background.spawn(accept_loop(
            listener,
            upstream,
            mode.subscribe(),
            Arc::clone(&state),
            stopped,
        ));
        Self {
            background,
            addr,
            upstream,
            mode,
            state,
            listener: Mutex::new(Some((shutdown, task))),
        }
    }

    /// The proxy's own address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/`: the URL a client uses to reach the server through the proxy.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// The address traffic is forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// The current mode.
    pub fn mode(&self) -> ProxyMode {
        *self.mode.borrow()
    }

    /// Switches mode; takes effect at once on every connection. Bytes a client sends after
    /// `set_mode(Freeze)` returns are not forwarded until `Pass`.
    pub fn set_mode(&self, mode: ProxyMode) {
        self.mode.send_replace(mode);
    }

    /// Aborts every open proxied connection with a TCP RST towards both the client and the
    /// server, and returns how many there were once all are gone. Later connections are not
    /// affected.
    pub fn reset_all(&self) -> usize {
        let (done, confirmed) = std_mpsc::channel();
        let triggers: Vec<_> = self
            .state
            .update(|s| s.live.drain().map(|(_, t)| t).collect());
        let count = triggers
            .into_iter()
            .filter_map(|trigger| trigger.send(done.clone()).ok())
            .count();
        drop(done);
        // Nothing is ever sent: each connection drops its sender after its sockets are gone.
        let _ = confirmed.recv_timeout(RESET_CONFIRM_TIMEOUT);
        count
    }

    /// Number of client connections accepted so far, refused ones included.
    pub fn connections(&self) -> usize {
        self.state.read(|s| s.accepted)
    }

    /// Waits until at least `n` client connections have been accepted; `false` on timeout.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> bool {
        self.state.wait_until(timeout, |s| s.accepted >= n)
    }
}

impl Drop for FaultProxy {
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

/// Removes a connection's reset trigger when its task ends or is aborted.
struct LiveEntry {
    state: Arc<Watched<ProxyState>>,
    id: u64,
}

impl Drop for LiveEntry {
    fn drop(&mut self) {
        self.state.update(|s| s.live.remove(&self.id));
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    mode: watch::Receiver<ProxyMode>,
    state: Arc<Watched<ProxyState>>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut relays = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let client = match accepted {
                    Ok((client, _)) => client,
                    Err(err) => {
                        tracing::warn!(%err, "proxy accept failed");
                        continue;
                    }
                };
                if *mode.borrow() == ProxyMode::Refuse {
                    let _ = client.set_zero_linger();
                    drop(client);
                    state.update(|s| s.accepted += 1);
                    continue;
                }
                let (trigger, reset) = oneshot::channel();
                // Registered before being counted, so `reset_all` after `wait_for_connections`
                // reaches it.
                let id = state.update(|s| {
                    s.accepted += 1;
                    s.next_id += 1;
                    s.live.insert(s.next_id, trigger);
                    s.next_id
                });
                let entry = LiveEntry { state: Arc::clone(&state), id };
                relays.spawn(relay(client, upstream, mode.clone(), reset, entry));
            }
            Some(_) = relays.join_next() => {}
        }
    }
    drop(listener);
    relays.shutdown().await;
}

/// Proxies one client connection until both directions end or a reset is requested.
async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    mode: watch::Receiver<ProxyMode>,
    mut reset: oneshot::Receiver<std_mpsc::Sender<()>>,
    _entry: LiveEntry,
) {
    let server = tokio::select! {
        server = TcpStream::connect(upstream) => server,
        Ok(_done) = &mut reset => {
            let _ = client.set_zero_linger();
            return;
        }
    };
    let server = match server {
        Ok(server) => server,
        Err(err) => {
            // Upstream down: the client sees a reset, as with a refusing host.
            tracing::debug!(%err, "proxy cannot reach upstream");
            let _ = client.set_zero_linger();
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let reset_requested = tokio::select! {
        _ = async {
            tokio::join!(
                pump(&mut client_read, &mut server_write, mode.clone()),
                pump(&mut server_read, &mut client_write, mode.clone()),
            )
        } => None,
        Ok(done) = &mut reset => Some(done),
    };
    if let Some(done) = reset_requested {
        // Reunite first: dropping a write half alone would send a FIN ahead of the RST.
        for (read, write) in [(client_read, client_write), (server_read, server_write)] {
            if let Ok(stream) = read.reunite(write) {
                // A zero linger turns the close into an RST.
                let _ = stream.set_zero_linger();
            }
        }
        drop(done);
    }
}

/// Copies `src` to `dst` while the mode lets traffic flow; forwards EOF as a half-close.
async fn pump(
    src: &mut OwnedReadHalf,
    dst: &mut OwnedWriteHalf,
    mut mode: watch::Receiver<ProxyMode>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if !flowing(&mut mode).await {
            return;
        }
        let read = tokio::select! {
            biased;
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            read = src.read(&mut buf) => read,
        };
        // Bytes read just as a freeze began are held until traffic may flow again.
        if !flowing(&mut mode).await {
            return;
        }
        match read {
            Ok(0) | Err(_) => {
                let _ = dst.shutdown().await;
                return;
            }
            Ok(n) => {
                if dst.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Waits until the mode is not `Freeze`; `false` if the proxy is gone.
async fn flowing(mode: &mut watch::Receiver<ProxyMode>) -> bool {
    mode.wait_for(|m| *m != ProxyMode::Freeze).await.is_ok()
}
