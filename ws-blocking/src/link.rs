//! The byte stream under tungstenite (and rustls): writes go straight to the socket, reads
//! come from a reader thread once the connection is open.
//!
//! std has no way to wait on a socket and a channel at once without `poll(2)` (unsafe, or a
//! dependency such as mio). So the roles are split: a reader thread blocks in `read` on a
//! clone of the socket and hands each chunk of bytes to the I/O thread through a small bounded
//! channel, then rings its doorbell. The I/O thread alone owns the TLS and WebSocket state; it
//! reads the chunks without blocking (an empty channel is `WouldBlock`) and writes to the
//! socket itself, so a send costs one thread hop, not two.
//!
//! Writes block for at most [`WRITE_WAIT`]: when the peer stops reading and the kernel's send
//! buffer is full, a write returns `WouldBlock` after that long, tungstenite keeps the rest,
//! and the I/O thread gets back to its timers. Later writes fail at once until the I/O thread
//! allows a retry ([`Link::retry_writes`]) at the start of its next pass, so a pass waits at
//! most once: that write *is* the wait for room, and there is no busy loop.
//!
//! During the opening handshake (on the connect thread) there is no reader thread: reads go to
//! the socket directly, with a short timeout so the thread notices when its attempt is
//! abandoned.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use ws_transport::rustls::{ClientConnection, StreamOwned};

use crate::shared::Shared;

/// Longest a write may block on a socket whose send buffer is full. It bounds how late a timer
/// can fire while the peer does not read.
pub(crate) const WRITE_WAIT: Duration = Duration::from_millis(10);

/// Chunks read ahead of the I/O thread. With the read buffer size as the chunk size, this
/// bounds what sits outside the kernel's buffer when the application stops reading events;
/// after that the reader blocks and TCP slows the peer down.
const CHUNKS_AHEAD: usize = 4;

/// A connection's bytes, plain or inside TLS.
pub(crate) enum Stream {
    /// `ws://`.
    Plain(Link),
    /// `wss://`.
    Tls(Box<StreamOwned<ClientConnection, Link>>),
}

impl Stream {
    pub(crate) fn link_mut(&mut self) -> &mut Link {
        match self {
            Stream::Plain(link) => link,
            Stream::Tls(tls) => &mut tls.sock,
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

/// One TCP connection.
pub(crate) struct Link {
    tcp: TcpStream,
    /// `None` during the handshake: reads go to the socket.
    reader: Option<Reader>,
    /// A write timed out: the socket does not take writes until further notice.
    held: bool,
}

/// The reader thread and what it has read.
struct Reader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    taken: usize,
    thread: JoinHandle<()>,
}

impl Link {
    /// A connection in handshake mode: blocking reads and writes, each bounded by `patience`.
    pub(crate) fn new(tcp: TcpStream, patience: Duration) -> io::Result<Self> {
        tcp.set_read_timeout(Some(patience))?;
        tcp.set_write_timeout(Some(patience))?;
        Ok(Link {
            tcp,
            reader: None,
            held: false,
        })
    }

    /// Switches to open-connection mode: a reader thread takes over reading (chunks of
    /// `chunk_size` bytes, announced on `shared`), writes block at most [`WRITE_WAIT`].
    pub(crate) fn start_reader(
        &mut self,
        shared: Arc<Shared>,
        chunk_size: usize,
    ) -> io::Result<()> {
        let tcp = self.tcp.try_clone()?;
        // Socket options belong to the socket, so these apply to both handles.
        tcp.set_read_timeout(None)?;
        tcp.set_write_timeout(Some(WRITE_WAIT))?;
        let (sender, chunks) = mpsc::sync_channel(CHUNKS_AHEAD);
        let thread = std::thread::Builder::new()
            .name("ws-blocking-read".to_owned())
            .spawn(move || read_loop(tcp, &sender, &shared, chunk_size))?;
        self.reader = Some(Reader {
            chunks,
            chunk: Vec::new(),
            taken: 0,
            thread,
        });
        Ok(())
    }
}

/// Reads until the end of the stream, an error, or the I/O thread letting go.
fn read_loop(
    mut tcp: TcpStream,
    chunks: &SyncSender<io::Result<Vec<u8>>>,
    shared: &Shared,
    chunk_size: usize,
) {
    let mut buffer = vec![0; chunk_size];
    loop {
        let chunk = match tcp.read(&mut buffer) {
            Ok(n) => Ok(buffer[..n].to_vec()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => Err(error),
        };
        // An empty chunk is the end of the stream.
        let last = !matches!(&chunk, Ok(bytes) if !bytes.is_empty());
        if chunks.send(chunk).is_err() {
            return;
        }
        shared.ring();
        if last {
            return;
        }
    }
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(reader) = &mut self.reader else {
            return self.tcp.read(buf).map_err(timeout_is_would_block);
        };
        while reader.taken == reader.chunk.len() {
            match reader.chunks.try_recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => return Ok(0),
                Ok(Ok(chunk)) => {
                    reader.chunk = chunk;
                    reader.taken = 0;
                }
                Ok(Err(error)) => return Err(error),
                Err(TryRecvError::Empty) => return Err(io::ErrorKind::WouldBlock.into()),
                Err(TryRecvError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(reader.chunk.len() - reader.taken);
        buf[..n].copy_from_slice(&reader.chunk[reader.taken..reader.taken + n]);
        reader.taken += n;
        Ok(n)
    }
}

impl Link {
    /// Lets the next write wait for room again.
    pub(crate) fn retry_writes(&mut self) {
        self.held = false;
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.held {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let written = self.tcp.write(buf).map_err(timeout_is_would_block);
        // The handshake retries by itself; an open connection waits for the next pass.
        self.held = self.reader.is_some()
            && matches!(&written, Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        written
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

impl Drop for Link {
    /// Ends the reader thread and waits for it: shutting the socket down wakes its blocked
    /// `read`, dropping the channel wakes a blocked hand-over. No thread or socket outlives
    /// the connection.
    fn drop(&mut self) {
        if let Some(Reader { chunks, thread, .. }) = self.reader.take() {
            let _ = self.tcp.shutdown(Shutdown::Both);
            drop(chunks);
            let _ = thread.join();
        }
    }
}
