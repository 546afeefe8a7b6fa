//! One connect attempt on a helper thread: provider, DNS, TCP, TLS and WebSocket handshakes,
//! each failure typed.
//!
//! A blocking handshake on the I/O thread would freeze the supervisor's timers (the connect
//! timeout could not fire while the server hangs) and the application's commands. So each
//! attempt runs on its own thread and hands the open socket, or the error, back to the I/O
//! thread. Abandoning an attempt (connect timeout, close, reconnect now) only raises a flag:
//! the helper notices it within [`PATIENCE`] of socket or provider waiting (within
//! [`HANDSHAKE_PATIENCE`] in the handshakes) and ends on its
//! own; the I/O thread joins it before it exits itself.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use tungstenite::WebSocket;
use tungstenite::handshake::HandshakeError;
use ws_client::ProxyFailure;
use ws_client::runtime::{ATTEMPT_DELAY, Race, RaceError, RaceStep};
use ws_client::runtime::{Budget, Prepared};
use ws_client::runtime::{Connected, ProxyHandshake, Step};
use ws_client::rustls::{ClientConfig, ClientConnection, StreamOwned};
use ws_client::{ClientOptions, ConnectStage, Error, Stage};

use crate::bell::Bell;
use crate::link::{Checked, Link, Stream};

/// How often a helper waiting on an async provider, the resolver or the TCP race checks
/// whether its attempt was abandoned: the longest it outlives an abandoned attempt there.
const PATIENCE: Duration = Duration::from_millis(50);

/// How long one blocking read or write of the handshakes (proxy, TLS, upgrade) may wait
/// before the thread checks the attempt's budget and the abandoned flag again: well under the
/// smallest margin [`Budget`] leaves to the supervisor (a tenth of `connect_timeout`), so a
/// stage that hangs ends with its own timeout error rather than the supervisor's.
const HANDSHAKE_PATIENCE: Duration = Duration::from_millis(10);

/// An open connection before the I/O thread takes it over.
pub(crate) type Opened = Connected<WebSocket<Checked>>;

/// A connect attempt running on its helper thread.
pub(crate) struct Attempt {
    /// The redacted URL, for an attempt whose thread died without a result.
    label: String,
    result: Receiver<Result<Opened, Error>>,
    abandoned: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Attempt {
    /// Starts `attempt` on a helper thread; its result rings `bell`.
    pub(crate) fn start(
        options: Arc<ClientOptions>,
        attempt: ws_client::Attempt,
        bell: Arc<Bell>,
    ) -> io::Result<Attempt> {
        let label = options.label();
        let (sender, result) = mpsc::sync_channel(1);
        let abandoned = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&abandoned);
        let thread = thread::Builder::new()
            .name("ws-blocking-connect".to_owned())
            .spawn(move || {
                let outcome = connect(&options, attempt, &flag);
                if !flag.load(Ordering::Relaxed) && sender.send(outcome).is_ok() {
                    bell.ring();
                }
            })?;
        Ok(Attempt {
            label,
            result,
            abandoned,
            thread,
        })
    }

    /// The outcome, once there is one.
    pub(crate) fn outcome(&self) -> Option<Result<Opened, Error>> {
        match self.result.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(Error::Io {
                url: self.label.clone(),
                stage: Stage::Connect,
                source: Arc::new(io::Error::other(
                    "the connect thread ended without a result (did the provider panic?)",
                )),
            })),
        }
    }

    /// Lets the attempt go, finished or not: an unfinished helper ends on its own. Its thread
    /// is returned so that the I/O thread can join it before ending.
    pub(crate) fn abandon(self) -> JoinHandle<()> {
        self.abandoned.store(true, Ordering::Relaxed);
        self.thread
    }
}

/// Runs attempt `attempt`. Resolving and connecting are done here rather than by tungstenite
/// so that a DNS failure, a refused port, a proxy's refusal and a stage that hangs stay
/// distinct for the application. DNS, TCP, the proxy and TLS are bounded by the attempt's
/// [`Budget`]; the upgrade by the supervisor's `connect_timeout`. An abandoned attempt stops
/// early with [`Error::Closed`], which nobody reads.
fn connect(
    options: &ClientOptions,
    attempt: ws_client::Attempt,
    abandoned: &AtomicBool,
) -> Result<Opened, Error> {
    let budget = Budget::new(options.config().connect_timeout());
    let prepared = block_on(Prepared::new(options, attempt), abandoned).ok_or(Error::Closed)??;
    let watch = Watch {
        budget,
        abandoned,
        prepared: &prepared,
    };
    let (host, port) = prepared.dial();
    let resolved = match &prepared.pinned {
        Some(_) => Ok(Vec::new()),
        None => watch.resolve(host, port)?,
    };
    let addrs = prepared.addresses(resolved)?;
    let mut tried = Vec::new();
    let tcp =
        race_blocking(addrs, &watch, &mut tried).map_err(|lost| lost.into_error(&prepared))?;
    let socket_error = |e: io::Error| prepared.socket_error(e);
    // Heartbeats and small messages must not wait for Nagle's algorithm.
    tcp.set_nodelay(true).map_err(socket_error)?;
    let link = Link::new(tcp, HANDSHAKE_PATIENCE).map_err(socket_error)?;
    let stream = match &prepared.proxy {
        Some(_) => through_proxy(&prepared, link, &watch, &tried)?,
        None => Stream::Plain(link),
    };
    let stream = match (&prepared.tls, stream) {
        // Over TCP, or inside an `https://` proxy's TLS.
        (Some(config), stream) => {
            let mut tls = secure(config, &prepared, stream)?;
            watch.finish_tls(&mut tls, &prepared.server, ConnectStage::Tls, &tried)?;
            Stream::Tls(Box::new(tls))
        }
        (None, stream) => stream,
    };
    // The upgrade's budget check, without `watch` (which borrows `prepared`).
    let budget = watch.budget;
    let mut prepared = prepared;
    let request = std::mem::take(&mut prepared.request);
    let mut handshake = tungstenite::client::client_with_config(
        request,
        Checked::new(stream),
        Some(prepared.websocket),
    );
    loop {
        match handshake {
            Ok((socket, response)) => {
                prepared.offer.check(&response, &prepared.label)?;
                return Ok(prepared.into_connected(socket, response));
            }
            Err(HandshakeError::Interrupted(_)) if abandoned.load(Ordering::Relaxed) => {
                return Err(Error::Closed);
            }
            Err(HandshakeError::Interrupted(partial)) => {
                if budget.remaining().is_zero() {
                    return Err(budget.timed_out(&prepared.label, ConnectStage::Upgrade, tried));
                }
                handshake = partial.handshake();
            }
            Err(HandshakeError::Failure(e)) => return Err(prepared.handshake_error(e)),
        }
    }
}

/// What every blocking stage checks between two short waits: the attempt's budget and
/// whether the attempt was abandoned.
struct Watch<'a> {
    budget: Budget,
    abandoned: &'a AtomicBool,
    prepared: &'a Prepared,
}

impl Watch<'_> {
    /// `Err` once the attempt is abandoned (`Stopped`) or `stage` has outlived the budget.
    fn check(&self, stage: ConnectStage, tried: &[SocketAddr]) -> Result<(), Error> {
        if self.abandoned.load(Ordering::Relaxed) {
            return Err(Error::Closed);
        }
        if self.budget.remaining().is_zero() {
            return Err(self
                .budget
                .timed_out(&self.prepared.label, stage, tried.to_vec()));
        }
        Ok(())
    }

    /// Looks `host` up on a thread of its own (the resolver cannot be interrupted), waiting
    /// at most the budget: a resolver that hangs is a DNS stage timeout, not a stuck attempt.
    fn resolve(&self, host: &str, port: u16) -> Result<io::Result<Vec<SocketAddr>>, Error> {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Ok(Ok(vec![SocketAddr::new(ip, port)]));
        }
        let (sender, lookup) = mpsc::sync_channel(1);
        let name = host.to_owned();
        thread::Builder::new()
            .name("ws-blocking-dns".to_owned())
            .spawn(move || {
                let _ = sender.send(
                    (name.as_str(), port)
                        .to_socket_addrs()
                        .map(Iterator::collect::<Vec<_>>),
                );
            })
            .map_err(|e| self.prepared.dns_error(host, e))?;
        loop {
            self.check(ConnectStage::Dns, &[])?;
            match lookup.recv_timeout(PATIENCE.min(self.budget.remaining())) {
                Ok(result) => return Ok(result),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Ok(Err(io::Error::other("the resolver thread died")));
                }
            }
        }
    }

    /// Completes a TLS handshake (with `server`, the server or an `https://` proxy) before
    /// anything else is sent, so that a certificate error is a TLS error naming `server` and
    /// a peer that hangs in TLS is a timeout of `stage`.
    fn finish_tls<S: Read + Write>(
        &self,
        tls: &mut StreamOwned<ClientConnection, S>,
        server: &str,
        stage: ConnectStage,
        tried: &[SocketAddr],
    ) -> Result<(), Error> {
        while tls.conn.is_handshaking() {
            self.check(stage, tried)?;
            match tls.conn.complete_io(&mut tls.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    return Err(self.prepared.handshake_error_at(server, e.into()));
                }
            }
        }
        Ok(())
    }
}

/// Why the TCP race ended without a connection.
enum Lost {
    Race(RaceError),
    Watch(Error),
    Poll(io::Error),
}

impl Lost {
    fn into_error(self, prepared: &Prepared) -> Error {
        match self {
            Lost::Race(error) => prepared.race_failed(error),
            Lost::Watch(error) => error,
            Lost::Poll(error) => Error::Io {
                url: prepared.label.clone(),
                stage: Stage::Connect,
                source: Arc::new(error),
            },
        }
    }
}

/// Happy Eyeballs on this thread: non-blocking connects raced in one small mio poll, by
/// ws-client's [`Race`] schedule. A poll rather than a thread per address: losers are
/// closed by dropping them, nothing outlives the attempt, and the wait also watches the
/// budget and the abandoned flag.
fn race_blocking(
    addrs: Vec<SocketAddr>,
    watch: &Watch<'_>,
    tried: &mut Vec<SocketAddr>,
) -> Result<TcpStream, Lost> {
    let mut poll = mio::Poll::new().map_err(Lost::Poll)?;
    let mut events = mio::Events::with_capacity(8);
    let mut schedule = Race::new(addrs);
    let mut attempts: Vec<(SocketAddr, mio::net::TcpStream)> = Vec::new();
    let mut next_start: Option<Instant> = None;
    let mut token = 0;
    loop {
        match schedule.next_step() {
            RaceStep::Start(addr) => {
                tried.push(addr);
                next_start = Some(Instant::now() + ATTEMPT_DELAY);
                match mio::net::TcpStream::connect(addr) {
                    Ok(mut stream) => {
                        token += 1;
                        poll.registry()
                            .register(&mut stream, mio::Token(token), mio::Interest::WRITABLE)
                            .map_err(Lost::Poll)?;
                        attempts.push((addr, stream));
                    }
                    Err(error) => schedule.failed(addr, &error),
                }
                continue;
            }
            RaceStep::Exhausted => {
                let (addr, error) = schedule
                    .last_error()
                    .unwrap_or_else(|| (tried[0], io::ErrorKind::NotFound.into()));
                return Err(Lost::Race(RaceError::Failed {
                    addr,
                    error,
                    tried: tried.clone(),
                }));
            }
            _ => {}
        }
        watch.check(ConnectStage::Tcp, tried).map_err(Lost::Watch)?;
        let now = Instant::now();
        let mut wait = PATIENCE.min(watch.budget.remaining());
        if let Some(at) = next_start {
            wait = wait.min(at.saturating_duration_since(now));
        }
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(Lost::Poll(error)),
        }
        // Each event is only a wake-up: every attempt is checked below.
        let mut index = 0;
        while index < attempts.len() {
            let outcome = {
                let stream = &attempts[index].1;
                match stream.take_error() {
                    Ok(Some(error)) | Err(error) => Some(Err(error)),
                    Ok(None) => match stream.peer_addr() {
                        Ok(_) => Some(Ok(())),
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
                        Err(e) => Some(Err(e)),
                    },
                }
            };
            match outcome {
                None => index += 1,
                Some(Ok(())) => {
                    let (_, mut stream) = attempts.swap_remove(index);
                    let _ = poll.registry().deregister(&mut stream);
                    let stream = TcpStream::from(stream);
                    stream.set_nonblocking(false).map_err(Lost::Poll)?;
                    return Ok(stream);
                }
                Some(Err(error)) => {
                    let (addr, _) = attempts.swap_remove(index);
                    schedule.failed(addr, &error);
                }
            }
        }
        if next_start.is_some_and(|at| Instant::now() >= at) {
            next_start = None;
            schedule.timer_expired();
        }
    }
}

/// Opens the tunnel over `link`: TLS to an `https://` proxy, the server's name resolved here
/// for `socks5://`, then the proxy's handshake, bounded by the budget.
fn through_proxy(
    prepared: &Prepared,
    link: Link,
    watch: &Watch<'_>,
    tried: &[SocketAddr],
) -> Result<Stream, Error> {
    let Some(proxy) = &prepared.proxy else {
        return Ok(Stream::Plain(link));
    };
    let mut stream = match &prepared.tls_to_proxy {
        Some(config) => {
            let connection =
                ClientConnection::new(Arc::clone(config), prepared.proxy_server_name()?).map_err(
                    |e| Error::Tls {
                        server: proxy.address(),
                        reason: e.to_string(),
                        source: Some(Arc::new(e)),
                    },
                )?;
            let mut tls = StreamOwned::new(connection, Stream::Plain(link));
            watch.finish_tls(&mut tls, &proxy.address(), ConnectStage::Proxy, tried)?;
            Stream::Tls(Box::new(tls))
        }
        None => Stream::Plain(link),
    };
    let target =
        if prepared.resolves_target_locally() {
            let found = watch
                .resolve(&prepared.host, prepared.port)?
                .map_err(|e| prepared.dns_error(&prepared.host, e))?
                .into_iter()
                .next();
            Some(found.ok_or_else(|| {
                prepared.dns_error(&prepared.host, io::ErrorKind::NotFound.into())
            })?)
        } else {
            None
        };
    let target = prepared.proxy_target(target);
    let mut handshake = ProxyHandshake::new(proxy, &target);
    let refused = |failure| prepared.proxy_error(&target.to_string(), failure);
    let io_failure = |e: io::Error| refused(ProxyFailure::Io(e.to_string()));
    let mut buffer = [0; 512];
    loop {
        watch.check(ConnectStage::Proxy, tried)?;
        match handshake.step().map_err(refused)? {
            Step::Write(bytes) => {
                let mut rest = bytes;
                while !rest.is_empty() {
                    match stream.write(rest) {
                        Ok(0) => return Err(refused(ProxyFailure::Closed)),
                        Ok(n) => rest = &rest[n..],
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            watch.check(ConnectStage::Proxy, tried)?;
                        }
                        Err(e) => return Err(io_failure(e)),
                    }
                }
                handshake.sent();
            }
            Step::Read(most) => {
                let most = most.min(buffer.len());
                match stream.read(&mut buffer[..most]) {
                    Ok(n) => handshake.received(&buffer[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(io_failure(e)),
                }
            }
            _ => return Ok(stream),
        }
    }
}

/// Wraps `link` in a rustls client for the prepared host. Built here rather than by
/// tungstenite, which hands rustls an IPv6 host with its URL brackets (`[::1]`), an invalid
/// server name.
fn secure(
    config: &Arc<ClientConfig>,
    prepared: &Prepared,
    stream: Stream,
) -> Result<StreamOwned<ClientConnection, Stream>, Error> {
    let connection =
        ClientConnection::new(Arc::clone(config), prepared.server_name()?).map_err(|e| {
            Error::Tls {
                server: prepared.server.clone(),
                reason: e.to_string(),
                source: Some(Arc::new(e)),
            }
        })?;
    Ok(StreamOwned::new(connection, stream))
}

/// Runs `future` on this thread; `None` once `abandoned` is raised. The endpoint provider is
/// the only future here: a plain function never waits, an async one must not need a runtime.
fn block_on<F: Future>(future: F, abandoned: &AtomicBool) -> Option<F::Output> {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Some(output);
        }
        if abandoned.load(Ordering::Relaxed) {
            return None;
        }
        thread::park_timeout(PATIENCE);
    }
}
