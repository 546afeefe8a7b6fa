use super::imp::{Receiver, Refused, Sender, bounded, lock, park};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, TryLockError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

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

fn woken(count: &Count) -> usize {
    count.0.load(Ordering::Relaxed)
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
    assert_eq!(
        receiver.poll_recv(&cx),
        Poll::Ready(None),
        "the end is final"
    );
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
        assert_eq!(woken(&count), 1);
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
    assert_eq!(woken(&count), 1);
    assert!(closed.as_mut().poll(&mut cx).is_ready());
    assert!(matches!(sender.try_send(2), Err(Refused::Closed(2))));
    assert_eq!(receiver.try_recv(), Some(1));
    assert_eq!(receiver.poll_recv(&cx), Poll::Ready(None));
}

#[test]
fn drained_waits_until_the_receiver_took_everything_and_asked_for_more() {
    let (sender, receiver) = bounded(4);
    let count = Arc::new(Count::default());
    let waker = context(&count);
    let cx = Context::from_waker(&waker);
    assert!(sender.poll_drained(&cx).is_pending(), "not asked yet");
    sender.try_send(1).ok().unwrap();
    sender.try_send(2).ok().unwrap();
    assert_eq!(receiver.try_recv(), Some(1));
    assert!(sender.poll_drained(&cx).is_pending(), "one value left");
    assert_eq!(receiver.try_recv(), Some(2));
    assert_eq!(
        woken(&count),
        0,
        "taking the last value is not asking for more"
    );
    assert!(sender.poll_drained(&cx).is_pending());
    let noop = Context::from_waker(Waker::noop());
    assert_eq!(receiver.poll_recv(&noop), Poll::Pending);
    assert_eq!(woken(&count), 1, "asking for more wakes the waiting sender");
    assert!(sender.poll_drained(&cx).is_ready());
    sender.try_send(3).ok().unwrap();
    assert!(
        sender.poll_drained(&cx).is_pending(),
        "a new value needs a new ask"
    );
    assert_eq!(receiver.try_recv(), Some(3));
    assert_eq!(receiver.try_recv(), None, "an empty try_recv asks too");
    assert_eq!(woken(&count), 2);
    assert!(sender.poll_drained(&cx).is_ready());
    sender.try_send(4).ok().unwrap();
    assert!(sender.poll_drained(&cx).is_pending());
    drop(receiver);
    assert_eq!(woken(&count), 3, "a receiver that goes wakes it");
    assert!(sender.poll_drained(&cx).is_ready());
}

#[test]
fn a_blocking_receive_ends_with_a_value_from_another_thread_or_at_its_deadline() {
    let (sender, receiver) = bounded(1);
    let thread = std::thread::spawn(move || sender.send_blocking(7));
    let deadline = Instant::now() + Duration::from_secs(10);
    assert_eq!(receiver.recv_deadline(deadline), Ok(7));
    assert_eq!(thread.join().unwrap(), Ok(()));
    assert_eq!(receiver.recv_blocking(), None, "the sender is gone");

    let (_sender, receiver) = bounded::<u8>(1);
    let deadline = Instant::now() + Duration::from_millis(20);
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

// Futures polled again after they completed.

#[test]
fn a_send_polled_after_it_sent_stays_pending_and_sends_nothing_more() {
    let (sender, receiver) = bounded(2);
    let count = Arc::new(Count::default());
    let waker = context(&count);
    let mut cx = Context::from_waker(&waker);
    let mut send = pin!(sender.send(1));
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    for _ in 0..3 {
        assert_eq!(send.as_mut().poll(&mut cx), Poll::Pending);
    }
    assert_eq!(receiver.len(), 1, "sent once");
    let state = lock(&sender.shared);
    assert!(
        state.room.0.is_empty() && state.closing.0.is_empty(),
        "registers nothing"
    );
    drop(state);
    receiver.close();
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(woken(&count), 0, "and is never woken");
    assert_eq!(receiver.try_recv(), Some(1));
    assert_eq!(receiver.try_recv(), None);
}

#[test]
fn a_send_polled_after_it_was_refused_stays_pending_and_hands_back_nothing_more() {
    let (sender, receiver) = bounded(1);
    sender.try_send(1).ok().unwrap();
    let count = Arc::new(Count::default());
    let waker = context(&count);
    let mut cx = Context::from_waker(&waker);
    let mut send = pin!(sender.send(2));
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Pending);
    receiver.close();
    assert_eq!(woken(&count), 1);
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Err(2)));
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(receiver.try_recv(), Some(1));
    assert_eq!(receiver.try_recv(), None);
    assert!(lock(&sender.shared).room.0.is_empty());
    assert_eq!(woken(&count), 1);
}

#[test]
fn closed_polled_after_it_completed_is_ready_again() {
    let (sender, receiver) = bounded::<u8>(1);
    let count = Arc::new(Count::default());
    let waker = context(&count);
    let mut cx = Context::from_waker(&waker);
    let mut closed = pin!(sender.closed());
    assert!(closed.as_mut().poll(&mut cx).is_pending());
    drop(receiver);
    assert_eq!(woken(&count), 1);
    for _ in 0..3 {
        assert_eq!(closed.as_mut().poll(&mut cx), Poll::Ready(()));
    }
    assert!(lock(&sender.shared).closing.0.is_empty());
}

// Wakers are woken with the lock released.

/// A waker that, when woken, checks whether the channel's lock is free. The tests run on
/// one thread, so a held lock is held by the code waking.
struct Probe {
    channel: Mutex<Weak<Mutex<super::imp::State<u32>>>>,
    wakes: AtomicUsize,
    under_lock: AtomicUsize,
}

impl Probe {
    fn new(sender: &Sender<u32>) -> Arc<Probe> {
        Arc::new(Probe {
            channel: Mutex::new(Arc::downgrade(&sender.shared)),
            wakes: AtomicUsize::new(0),
            under_lock: AtomicUsize::new(0),
        })
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.wakes.load(Ordering::Relaxed),
            self.under_lock.load(Ordering::Relaxed),
        )
    }
}

impl Wake for Probe {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        if let Some(channel) = self.channel.lock().unwrap().upgrade()
            && matches!(channel.try_lock(), Err(TryLockError::WouldBlock))
        {
            self.under_lock.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn probed(sender: &Sender<u32>) -> (Arc<Probe>, Waker) {
    let probe = Probe::new(sender);
    let waker = Waker::from(Arc::clone(&probe));
    (probe, waker)
}

#[test]
fn sends_and_the_last_sender_wake_the_receiver_after_unlocking() {
    let (sender, receiver) = bounded::<u32>(4);
    let (probe, waker) = probed(&sender);
    let mut cx = Context::from_waker(&waker);
    assert!(receiver.poll_recv(&cx).is_pending());
    sender.try_send(1).unwrap();
    assert_eq!(probe.counts(), (1, 0));
    assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(1)));
    assert!(receiver.poll_recv(&cx).is_pending());
    assert_eq!(pin!(sender.send(2)).poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(probe.counts(), (2, 0));
    assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(2)));
    assert!(receiver.poll_recv(&cx).is_pending());
    let other = sender.clone();
    drop(sender);
    assert_eq!(probe.counts(), (2, 0));
    drop(other);
    assert_eq!(probe.counts(), (3, 0), "the last sender gone");
}

#[test]
fn receiving_closing_dropping_and_giving_up_wake_senders_after_unlocking() {
    let (sender, receiver) = bounded::<u32>(1);
    let (probe, waker) = probed(&sender);
    let mut cx = Context::from_waker(&waker);
    sender.try_send(0).unwrap();

    // try_recv and poll_recv wake a waiting send.
    let mut first = pin!(sender.send(1));
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert_eq!(receiver.try_recv(), Some(0));
    assert_eq!(probe.counts(), (1, 0));
    assert!(first.as_mut().poll(&mut cx).is_ready());
    let mut second = pin!(sender.send(2));
    assert!(second.as_mut().poll(&mut cx).is_pending());
    assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(1)));
    assert_eq!(probe.counts(), (2, 0));
    assert!(second.as_mut().poll(&mut cx).is_ready());

    // A woken send dropped unpolled passes the room on; so does poll_room told of room.
    {
        let mut woken_then_dropped = Box::pin(sender.send(3));
        assert!(woken_then_dropped.as_mut().poll(&mut cx).is_pending());
        let mut waiting = pin!(sender.send(4));
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert_eq!(receiver.try_recv(), Some(2));
        assert_eq!(probe.counts(), (3, 0));
        drop(woken_then_dropped);
        assert_eq!(probe.counts(), (4, 0), "passed on");
        let mut room = None;
        assert!(waiting.as_mut().poll(&mut cx).is_ready());
        assert!(sender.poll_room(&cx, &mut room).is_pending());
        let mut last = pin!(sender.send(5));
        assert!(last.as_mut().poll(&mut cx).is_pending());
        assert_eq!(receiver.try_recv(), Some(4));
        assert_eq!(probe.counts(), (5, 0));
        assert_eq!(sender.poll_room(&cx, &mut room), Poll::Ready(Ok(())));
        assert_eq!(probe.counts(), (6, 0), "passed on");
        assert_eq!(room, None);
        assert!(last.as_mut().poll(&mut cx).is_ready());
    }

    // Closing wakes every waiting send and closed(), more than one batch of them.
    let mut sends: Vec<_> = (0..20).map(|n| Box::pin(sender.send(n))).collect();
    let mut closed: Vec<_> = (0..20).map(|_| Box::pin(sender.closed())).collect();
    for send in &mut sends {
        assert!(send.as_mut().poll(&mut cx).is_pending());
    }
    for closed in &mut closed {
        assert!(closed.as_mut().poll(&mut cx).is_pending());
    }
    receiver.close();
    assert_eq!(probe.counts(), (46, 0));
    for send in &mut sends {
        assert!(matches!(send.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
    }
    drop(sends);
    drop(closed);
    assert_eq!(probe.counts(), (46, 0));

    // Dropping the receiver wakes the same way.
    let (sender, receiver) = bounded::<u32>(1);
    let (probe, waker) = probed(&sender);
    let mut cx = Context::from_waker(&waker);
    sender.try_send(0).unwrap();
    let mut sends: Vec<_> = (0..10).map(|n| Box::pin(sender.send(n))).collect();
    let mut closed: Vec<_> = (0..10).map(|_| Box::pin(sender.closed())).collect();
    for send in &mut sends {
        assert!(send.as_mut().poll(&mut cx).is_pending());
    }
    for closed in &mut closed {
        assert!(closed.as_mut().poll(&mut cx).is_pending());
    }
    drop(receiver);
    assert_eq!(probe.counts(), (20, 0));
    let state = lock(&sender.shared);
    assert!(state.room.0.is_empty() && state.closing.0.is_empty());
}

#[test]
fn a_detached_sender_and_its_clones_send_nothing_after_the_end() {
    let (mut sender, receiver) = bounded::<u32>(2);
    sender.detach();
    assert_eq!(receiver.try_recv(), None);
    assert!(receiver.is_terminated());
    let clone = sender.clone();
    assert!(matches!(clone.try_send(1), Err(Refused::Closed(1))));
    assert!(matches!(sender.try_send(2), Err(Refused::Closed(2))));
    assert_eq!(sender.send_blocking(3), Err(3));
    let mut room = None;
    let cx = Context::from_waker(Waker::noop());
    assert_eq!(sender.poll_room(&cx, &mut room), Poll::Ready(Err(())));
    assert!(receiver.is_terminated());
    assert_eq!(receiver.recv_blocking(), None);
}

/// Counts its drops.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn values_left_when_the_receiver_goes_are_dropped_once_after_unlocking() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, receiver) = bounded(3);
    for _ in 0..3 {
        assert!(sender.try_send(Tracked(Arc::clone(&drops))).is_ok());
    }
    drop(receiver.try_recv());
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    drop(receiver);
    assert_eq!(drops.load(Ordering::Relaxed), 3);
    let Err(Refused::Closed(back)) = sender.try_send(Tracked(Arc::clone(&drops))) else {
        panic!("closed");
    };
    drop(back);
    drop(sender);
    assert_eq!(drops.load(Ordering::Relaxed), 4);
}

// Nothing allocated per message or per wait (counted on this thread only).

#[test]
fn messages_and_waits_allocate_nothing_once_the_queue_has_grown() {
    const CAPACITY: usize = 4;
    let (sender, receiver) = bounded::<u64>(CAPACITY);
    let count = Arc::new(Count::default());
    let waker = context(&count);
    let mut cx = Context::from_waker(&waker);
    let mut other = Context::from_waker(Waker::noop());
    let mut round = |n: u64| {
        // Fill the queue, wait on a full channel (two sends, poll_room, closed), make room.
        for k in 0..CAPACITY as u64 {
            sender.try_send(n + k).unwrap();
        }
        let mut first = pin!(sender.send(n + 10));
        let mut second = pin!(sender.send(n + 11));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        let mut room = None;
        assert!(sender.poll_room(&cx, &mut room).is_pending());
        let mut closed = pin!(sender.closed());
        assert!(closed.as_mut().poll(&mut cx).is_pending());
        assert!(closed.as_mut().poll(&mut other).is_pending());
        assert_eq!(receiver.try_recv(), Some(n));
        assert!(first.as_mut().poll(&mut cx).is_ready());
        assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(n + 1)));
        assert!(second.as_mut().poll(&mut cx).is_ready());
        assert_eq!(receiver.try_recv(), Some(n + 2));
        assert_eq!(sender.poll_room(&cx, &mut room), Poll::Ready(Ok(())));
        sender.forget(room, None);
        while receiver.try_recv().is_some() {}
        // The receiver waits, and is woken by a send.
        assert!(receiver.poll_recv(&cx).is_pending());
        assert!(receiver.poll_recv(&other).is_pending());
        sender.try_send(n).unwrap();
        assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(n)));
        // A blocking send and receive that do not wait.
        sender.send_blocking(n).unwrap();
        assert_eq!(receiver.recv_blocking(), Some(n));
    };
    round(0); // the queue and the waiter lists grow to their working size
    let info = allocation_counter::measure(|| {
        for n in 1..1_000 {
            round(n * 100);
        }
    });
    assert_eq!(info.count_total, 0, "allocations: {info:?}");
    assert!(woken(&count) > 0);
}

#[test]
fn the_ends_and_their_futures_can_move_between_threads() {
    fn send_and_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (sender, receiver): (Sender<u32>, Receiver<u32>) = bounded(1);
    send_and_sync(&sender);
    send_and_sync(&receiver);
    send(&sender.send(1));
    send(&sender.closed());
}

#[test]
fn storage_released_when_drained_goes_once_the_queue_is_empty_and_only_once() {
    let (sender, receiver) = bounded(8);
    let cx = Context::from_waker(Waker::noop());
    for value in 0..5 {
        sender.try_send(value).ok().unwrap();
    }
    sender.release_when_drained();
    assert!(lock(&sender.shared).queue.capacity() >= 5, "not empty yet");
    for value in 0..5 {
        assert_eq!(receiver.poll_recv(&cx), Poll::Ready(Some(value)));
    }
    assert_eq!(
        lock(&sender.shared).queue.capacity(),
        0,
        "the last value took it"
    );
    // Until the next release, the queue keeps what it grows to again.
    sender.try_send(5).ok().unwrap();
    assert_eq!(receiver.try_recv(), Some(5));
    assert!(lock(&sender.shared).queue.capacity() > 0);
    sender.release_when_drained();
    assert_eq!(
        lock(&sender.shared).queue.capacity(),
        0,
        "empty already: at once"
    );
}
