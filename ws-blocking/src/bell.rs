//! The I/O thread's doorbell: how anyone with news for it wakes it up.
//!
//! The I/O thread sleeps in its [`Poller`](crate::poller::Poller), with the supervisor's next
//! deadline as the timeout. Whoever has news for it (a handle that sent a command or took an
//! event, through the channel's waker; a connect attempt that finished) rings. A ring is
//! remembered until the I/O thread next looks, so none is lost between its last look and its
//! sleep, and many rings while it is busy cost one wake-up. Ringing a thread that is not
//! asleep costs a lock and no system call.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Wake;

/// Shared by the I/O thread, its connect attempts and every waker the driver hands out.
#[derive(Debug)]
pub(crate) struct Bell {
    state: Mutex<Rings>,
    /// Wakes the poller the I/O thread sleeps in.
    waker: mio::Waker,
}

#[derive(Debug, Default)]
struct Rings {
    /// Someone rang since the I/O thread last looked.
    rung: bool,
    /// The I/O thread is asleep (or about to be): only then is a notification needed.
    asleep: bool,
}

impl Bell {
    pub(crate) fn new(waker: mio::Waker) -> Self {
        Bell {
            state: Mutex::new(Rings::default()),
            waker,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Rings> {
        // A panicking application thread must not take the connection down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the I/O thread (or makes its next sleep return at once).
    pub(crate) fn ring(&self) {
        let mut rings = self.lock();
        rings.rung = true;
        if rings.asleep {
            rings.asleep = false;
            drop(rings);
            // It fails only when the kernel cannot count further wake-ups, and then one is
            // pending anyway.
            let _ = self.waker.wake();
        }
    }

    /// The I/O thread is about to wait in its poller: from now on a ring must wake it.
    /// Returns whether a ring is already pending (then the wait must not block).
    pub(crate) fn fall_asleep(&self) -> bool {
        let mut rings = self.lock();
        rings.asleep = !rings.rung;
        rings.rung
    }

    /// The I/O thread is back from its poller and will look at everything: the rings so far
    /// are answered.
    pub(crate) fn wake_up(&self) {
        let mut rings = self.lock();
        rings.asleep = false;
        rings.rung = false;
    }
}

/// The driver's waker on the I/O thread is the bell: the channels and the connect attempts
/// wake the one task there by ringing.
impl Wake for Bell {
    fn wake(self: Arc<Self>) {
        self.ring();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ring();
    }
}
