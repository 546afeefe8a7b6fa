//! What the I/O thread and everyone who talks to it share: a doorbell that wakes it, and the
//! status it publishes.
//!
//! The I/O thread sleeps in its [`Poller`](crate::poller::Poller), with the supervisor's next
//! deadline as the timeout. Every other thread that has news for it (a send from the
//! application, the result of a connect attempt, room in the event channel) puts its news
//! where the I/O thread looks (a channel) and then rings. A ring is remembered until the I/O
//! thread next looks, so none is lost between its last look and its sleep, and many rings
//! while it is busy cost one wake-up. Ringing a thread that is not asleep costs a lock and no
//! system call.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ws_client::Status;

/// Shared by the I/O thread, its helper threads and the application's handles.
#[derive(Debug)]
pub(crate) struct Shared {
    bell: Mutex<Bell>,
    /// Wakes the poller the I/O thread sleeps in.
    waker: mio::Waker,
    status: Mutex<Published>,
    status_changed: Condvar,
}

#[derive(Debug, Default)]
struct Bell {
    /// Someone rang since the I/O thread last looked.
    rung: bool,
    /// The I/O thread is asleep (or about to be): only then is a notification needed.
    asleep: bool,
    /// The event channel was full: the next event the application takes must ring.
    room_wanted: bool,
    /// What the application let go of.
    gone: Gone,
}

/// Which of its handles the application has dropped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Gone {
    /// The [`Events`](crate::Events): events are discarded from now on.
    pub(crate) events: bool,
    /// Every [`Client`](crate::Client): no command will come any more.
    pub(crate) clients: bool,
}

/// What the handles can read without asking the I/O thread.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Published {
    pub(crate) status: Status,
    /// The I/O thread has finished.
    pub(crate) stopped: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking application thread must not take the connection down with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(status: Published, waker: mio::Waker) -> Self {
        Shared {
            bell: Mutex::new(Bell::default()),
            waker,
            status: Mutex::new(status),
            status_changed: Condvar::new(),
        }
    }

    /// Wakes the I/O thread (or makes its next sleep return at once).
    pub(crate) fn ring(&self) {
        let mut bell = lock(&self.bell);
        bell.rung = true;
        if bell.asleep {
            self.wake();
        }
    }

    /// The application took an event: ring if the I/O thread is waiting for room.
    pub(crate) fn event_taken(&self) {
        let mut bell = lock(&self.bell);
        if bell.room_wanted {
            bell.room_wanted = false;
            bell.rung = true;
            if bell.asleep {
                self.wake();
            }
        }
    }

    /// The I/O thread found the event channel full. It must try once more after this call:
    /// an event taken before it did not ring.
    pub(crate) fn want_room(&self) {
        lock(&self.bell).room_wanted = true;
    }

    /// The application dropped its event receiver (`events`) or its last client.
    pub(crate) fn let_go(&self, events: bool) {
        let mut bell = lock(&self.bell);
        if events {
            bell.gone.events = true;
        } else {
            bell.gone.clients = true;
        }
        bell.rung = true;
        if bell.asleep {
            self.wake();
        }
    }

    /// The I/O thread is about to wait in its poller: from now on a ring must wake it.
    /// Returns whether a ring is already pending (then the wait must not block).
    pub(crate) fn fall_asleep(&self) -> bool {
        let mut bell = lock(&self.bell);
        bell.asleep = !bell.rung;
        bell.rung
    }

    /// The I/O thread is back from its poller: it will look at everything, so the rings so far
    /// are answered. Returns which handles the application has dropped so far.
    pub(crate) fn wake_up(&self) -> Gone {
        let mut bell = lock(&self.bell);
        bell.asleep = false;
        bell.rung = false;
        bell.gone
    }

    fn wake(&self) {
        // It fails only when the kernel cannot count further wake-ups, and then one is pending.
        let _ = self.waker.wake();
    }

    /// The latest published status.
    pub(crate) fn status(&self) -> Published {
        *lock(&self.status)
    }

    /// Publishes `status` if it changed.
    pub(crate) fn publish(&self, status: Published) {
        let mut current = lock(&self.status);
        if *current != status {
            *current = status;
            self.status_changed.notify_all();
        }
    }

    /// Blocks until the I/O thread has finished, or `deadline`; returns whether it has.
    pub(crate) fn wait_stopped(&self, deadline: Option<Instant>) -> bool {
        let mut status = lock(&self.status);
        while !status.stopped {
            status = match deadline {
                None => self
                    .status_changed
                    .wait(status)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    self.status_changed
                        .wait_timeout(status, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        true
    }
}
