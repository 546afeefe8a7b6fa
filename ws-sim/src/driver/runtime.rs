//! The scripted runtime under the real driver: a virtual clock, one timer on it, connect
//! attempts whose outcome the scheduler decides, and sockets whose reads and flushes the
//! scheduler controls. Everything lives in one [`World`] behind a mutex (the `Runtime` trait
//! asks for `Send` types), which the scheduler changes between polls and the observer reads.
//!
//! The sockets behave like tungstenite's where the driver relies on it: a Ping read queues a
//! Pong that goes out with the next flush, a Close read (when we have not closed) queues the
//! Close reply, and a send after our own Close is refused.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use tungstenite::error::ProtocolError;
use tungstenite::{Error as WireError, Message as WireMessage};
use ws_client::runtime::{BoxFuture, Connected, Runtime, Timer};
use ws_client::{Attempt, ClientOptions, Error};

/// The world behind the runtime, shared by it, its timer, attempts and sockets.
pub(crate) type Shared = Arc<Mutex<World>>;

/// Locks the world (a panic elsewhere is reported by the scheduler, not here).
pub(crate) fn lock(world: &Shared) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a read will find.
#[derive(Debug)]
pub(crate) enum Inbound {
    Message(WireMessage),
    Error(WireError),
    /// The end of the stream (a clean EOF).
    Eof,
}

/// A frame written to a socket and not flushed yet.
#[derive(Debug)]
pub(crate) enum Out {
    /// One of our heartbeat pings (its payload copied into a fixed buffer: the simulation
    /// allocates nothing inside the driver's polls).
    Ping(PingCopy),
    /// tungstenite's reply to the peer's Close.
    CloseReply,
    /// Anything else.
    Other,
}

/// A heartbeat ping's payload (the core's sequence number: a few bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PingCopy {
    bytes: [u8; 32],
    len: usize,
}

impl PingCopy {
    fn of(payload: &[u8]) -> PingCopy {
        let mut bytes = [0; 32];
        let len = payload.len().min(32);
        bytes[..len].copy_from_slice(&payload[..len]);
        PingCopy { bytes, len }
    }

    /// The payload.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// One connect attempt, as the runtime sees it.
#[derive(Debug)]
pub(crate) struct AttemptState {
    /// Set by the scheduler; taken by the next poll.
    pub(crate) outcome: Option<Result<(), Error>>,
    pub(crate) waker: Option<Waker>,
    /// The future exists (the driver has not dropped it).
    pub(crate) alive: bool,
    /// The future returned `Ready`.
    pub(crate) done: bool,
    /// When `Runtime::connect` was called.
    pub(crate) started: Duration,
}

/// One socket, as the runtime and the peer see it.
#[derive(Debug)]
pub(crate) struct SocketState {
    pub(crate) inbound: VecDeque<Inbound>,
    pub(crate) read_waker: Option<Waker>,
    pub(crate) write_waker: Option<Waker>,
    /// Fed, not flushed yet, in order.
    pub(crate) unflushed: VecDeque<Out>,
    /// Frames flushes may still push out (`None`: any number).
    pub(crate) room: Option<usize>,
    /// The next flush fails.
    pub(crate) flush_error: bool,
    /// The driver still holds the socket.
    pub(crate) alive: bool,
    /// When the attempt that opened it completed.
    pub(crate) opened: Duration,
    /// When the driver last read a frame from it.
    pub(crate) last_read: Duration,
    /// When a read ended the stream (a Close, an error or EOF was read).
    pub(crate) read_end: Option<Duration>,
    /// When we fed our own Close.
    pub(crate) our_close: Option<Duration>,
    /// The payload of the latest ping that reached the peer.
    pub(crate) last_flushed_ping: Option<PingCopy>,
    /// tungstenite queued a reply to the peer's Close, not flushed yet.
    pub(crate) close_reply_pending: bool,
}

/// The runtime's timer.
#[derive(Debug, Default)]
pub(crate) struct TimerState {
    pub(crate) deadline: Option<Instant>,
    pub(crate) waker: Option<Waker>,
    /// The next poll fires although the deadline has not passed (a timer that fires early).
    pub(crate) fire_early: bool,
    /// The timer fired and was not set since: like async-io's, it stays silent until it is
    /// set again (the `Timer` contract: the driver sets it again after it fired).
    pub(crate) spent: bool,
}

/// Everything the runtime knows.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) origin: Instant,
    /// Virtual time since `origin`.
    pub(crate) elapsed: Duration,
    pub(crate) timer: TimerState,
    pub(crate) attempts: Vec<AttemptState>,
    pub(crate) sockets: Vec<SocketState>,
    /// `poll_read_ready` answers from the socket's state (else: always ready).
    pub(crate) read_hint: bool,
    /// What the driver fed (`start_send` accepted), by socket, oldest first: the observer
    /// drains it after every poll.
    pub(crate) fed: VecDeque<(usize, WireMessage)>,
    /// Frames read by the driver, by socket, oldest first (drained by the observer).
    pub(crate) read: VecDeque<(usize, ReadKind)>,
    /// `connect` was called while another attempt or socket was alive.
    pub(crate) overlapping_connects: u32,
    /// Bumped by every interaction the driver has with the world (a read, a write, a flush
    /// that moved frames, an attempt completed, an object dropped, a connect started).
    pub(crate) progress: u64,
}

/// What a read handed to the driver, for the observer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReadKind {
    /// A text or binary message (its payload).
    Data(Bytes),
    /// A control frame, a Close, an error or EOF.
    Other,
}

impl World {
    pub(crate) fn new(read_hint: bool) -> World {
        World {
            origin: Instant::now(),
            elapsed: Duration::ZERO,
            timer: TimerState::default(),
            attempts: Vec::new(),
            sockets: Vec::new(),
            read_hint,
            fed: VecDeque::new(),
            read: VecDeque::new(),
            overlapping_connects: 0,
            progress: 0,
        }
    }

    pub(crate) fn now(&self) -> Instant {
        self.origin + self.elapsed
    }

    /// The timer's deadline as virtual time, if one is set.
    pub(crate) fn deadline(&self) -> Option<Duration> {
        self.timer
            .deadline
            .map(|at| at.saturating_duration_since(self.origin))
    }

    /// Moves the clock on; wakes the timer if its deadline has passed.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.elapsed += by;
        if self.timer.deadline.is_some_and(|at| self.now() >= at)
            && !self.timer.spent
            && let Some(waker) = self.timer.waker.take()
        {
            waker.wake();
        }
    }

    /// The socket the peer talks on: the newest one the driver holds whose stream has not
    /// ended.
    pub(crate) fn current_socket(&self) -> Option<usize> {
        self.sockets
            .iter()
            .rposition(|socket| socket.alive && socket.read_end.is_none())
    }

    /// The attempt the scheduler decides on: the newest live, unresolved one.
    pub(crate) fn current_attempt(&self) -> Option<usize> {
        self.attempts
            .iter()
            .rposition(|attempt| attempt.alive && !attempt.done && attempt.outcome.is_none())
    }

    /// Makes `item` the socket's next read.
    pub(crate) fn push_inbound(&mut self, socket: usize, item: Inbound) {
        let socket = &mut self.sockets[socket];
        socket.inbound.push_back(item);
        if let Some(waker) = socket.read_waker.take() {
            waker.wake();
        }
    }

    /// Lets flushes push out `room` more frames (`None`: any number); `Some(0)` blocks.
    pub(crate) fn set_room(&mut self, socket: usize, room: Option<usize>) {
        let socket = &mut self.sockets[socket];
        socket.room = match (socket.room, room) {
            (Some(old), Some(more)) if more > 0 => Some(old + more),
            (_, room) => room,
        };
        if socket.room != Some(0)
            && let Some(waker) = socket.write_waker.take()
        {
            waker.wake();
        }
    }
}

/// The runtime the driver runs on.
#[derive(Debug)]
pub(crate) struct SimRuntime {
    pub(crate) world: Shared,
}

impl Runtime for SimRuntime {
    type Socket = SimSocket;
    type Timer = SimTimer;

    fn now(&self) -> Instant {
        lock(&self.world).now()
    }

    fn timer(&self) -> SimTimer {
        SimTimer {
            world: Arc::clone(&self.world),
        }
    }

    fn connect(
        &self,
        _options: Arc<ClientOptions>,
        _attempt: Attempt,
    ) -> BoxFuture<Result<Connected<SimSocket>, Error>> {
        let mut world = lock(&self.world);
        let live_attempt = world.attempts.iter().any(|attempt| attempt.alive);
        let live_socket = world.sockets.iter().any(|socket| socket.alive);
        if live_attempt || live_socket {
            world.overlapping_connects += 1;
        }
        let started = world.elapsed;
        world.attempts.push(AttemptState {
            outcome: None,
            waker: None,
            alive: true,
            done: false,
            started,
        });
        world.progress += 1;
        let index = world.attempts.len() - 1;
        Box::pin(SimAttempt {
            world: Arc::clone(&self.world),
            index,
        })
    }

    fn poll_read_ready(socket: &SimSocket, cx: &mut Context<'_>) -> Poll<()> {
        let mut world = lock(&socket.world);
        if !world.read_hint {
            return Poll::Ready(());
        }
        let state = &mut world.sockets[socket.index];
        if state.inbound.is_empty() {
            register(&mut state.read_waker, cx);
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

/// The driver's timer.
#[derive(Debug)]
pub(crate) struct SimTimer {
    world: Shared,
}

impl Timer for SimTimer {
    fn set(&mut self, deadline: Option<Instant>) {
        let mut world = lock(&self.world);
        world.timer.deadline = deadline;
        world.timer.spent = false;
        // A timer that fires early fires on its next poll, whatever the deadline.
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut world = lock(&self.world);
        if std::mem::take(&mut world.timer.fire_early) {
            world.timer.spent = true;
            return Poll::Ready(());
        }
        let now = world.now();
        match world.timer.deadline {
            Some(deadline) if now >= deadline && !world.timer.spent => {
                world.timer.spent = true;
                Poll::Ready(())
            }
            _ => {
                register(&mut world.timer.waker, cx);
                Poll::Pending
            }
        }
    }
}

/// A connect attempt: pending until the scheduler decides its outcome.
struct SimAttempt {
    world: Shared,
    index: usize,
}

impl std::future::Future for SimAttempt {
    type Output = Result<Connected<SimSocket>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut world = lock(&self.world);
        let elapsed = world.elapsed;
        let attempt = &mut world.attempts[self.index];
        let Some(outcome) = attempt.outcome.take() else {
            register(&mut attempt.waker, cx);
            return Poll::Pending;
        };
        attempt.done = true;
        world.progress += 1;
        if let Err(error) = outcome {
            return Poll::Ready(Err(error));
        }
        world.sockets.push(SocketState {
            inbound: VecDeque::new(),
            read_waker: None,
            write_waker: None,
            unflushed: VecDeque::new(),
            room: None,
            flush_error: false,
            alive: true,
            opened: elapsed,
            last_read: elapsed,
            read_end: None,
            our_close: None,
            last_flushed_ping: None,
            close_reply_pending: false,
        });
        let socket = SimSocket {
            world: Arc::clone(&self.world),
            index: world.sockets.len() - 1,
        };
        let response = tungstenite::http::Response::builder()
            .status(101)
            .body(None)
            .expect("a static response");
        Poll::Ready(Ok(Connected {
            socket,
            response,
            server: "sim:80".to_owned(),
            label: "ws://sim/".to_owned(),
        }))
    }
}

impl Drop for SimAttempt {
    fn drop(&mut self) {
        let mut world = lock(&self.world);
        world.attempts[self.index].alive = false;
        world.progress += 1;
    }
}

/// An open WebSocket over the scripted wire.
#[derive(Debug)]
pub(crate) struct SimSocket {
    world: Shared,
    index: usize,
}

impl Drop for SimSocket {
    fn drop(&mut self) {
        let mut world = lock(&self.world);
        world.sockets[self.index].alive = false;
        world.progress += 1;
    }
}

impl Stream for SimSocket {
    type Item = Result<WireMessage, WireError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let index = self.index;
        let mut world = lock(&self.world);
        let now = world.elapsed;
        let socket = &mut world.sockets[index];
        let Some(item) = socket.inbound.pop_front() else {
            register(&mut socket.read_waker, cx);
            return Poll::Pending;
        };
        socket.last_read = now;
        let (item, kind) = match item {
            Inbound::Message(message) => {
                let kind = match &message {
                    WireMessage::Text(text) => ReadKind::Data(Bytes::from(text.clone())),
                    WireMessage::Binary(bytes) => ReadKind::Data(bytes.clone()),
                    _ => ReadKind::Other,
                };
                match &message {
                    // tungstenite queues the Pong, sent with the next write or flush.
                    WireMessage::Ping(_) => socket.unflushed.push_back(Out::Other),
                    WireMessage::Close(_) => {
                        socket.read_end = Some(now);
                        if socket.our_close.is_none() {
                            socket.unflushed.push_back(Out::CloseReply);
                            socket.close_reply_pending = true;
                        }
                    }
                    _ => {}
                }
                (Some(Ok(message)), kind)
            }
            Inbound::Error(error) => {
                socket.read_end = Some(now);
                (Some(Err(error)), ReadKind::Other)
            }
            Inbound::Eof => {
                socket.read_end = Some(now);
                (None, ReadKind::Other)
            }
        };
        world.read.push_back((index, kind));
        world.progress += 1;
        Poll::Ready(item)
    }
}

impl Sink<WireMessage> for SimSocket {
    type Error = WireError;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: WireMessage) -> Result<(), WireError> {
        let index = self.index;
        let mut world = lock(&self.world);
        let now = world.elapsed;
        let socket = &mut world.sockets[index];
        if socket.our_close.is_some() {
            return Err(WireError::Protocol(ProtocolError::SendAfterClosing));
        }
        let out = match &message {
            WireMessage::Ping(payload) => Out::Ping(PingCopy::of(payload)),
            WireMessage::Close(_) => {
                socket.our_close = Some(now);
                Out::Other
            }
            _ => Out::Other,
        };
        socket.unflushed.push_back(out);
        world.fed.push_back((index, message));
        world.progress += 1;
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        let index = self.index;
        let mut world = lock(&self.world);
        let socket = &mut world.sockets[index];
        if std::mem::take(&mut socket.flush_error) {
            return Poll::Ready(Err(WireError::Io(std::io::ErrorKind::BrokenPipe.into())));
        }
        let mut moved = false;
        while socket.room != Some(0)
            && let Some(out) = socket.unflushed.pop_front()
        {
            if let Some(room) = &mut socket.room {
                *room -= 1;
            }
            moved = true;
            match out {
                Out::Ping(payload) => socket.last_flushed_ping = Some(payload),
                Out::CloseReply => socket.close_reply_pending = false,
                Out::Other => {}
            }
        }
        let done = socket.unflushed.is_empty();
        if !done {
            register(&mut socket.write_waker, cx);
        }
        if moved {
            world.progress += 1;
        }
        if done {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        self.poll_flush(cx)
    }
}
