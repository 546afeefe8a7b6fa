//! Where the I/O thread sleeps: one `epoll`/`kqueue` wait (through mio) on the open socket,
//! the doorbell and the supervisor's next deadline at once.
//!
//! std cannot wait on a socket and a channel together; without a poller the socket needs a
//! reader thread of its own and a thread hop for every chunk read. mio is the poller under
//! tokio, with a safe API for exactly this: a registered socket and a [`mio::Waker`].

use std::io;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::link::Link;
use crate::shared::{Gone, Shared};

const BELL: Token = Token(0);
const SOCKET: Token = Token(1);

/// The I/O thread's wait.
pub(crate) struct Poller {
    poll: Poll,
    events: Events,
}

/// What a wait found.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Woken {
    /// Which handles the application has dropped so far.
    pub(crate) gone: Gone,
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
        Ok((Poller { poll, events }, waker))
    }

    /// Switches `link` to open mode and watches it.
    pub(crate) fn watch(&self, link: &mut Link) -> io::Result<()> {
        let socket = link.open()?;
        self.poll
            .registry()
            .register(socket, SOCKET, Interest::READABLE | Interest::WRITABLE)
    }

    /// Stops watching `link` before it is dropped.
    pub(crate) fn forget(&self, link: &mut Link) {
        if let Some(socket) = link.polled() {
            // Closing the socket would unregister it too; this only makes it explicit.
            let _ = self.poll.registry().deregister(socket);
        }
    }

    /// Waits until a ring, news from the socket or `deadline` (none: no time limit). It does
    /// not block when a ring is pending, when `deadline` has passed, or when `busy` (then it
    /// only collects what is already there).
    pub(crate) fn wait(&mut self, shared: &Shared, deadline: Option<Instant>, busy: bool) -> Woken {
        let rung = shared.fall_asleep();
        let timeout = if rung || busy {
            Some(Duration::ZERO)
        } else {
            deadline.map(|at| at.saturating_duration_since(Instant::now()))
        };
        // An interrupted wait is an early wake-up: the caller looks at everything anyway. Any
        // other failure (none is expected for a valid poller) is the same, and the timeout
        // bounds how often it can recur.
        let _ = self.poll.poll(&mut self.events, timeout);
        let mut woken = Woken {
            gone: shared.wake_up(),
            ..Woken::default()
        };
        for event in self.events.iter().filter(|event| event.token() == SOCKET) {
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
    use crate::shared::Published;
    use ws_client::Status;

    fn setup() -> (Poller, Shared) {
        let (poller, waker) = Poller::new().unwrap();
        let shared = Shared::new(
            Published {
                status: Status {
                    state: ws_core::State::Connecting,
                    stats: ws_core::Stats::default(),
                },
                stopped: false,
            },
            waker,
        );
        (poller, shared)
    }

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn a_ring_before_the_wait_is_not_lost_and_many_rings_wake_once() {
        let (mut poller, shared) = setup();
        shared.ring();
        shared.ring();
        let started = Instant::now();
        let _ = poller.wait(&shared, Some(started + LONG), false);
        assert!(started.elapsed() < LONG / 2);
        let deadline = Instant::now() + Duration::from_millis(20);
        let _ = poller.wait(&shared, Some(deadline), false);
        assert!(Instant::now() >= deadline, "the two rings woke it twice");
    }

    #[test]
    fn a_ring_wakes_a_sleeper_and_the_handles_let_go_are_reported() {
        let (mut poller, shared) = setup();
        let shared = std::sync::Arc::new(shared);
        let ringer = std::sync::Arc::clone(&shared);
        let thread = std::thread::spawn(move || ringer.let_go(true));
        let started = Instant::now();
        let mut woken = poller.wait(&shared, None, false);
        // A ring between the thread's start and the wait is pending, not lost: at most two
        // waits see it.
        if !woken.gone.events {
            woken = poller.wait(&shared, None, false);
        }
        thread.join().unwrap();
        assert!(started.elapsed() < LONG);
        assert_eq!(
            woken.gone,
            Gone {
                events: true,
                clients: false
            }
        );
    }

    #[test]
    fn taking_an_event_rings_only_when_room_was_wanted() {
        let (mut poller, shared) = setup();
        shared.event_taken();
        let deadline = Instant::now() + Duration::from_millis(20);
        let _ = poller.wait(&shared, Some(deadline), false);
        assert!(
            Instant::now() >= deadline,
            "woken without a request for room"
        );
        shared.want_room();
        shared.event_taken();
        let started = Instant::now();
        let _ = poller.wait(&shared, Some(started + LONG), false);
        assert!(started.elapsed() < LONG / 2);
    }

    #[test]
    fn busy_waits_do_not_block() {
        let (mut poller, shared) = setup();
        let started = Instant::now();
        let woken = poller.wait(&shared, None, true);
        assert!(started.elapsed() < LONG / 2);
        assert_eq!(woken, Woken::default());
    }

    #[test]
    fn a_watched_socket_reports_bytes_and_room() {
        use std::io::{Read, Write};
        let (mut poller, shared) = setup();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        let mut link = Link::new(tcp, Duration::from_millis(50)).unwrap();
        poller.watch(&mut link).unwrap();
        // A fresh connection has room to write.
        let woken = poller.wait(&shared, Some(Instant::now() + LONG), false);
        assert!(woken.writable);
        let mut buffer = [0; 8];
        let empty = link.read(&mut buffer).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        peer.write_all(b"hi").unwrap();
        let deadline = Instant::now() + LONG;
        let mut woken = Woken::default();
        while !woken.readable && Instant::now() < deadline {
            woken = poller.wait(&shared, Some(deadline), false);
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
