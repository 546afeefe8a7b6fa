//! [`TestServer`]: a local WebSocket server whose behaviour a test controls and whose
//! observations a test can wait for.

use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;

use crate::behavior::Behavior;
use crate::connection::{self, Command};
use crate::listen::{ANY_LOOPBACK_PORT, bind};
use crate::recording::{HandshakeRequest, Received, ServerState};
use crate::runtime::Background;
use crate::watched::Watched;

/// How long `restart` keeps trying to bind the old port while it is still held.
const REBIND_PATIENCE: Duration = Duration::from_secs(2);
/// Upper bound for `stall` to wait for connections busy with a long write.
const STALL_CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

/// A WebSocket server on `127.0.0.1` driven by a test.
///
/// All methods are synchronous and may be called from any thread, including from inside a
/// tokio, smol or async-std executor: the server runs on its own runtime. Dropping it closes the
/// listener and every connection and joins its threads.
///
/// Commands aimed at connections (`send_*`, `close_all`, `stall`) reach the connections whose
/// handshake has completed (see [`TestServer::wait_for_connections`]); they return how many
/// connections they were queued on and are carried out in order per connection.
///
/// Recordings (`received`, `requests`, ...) survive [`TestServer::stop`] and
/// [`TestServer::restart`].
pub struct TestServer {
    background: Background,
    state: Arc<Watched<ServerState>>,
    addr: SocketAddr,
    listener: Mutex<Option<Listener>>,
}

/// A running accept loop and the way to end it.
struct Listener {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server with the default behaviour: echo every message, answer pings, accept
    /// every handshake.
    pub fn start() -> Self {
        Self::start_with(Behavior::default())
    }

    /// Starts a server with `behavior` on a free loopback port.
    pub fn start_with(behavior: Behavior) -> Self {
        let background = Background::new("server");
        let listener = background
            .call(bind(ANY_LOOPBACK_PORT, Duration::ZERO))
            .expect("ws-testkit: cannot bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let server = Self {
            background,
            state: Arc::new(Watched::new(ServerState {
                behavior,
                ..ServerState::default()
            })),
            addr,
            listener: Mutex::new(None),
        };
        server.listen(listener);
        server
    }

    fn listen(&self, listener: TcpListener) {
        let (shutdown, stopped) = oneshot::channel();
        let task = self
            .background
            .spawn(accept_loop(listener, Arc::clone(&self.state), stopped));
        *self.listener_slot() = Some(Listener { shutdown, task });
    }

    fn listener_slot(&self) -> std::sync::MutexGuard<'_, Option<Listener>> {
        self.listener.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The listening address (`127.0.0.1:PORT`); unchanged by `restart`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// The current behaviour.
    pub fn behavior(&self) -> Behavior {
        self.state.read(|s| s.behavior.clone())
    }

    /// Replaces the behaviour. Applies to the next frame on every open connection and to every
    /// later handshake.
    pub fn set_behavior(&self, behavior: Behavior) {
        self.state.update(|s| s.behavior = behavior);
    }

    fn broadcast(&self, command: impl Fn() -> Command) -> usize {
        self.state.read(|s| {
            s.open
                .values()
                .filter(|tx| tx.send(command()).is_ok())
                .count()
        })
    }

    /// Sends a text message on every open connection.
    pub fn send_text(&self, text: &str) -> usize {
        self.broadcast(|| Command::Send(Message::text(text)))
    }

    /// Sends a binary message on every open connection. Messages up to 64 MiB are sent as one
    /// frame (a client with tungstenite's default 16 MiB frame limit rejects bigger ones).
    pub fn send_binary(&self, bytes: &[u8]) -> usize {
        let bytes = Bytes::copy_from_slice(bytes);
        self.broadcast(|| Command::Send(Message::Binary(bytes.clone())))
    }

    /// Sends a protocol Ping with `payload` (at most 125 bytes) on every open connection. The
    /// Pongs that come back are recorded, see [`TestServer::pongs`].
    pub fn send_ping(&self, payload: &[u8]) -> usize {
        let payload = Bytes::copy_from_slice(payload);
        self.broadcast(|| Command::Send(Message::Ping(payload.clone())))
    }

    /// Writes `raw` to every open connection's socket as is, between two frames: for invalid
    /// frames (reserved bits set, a masked server frame, a bad opcode...) that exercise a
    /// client's protocol-error handling.
    pub fn send_raw(&self, raw: &[u8]) -> usize {
        let raw = Bytes::copy_from_slice(raw);
        self.broadcast(|| Command::Raw(raw.clone()))
    }

    /// Starts the closing handshake on every open connection with `code` and `reason`. The
    /// server then waits for the client's Close and closes TCP.
    pub fn close_all(&self, code: u16, reason: &str) -> usize {
        self.broadcast(|| Command::Close {
            code,
            reason: reason.to_owned(),
        })
    }

    /// Turns every open connection into a half-open peer: nothing more is read or written
    /// (Pings go unanswered, data is not echoed, nothing is recorded) while the TCP socket stays
    /// open, until [`TestServer::stop`] or drop. Connections made later behave normally.
    ///
    /// Returns once the connections have stopped, so nothing the client sends afterwards is
    /// served.
    pub fn stall(&self) -> usize {
        let (done, confirmed) = std_mpsc::channel();
        let count = self.broadcast(|| Command::Stall { done: done.clone() });
        drop(done);
        // Nothing is ever sent: each connection drops its sender once stalled, and
        // `Disconnected` means all did. The timeout covers a connection stuck in a long write.
        let _ = confirmed.recv_timeout(STALL_CONFIRM_TIMEOUT);
        count
    }

    /// Closes the listener and drops every connection (including stalled ones and pending
    /// handshakes) without a Close frame: the client sees the TCP connection end, and new
    /// connects are refused. Returns once the port is free. Idempotent.
    pub fn stop(&self) {
        let listener = self.listener_slot().take();
        if let Some(Listener { shutdown, task }) = listener {
            let _ = shutdown.send(());
            let _ = self.background.call(task);
        }
    }

    /// Listens again on the same port with the same behaviour and recordings (stopping first if
    /// still running, which drops every connection). Retries binding for up to 2 s while the
    /// port is still held.
    pub fn restart(&self) {
        self.stop();
        let listener = self
            .background
            .call(bind(self.addr, REBIND_PATIENCE))
            .expect("ws-testkit: cannot bind the server's port again");
        self.listen(listener);
    }

    /// Every text/binary message received, in order, across restarts (app heartbeat pings
    /// excluded).
    pub fn received(&self) -> Vec<Received> {
        self.state.read(|s| s.received.clone())
    }

    /// The received text messages only, in order.
    pub fn received_texts(&self) -> Vec<String> {
        self.state.read(|s| {
            s.received
                .iter()
                .filter_map(|r| r.text().map(str::to_owned))
                .collect()
        })
    }

    /// Number of completed handshakes so far.
    pub fn connections(&self) -> usize {
        self.state.read(|s| s.connections)
    }

    /// Number of handshake requests read so far, refused and never-answered ones included.
    pub fn handshake_attempts(&self) -> usize {
        self.state.read(|s| s.handshake_attempts)
    }

    /// When each handshake request was read (refused and never-answered ones included), in
    /// order: for scenarios about the spacing of attempts (a server's `Retry-After`, backoff),
    /// measured where the attempts arrive rather than where the client decides them.
    pub fn handshake_attempt_times(&self) -> Vec<Instant> {
        self.state.read(|s| s.handshake_times.clone())
    }

    /// The request of every handshake attempt, in order.
    pub fn requests(&self) -> Vec<HandshakeRequest> {
        self.state.read(|s| s.requests.clone())
    }

    /// For every connection that ended (other than by `stop`, `restart` or drop), the code of
    /// the Close frame the client sent (also when replying to [`TestServer::close_all`]), or
    /// `None` if it sent none or a Close without a code.
    pub fn client_close_codes(&self) -> Vec<Option<u16>> {
        self.state.read(|s| s.client_close_codes.clone())
    }

    /// For every connection that ended, the code and reason of the Close frame the client
    /// sent, or `None` (as [`TestServer::client_close_codes`]).
    pub fn client_close_frames(&self) -> Vec<Option<(u16, String)>> {
        self.state.read(|s| s.client_close_frames.clone())
    }

    /// For every closing handshake the server started ([`TestServer::close_all`]), in order:
    /// how long after the server's Close was on the socket the client's Close arrived, or
    /// `None` while it has not.
    pub fn close_replies(&self) -> Vec<Option<Duration>> {
        self.state.read(|s| {
            s.server_closes
                .iter()
                .map(|close| close.answered.map(|at| at.duration_since(close.sent)))
                .collect()
        })
    }

    /// Waits until the client has answered at least `n` of the server's Close frames;
    /// `false` on timeout.
    pub fn wait_for_close_replies(&self, n: usize, timeout: Duration) -> bool {
        self.state.wait_until(timeout, |s| {
            s.server_closes
                .iter()
                .filter(|close| close.answered.is_some())
                .count()
                >= n
        })
    }

    /// Number of protocol Pings received from clients (answered or not).
    pub fn client_pings(&self) -> usize {
        self.state.read(|s| s.client_pings)
    }

    /// Waits until at least `n` protocol Pings have been received; `false` on timeout.
    pub fn wait_for_client_pings(&self, n: usize, timeout: Duration) -> bool {
        self.state.wait_until(timeout, |s| s.client_pings >= n)
    }

    /// Payloads of the Pongs received (answers to [`TestServer::send_ping`]), in order.
    pub fn pongs(&self) -> Vec<Bytes> {
        self.state.read(|s| s.pongs.clone())
    }

    /// Number of application heartbeat pings received (see
    /// [`AppHeartbeat`](crate::AppHeartbeat)).
    pub fn app_pings(&self) -> usize {
        self.state.read(|s| s.app_pings)
    }

    /// Waits until at least `n` handshakes have completed; `false` on timeout.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> bool {
        self.state.wait_until(timeout, |s| s.connections >= n)
    }

    /// Waits until at least `n` messages have been received; `false` on timeout.
    pub fn wait_for_received(&self, n: usize, timeout: Duration) -> bool {
        self.state.wait_until(timeout, |s| s.received.len() >= n)
    }

    /// Waits until at least `n` handshake requests have been read; `false` on timeout.
    pub fn wait_for_handshake_attempts(&self, n: usize, timeout: Duration) -> bool {
        self.state
            .wait_until(timeout, |s| s.handshake_attempts >= n)
    }

    /// Waits until at least `n` connections have ended (see
    /// [`TestServer::client_close_codes`]); `false` on timeout.
    pub fn wait_for_client_closes(&self, n: usize, timeout: Duration) -> bool {
        self.state
            .wait_until(timeout, |s| s.client_close_codes.len() >= n)
    }

    /// Waits until at least `n` Pongs have been received; `false` on timeout.
    pub fn wait_for_pongs(&self, n: usize, timeout: Duration) -> bool {
        self.state.wait_until(timeout, |s| s.pongs.len() >= n)
    }

    /// Waits until at least `n` application heartbeat pings have been received; `false` on
    /// timeout.
    pub fn wait_for_app_pings(&self, n: usize, timeout: Duration) -> bool {
        self.state.wait_until(timeout, |s| s.app_pings >= n)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections until told to stop, then closes the listener and aborts every connection
/// task, waiting until their sockets are dropped.
async fn accept_loop(
    listener: TcpListener,
    state: Arc<Watched<ServerState>>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(connection::serve(tcp, Arc::clone(&state)));
                }
                Err(err) => tracing::warn!(%err, "accept failed"),
            },
            Some(_) = connections.join_next() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}
