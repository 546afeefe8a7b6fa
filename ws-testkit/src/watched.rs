//! State shared between background tasks and test threads, with deadline-bounded waiting.
//!
//! Tests must never sleep "long enough": they wait for a condition with a deadline. Every update
//! goes through [`Watched::update`], which wakes all waiters, so a waiter re-checks its predicate
//! exactly when something changed.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A value behind a mutex plus a condition variable signalled on every update.
#[derive(Debug, Default)]
pub(crate) struct Watched<T> {
    value: Mutex<T>,
    changed: Condvar,
}

impl<T> Watched<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            value: Mutex::new(value),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, T> {
        // A panicking test thread must not make the kit unusable for the threads that remain.
        self.value.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the value.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.lock())
    }

    /// Changes the value and wakes every waiter.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let result = f(&mut self.lock());
        self.changed.notify_all();
        result
    }

    /// Blocks until `done` holds or `timeout` elapses; returns whether `done` held.
    pub(crate) fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&T) -> bool) -> bool {
        let guard = self.lock();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |value| !done(value))
            .unwrap_or_else(PoisonError::into_inner);
        done(&guard)
    }
}
