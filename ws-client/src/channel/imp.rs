//! The channel itself, written against [`super::sync`]: the crate builds it on std's
//! primitives, and the model tests (`model.rs`) build this same file a second time on loom's.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
#[cfg(test)]
use std::pin::pin;
use std::sync::PoisonError;
#[cfg(test)]
use std::sync::mpsc::RecvTimeoutError;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use super::sync::thread::{self, Thread};
use super::sync::{Arc, Mutex, MutexGuard};

/// Why a value was handed back without waiting.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused<T> {
    /// No room now.
    Full(T),
    /// The receiver closed the channel or is gone (or this sender was detached).
    Closed(T),
}

/// Tasks waiting for something, oldest first, each under the id its future keeps. A waiter
/// whose future holds an id that is not here any more was woken and has not polled since.
#[derive(Default)]
pub(super) struct Waiters(pub(super) VecDeque<(u64, Waker)>);

impl Waiters {
    /// Registers (or updates) the waiter `slot`, giving it an id from `next` the first time.
    /// Returns the waker it replaced, to be dropped once the lock is released.
    fn register(&mut self, slot: &mut Option<u64>, next: &mut u64, waker: &Waker) -> Option<Waker> {
        let id = *slot.get_or_insert_with(|| {
            *next += 1;
            *next
        });
        match self.0.iter_mut().find(|(other, _)| *other == id) {
            Some((_, known)) if known.will_wake(waker) => None,
            Some((_, known)) => Some(std::mem::replace(known, waker.clone())),
            None => {
                self.0.push_back((id, waker.clone()));
                None
            }
        }
    }

    /// Removes the waiter `id`: its waker if it was still waiting, `None` if it was woken
    /// (taken out by [`pop`](Self::pop)) and has not registered again since.
    fn remove(&mut self, id: u64) -> Option<Waker> {
        let at = self.0.iter().position(|(other, _)| *other == id)?;
        self.0.remove(at).map(|(_, waker)| waker)
    }

    /// Takes out the oldest waiter, to be woken once the lock is released.
    fn pop(&mut self) -> Option<Waker> {
        self.0.pop_front().map(|(_, waker)| waker)
    }
}

/// Wakers taken out under the lock, woken (or only dropped) once it is released: waking runs
/// the waiter's code, which may lock this channel again (a blocking waiter's thread, a
/// same-thread executor, a waker that polls inline), and dropping the last handle to a task
/// can run that task's destructors, which may drop a sender or a send. No path but closing
/// needs more than two of each, so they live in fixed slots: nothing is allocated.
#[derive(Default)]
struct Deferred {
    wake: [Option<Waker>; 2],
    drop: [Option<Waker>; 2],
}

impl Deferred {
    fn wake(&mut self, waker: Option<Waker>) {
        Self::keep(&mut self.wake, waker);
    }

    fn drop(&mut self, waker: Option<Waker>) {
        Self::keep(&mut self.drop, waker);
    }

    fn keep(slots: &mut [Option<Waker>; 2], waker: Option<Waker>) {
        if waker.is_some() {
            let free = slots.iter_mut().find(|slot| slot.is_none());
            *free.expect("a channel operation defers at most two wakers of a kind") = waker;
        }
    }

    /// Releases the lock, then wakes and drops what was taken out under it.
    fn release<T>(self, state: MutexGuard<'_, State<T>>) {
        drop(state);
        // Most operations take nothing out: skipping the iteration over empty slots, and
        // their drop, is a sizeable share of a send or a receive.
        if self.wake.iter().chain(&self.drop).all(Option::is_none) {
            std::mem::forget(self);
            return;
        }
        for waker in self.wake.into_iter().flatten() {
            waker.wake();
        }
        drop(self.drop);
    }
}

pub(super) struct State<T> {
    pub(super) queue: VecDeque<T>,
    capacity: usize,
    /// Live senders; the receiver sees the end once none is left and the queue is empty.
    /// Never rises again from 0: only an attached sender makes attached clones.
    senders: usize,
    /// The receiver closed the channel or is gone: sends fail.
    closed: bool,
    receiver: Option<Waker>,
    /// The receiver found the queue empty since the last value was queued: it has taken
    /// everything and asked for more (see [`Sender::poll_drained`]).
    asked: bool,
    /// The one sender waiting for the receiver to ask for more.
    drained: Option<Waker>,
    /// Senders waiting for room. Each value taken out wakes the oldest one (its room is
    /// for that one); a woken one that gives up without using the room passes it on.
    pub(super) room: Waiters,
    /// Senders waiting for the receiver to close the channel or go.
    pub(super) closing: Waiters,
    next_waiter: u64,
    /// The queue's storage goes once the receiver empties it ([`Sender::release_when_drained`]).
    release: bool,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        !self.closed && self.queue.len() < self.capacity
    }

    /// After a value was taken out.
    fn taken(&mut self) {
        if self.release && self.queue.is_empty() {
            self.queue = VecDeque::new();
            self.release = false;
        }
    }
}

type Shared<T> = Arc<Mutex<State<T>>>;

pub(super) fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, State<T>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wakes every waiter (room, closing and drained alike), a few at a time with the lock released
/// in between. Only once the channel is closed: then no waiter registers again, so this ends.
fn wake_everyone<'a, T>(shared: &'a Shared<T>, mut state: MutexGuard<'a, State<T>>) {
    debug_assert!(state.closed);
    loop {
        let mut batch: [Option<Waker>; 8] = Default::default();
        for slot in &mut batch {
            *slot = (state.room.pop())
                .or_else(|| state.closing.pop())
                .or_else(|| state.drained.take());
            if slot.is_none() {
                break;
            }
        }
        drop(state);
        let more = batch[batch.len() - 1].is_some();
        for waker in batch.into_iter().flatten() {
            waker.wake();
        }
        if !more {
            return;
        }
        state = lock(shared);
    }
}

/// A bounded channel holding at most `capacity` values (at least 1).
pub(crate) fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        queue: VecDeque::new(),
        capacity: capacity.max(1),
        senders: 1,
        closed: false,
        receiver: None,
        asked: false,
        drained: None,
        room: Waiters::default(),
        closing: Waiters::default(),
        next_waiter: 0,
        release: false,
    }));
    let sender = Sender {
        shared: Arc::clone(&shared),
        attached: true,
    };
    (sender, Receiver { shared })
}

/// A sending end; clones send into the same channel.
pub(crate) struct Sender<T> {
    pub(super) shared: Shared<T>,
    /// Counted in `senders` (until [`detach`](Self::detach)).
    attached: bool,
}

impl<T> Sender<T> {
    /// Queues `value` if there is room, without waiting. A detached sender is refused as
    /// if the channel were closed.
    pub(crate) fn try_send(&self, value: T) -> Result<(), Refused<T>> {
        let mut state = lock(&self.shared);
        if state.closed || !self.attached {
            return Err(Refused::Closed(value));
        }
        if state.queue.len() >= state.capacity {
            return Err(Refused::Full(value));
        }
        state.queue.push_back(value);
        state.asked = false;
        let mut deferred = Deferred::default();
        deferred.wake(state.receiver.take());
        deferred.release(state);
        Ok(())
    }

    /// Queues `value`, waiting for room; hands it back if the channel is closed.
    ///
    /// Sends from one task stay in order. Dropping the future before it completes takes
    /// nothing out of the channel and leaves no waker behind.
    ///
    /// Polled again after it returned `Ready`, the future returns `Pending` and never wakes
    /// the task: like a fused future it never sends twice, never hands a value back twice,
    /// registers nothing and does not panic (an `async fn` would).
    pub(crate) fn send(&self, value: T) -> impl Future<Output = Result<(), T>> {
        Sending {
            sender: self,
            value: Some(value),
            room: None,
        }
    }

    /// Like [`send`](Self::send), blocking this thread while the channel is full.
    #[cfg(test)]
    pub(crate) fn send_blocking(&self, value: T) -> Result<(), T> {
        let mut send = pin!(self.send(value));
        park(|cx| send.as_mut().poll(cx))
    }

    /// One poll of a send: `Ok` with its outcome once done (`value` queued, or handed back
    /// because the channel is closed); `Err(value)` while the channel is full, with `cx`
    /// registered under `slot`.
    fn poll_send(
        &self,
        cx: &Context<'_>,
        slot: &mut Option<u64>,
        value: T,
    ) -> Result<Result<(), T>, T> {
        let mut state = lock(&self.shared);
        let mut deferred = Deferred::default();
        let outcome = if state.closed || !self.attached {
            deferred.drop(slot.take().and_then(|id| state.room.remove(id)));
            Ok(Err(value))
        } else if state.queue.len() < state.capacity {
            // Woken or not, this send takes the room it found: nothing to pass on.
            deferred.drop(slot.take().and_then(|id| state.room.remove(id)));
            state.queue.push_back(value);
            state.asked = false;
            deferred.wake(state.receiver.take());
            Ok(Ok(()))
        } else {
            let State {
                room, next_waiter, ..
            } = &mut *state;
            deferred.drop(room.register(slot, next_waiter, cx.waker()));
            Err(value)
        };
        deferred.release(state);
        outcome
    }

    /// `Ready(Ok)` while the channel has room, `Ready(Err)` once it is closed (or this sender
    /// detached); otherwise registers `cx` (under `slot`) to be woken when room appears.
    ///
    /// A caller woken for room that then finds it and returns here (`Ready(Ok)`) is not
    /// bound to use it: the next waiter is woken too, so the room is never left unseen.
    pub(crate) fn poll_room(
        &self,
        cx: &Context<'_>,
        slot: &mut Option<u64>,
    ) -> Poll<Result<(), ()>> {
        let mut state = lock(&self.shared);
        let mut deferred = Deferred::default();
        let outcome = if state.closed || !self.attached {
            deferred.drop(slot.take().and_then(|id| state.room.remove(id)));
            Poll::Ready(Err(()))
        } else if state.queue.len() < state.capacity {
            if let Some(id) = slot.take() {
                match state.room.remove(id) {
                    Some(waker) => deferred.drop(Some(waker)),
                    None => deferred.wake(state.room.pop()),
                }
            }
            Poll::Ready(Ok(()))
        } else {
            let State {
                room, next_waiter, ..
            } = &mut *state;
            deferred.drop(room.register(slot, next_waiter, cx.waker()));
            Poll::Pending
        };
        deferred.release(state);
        outcome
    }

    /// Whether the receiver closed the channel or is gone: what [`closed`](Self::closed)
    /// waits for.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.shared).closed
    }

    /// `Ready` once the receiver closed the channel or is gone; otherwise registers `cx`
    /// (under `slot`) to be woken then.
    pub(crate) fn poll_closed(&self, cx: &Context<'_>, slot: &mut Option<u64>) -> Poll<()> {
        let mut state = lock(&self.shared);
        let mut deferred = Deferred::default();
        let outcome = if state.closed {
            deferred.drop(slot.take().and_then(|id| state.closing.remove(id)));
            Poll::Ready(())
        } else {
            let State {
                closing,
                next_waiter,
                ..
            } = &mut *state;
            deferred.drop(closing.register(slot, next_waiter, cx.waker()));
            Poll::Pending
        };
        deferred.release(state);
        outcome
    }

    /// `Ready` once the receiver has taken every value queued and then asked for more (its
    /// last receive found the queue empty), or once it closed the channel or is gone;
    /// otherwise registers `cx` to be woken when it asks. One sender may wait for this at a
    /// time (the driver, on its event channel).
    ///
    /// This is how a sender knows the receiver has finished with what it was given: an
    /// application that reads an event, acts on it and reads again has done all it will do
    /// about that event.
    pub(crate) fn poll_drained(&self, cx: &Context<'_>) -> Poll<()> {
        let mut state = lock(&self.shared);
        let mut deferred = Deferred::default();
        let outcome = if state.closed || (state.asked && state.queue.is_empty()) {
            deferred.drop(state.drained.take());
            Poll::Ready(())
        } else {
            match &mut state.drained {
                Some(known) if known.will_wake(cx.waker()) => {}
                slot => deferred.drop(slot.replace(cx.waker().clone())),
            }
            Poll::Pending
        };
        deferred.release(state);
        outcome
    }

    /// Waits until the receiver closed the channel or is gone.
    ///
    /// Polled again after it returned `Ready`, the future returns `Ready` again at once (a
    /// closed channel stays closed) and registers nothing.
    pub(crate) fn closed(&self) -> impl Future<Output = ()> {
        Closed {
            sender: self,
            closing: None,
        }
    }

    /// Forgets `slot`'s registrations (its future is gone).
    pub(crate) fn forget(&self, room: Option<u64>, closing: Option<u64>) {
        forget(&self.shared, room, closing);
    }

    /// Lets the queue's storage go the next time it is empty (now, if it is). The queue keeps
    /// its capacity otherwise, so that a busy channel allocates nothing per value; called
    /// rarely (once per heartbeat), this frees it while the connection is idle, backlog
    /// included.
    pub(crate) fn release_when_drained(&self) {
        let mut state = lock(&self.shared);
        state.release = true;
        state.taken();
    }

    /// This sender sends no more (its sends are refused as closed): once every sender is
    /// detached or dropped, the receiver sees the end after the values still queued.
    pub(crate) fn detach(&mut self) {
        if !std::mem::replace(&mut self.attached, false) {
            return;
        }
        let mut state = lock(&self.shared);
        state.senders -= 1;
        let mut deferred = Deferred::default();
        if state.senders == 0 {
            deferred.wake(state.receiver.take());
        }
        deferred.release(state);
    }
}

impl<T> Clone for Sender<T> {
    /// Another sender into the same channel; a clone of a detached sender is detached too.
    fn clone(&self) -> Self {
        if self.attached {
            lock(&self.shared).senders += 1;
        }
        Sender {
            shared: Arc::clone(&self.shared),
            attached: self.attached,
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
    let mut deferred = Deferred::default();
    if let Some(id) = room {
        match state.room.remove(id) {
            Some(waker) => deferred.drop(Some(waker)),
            // Woken for room it will not use now: the next waiter gets it.
            None if state.has_room() => deferred.wake(state.room.pop()),
            None => {}
        }
    }
    if let Some(id) = closing {
        deferred.drop(state.closing.remove(id));
    }
    deferred.release(state);
}

/// The future of [`Sender::send`]: holds the value until it is queued or handed back.
struct Sending<'a, T> {
    sender: &'a Sender<T>,
    /// `None` once the future completed.
    value: Option<T>,
    room: Option<u64>,
}

// Nothing in it is pinned structurally: the value only ever moves in and out by value.
impl<T> Unpin for Sending<'_, T> {}

impl<T> Future for Sending<'_, T> {
    type Output = Result<(), T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        let this = self.get_mut();
        // Completed already: stays pending (see `Sender::send`).
        let Some(value) = this.value.take() else {
            return Poll::Pending;
        };
        match this.sender.poll_send(cx, &mut this.room, value) {
            Ok(outcome) => Poll::Ready(outcome),
            Err(value) => {
                this.value = Some(value);
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Sending<'_, T> {
    fn drop(&mut self) {
        forget(&self.sender.shared, self.room.take(), None);
    }
}

/// The future of [`Sender::closed`].
struct Closed<'a, T> {
    sender: &'a Sender<T>,
    closing: Option<u64>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.sender.poll_closed(cx, &mut this.closing)
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        forget(&self.sender.shared, None, self.closing.take());
    }
}

/// The receiving end.
pub(crate) struct Receiver<T> {
    pub(super) shared: Shared<T>,
}

impl<T> Receiver<T> {
    /// The next value; `Ready(None)` once the channel is closed or every sender is gone, and
    /// nothing is left. That end is final: polled again, it returns `Ready(None)` again.
    pub(crate) fn poll_recv(&self, cx: &Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.shared);
        let mut deferred = Deferred::default();
        let outcome = if let Some(value) = state.queue.pop_front() {
            state.taken();
            deferred.wake(state.room.pop());
            Poll::Ready(Some(value))
        } else if state.closed || state.senders == 0 {
            deferred.drop(state.receiver.take());
            Poll::Ready(None)
        } else {
            match &mut state.receiver {
                Some(known) if known.will_wake(cx.waker()) => {}
                slot => deferred.drop(slot.replace(cx.waker().clone())),
            }
            state.asked = true;
            deferred.wake(state.drained.take());
            Poll::Pending
        };
        deferred.release(state);
        outcome
    }

    /// The next value, blocking this thread until there is one; `None` once the channel is
    /// closed or every sender is gone, and nothing is left.
    #[cfg(test)]
    pub(crate) fn recv_blocking(&self) -> Option<T> {
        park(|cx| self.poll_recv(cx))
    }

    /// Like [`recv_blocking`](Self::recv_blocking), giving up at `deadline`.
    #[cfg(test)]
    pub(crate) fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        park_until(deadline, |cx| self.poll_recv(cx))
            .ok_or(RecvTimeoutError::Timeout)?
            .ok_or(RecvTimeoutError::Disconnected)
    }

    /// A value already queued, without waiting.
    pub(crate) fn try_recv(&self) -> Option<T> {
        let mut state = lock(&self.shared);
        let value = state.queue.pop_front();
        let mut deferred = Deferred::default();
        if value.is_some() {
            state.taken();
            deferred.wake(state.room.pop());
        } else {
            state.asked = true;
            deferred.wake(state.drained.take());
        }
        deferred.release(state);
        value
    }

    /// Values queued now.
    pub(crate) fn len(&self) -> usize {
        lock(&self.shared).queue.len()
    }

    /// Whether the receiver will see no more values once the queue is empty.
    pub(crate) fn is_terminated(&self) -> bool {
        let state = lock(&self.shared);
        state.queue.is_empty() && (state.closed || state.senders == 0)
    }

    /// Refuses every later send; what is queued can still be received.
    pub(crate) fn close(&self) {
        let mut state = lock(&self.shared);
        state.closed = true;
        wake_everyone(&self.shared, state);
    }
}

/// Unparks the thread that waits.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

super::sync::thread_local! {
    static UNPARK: Waker = Waker::from(std::sync::Arc::new(Unpark(thread::current())));
}

/// Polls `poll` until it is ready, parking the thread in between. A wake-up that finds
/// nothing ready (a stale waker, a spurious unpark) only costs another poll.
pub(crate) fn park<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
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
pub(crate) fn park_until<T>(
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
        // Taken out to be dropped after the lock: a value's destructor may use the channel.
        let queued = std::mem::take(&mut state.queue);
        let receiver = state.receiver.take();
        wake_everyone(&self.shared, state);
        drop(receiver);
        drop(queued);
    }
}
