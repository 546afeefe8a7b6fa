//! One connect attempt on a helper thread: provider, DNS, TCP, TLS and WebSocket handshakes,
//! each failure typed.
//!
//! A blocking handshake on the I/O thread would freeze the supervisor's timers (the connect
//! timeout could not fire while the server hangs) and the application's commands. So each
//! attempt runs on its own thread and hands the open socket, or the error, back to the I/O
//! thread. Abandoning an attempt (connect timeout, close, reconnect now) only raises a flag:
//! the helper notices it within [`PATIENCE`] of socket or provider waiting and ends on its
//! own; the I/O thread joins it before it exits itself.

use std::future::Future;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

use tungstenite::WebSocket;
use tungstenite::handshake::HandshakeError;
use ws_client::runtime::{Connected, Prepared};
use ws_client::rustls::{ClientConfig, ClientConnection, StreamOwned};
use ws_client::{ClientOptions, Error, Stage};

use crate::bell::Bell;
use crate::link::{Link, Stream};

/// How often a helper blocked in the handshake or in an async provider checks whether its
/// attempt was abandoned: the longest it outlives an abandoned attempt, once past DNS and the
/// TCP connect (bounded by the resolver and by `connect_timeout`).
const PATIENCE: Duration = Duration::from_millis(50);

/// An open connection before the I/O thread takes it over.
pub(crate) type Opened = Connected<WebSocket<Stream>>;

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
/// so that a DNS failure, a refused port and other socket errors stay distinct for the
/// application. An abandoned attempt stops early with [`Error::Closed`], which nobody reads.
fn connect(
    options: &ClientOptions,
    attempt: ws_client::Attempt,
    abandoned: &AtomicBool,
) -> Result<Opened, Error> {
    let mut prepared =
        block_on(Prepared::new(options, attempt), abandoned).ok_or(Error::Closed)??;
    let resolved = (prepared.host.as_str(), prepared.port).to_socket_addrs();
    let timeout = options.config().connect_timeout();
    // The addresses in turn, as in the async adapters. Each future is ready when polled (the
    // connect blocks, for at most `connect_timeout`), so this is a plain blocking loop; once
    // the attempt is abandoned, the addresses left are skipped.
    let tcp = block_on(
        prepared.connect_any(resolved, |addr| {
            std::future::ready(if abandoned.load(Ordering::Relaxed) {
                Err(io::Error::other("attempt abandoned"))
            } else {
                TcpStream::connect_timeout(&addr, timeout)
            })
        }),
        abandoned,
    );
    if abandoned.load(Ordering::Relaxed) {
        return Err(Error::Closed);
    }
    let tcp = tcp.ok_or(Error::Closed)??;
    // Heartbeats and small messages must not wait for Nagle's algorithm.
    tcp.set_nodelay(true)
        .map_err(|e| prepared.socket_error(e))?;
    let link = Link::new(tcp, PATIENCE).map_err(|e| prepared.socket_error(e))?;
    let stream = match &prepared.tls {
        Some(config) => Stream::Tls(Box::new(secure(config, &prepared, link)?)),
        None => Stream::Plain(link),
    };
    let request = std::mem::take(&mut prepared.request);
    let mut handshake =
        tungstenite::client::client_with_config(request, stream, Some(prepared.websocket));
    loop {
        match handshake {
            Ok((socket, response)) => return Ok(prepared.into_connected(socket, response)),
            Err(HandshakeError::Interrupted(_)) if abandoned.load(Ordering::Relaxed) => {
                return Err(Error::Closed);
            }
            Err(HandshakeError::Interrupted(partial)) => handshake = partial.handshake(),
            Err(HandshakeError::Failure(e)) => return Err(prepared.handshake_error(e)),
        }
    }
}

/// Wraps `link` in a rustls client for the prepared host. Built here rather than by
/// tungstenite, which hands rustls an IPv6 host with its URL brackets (`[::1]`), an invalid
/// server name.
fn secure(
    config: &Arc<ClientConfig>,
    prepared: &Prepared,
    link: Link,
) -> Result<StreamOwned<ClientConnection, Link>, Error> {
    let connection =
        ClientConnection::new(Arc::clone(config), prepared.server_name()?).map_err(|e| {
            Error::Tls {
                server: prepared.server.clone(),
                reason: e.to_string(),
                source: Some(Arc::new(e)),
            }
        })?;
    Ok(StreamOwned::new(connection, link))
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
