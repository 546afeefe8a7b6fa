//! Blocking the application's thread on the client's futures.
//!
//! The handles of ws-blocking are ws-client's async handles driven to completion here: the
//! future registers this thread's waker where it waits (a full command channel, an empty
//! event channel), and whoever makes progress possible wakes it. The waker is made once per
//! thread, so a wait allocates nothing.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    static WAKER: Waker = Waker::from(Arc::new(Unpark(thread::current())));
}

/// Runs `future` to completion on this thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    WAKER.with(|waker| {
        let mut context = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
            // A spurious wake-up only costs one more poll.
            thread::park();
        }
    })
}

/// Runs `future` on this thread until it completes or `deadline` passes (`None`).
pub(crate) fn block_until<F: Future>(future: F, deadline: Instant) -> Option<F::Output> {
    let mut future = pin!(future);
    WAKER.with(|waker| {
        let mut context = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return Some(output);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            thread::park_timeout(left);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_future_woken_from_another_thread_completes() {
        let (sender, receiver) = std::sync::mpsc::channel::<Waker>();
        let mut ready = false;
        let helper = thread::spawn(move || receiver.recv().unwrap().wake());
        let value = block_on(std::future::poll_fn(|cx| {
            if ready {
                Poll::Ready(7)
            } else {
                ready = true;
                sender.send(cx.waker().clone()).unwrap();
                Poll::Pending
            }
        }));
        helper.join().unwrap();
        assert_eq!(value, 7);
    }

    #[test]
    fn a_future_that_never_completes_times_out_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(30);
        let outcome = block_until(std::future::pending::<()>(), deadline);
        assert_eq!(outcome, None);
        assert!(Instant::now() >= deadline);
    }
}
