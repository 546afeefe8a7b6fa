//! What the driver publishes for the application's handles to read without asking it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use ws_core::{State, Stats};

use crate::session::Session;

/// The lifecycle state and the counters, published by the driver after every pass of its
/// loop so that a handle's `state()` and `stats()` answer at once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Status {
    pub(crate) state: State,
    pub(crate) stats: Stats,
}

impl Status {
    pub(crate) fn of(session: &Session) -> Self {
        Status {
            state: session.state(),
            stats: session.stats(),
        }
    }
}

/// The status cell shared by the driver and every handle, with the tasks watching the state.
#[derive(Clone)]
pub(crate) struct SharedStatus(Arc<Mutex<Published>>);

pub(crate) struct Published {
    pub(crate) status: Status,
    /// Bumped on every change of `status.state` (not of the counters).
    pub(crate) state_version: u64,
    /// The driver has finished: the state will not change again.
    pub(crate) finished: bool,
    /// Tasks waiting for the next state change.
    pub(crate) watchers: Vec<Waker>,
}

impl SharedStatus {
    pub(crate) fn new(status: Status) -> Self {
        SharedStatus(Arc::new(Mutex::new(Published {
            status,
            state_version: 0,
            finished: false,
            watchers: Vec::new(),
        })))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Published> {
        // A panicking application thread must not take the connection down with it.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The status as of the driver's last pass.
    pub(crate) fn get(&self) -> Status {
        self.lock().status
    }

    /// Publishes `status`; wakes the state's watchers (after the lock is released) when the
    /// state changed.
    pub(crate) fn set(&self, status: Status) {
        let mut published = self.lock();
        let changed = published.status.state != status.state;
        published.status = status;
        if changed {
            published.state_version += 1;
            let watchers = std::mem::take(&mut published.watchers);
            drop(published);
            wake_all(watchers);
        }
    }

    /// The driver has finished: watchers see the final state, then the end.
    pub(crate) fn finish(&self) {
        let mut published = self.lock();
        published.finished = true;
        let watchers = std::mem::take(&mut published.watchers);
        drop(published);
        wake_all(watchers);
    }
}

/// The driver's end of the status cell. The driver publishes after every pass of its loop,
/// and most passes change nothing (a wake-up that found no work, the pass that only flushes):
/// the session's generation tells so without a lock, or building and comparing the counters.
pub(crate) struct StatusPublisher {
    shared: SharedStatus,
    /// The session's generation when it was last published (`None`: never).
    generation: Option<u64>,
}

impl StatusPublisher {
    /// The publisher of `shared`.
    pub(crate) fn new(shared: SharedStatus) -> Self {
        StatusPublisher {
            shared,
            generation: None,
        }
    }

    /// Publishes the session's status, unless nothing changed since it was last published.
    pub(crate) fn publish(&mut self, session: &Session) {
        let generation = Some(session.generation());
        if generation != self.generation {
            self.generation = generation;
            self.shared.set(Status::of(session));
        }
    }

    /// The driver has finished (see [`SharedStatus::finish`]).
    pub(crate) fn finish(&self) {
        self.shared.finish();
    }
}

fn wake_all(watchers: Vec<Waker>) {
    for watcher in watchers {
        watcher.wake();
    }
}
