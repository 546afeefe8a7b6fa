//! The driver's own per-message cost, with no sockets and no executor: the real [`Driver`]
//! over an in-memory runtime that does as little as a runtime can (a clock that moves only
//! when told, a timer that remembers its deadline, a socket that drops what it is fed and
//! hands out what it is given), so that what is counted is the path every adapter shares:
//! the command channel, the session and supervisor, the conversions, the event channel, the
//! timer arming and the wake-ups.
//!
//! The socket behaves like tokio-tungstenite's as the driver sees it: a read that finds
//! nothing registers the waker and answers `Pending`, `poll_read_ready` says whether anything
//! arrived since (like ws-tokio's), and a flush always completes (a socket with room). The
//! application awaits like ws-bench's: it sends with `send().await` and waits on the event
//! stream before the echo arrives, so every message costs the same wake-ups as on a real
//! socket.
//!
//! The connection is past `stable_after` before anything is measured: a long-lived connection
//! re-arms its heartbeat on every frame it reads, which a fresh one (whose earliest deadline
//! is the stability timer) would hide.
//!
//! `benches/driver_messages.rs` runs it; `scripts/driver-instructions.sh` counts its
//! instructions per message under callgrind.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use tungstenite::{Error as WireError, Message as WireMessage};
use ws_client::runtime::{BoxFuture, Connected, Driver, Runtime, Timer};
use ws_client::{Attempt, Client, ClientOptions, Error, Event, Events, Message};

/// How far the clock moves before each driver run: time passes between messages, so the
/// heartbeat's deadline moves with every frame read, as it does on a real connection.
const STEP: Duration = Duration::from_micros(5);

/// Driver polls per step before the bench gives up (a driver that keeps waking itself).
const MAX_POLLS: u32 = 64;

/// The kind of the messages exchanged.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Text messages.
    Text,
    /// Binary messages.
    Binary,
}

/// What a bench has pushed through the driver so far.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BenchCounters {
    /// Messages the driver fed to the socket.
    pub fed: u64,
    /// Flushes that completed.
    pub flushes: u64,
    /// Frames the driver read from the socket.
    pub read: u64,
    /// Messages the application received as events.
    pub delivered: u64,
    /// Times the driver was polled.
    pub polls: u64,
    /// Times the driver set its timer.
    pub timer_sets: u64,
}

#[derive(Debug, Default)]
struct Wire {
    inbound: VecDeque<WireMessage>,
    read_waker: Option<Waker>,
    counters: BenchCounters,
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The clock: nanoseconds since `origin`, moved by the bench only.
#[derive(Debug)]
struct Clock {
    origin: Instant,
    elapsed: AtomicU64,
}

impl Clock {
    fn now(&self) -> Instant {
        self.origin + Duration::from_nanos(self.elapsed.load(Ordering::Relaxed))
    }

    fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.elapsed.fetch_add(nanos, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct BenchRuntime {
    clock: Arc<Clock>,
    wire: Shared<Wire>,
}

impl Runtime for BenchRuntime {
    type Socket = BenchSocket;
    type Timer = BenchTimer;

    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn timer(&self) -> BenchTimer {
        BenchTimer {
            clock: Arc::clone(&self.clock),
            wire: Arc::clone(&self.wire),
            deadline: None,
        }
    }

    fn connect(
        &self,
        _options: Arc<ClientOptions>,
        _attempt: Attempt,
    ) -> BoxFuture<Result<Connected<BenchSocket>, Error>> {
        let response = tungstenite::http::Response::builder()
            .status(101)
            .body(None)
            .expect("a static response");
        Box::pin(std::future::ready(Ok(Connected {
            socket: BenchSocket {
                wire: Arc::clone(&self.wire),
            },
            response,
            server: "bench:80".to_owned(),
            label: "ws://bench/".to_owned(),
        })))
    }

    fn poll_read_ready(socket: &BenchSocket, cx: &mut Context<'_>) -> Poll<()> {
        let mut wire = lock(&socket.wire);
        if wire.inbound.is_empty() {
            register(&mut wire.read_waker, cx);
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(known) if known.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// Fires when polled at or after its deadline; the bench wakes the driver itself when it
/// moves the clock that far (only while setting up).
#[derive(Debug)]
struct BenchTimer {
    clock: Arc<Clock>,
    wire: Shared<Wire>,
    deadline: Option<Instant>,
}

impl Timer for BenchTimer {
    fn set(&mut self, deadline: Option<Instant>) {
        lock(&self.wire).counters.timer_sets += 1;
        self.deadline = deadline;
    }

    fn poll_expired(&mut self, _cx: &mut Context<'_>) -> Poll<()> {
        match self.deadline {
            Some(deadline) if self.clock.now() >= deadline => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }
}

#[derive(Debug)]
struct BenchSocket {
    wire: Shared<Wire>,
}

impl Stream for BenchSocket {
    type Item = Result<WireMessage, WireError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut wire = lock(&self.wire);
        let Some(message) = wire.inbound.pop_front() else {
            register(&mut wire.read_waker, cx);
            return Poll::Pending;
        };
        wire.counters.read += 1;
        Poll::Ready(Some(Ok(message)))
    }
}

impl Sink<WireMessage> for BenchSocket {
    type Error = WireError;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: WireMessage) -> Result<(), WireError> {
        lock(&self.wire).counters.fed += 1;
        drop(message);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        lock(&self.wire).counters.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        self.poll_flush(cx)
    }
}

/// Counts wake-ups.
#[derive(Debug, Default)]
struct Wakes(AtomicU64);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// An open client on the in-memory runtime, exchanging one kind of message of one size.
pub struct MessageBench {
    driver: Driver<BenchRuntime>,
    client: Client,
    events: Events,
    clock: Arc<Clock>,
    wire: Shared<Wire>,
    driver_wakes: Arc<Wakes>,
    driver_waker: Waker,
    app_waker: Waker,
    /// What the application sends (cloned per send: a reference count, like ws-bench's).
    message: Message,
    /// What the peer sends (cloned per frame).
    echo: WireMessage,
    polls: u64,
    delivered: u64,
}

impl std::fmt::Debug for MessageBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageBench")
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl MessageBench {
    /// A client with the default options, open and past `stable_after`, exchanging `kind`
    /// messages of `size` bytes.
    pub fn new(kind: Kind, size: usize) -> MessageBench {
        let options = ClientOptions::builder("ws://bench/")
            .seed(1)
            .build()
            .expect("valid options");
        let stable_after = options.config().stable_after();
        let clock = Arc::new(Clock {
            origin: Instant::now(),
            elapsed: AtomicU64::new(0),
        });
        let wire = Shared::default();
        let runtime = BenchRuntime {
            clock: Arc::clone(&clock),
            wire: Arc::clone(&wire),
        };
        let (driver, client, events) = Driver::new(options, runtime);
        let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        let (message, echo) = match kind {
            Kind::Text => {
                let text = String::from_utf8(payload).expect("ASCII");
                (Message::from(text.clone()), WireMessage::text(text))
            }
            Kind::Binary => {
                let bytes = Bytes::from(payload);
                (Message::Binary(bytes.clone()), WireMessage::Binary(bytes))
            }
        };
        let driver_wakes = Arc::new(Wakes::default());
        let mut bench = MessageBench {
            driver,
            client,
            events,
            clock,
            wire,
            driver_waker: Waker::from(Arc::clone(&driver_wakes)),
            driver_wakes,
            app_waker: Waker::from(Arc::new(Wakes::default())),
            message,
            echo,
            polls: 0,
            delivered: 0,
        };
        // Spawned: polled once; it connects at once, and the application sees it open.
        bench.driver_wakes.wake_by_ref();
        bench.run_driver();
        bench.driver_wakes.wake_by_ref();
        bench.run_driver();
        loop {
            match bench.next_event() {
                Some(Event::Open { .. }) => break,
                Some(_) => {}
                None => panic!("the bench client did not open"),
            }
        }
        // Past the stability timer: from here on the heartbeat's deadline is the earliest.
        bench.clock.advance(stable_after + STEP);
        bench.driver_wakes.wake_by_ref();
        bench.run_driver();
        // Warm up: queues and channels reach their working size.
        bench.echo(256);
        bench
    }

    /// What went through so far.
    pub fn counters(&self) -> BenchCounters {
        BenchCounters {
            polls: self.polls,
            delivered: self.delivered,
            ..lock(&self.wire).counters
        }
    }

    /// `count` round trips, as ws-bench's one-in-flight conversation: the application sends
    /// and waits for events, the driver writes, the echo arrives, the driver reads and hands
    /// it on, the application receives it.
    pub fn echo(&mut self, count: usize) {
        for _ in 0..count {
            self.send_one();
            assert!(self.poll_event().is_pending(), "an event before the echo");
            self.run_driver();
            self.peer_sends();
            self.run_driver();
            self.receive_one();
        }
    }

    /// `count` messages from the application to the socket, each on its own wake-up.
    pub fn send(&mut self, count: usize) {
        for _ in 0..count {
            self.send_one();
            self.run_driver();
        }
    }

    /// `count` frames from the socket to the application, each on its own wake-up, the
    /// application waiting for each.
    pub fn receive(&mut self, count: usize) {
        for _ in 0..count {
            assert!(self.poll_event().is_pending(), "an event before the frame");
            self.peer_sends();
            self.run_driver();
            self.receive_one();
        }
    }

    fn send_one(&mut self) {
        let mut context = Context::from_waker(&self.app_waker);
        let send = pin!(self.client.send(self.message.clone()));
        match send.poll(&mut context) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => panic!("send failed: {error}"),
            Poll::Pending => panic!("the command channel is full"),
        }
    }

    fn peer_sends(&mut self) {
        let waker = {
            let mut wire = lock(&self.wire);
            wire.inbound.push_back(self.echo.clone());
            wire.read_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn receive_one(&mut self) {
        match self.poll_event() {
            Poll::Ready(Some(Event::Message(message))) => {
                debug_assert_eq!(message, self.message);
                self.delivered += 1;
            }
            other => panic!("expected the echo, got {other:?}"),
        }
    }

    fn poll_event(&mut self) -> Poll<Option<Event>> {
        let mut context = Context::from_waker(&self.app_waker);
        Pin::new(&mut self.events).poll_next(&mut context)
    }

    fn next_event(&mut self) -> Option<Event> {
        match self.poll_event() {
            Poll::Ready(event) => event,
            Poll::Pending => None,
        }
    }

    /// Polls the driver while it is woken, after the clock moved on by one step.
    fn run_driver(&mut self) {
        self.clock.advance(STEP);
        let mut context = Context::from_waker(&self.driver_waker);
        let mut polls = 0;
        while self.driver_wakes.0.swap(0, Ordering::Relaxed) > 0 {
            polls += 1;
            assert!(polls <= MAX_POLLS, "the driver keeps waking itself");
            self.polls += 1;
            let poll = Pin::new(&mut self.driver).poll(&mut context);
            assert!(poll.is_pending(), "the driver stopped");
        }
    }
}
