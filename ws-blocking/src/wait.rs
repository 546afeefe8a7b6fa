//! Waiting on the channels' `Context`-based API from a plain thread: poll, and park the
//! thread until the channel's waker unparks it.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

/// Unparks the thread that waits.
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
    /// One waker per thread, made on its first wait: waiting allocates nothing after that.
    static WAKER: Waker = Waker::from(Arc::new(Unpark(thread::current())));
}

/// Polls `poll` until it is ready, parking the thread in between; `None` once `deadline`
/// (if any) has passed. A wake-up that finds nothing ready (a stale waker, a spurious
/// unpark) only costs another poll.
pub(crate) fn until<T>(
    deadline: Option<Instant>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Option<T> {
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(value) = poll(&mut cx) {
                return Some(value);
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    thread::park_timeout(left);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use ws_transport::channel;

    #[test]
    fn a_value_sent_from_another_thread_ends_the_wait() {
        let (sender, receiver) = channel::bounded(1);
        let thread = thread::spawn(move || sender.try_send(7).ok());
        let deadline = Instant::now() + Duration::from_secs(10);
        assert_eq!(
            until(Some(deadline), |cx| receiver.poll_recv(cx)),
            Some(Some(7))
        );
        thread.join().unwrap();
    }

    #[test]
    fn a_passed_deadline_ends_the_wait_with_none() {
        let (_sender, receiver) = channel::bounded::<u8>(1);
        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(until(Some(deadline), |cx| receiver.poll_recv(cx)), None);
        assert!(Instant::now() >= deadline);
    }
}
