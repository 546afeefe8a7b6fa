//! The bounded channel every adapter carries commands and events on, async or blocking.
//!
//! Written here rather than taken from a crate because of what a client costs when it is one
//! of ten thousand idle ones, and per message when it is busy:
//!
//! - nothing is allocated up front: the queue is a `VecDeque` that grows only as far as it is
//!   used and then reuses its storage (tokio's `mpsc` allocates a block of 32 slots per
//!   channel, `async-channel` and std's `sync_channel` all `capacity` slots, ~14 KiB for 256
//!   commands);
//! - nothing is allocated per message, nor per wait (the futures `mpsc` allocates a node per
//!   message, `async-channel` a listener per wait).
//!
//! One mutex guards the queue and the wakers; it is held for a push or a pop, never across a
//! wait. Senders waiting for room are all woken when room appears and race for it: sends
//! from one task stay in order, sends from concurrent tasks have no order anyway.
//!
//! Async callers wait through [`Context`]s; blocking callers use the `*_blocking` methods,
//! which poll the same way with a waker that unparks their thread (one per thread, made on
//! its first wait, so waiting allocates nothing after that).

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::pin::pin;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

/// Why a value was handed back without waiting.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused<T> {
    /// No room now.
    Full(T),
    /// The receiver closed the channel or is gone.
    Closed(T),
}

/// Tasks waiting for something, each under the id its future keeps.
#[derive(Default)]
struct Waiters(Vec<(u64, Waker)>);

impl Waiters {
    /// Registers (or updates) the waiter `slot`, giving it an id from `next` the first time.
    fn register(&mut self, slot: &mut Option<u64>, next: &mut u64, waker: &Waker) {
        let id = *slot.get_or_insert_with(|| {
            *next += 1;
            *next
        });
        match self.0.iter_mut().find(|(other, _)| *other == id) {
            Some((_, known)) => known.clone_from(waker),
            None => self.0.push((id, waker.clone())),
        }
    }

    fn remove(&mut self, slot: Option<u64>) {
        if let Some(id) = slot {
            self.0.retain(|(other, _)| *other != id);
        }
    }

    /// Wakes every waiter; each registers again if it still has to wait. Keeps the storage.
    fn wake_all(&mut self) {
        for (_, waker) in self.0.drain(..) {
            waker.wake();
        }
    }
}

struct State<T> {
    queue: VecDeque<T>,
    capacity: usize,
    /// Live senders; the receiver sees the end once none is left and the queue is empty.
    senders: usize,
    /// The receiver closed the channel or is gone: sends fail.
    closed: bool,
    receiver: Option<Waker>,
    /// Senders waiting for room.
    room: Waiters,
    /// Senders waiting for the receiver to close the channel or go.
    closing: Waiters,
    next_waiter: u64,
}

type Shared<T> = Arc<Mutex<State<T>>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, State<T>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A bounded channel holding at most `capacity` values (at least 1).
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        queue: VecDeque::new(),
        capacity: capacity.max(1),
        senders: 1,
        closed: false,
        receiver: None,
        room: Waiters::default(),
        closing: Waiters::default(),
        next_waiter: 0,
    }));
    let sender = Sender {
        shared: Arc::clone(&shared),
        attached: true,
    };
    (sender, Receiver { shared })
}

/// A sending end; clones send into the same channel.
pub struct Sender<T> {
    shared: Shared<T>,
    /// Counted in `senders` (until [`detach`](Self::detach)).
    attached: bool,
}

impl<T> Sender<T> {
    /// Queues `value` if there is room, without waiting.
    pub fn try_send(&self, value: T) -> Result<(), Refused<T>> {
        let mut state = lock(&self.shared);
        if state.closed {
            return Err(Refused::Closed(value));
        }
        if state.queue.len() >= state.capacity {
            return Err(Refused::Full(value));
        }
        state.queue.push_back(value);
        let receiver = state.receiver.take();
        drop(state);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
        Ok(())
    }

    /// Queues `value`, waiting for room; hands it back if the channel is closed.
    pub async fn send(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        let mut waiter = Waiter::new(&self.shared);
        poll_fn(|cx| {
            let Some(taken) = value.take() else {
                return Poll::Pending;
            };
            match self.try_send(taken) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(Refused::Closed(taken)) => Poll::Ready(Err(taken)),
                Err(Refused::Full(taken)) => {
                    value = Some(taken);
                    if self.poll_room(cx, &mut waiter.room).is_ready() {
                        // Room (or the end) came between the two locks: try again at once.
                        cx.waker().wake_by_ref();
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Like [`send`](Self::send), blocking this thread while the channel is full.
    pub fn send_blocking(&self, value: T) -> Result<(), T> {
        let mut send = pin!(self.send(value));
        park(|cx| send.as_mut().poll(cx))
    }

    /// `Ready(Ok)` while the channel has room, `Ready(Err)` once it is closed; otherwise
    /// registers `cx` (under `slot`) to be woken when room appears.
    pub(crate) fn poll_room(
        &self,
        cx: &Context<'_>,
        slot: &mut Option<u64>,
    ) -> Poll<Result<(), ()>> {
        let mut state = lock(&self.shared);
        if state.closed {
            return Poll::Ready(Err(()));
        }
        if state.queue.len() < state.capacity {
            state.room.remove(slot.take());
            return Poll::Ready(Ok(()));
        }
        let State {
            room, next_waiter, ..
        } = &mut *state;
        room.register(slot, next_waiter, cx.waker());
        Poll::Pending
    }

    /// `Ready` once the receiver closed the channel or is gone; otherwise registers `cx`
    /// (under `slot`) to be woken then.
    pub(crate) fn poll_closed(&self, cx: &Context<'_>, slot: &mut Option<u64>) -> Poll<()> {
        let mut state = lock(&self.shared);
        if state.closed {
            return Poll::Ready(());
        }
        let State {
            closing,
            next_waiter,
            ..
        } = &mut *state;
        closing.register(slot, next_waiter, cx.waker());
        Poll::Pending
    }

    /// Waits until the receiver closed the channel or is gone.
    pub async fn closed(&self) {
        let mut waiter = Waiter::new(&self.shared);
        poll_fn(|cx| self.poll_closed(cx, &mut waiter.closing)).await;
    }

    /// Forgets `slot`'s registrations (its future is gone).
    pub(crate) fn forget(&self, room: Option<u64>, closing: Option<u64>) {
        forget(&self.shared, room, closing);
    }

    /// This sender sends no more: once every sender is detached or dropped, the receiver
    /// sees the end after the values still queued.
    pub(crate) fn detach(&mut self) {
        if !std::mem::replace(&mut self.attached, false) {
            return;
        }
        let mut state = lock(&self.shared);
        state.senders -= 1;
        let receiver = if state.senders == 0 {
            state.receiver.take()
        } else {
            None
        };
        drop(state);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        let mut state = lock(&self.shared);
        state.senders += 1;
        drop(state);
        Sender {
            shared: Arc::clone(&self.shared),
            attached: true,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.detach();
    }
}

fn forget<T>(shared: &Shared<T>, room: Option<u64>, closing: Option<u64>) {
    if room.is_none() && closing.is_none() {
        return;
    }
    let mut state = lock(shared);
    state.room.remove(room);
    state.closing.remove(closing);
}

/// The registrations of one waiting future, removed when it is dropped (a send abandoned
/// mid-wait leaves no waker behind).
struct Waiter<'a, T> {
    shared: &'a Shared<T>,
    room: Option<u64>,
    closing: Option<u64>,
}

impl<'a, T> Waiter<'a, T> {
    fn new(shared: &'a Shared<T>) -> Self {
        Waiter {
            shared,
            room: None,
            closing: None,
        }
    }
}

impl<T> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        forget(self.shared, self.room, self.closing);
    }
}

/// The receiving end.
pub struct Receiver<T> {
    shared: Shared<T>,
}

impl<T> Receiver<T> {
    /// The next value; `Ready(None)` once the channel is closed or every sender is gone, and
    /// nothing is left.
    pub fn poll_recv(&self, cx: &Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.shared);
        if let Some(value) = state.queue.pop_front() {
            state.room.wake_all();
            return Poll::Ready(Some(value));
        }
        if state.closed || state.senders == 0 {
            return Poll::Ready(None);
        }
        match &mut state.receiver {
            Some(known) => known.clone_from(cx.waker()),
            None => state.receiver = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next value, blocking this thread until there is one; `None` once the channel is
    /// closed or every sender is gone, and nothing is left.
    pub fn recv_blocking(&self) -> Option<T> {
        park(|cx| self.poll_recv(cx))
    }

    /// Like [`recv_blocking`](Self::recv_blocking), giving up at `deadline`.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        park_until(deadline, |cx| self.poll_recv(cx))
            .ok_or(RecvTimeoutError::Timeout)?
            .ok_or(RecvTimeoutError::Disconnected)
    }

    /// A value already queued, without waiting.
    pub fn try_recv(&self) -> Option<T> {
        let mut state = lock(&self.shared);
        let value = state.queue.pop_front();
        if value.is_some() {
            state.room.wake_all();
        }
        value
    }

    /// Values queued now.
    pub fn len(&self) -> usize {
        lock(&self.shared).queue.len()
    }

    /// Whether nothing is queued now.
    pub fn is_empty(&self) -> bool {
        lock(&self.shared).queue.is_empty()
    }

    /// Whether the receiver will see no more values once the queue is empty.
    pub fn is_terminated(&self) -> bool {
        let state = lock(&self.shared);
        state.queue.is_empty() && (state.closed || state.senders == 0)
    }

    /// Refuses every later send; what is queued can still be received.
    pub fn close(&self) {
        let mut state = lock(&self.shared);
        state.closed = true;
        state.room.wake_all();
        state.closing.wake_all();
    }
}

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
    static UNPARK: Waker = Waker::from(Arc::new(Unpark(thread::current())));
}

/// Polls `poll` until it is ready, parking the thread in between. A wake-up that finds
/// nothing ready (a stale waker, a spurious unpark) only costs another poll.
fn park<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
    UNPARK.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(value) = poll(&mut cx) {
                return value;
            }
            thread::park();
        }
    })
}

/// Like [`park`], giving up (`None`) once `deadline` has passed.
fn park_until<T>(
    deadline: Instant,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Option<T> {
    UNPARK.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(value) = poll(&mut cx) {
                return Some(value);
            }
            thread::park_timeout(deadline.checked_duration_since(Instant::now())?);
        }
    })
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared);
        f.debug_struct("Receiver")
            .field("queued", &state.queue.len())
            .field("capacity", &state.capacity)
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.closed = true;
        let queued = std::mem::take(&mut state.queue);
        state.room.wake_all();
        state.closing.wake_all();
        drop(state);
        drop(queued);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn context(count: &Arc<Count>) -> Waker {
        Waker::from(Arc::clone(count))
    }

    #[test]
    fn values_arrive_in_order_and_the_end_follows_the_last_sender() {
        let (sender, receiver) = bounded(2);
        let other = sender.clone();
        assert!(sender.try_send(1).is_ok());
        assert!(other.try_send(2).is_ok());
        assert!(matches!(sender.try_send(3), Err(Refused::Full(3))));
        let waker = Waker::noop();
        let cx = Context::from_waker(waker);
        assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(1)));
        drop(sender);
        assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(2)));
        assert_eq!(receiver.poll_recv(&cx), Poll::Pending);
        drop(other);
        assert_eq!(receiver.poll_recv(&cx), Poll::Ready(None));
    }

    #[test]
    fn a_waiting_send_is_woken_by_room_and_an_abandoned_one_leaves_nothing() {
        let (sender, receiver) = bounded(1);
        sender.try_send(1).ok().unwrap();
        let count = Arc::new(Count::default());
        let waker = context(&count);
        let mut cx = Context::from_waker(&waker);
        {
            let mut send = pin!(sender.send(2));
            assert!(send.as_mut().poll(&mut cx).is_pending());
            assert!(send.as_mut().poll(&mut cx).is_pending());
            assert_eq!(lock(&sender.shared).room.0.len(), 1, "registered once");
            assert_eq!(receiver.try_recv(), Some(1));
            assert_eq!(count.0.load(Ordering::Relaxed), 1);
            assert!(send.as_mut().poll(&mut cx).is_ready());
        }
        {
            let mut send = pin!(sender.send(3));
            assert!(send.as_mut().poll(&mut cx).is_pending());
        }
        assert!(lock(&sender.shared).room.0.is_empty());
        assert_eq!(receiver.try_recv(), Some(2));
    }

    #[test]
    fn closing_refuses_sends_keeps_what_is_queued_and_wakes_closed() {
        let (sender, receiver) = bounded(4);
        sender.try_send(1).ok().unwrap();
        let count = Arc::new(Count::default());
        let waker = context(&count);
        let mut cx = Context::from_waker(&waker);
        let mut closed = pin!(sender.closed());
        assert!(closed.as_mut().poll(&mut cx).is_pending());
        receiver.close();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(closed.as_mut().poll(&mut cx).is_ready());
        assert!(matches!(sender.try_send(2), Err(Refused::Closed(2))));
        assert_eq!(receiver.try_recv(), Some(1));
        assert_eq!(receiver.poll_recv(&cx), Poll::Ready(None));
    }

    #[test]
    fn a_blocking_receive_ends_with_a_value_from_another_thread_or_at_its_deadline() {
        let (sender, receiver) = bounded(1);
        let thread = std::thread::spawn(move || sender.send_blocking(7));
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        assert_eq!(receiver.recv_deadline(deadline), Ok(7));
        assert_eq!(thread.join().unwrap(), Ok(()));
        assert_eq!(receiver.recv_blocking(), None, "the sender is gone");

        let (_sender, receiver) = bounded::<u8>(1);
        let deadline = Instant::now() + std::time::Duration::from_millis(20);
        assert_eq!(
            receiver.recv_deadline(deadline),
            Err(RecvTimeoutError::Timeout)
        );
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn concurrent_senders_deliver_everything_once_in_each_senders_order_within_capacity() {
        const SENDERS: u32 = 4;
        const EACH: u32 = 20_000;
        const CAPACITY: usize = 8;
        let (sender, receiver) = bounded::<(u32, u32)>(CAPACITY);
        let threads: Vec<_> = (0..SENDERS)
            .map(|id| {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for n in 0..EACH {
                        if n % 2 == 0 {
                            sender.send_blocking((id, n)).unwrap();
                        } else {
                            let mut value = (id, n);
                            loop {
                                match sender.try_send(value) {
                                    Ok(()) => break,
                                    Err(Refused::Full(back)) => {
                                        value = back;
                                        std::thread::yield_now();
                                    }
                                    Err(Refused::Closed(_)) => panic!("closed early"),
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        drop(sender);
        let mut next = vec![0; SENDERS as usize];
        let received = park(|cx| {
            loop {
                assert!(lock(&receiver.shared).queue.len() <= CAPACITY);
                match receiver.poll_recv(cx) {
                    Poll::Ready(Some((id, n))) => {
                        assert_eq!(n, next[id as usize], "sender {id} out of order");
                        next[id as usize] += 1;
                    }
                    Poll::Ready(None) => return Poll::Ready(next.iter().sum::<u32>()),
                    Poll::Pending => return Poll::Pending,
                }
            }
        });
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(received, SENDERS * EACH);
        assert!(
            lock(&receiver.shared).room.0.is_empty(),
            "no waiter left behind"
        );
    }
}
