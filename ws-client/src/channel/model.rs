//! Model checking with loom: `imp.rs` is built here a second time on loom's mutex, `Arc`,
//! threads, park/unpark and thread locals, and each test below runs its small scenario under
//! every interleaving loom explores (every order of the lock acquisitions and wake-ups, up to
//! a bound on preemptions). A lost wake-up shows as a deadlock, which loom reports; so does a
//! waker woken under the channel's lock that uses the channel; a leaked channel (an `Arc`
//! never dropped) fails too.
//!
//! These are ordinary tests, run by `cargo test` (about 15 s in all, debug build). The bound
//! is 2 preemptions unless `LOOM_MAX_PREEMPTIONS` says otherwise: with 3, a deeper run takes
//! about 2.5 minutes (`LOOM_MAX_PREEMPTIONS=3 cargo test -p ws-client --lib channel::model`).
//! A failing model reports `deadlock; threads = ...` (or its assertion) first; loom's own
//! cleanup may then abort the test process.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::thread;

// The second build of imp.rs on purpose (clippy's duplicate_mod).
#[allow(dead_code, unreachable_pub, clippy::duplicate_mod)]
#[path = "imp.rs"]
mod imp;

use imp::{Receiver, Refused, bounded, lock};

/// loom's primitives under the names `imp.rs` uses.
mod sync {
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
    pub(crate) use loom::thread_local;

    pub(crate) mod thread {
        pub(crate) use loom::thread::{Thread, current, park};

        /// loom has no clock: a timed park may end at any moment, so it is one that ends at once.
        pub(crate) fn park_timeout(_: std::time::Duration) {
            loom::thread::yield_now();
        }
    }
}

fn check(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    builder.check(model);
}

/// A value that knows which sender sent it and counts its drops.
#[derive(Debug)]
struct Value {
    from: u8,
    n: u8,
    drops: std::sync::Arc<AtomicUsize>,
}

impl Value {
    fn new(from: u8, n: u8, drops: &std::sync::Arc<AtomicUsize>) -> Value {
        Value {
            from,
            n,
            drops: std::sync::Arc::clone(drops),
        }
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

fn recv<T>(receiver: &Receiver<T>) -> Option<T> {
    block_on(poll_fn(|cx| receiver.poll_recv(cx)))
}

fn within_capacity<T>(receiver: &Receiver<T>, capacity: usize) {
    assert!(lock(&receiver.shared).queue.len() <= capacity);
}

/// Each sender's values, as (sender, n), that the channel took.
fn sent(from: u8, outcomes: &[(u8, bool)]) -> Vec<(u8, u8)> {
    outcomes
        .iter()
        .filter(|(_, taken)| *taken)
        .map(|(n, _)| (from, *n))
        .collect()
}

#[test]
fn two_senders_racing_recv_and_close_deliver_exactly_once_in_order_within_capacity() {
    check(|| {
        const CAPACITY: usize = 1;
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let (a, receiver) = bounded::<Value>(CAPACITY);
        let b = a.clone();
        let drops_a = std::sync::Arc::clone(&drops);
        let sender_a = thread::spawn(move || {
            // A waiting send, then one that does not wait.
            let first = block_on(a.send(Value::new(0, 0, &drops_a))).is_ok();
            let second = match a.try_send(Value::new(0, 1, &drops_a)) {
                Ok(()) => true,
                Err(Refused::Full(_) | Refused::Closed(_)) => false,
            };
            vec![(0, first), (1, second)]
        });
        let drops_b = std::sync::Arc::clone(&drops);
        let sender_b = thread::spawn(move || {
            let outcome = block_on(b.send(Value::new(1, 0, &drops_b)));
            vec![(0, outcome.is_ok())]
        });

        // Receive one value, close, then take what was queued before closing.
        let mut received = Vec::new();
        if let Some(value) = recv(&receiver) {
            within_capacity(&receiver, CAPACITY);
            received.push((value.from, value.n));
        }
        receiver.close();
        while let Some(value) = receiver.try_recv() {
            received.push((value.from, value.n));
        }
        let outcomes_a = sender_a.join().unwrap();
        let outcomes_b = sender_b.join().unwrap();
        assert_eq!(receiver.try_recv().map(|value| value.n), None);

        for (from, outcomes) in [(0, &outcomes_a), (1, &outcomes_b)] {
            let theirs: Vec<_> = received
                .iter()
                .filter(|(f, _)| *f == from)
                .copied()
                .collect();
            assert_eq!(
                theirs,
                sent(from, outcomes),
                "sender {from}: exactly once, in order"
            );
        }
        assert_eq!(drops.load(Ordering::Relaxed), 3, "every value dropped once");
    });
}

#[test]
fn senders_waiting_for_room_are_woken_by_each_value_taken() {
    check(|| {
        let (a, receiver) = bounded::<u8>(1);
        a.try_send(0).unwrap();
        let b = a.clone();
        let sender_a = thread::spawn(move || block_on(a.send(1)));
        let sender_b = thread::spawn(move || block_on(b.send(2)));
        let mut received: Vec<_> = std::iter::from_fn(|| recv(&receiver)).collect();
        assert_eq!(sender_a.join().unwrap(), Ok(()));
        assert_eq!(sender_b.join().unwrap(), Ok(()));
        received.sort_unstable();
        assert_eq!(received, [0, 1, 2]);
    });
}

#[test]
fn a_sender_waiting_for_room_is_woken_when_the_channel_closes() {
    check(|| {
        let (sender, receiver) = bounded::<u8>(1);
        sender.try_send(0).unwrap();
        let waiting = thread::spawn(move || block_on(sender.send(1)));
        receiver.close();
        assert_eq!(waiting.join().unwrap(), Err(1));
        assert_eq!(receiver.try_recv(), Some(0));
        assert_eq!(receiver.try_recv(), None);
    });
}

#[test]
fn a_woken_send_dropped_unused_passes_the_room_on() {
    check(|| {
        let (a, receiver) = bounded::<u8>(1);
        a.try_send(0).unwrap();
        let b = a.clone();
        // Polls once (with a waker that does nothing) and drops its send: if the room was
        // handed to it meanwhile, it must pass it on.
        let gives_up = thread::spawn(move || {
            let mut cx = Context::from_waker(Waker::noop());
            let mut send = Box::pin(a.send(1));
            let sent = send.as_mut().poll(&mut cx).is_ready();
            drop(send);
            sent
        });
        let waits = thread::spawn(move || block_on(b.send(2)));
        let received: Vec<_> = std::iter::from_fn(|| recv(&receiver)).collect();
        let one_sent = gives_up.join().unwrap();
        assert_eq!(waits.join().unwrap(), Ok(()));
        assert_eq!(received.len(), 2 + usize::from(one_sent));
        assert!(received.contains(&2));
    });
}

#[test]
fn a_sender_told_of_room_that_does_not_use_it_passes_it_on() {
    check(|| {
        let (a, receiver) = bounded::<u8>(1);
        a.try_send(0).unwrap();
        let b = a.clone();
        // Waits through poll_room, and once told of room sends nothing.
        let looks = thread::spawn(move || {
            let mut slot = None;
            let room = block_on(poll_fn(|cx| a.poll_room(cx, &mut slot)));
            a.forget(slot, None);
            room
        });
        let waits = thread::spawn(move || block_on(b.send(2)));
        let received: Vec<_> = std::iter::from_fn(|| recv(&receiver)).collect();
        assert_eq!(looks.join().unwrap(), Ok(()));
        assert_eq!(waits.join().unwrap(), Ok(()));
        assert_eq!(received, [0, 2]);
    });
}

#[test]
fn closed_completes_when_the_receiver_closes_or_goes() {
    for drop_it in [false, true] {
        check(move || {
            let (sender, receiver) = bounded::<u8>(1);
            let waiting = thread::spawn(move || {
                block_on(sender.closed());
                assert!(matches!(sender.try_send(1), Err(Refused::Closed(1))));
            });
            if drop_it {
                drop(receiver);
            } else {
                receiver.close();
            }
            waiting.join().unwrap();
        });
    }
}

#[test]
fn values_left_when_the_receiver_goes_are_dropped_exactly_once() {
    check(|| {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let (a, receiver) = bounded::<Value>(2);
        let b = a.clone();
        let senders: Vec<_> = [(0, a), (1, b)]
            .into_iter()
            .map(|(from, sender)| {
                let drops = std::sync::Arc::clone(&drops);
                thread::spawn(move || {
                    let _ = sender.try_send(Value::new(from, 0, &drops));
                    let _ = block_on(sender.send(Value::new(from, 1, &drops)));
                })
            })
            .collect();
        let first = receiver.try_recv();
        drop(receiver);
        drop(first);
        for sender in senders {
            sender.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::Relaxed), 4);
    });
}

#[test]
fn blocking_sends_and_receives_wake_each_other() {
    check(|| {
        let (sender, receiver) = bounded::<u8>(1);
        let sending = thread::spawn(move || {
            sender.send_blocking(1).unwrap();
            sender.send_blocking(2).unwrap();
        });
        assert_eq!(receiver.recv_blocking(), Some(1));
        assert_eq!(receiver.recv_blocking(), Some(2));
        assert_eq!(receiver.recv_blocking(), None);
        sending.join().unwrap();
    });
}

#[test]
fn a_send_polled_after_it_completed_stays_pending() {
    check(|| {
        let (sender, receiver) = bounded::<u8>(1);
        sender.try_send(0).unwrap();
        let other = sender.clone();
        let sending = thread::spawn(move || {
            let mut send = pin!(other.send(1));
            let outcome = block_on(poll_fn(|cx| send.as_mut().poll(cx)));
            let mut cx = Context::from_waker(Waker::noop());
            assert_eq!(send.as_mut().poll(&mut cx), Poll::Pending);
            outcome
        });
        let first = receiver.try_recv();
        receiver.close();
        let outcome = sending.join().unwrap();
        let rest: Vec<_> = std::iter::from_fn(|| receiver.try_recv()).collect();
        match (first, outcome) {
            (Some(0), Ok(())) => assert_eq!(rest, [1]),
            (Some(0) | None, Err(1)) => {
                assert_eq!(rest.len(), usize::from(first.is_none()));
            }
            other => panic!("unexpected {other:?}"),
        }
        drop(sender);
    });
}

/// A waker that uses the channel before it wakes its thread, as a waker that polls the
/// task inline would: it deadlocks if the channel wakes it while holding its lock.
struct Reentrant {
    channel: std::sync::Mutex<Option<imp::Sender<u8>>>,
    thread: loom::thread::Thread,
}

impl std::task::Wake for Reentrant {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if let Some(sender) = &*self.channel.lock().unwrap() {
            let mut slot = None;
            let _ = sender.poll_closed(&Context::from_waker(Waker::noop()), &mut slot);
            sender.forget(None, slot);
        }
        self.thread.unpark();
    }
}

/// Polls `poll` until it is ready with a [`Reentrant`] waker, parking in between; then
/// lets go of the waker's sender (the channel may still hold the waker).
fn reentrant_block_on<T>(
    sender: &imp::Sender<u8>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> T {
    let reentrant = std::sync::Arc::new(Reentrant {
        channel: std::sync::Mutex::new(Some(sender.clone())),
        thread: loom::thread::current(),
    });
    let waker = Waker::from(std::sync::Arc::clone(&reentrant));
    let mut cx = Context::from_waker(&waker);
    let value = loop {
        if let Poll::Ready(value) = poll(&mut cx) {
            break value;
        }
        loom::thread::park();
    };
    reentrant.channel.lock().unwrap().take();
    value
}

#[test]
fn wakers_may_use_the_channel_when_woken() {
    check(|| {
        let (sender, receiver) = bounded::<u8>(1);
        sender.try_send(0).unwrap();
        let other = sender.clone();
        let sending = thread::spawn(move || {
            let mut send = pin!(other.send(1));
            reentrant_block_on(&other, |cx| send.as_mut().poll(cx))
        });
        let first = reentrant_block_on(&sender, |cx| receiver.poll_recv(cx));
        let second = reentrant_block_on(&sender, |cx| receiver.poll_recv(cx));
        assert_eq!((first, second), (Some(0), Some(1)));
        assert_eq!(sending.join().unwrap(), Ok(()));
        receiver.close();
    });
}
