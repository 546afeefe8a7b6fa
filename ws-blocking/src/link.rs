//! The byte stream under tungstenite (and rustls): one TCP socket, blocking with short
//! timeouts during the opening handshake, non-blocking once the connection is open.
//!
//! An open connection's socket is registered with the I/O thread's [`Poller`](crate::poller),
//! so one thread waits on the socket, the doorbell and the supervisor's deadline at once, and
//! reads and writes itself: no reader thread, no copy between threads, no thread hop on the
//! way in or out. The poller is edge-triggered, so the link remembers what the socket last
//! said: a read or write that returns `WouldBlock` clears its flag, and only a readiness event
//! sets it again. The I/O thread skips reads it knows would find nothing (no system call)
//! and retries a blocked flush only once the socket has room.
//!
//! During the opening handshake (on the connect thread) reads and writes block for at most
//! the handshake's patience, so the thread notices when its attempt is abandoned.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ws_client::runtime::FailFastUtf8;
use ws_client::rustls::{ClientConnection, StreamOwned};

/// A connection's bytes, plain or inside TLS.
pub(crate) enum Stream {
    /// `ws://`.
    Plain(Link),
    /// TLS over a stream: `wss://` (over TCP, or inside an `https://` proxy's TLS), or the
    /// TLS to an `https://` proxy.
    Tls(Box<StreamOwned<ClientConnection, Stream>>),
}

impl Stream {
    pub(crate) fn link_mut(&mut self) -> &mut Link {
        match self {
            Stream::Plain(link) => link,
            Stream::Tls(tls) => tls.sock.link_mut(),
        }
    }

    /// Whether a read may find something. Over plain TCP tungstenite only reports
    /// `WouldBlock` once its own buffer holds no whole frame, so a socket with nothing new
    /// means nothing to read. rustls may keep decrypted bytes after such a read, so a TLS
    /// stream is always worth a look.
    pub(crate) fn may_have_input(&self) -> bool {
        match self {
            Stream::Plain(link) => link.ready.readable(),
            Stream::Tls(_) => true,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(link) => link.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(link) => link.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(link) => link.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// The stream tungstenite reads, with invalid UTF-8 found as it arrives ([`FailFastUtf8`]):
/// above TLS, so the check sees the plain bytes from the HTTP response on.
pub(crate) struct Checked {
    pub(crate) stream: Stream,
    check: FailFastUtf8,
}

impl Checked {
    pub(crate) fn new(stream: Stream) -> Self {
        Checked {
            stream,
            check: FailFastUtf8::new(),
        }
    }
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check.before_read()?;
        let read = self.stream.read(buf)?;
        self.check.after_read(&buf[..read])
    }
}

impl Write for Checked {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// What the poller last said about the open socket, and what the last read and write found.
/// Shared by the I/O thread's wait (which sets it) and the link (which clears it); both run
/// on the I/O thread, the atomics only make it shareable.
#[derive(Debug)]
pub(crate) struct Readiness {
    /// No read has come up empty since the poller last said the socket was readable.
    readable: AtomicBool,
    /// No write has come up short since the poller last said the socket had room.
    writable: AtomicBool,
}

impl Readiness {
    /// A socket nobody has waited on yet: worth a read and a write.
    pub(crate) fn new() -> Self {
        Readiness {
            readable: AtomicBool::new(true),
            writable: AtomicBool::new(true),
        }
    }

    /// The poller reported the socket readable (or closed, or failed: a read will tell).
    pub(crate) fn mark_readable(&self) {
        self.readable.store(true, Ordering::Relaxed);
    }

    /// The poller reported room to write (or a closed or failed socket: a write will tell).
    pub(crate) fn mark_writable(&self) {
        self.writable.store(true, Ordering::Relaxed);
    }

    fn readable(&self) -> bool {
        self.readable.load(Ordering::Relaxed)
    }

    fn flag(&self, write: bool) -> &AtomicBool {
        if write {
            &self.writable
        } else {
            &self.readable
        }
    }
}

/// One TCP connection.
pub(crate) struct Link {
    socket: Socket,
    ready: Arc<Readiness>,
}

enum Socket {
    /// The opening handshake: blocking, with timeouts.
    Handshake(TcpStream),
    /// Open, non-blocking, registered with the I/O thread's poller.
    Open(mio::net::TcpStream),
    /// Switching to open mode failed; the connection is being dropped.
    Lost,
}

impl Link {
    /// A connection in handshake mode: blocking reads and writes, each bounded by `patience`.
    pub(crate) fn new(tcp: TcpStream, patience: Duration) -> io::Result<Self> {
        tcp.set_read_timeout(Some(patience))?;
        tcp.set_write_timeout(Some(patience))?;
        Ok(Link {
            socket: Socket::Handshake(tcp),
            ready: Arc::new(Readiness::new()),
        })
    }

    /// Switches to open-connection mode: non-blocking, ready to be registered with a poller
    /// whose findings go to `ready`.
    pub(crate) fn open(&mut self, ready: Arc<Readiness>) -> io::Result<&mut mio::net::TcpStream> {
        ready.mark_readable();
        ready.mark_writable();
        self.ready = ready;
        if let Socket::Handshake(tcp) = std::mem::replace(&mut self.socket, Socket::Lost) {
            tcp.set_nonblocking(true)?;
            self.socket = Socket::Open(mio::net::TcpStream::from_std(tcp));
        }
        match &mut self.socket {
            Socket::Open(tcp) => Ok(tcp),
            _ => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// The open socket, to deregister it.
    pub(crate) fn polled(&mut self) -> Option<&mut mio::net::TcpStream> {
        match &mut self.socket {
            Socket::Open(tcp) => Some(tcp),
            _ => None,
        }
    }

    /// Whether a blocked write is worth retrying.
    pub(crate) fn writable(&self) -> bool {
        self.ready.writable.load(Ordering::Relaxed)
    }
}

/// Retries `op` when a signal interrupted it; records a `WouldBlock` in `ready`.
fn attempt<T>(ready: &AtomicBool, mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                ready.store(false, Ordering::Relaxed);
                return Err(error);
            }
            other => return other,
        }
    }
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.socket {
            Socket::Handshake(tcp) => tcp.read(buf).map_err(timeout_is_would_block),
            Socket::Open(tcp) => attempt(self.ready.flag(false), || tcp.read(buf)),
            Socket::Lost => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.socket {
            Socket::Handshake(tcp) => tcp.write(buf).map_err(timeout_is_would_block),
            Socket::Open(tcp) => attempt(self.ready.flag(true), || tcp.write(buf)),
            Socket::Lost => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A socket timeout is `WouldBlock` on Unix but `TimedOut` on Windows; tungstenite retries
/// only the former.
fn timeout_is_would_block(error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::TimedOut {
        io::ErrorKind::WouldBlock.into()
    } else {
        error
    }
}
