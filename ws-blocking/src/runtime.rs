//! Plain threads, as the one driver needs them: the system clock, a deadline the I/O thread
//! sleeps until, connect attempts on helper threads, and a socket the I/O thread's poller
//! watches. The loop itself is ws-client's; [`io_thread`](crate::io_thread) polls it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Instant;

use ws_client::runtime::{BoxFuture, Connected, Runtime, Timer};
use ws_client::{Attempt, ClientOptions, Error, Stage};

use crate::bell::Bell;
use crate::connect::{self, Opened};
use crate::link::Readiness;
use crate::poller::Poller;
use crate::socket::Socket;

/// What the I/O thread and the runtime share: the wait, its bell, the deadline to wake at,
/// what the wait found about the socket, and the connect threads to join.
pub(crate) struct Io {
    pub(crate) poller: Poller,
    pub(crate) bell: Arc<Bell>,
    pub(crate) readiness: Arc<Readiness>,
    deadline: Mutex<Option<Instant>>,
    helpers: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Io {
    pub(crate) fn new() -> std::io::Result<Self> {
        let (poller, waker) = Poller::new()?;
        Ok(Io {
            poller,
            bell: Arc::new(Bell::new(waker)),
            readiness: Arc::new(Readiness::new()),
            deadline: Mutex::new(None),
            helpers: Mutex::new(Vec::new()),
        })
    }

    /// When the driver's timer wants to be polled again.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        *lock(&self.deadline)
    }

    /// Joins the connect threads that have ended; with `all`, waits for the others too (an
    /// abandoned attempt notices within 50 ms, or once its DNS lookup or TCP connect gives up).
    pub(crate) fn join_helpers(&self, all: bool) {
        let mut helpers = lock(&self.helpers);
        if helpers.is_empty() {
            return;
        }
        let finished: Vec<_> = helpers
            .extract_if(.., |helper| all || helper.is_finished())
            .collect();
        drop(helpers);
        for helper in finished {
            let _ = helper.join();
        }
    }

    fn adopt(&self, helper: JoinHandle<()>) {
        lock(&self.helpers).push(helper);
    }
}

/// Plain threads.
pub(crate) struct Blocking(pub(crate) Arc<Io>);

impl Runtime for Blocking {
    type Socket = Socket;
    type Timer = Deadline;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn timer(&self) -> Deadline {
        Deadline(Arc::clone(&self.0))
    }

    fn connect(
        &self,
        options: Arc<ClientOptions>,
        attempt: Attempt,
    ) -> BoxFuture<Result<Connected<Socket>, Error>> {
        let label = options.label();
        let started = connect::Attempt::start(options, attempt, Arc::clone(&self.0.bell));
        Box::pin(Connecting {
            attempt: Some(started.map_err(|e| Error::Io {
                url: label,
                stage: Stage::Connect,
                source: Arc::new(e),
            })),
            io: Arc::clone(&self.0),
        })
    }

    fn poll_read_ready(socket: &Socket, _cx: &mut Context<'_>) -> Poll<()> {
        // The I/O thread polls the driver again on every readiness the poller reports.
        if socket.may_have_input() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The driver's timer: a deadline the I/O thread sleeps until, then polls the driver.
pub(crate) struct Deadline(Arc<Io>);

impl Timer for Deadline {
    fn set(&mut self, deadline: Option<Instant>) {
        *lock(&self.0.deadline) = deadline;
    }

    fn poll_expired(&mut self, _cx: &mut Context<'_>) -> Poll<()> {
        match *lock(&self.0.deadline) {
            Some(deadline) if Instant::now() >= deadline => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }
}

/// A connect attempt on its helper thread, as a future: ready once the thread reports (it
/// rings the bell, so the I/O thread polls the driver and with it this future). Dropping it
/// abandons the attempt; its thread is joined later.
struct Connecting {
    attempt: Option<Result<connect::Attempt, Error>>,
    io: Arc<Io>,
}

impl Future for Connecting {
    type Output = Result<Connected<Socket>, Error>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcome = match &self.attempt {
            Some(Ok(attempt)) => match attempt.outcome() {
                Some(outcome) => outcome,
                None => return Poll::Pending,
            },
            // The thread could not be started (or the outcome was taken already).
            Some(Err(_)) | None => {
                return Poll::Ready(match self.attempt.take() {
                    Some(Err(error)) => Err(error),
                    _ => Err(Error::Closed),
                });
            }
        };
        if let Some(Ok(attempt)) = self.attempt.take() {
            self.io.adopt(attempt.abandon());
        }
        Poll::Ready(outcome.and_then(|opened| self.open(opened)))
    }
}

impl Connecting {
    /// Hands the opened socket to the I/O thread's poller.
    fn open(&self, mut opened: Opened) -> Result<Connected<Socket>, Error> {
        let link = opened.socket.get_mut().stream.link_mut();
        if let Err(e) = self.io.poller.watch(link, Arc::clone(&self.io.readiness)) {
            return Err(Error::Io {
                url: opened.label,
                stage: Stage::Connect,
                source: Arc::new(e),
            });
        }
        Ok(Connected {
            socket: Socket::new(opened.socket, Arc::clone(&self.io)),
            response: opened.response,
            server: opened.server,
            label: opened.label,
        })
    }
}

impl Drop for Connecting {
    fn drop(&mut self) {
        if let Some(Ok(attempt)) = self.attempt.take() {
            self.io.adopt(attempt.abandon());
        }
    }
}
