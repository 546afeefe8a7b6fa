//! The reference echo server: one thread, a tokio current-thread runtime, and a hand-written
//! RFC 6455 echo loop.
//!
//! It must be cheap and predictable, so that what the benchmark measures is the clients:
//!
//! - One thread, pinned to its own core ([`crate::placement`]). Its CPU time is read separately ([`EchoServer::tid`]) and subtracted from the
//!   process's, and its share of a core is reported next to every result.
//! - Batched replies: every read is parsed whole, all its echoes go into one output buffer,
//!   and one `write` sends them (the batching tungstenite's users usually skip).
//! - No allocation per message: frames are unmasked in place in a reused input buffer and
//!   copied into a reused output buffer. The process-wide allocation counter therefore sees
//!   only the clients; [`calibrate`] proves it in every run.
//! - No tungstenite on the server side: a full protocol stack here would allocate per
//!   message and add its own costs to every client's numbers. The handshake uses
//!   tungstenite's `derive_accept_key`; the framing is a few lines (the `connection` module).

pub mod calibrate;
mod connection;
pub mod process;

use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::measure;

/// A running reference echo server on `127.0.0.1`. Dropping it stops the thread and closes
/// every connection.
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    tid: Option<u32>,
    core: Option<usize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// Starts the server on its own thread, on a free loopback port.
    pub fn start() -> io::Result<EchoServer> {
        let (ready, started) = mpsc::channel();
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("bench-echo-server".to_owned())
            .spawn(move || {
                let core = crate::placement::pin_server_thread();
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match TcpListener::bind(("127.0.0.1", 0)).await {
                        Ok(listener) => {
                            let addr = listener.local_addr();
                            let _ =
                                ready.send(addr.map(|addr| (addr, measure::current_tid(), core)));
                            accept_loop(listener, stopped).await;
                        }
                        Err(error) => {
                            let _ = ready.send(Err(error));
                        }
                    }
                });
                // Dropping the runtime here drops every connection task and its socket.
            })?;
        let (addr, tid, core) = started
            .recv()
            .map_err(|_| io::Error::other("the echo server thread died"))??;
        Ok(EchoServer {
            addr,
            tid,
            core,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// The kernel id of the server's thread, for its CPU time.
    pub fn tid(&self) -> Option<u32> {
        self.tid
    }

    /// The core the server's thread is pinned to (`None`: not pinned, one core only).
    pub fn core(&self) -> Option<usize> {
        self.core
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until `stopped` fires, each served by its own task on this thread.
async fn accept_loop(listener: TcpListener, mut stopped: oneshot::Receiver<()>) {
    loop {
        let accepted = poll_fn(|cx| {
            if Pin::new(&mut stopped).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((tcp, _))) => {
                // Echoes must not wait for Nagle's algorithm.
                let _ = tcp.set_nodelay(true);
                tokio::spawn(connection::serve(tcp));
            }
            // Out of file descriptors, or a connection reset before accept: back off a little
            // rather than spin.
            Some(Err(_)) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}
