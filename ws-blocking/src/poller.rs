//! Where the I/O thread sleeps: one `epoll`/`kqueue` wait (through mio) on the open socket,
//! the doorbell and the supervisor's next deadline at once.
//!
//! std cannot wait on a socket and a channel together; without a poller the socket needs a
//! reader thread of its own and a thread hop for every chunk read. mio is the poller under
//! tokio, with a safe API for exactly this: a registered socket and a [`mio::Waker`].

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::bell::Bell;
use crate::link::{Link, Readiness};

const BELL: Token = Token(0);
const SOCKET: Token = Token(1);

/// The I/O thread's wait. Shared with the connect attempts, which register the socket they
/// open; every use is on the I/O thread, so the lock is never contended.
pub(crate) struct Poller(Mutex<Waiting>);

struct Waiting {
    poll: Poll,
    events: Events,
}

/// What a wait found.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Woken {
    /// The socket has news for a read (bytes, the end of the stream, or an error).
    pub(crate) readable: bool,
    /// The socket has room for a write (or is closed or failed).
    pub(crate) writable: bool,
}

impl Poller {
    /// A poller and the waker that rings it.
    pub(crate) fn new() -> io::Result<(Poller, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), BELL)?;
        // The bell and one socket: a wait reports at most two events.
        let events = Events::with_capacity(2);
        Ok((Poller(Mutex::new(Waiting { poll, events })), waker))
    }

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Switches `link` to open mode and watches it; what the waits find goes to `ready`.
    pub(crate) fn watch(&self, link: &mut Link, ready: Arc<Readiness>) -> io::Result<()> {
        let socket = link.open(ready)?;
        self.lock().poll.registry().register(
            socket,
            SOCKET,
            Interest::READABLE | Interest::WRITABLE,
        )
    }

    /// Stops watching `link` before it is dropped.
    pub(crate) fn forget(&self, link: &mut Link) {
        if let Some(socket) = link.polled() {
            // Closing the socket would unregister it too; this only makes it explicit.
            let _ = self.lock().poll.registry().deregister(socket);
        }
    }

    /// Waits until a ring, news from the socket or `deadline` (none: no time limit). It does
    /// not block when a ring is pending or `deadline` has passed.
    pub(crate) fn wait(&self, bell: &Bell, deadline: Option<Instant>) -> Woken {
        let rung = bell.fall_asleep();
        let timeout = if rung {
            Some(Duration::ZERO)
        } else {
            deadline.map(|at| at.saturating_duration_since(Instant::now()))
        };
        let mut waiting = self.lock();
        let Waiting { poll, events } = &mut *waiting;
        // An interrupted wait is an early wake-up: the caller looks at everything anyway. Any
        // other failure (none is expected for a valid poller) is the same, and the timeout
        // bounds how often it can recur.
        let _ = poll.poll(events, timeout);
        bell.wake_up();
        let mut woken = Woken::default();
        for event in events.iter().filter(|event| event.token() == SOCKET) {
            let failed = event.is_error();
            woken.readable |= event.is_readable() || event.is_read_closed() || failed;
            woken.writable |= event.is_writable() || event.is_write_closed() || failed;
        }
        woken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Poller, Arc<Bell>) {
        let (poller, waker) = Poller::new().unwrap();
        (poller, Arc::new(Bell::new(waker)))
    }

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn a_ring_before_the_wait_is_not_lost_and_many_rings_wake_once() {
        let (poller, bell) = setup();
        bell.ring();
        bell.ring();
        let started = Instant::now();
        let _ = poller.wait(&bell, Some(started + LONG));
        assert!(started.elapsed() < LONG / 2);
        let deadline = Instant::now() + Duration::from_millis(20);
        let _ = poller.wait(&bell, Some(deadline));
        assert!(Instant::now() >= deadline, "the two rings woke it twice");
    }

    #[test]
    fn a_ring_from_another_thread_wakes_a_sleeper() {
        let (poller, bell) = setup();
        let ringer = Arc::clone(&bell);
        let started = Instant::now();
        let thread = std::thread::spawn(move || ringer.ring());
        let _ = poller.wait(&bell, Some(started + LONG));
        thread.join().unwrap();
        assert!(started.elapsed() < LONG / 2, "the ring was lost");
    }

    #[test]
    fn a_waker_made_from_the_bell_rings_it() {
        let (poller, bell) = setup();
        let waker = std::task::Waker::from(Arc::clone(&bell));
        waker.wake_by_ref();
        let started = Instant::now();
        let _ = poller.wait(&bell, Some(started + LONG));
        assert!(started.elapsed() < LONG / 2);
    }

    #[test]
    fn a_watched_socket_reports_bytes_and_room() {
        use std::io::{Read, Write};
        let (poller, bell) = setup();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        let mut link = Link::new(tcp, Duration::from_millis(50)).unwrap();
        poller.watch(&mut link, Arc::new(Readiness::new())).unwrap();
        // A fresh connection has room to write.
        let woken = poller.wait(&bell, Some(Instant::now() + LONG));
        assert!(woken.writable);
        let mut buffer = [0; 8];
        let empty = link.read(&mut buffer).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        peer.write_all(b"hi").unwrap();
        let deadline = Instant::now() + LONG;
        let mut woken = Woken::default();
        while !woken.readable && Instant::now() < deadline {
            woken = poller.wait(&bell, Some(deadline));
        }
        assert!(woken.readable, "no readiness for the peer's bytes");
        assert_eq!(link.read(&mut buffer).unwrap(), 2);
        assert_eq!(&buffer[..2], b"hi");
        poller.forget(&mut link);
        drop(link);
        let mut rest = Vec::new();
        peer.set_read_timeout(Some(LONG)).unwrap();
        assert_eq!(peer.read_to_end(&mut rest).unwrap(), 0);
    }
}
