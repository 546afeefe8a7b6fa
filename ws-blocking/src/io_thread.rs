//! The I/O thread's loop: it polls the one driver (ws-client's, the same future the async
//! adapters spawn), then sleeps in the poller until the bell rings, the socket has news, or
//! the driver's timer is due — and again, until the driver is done.
//!
//! The driver is the only task here, so it needs no executor: every waker it hands out (to
//! the channels, through which handles send commands and take events) is the bell, and
//! whatever wakes the thread leads to one more poll of the whole driver, which looks at every
//! source anyway.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use ws_client::runtime::Driver;

use crate::runtime::{Blocking, Io};

/// Runs `driver` to completion on this thread, then joins the connect threads it started.
pub(crate) fn run(driver: Driver<Blocking>, io: &Io) {
    let waker = Waker::from(Arc::clone(&io.bell));
    let mut context = Context::from_waker(&waker);
    {
        // The driver owns the socket: it goes (at the end of this block) before the threads
        // are waited for.
        let mut driver = pin!(driver);
        while driver.as_mut().poll(&mut context).is_pending() {
            let woken = io.poller.wait(&io.bell, io.deadline());
            if woken.readable {
                io.readiness.mark_readable();
            }
            if woken.writable {
                io.readiness.mark_writable();
            }
            io.join_helpers(false);
        }
    }
    io.join_helpers(true);
}
