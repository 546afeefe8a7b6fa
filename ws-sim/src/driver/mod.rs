//! A deterministic simulation of ws-client's driver: the real [`Driver`] over a scripted
//! runtime, polled by a scheduler decoded from bytes (so proptest and cargo-fuzz search the
//! same space), with an observer that sees only what goes in and what comes out.
//!
//! The scheduler is a single-threaded executor: it polls the driver with a counting waker
//! whenever that waker was woken (and once more without a wake-up after every step, to catch
//! a lost wake-up), and polls the application's pending calls with another. Between polls
//! it applies one [`DriverStep`]: a call on one of several `Client` clones, a handle
//! dropped, the application reading events (or not), a frame, an error or the end of the
//! stream from the peer, write room given or taken, the clock moved to, before or past the
//! timer's deadline, a connect attempt resolved.
//!
//! After every step the [`observer`](DriverInvariant) checks conservation and order of the
//! messages, the heartbeat's, close reply's and connect attempt's bounds in virtual time, one
//! transport at a time, no busy loop and no lost wake-up. At the end a wind-down closes the
//! client (or drops the last handles), lets the world behave, and checks that the driver
//! completes, every pending call returns, the event stream ends after `Closed`, and every
//! message given to a send ended in exactly one outcome. Each scenario runs twice, and the
//! two runs must agree.

pub mod bench;
mod observer;
mod runtime;
mod script;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use tungstenite::error::{CapacityError, ProtocolError};
use tungstenite::protocol::CloseFrame;
use tungstenite::{Error as WireError, Message as WireMessage};
use ws_client::runtime::Driver;
use ws_client::{
    Client, ClientOptions, CloseCode, ConnectionId, Error, Event, Events, Heartbeat, Message,
    SendError, Stage, StateWatch, TrySendError,
};

pub use observer::{DriverCounters, DriverInvariant, DriverViolation};
pub use script::{Advance, DriverScenario, DriverStep, MAX_STEPS};

use observer::{DriverObserver, Lane, violation};
use runtime::{Inbound, Shared, SimRuntime, World, lock};
use script::STATUSES;

/// Driver polls per step before the driver counts as busy-looping. A step adds at most one
/// frame or command, and a poll that has work does up to 16 rounds of it.
const MAX_POLLS_PER_STEP: u32 = 256;

/// Rounds of the wind-down before the driver counts as hung.
const WIND_DOWN_ROUNDS: u32 = 64;

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

impl Wakes {
    fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

enum CallResult {
    Send(Result<(), SendError>),
    Other(Result<(), Error>),
}

/// A handle call the application is waiting on.
struct PendingCall {
    /// The message it carries, if it is a send.
    message: Option<u64>,
    future: Pin<Box<dyn Future<Output = CallResult> + Send>>,
}

/// Measures the allocations made by one driver poll (e.g. with `allocation-counter`).
pub type PollMeter = fn(&mut dyn FnMut()) -> u64;

/// One run of a scenario.
pub struct DriverSim {
    world: Shared,
    driver: Option<Driver<SimRuntime>>,
    driver_wakes: Arc<Wakes>,
    driver_waker: Waker,
    app_wakes: Arc<Wakes>,
    app_waker: Waker,
    clients: [Option<Client>; 4],
    events: Option<Events>,
    watch: StateWatch,
    calls: Vec<PendingCall>,
    next_message: u64,
    next_peer: u64,
    /// Connections the application saw open, latest last.
    opened: Vec<ConnectionId>,
    observer: DriverObserver,
    meter: Option<PollMeter>,
    allocations: u64,
    /// A digest of everything observed, for the determinism check.
    digest: u64,
}

impl std::fmt::Debug for DriverSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverSim")
            .field("counters", &self.observer.counters)
            .finish_non_exhaustive()
    }
}

/// A failed scenario: where, what, and the scenario itself.
#[derive(Debug)]
pub struct DriverFailure {
    /// The step after which the violation was seen (`steps.len()`: in the wind-down).
    pub step: usize,
    /// What went wrong.
    pub violation: DriverViolation,
    /// The scenario, as decoded.
    pub scenario: DriverScenario,
}

impl std::fmt::Display for DriverFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "driver simulation failed: {}", self.violation)?;
        writeln!(
            f,
            "after step {} of {}",
            self.step,
            self.scenario.steps.len()
        )?;
        writeln!(
            f,
            "read hint: {}; config: {:?}",
            self.scenario.read_hint,
            self.scenario.options.config()
        )?;
        for (index, step) in self.scenario.steps.iter().enumerate() {
            let mark = if index == self.step { "  <--" } else { "" };
            writeln!(f, "  {index:3}: {step:?}{mark}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DriverFailure {}

impl DriverScenario {
    /// Runs the scenario twice with every check; the two runs must agree.
    pub fn check(&self) -> Result<DriverCounters, Box<DriverFailure>> {
        let first = self.run(None)?;
        let second = self.run(None)?;
        if first.digest != second.digest {
            return Err(Box::new(DriverFailure {
                step: self.steps.len(),
                violation: violation(
                    DriverInvariant::Determinism,
                    "two runs of the same scenario observed different things".into(),
                ),
                scenario: self.clone(),
            }));
        }
        Ok(first.counters)
    }

    /// Runs the scenario once with every check; `meter`, if given, measures every driver
    /// poll's allocations (see [`DriverSim::allocations`]).
    pub fn run(&self, meter: Option<PollMeter>) -> Result<DriverRun, Box<DriverFailure>> {
        let mut sim = DriverSim::new(self.options.clone(), self.read_hint, meter);
        let fail = |step, violation| {
            Box::new(DriverFailure {
                step,
                violation,
                scenario: self.clone(),
            })
        };
        for (index, step) in self.steps.iter().enumerate() {
            sim.step(step).map_err(|v| fail(index, v))?;
        }
        sim.wind_down().map_err(|v| fail(self.steps.len(), v))?;
        Ok(DriverRun {
            counters: sim.observer.counters,
            digest: sim.digest,
            allocations: sim.allocations,
        })
    }
}

/// What one run measured.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct DriverRun {
    /// What the run did.
    pub counters: DriverCounters,
    /// A digest of everything observed.
    pub digest: u64,
    /// Allocations made inside driver polls, if a meter was given.
    pub allocations: u64,
}

impl DriverSim {
    /// A client on the scripted runtime, not polled yet.
    pub fn new(options: ClientOptions, read_hint: bool, meter: Option<PollMeter>) -> DriverSim {
        let world: Shared = Arc::new(std::sync::Mutex::new(World::new(read_hint)));
        let observer = DriverObserver::new(options.config().clone());
        let runtime = SimRuntime {
            world: Arc::clone(&world),
        };
        let (driver, client, events) = Driver::new(options, runtime);
        let driver_wakes = Arc::new(Wakes::default());
        // A spawned task is polled once.
        driver_wakes.0.store(1, Ordering::Relaxed);
        let app_wakes = Arc::new(Wakes::default());
        DriverSim {
            world,
            driver: Some(driver),
            driver_waker: Waker::from(Arc::clone(&driver_wakes)),
            driver_wakes,
            app_waker: Waker::from(Arc::clone(&app_wakes)),
            app_wakes,
            watch: client.watch_state(),
            clients: [Some(client), None, None, None],
            events: Some(events),
            calls: Vec::new(),
            next_message: 0,
            next_peer: 0,
            opened: Vec::new(),
            observer,
            meter,
            allocations: 0,
            digest: 0xcbf2_9ce4_8422_2325,
        }
    }

    /// Allocations made inside driver polls so far (with a meter).
    pub fn allocations(&self) -> u64 {
        self.allocations
    }

    /// Starts counting allocations afresh (the steady-state window begins).
    pub fn reset_allocations(&mut self) {
        self.allocations = 0;
    }

    /// What the run has done so far.
    pub fn counters(&self) -> DriverCounters {
        self.observer.counters
    }

    fn record(&mut self, what: impl std::fmt::Debug) {
        for byte in format!("{what:?}").bytes() {
            self.digest = (self.digest ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Applies one step, lets everything settle, and checks.
    pub fn step(&mut self, step: &DriverStep) -> Result<(), DriverViolation> {
        if self.observer.counters.polls == 0 {
            // The driver is spawned: polled once before anything happens.
            self.settle()?;
        }
        self.record(step);
        self.apply(step)?;
        self.settle()
    }

    /// Runs the application's woken calls and the driver until both are idle, then polls the
    /// driver once more without a wake-up (it must find nothing to do), then checks.
    fn settle(&mut self) -> Result<(), DriverViolation> {
        for _ in 0..8 {
            self.poll_calls()?;
            self.run_driver()?;
            if self.app_wakes.0.load(Ordering::Relaxed) == 0 {
                break;
            }
        }
        self.check_no_lost_wakeup()?;
        self.no_call_pends_after_closed()?;
        self.observe()
    }

    /// Once the application has read `Closed`, the command channel is closed: every pending
    /// call, polled, completes.
    fn no_call_pends_after_closed(&mut self) -> Result<(), DriverViolation> {
        if !self.observer.closed_read || self.calls.is_empty() {
            return Ok(());
        }
        self.app_wakes.wake_by_ref();
        self.poll_calls()?;
        if self.calls.is_empty() {
            Ok(())
        } else {
            Err(violation(
                DriverInvariant::NoHang,
                format!(
                    "{} handle calls still pend after the application read Closed",
                    self.calls.len()
                ),
            ))
        }
    }

    fn observe(&mut self) -> Result<(), DriverViolation> {
        let mut world = lock(&self.world);
        self.observer.wire(&mut world)?;
        self.observer.timing(&world)
    }

    fn client(&self, slot: u8) -> Option<&Client> {
        let slot = usize::from(slot) % self.clients.len();
        self.clients[slot]
            .as_ref()
            .or_else(|| self.clients.iter().flatten().next())
    }

    fn message(&mut self, binary: bool, lane: Lane) -> (u64, Message) {
        self.next_message += 1;
        let id = self.next_message;
        self.observer.given(id, lane);
        let payload = format!("m{id}");
        let message = if binary {
            Message::Binary(Bytes::from(payload.into_bytes()))
        } else {
            Message::from(payload)
        };
        (id, message)
    }

    /// The connection a `send_now` or `ready` names.
    fn target(&self, stale: bool) -> ConnectionId {
        let back = if stale { 2 } else { 1 };
        self.opened
            .len()
            .checked_sub(back)
            .map_or(ConnectionId(0), |at| self.opened[at])
    }

    fn start_call(
        &mut self,
        message: Option<u64>,
        future: Pin<Box<dyn Future<Output = CallResult> + Send>>,
    ) -> Result<(), DriverViolation> {
        self.calls.push(PendingCall { message, future });
        // A call is polled at once, like an `.await` in a running task.
        self.app_wakes.wake_by_ref();
        self.poll_calls()
    }

    #[allow(clippy::too_many_lines)]
    fn apply(&mut self, step: &DriverStep) -> Result<(), DriverViolation> {
        match *step {
            DriverStep::TrySend { client, binary } => {
                let Some(handle) = self.client(client).cloned() else {
                    return Ok(());
                };
                let (id, message) = self.message(binary, Lane::Plain);
                let result = handle.try_send(message);
                self.record(&result);
                let returned = result.err().map(TrySendError::into_message);
                self.observer.returned(id, returned.as_ref())?;
            }
            DriverStep::Send { client, binary } => {
                let Some(handle) = self.client(client).cloned() else {
                    return Ok(());
                };
                let (id, message) = self.message(binary, Lane::Plain);
                self.start_call(
                    Some(id),
                    Box::pin(async move { CallResult::Send(handle.send(message).await) }),
                )?;
            }
            DriverStep::SendNow { client, stale } => {
                let Some(handle) = self.client(client).cloned() else {
                    return Ok(());
                };
                let connection = self.target(stale);
                let (id, message) = self.message(false, Lane::Ahead);
                self.start_call(
                    Some(id),
                    Box::pin(async move {
                        CallResult::Send(handle.send_now(connection, message).await)
                    }),
                )?;
            }
            DriverStep::Ready { client, stale } => {
                let Some(handle) = self.client(client).cloned() else {
                    return Ok(());
                };
                let connection = self.target(stale);
                self.start_call(
                    None,
                    Box::pin(async move { CallResult::Other(handle.ready(connection).await) }),
                )?;
            }
            DriverStep::Close { client, code } => {
                let Some(handle) = self.client(client).cloned() else {
                    return Ok(());
                };
                self.start_call(
                    None,
                    Box::pin(async move {
                        CallResult::Other(handle.close(CloseCode(code), "bye").await)
                    }),
                )?;
            }
            DriverStep::ReconnectNow { client } => {
                let Some(handle) = self.client(client).cloned() else {
                    return Ok(());
                };
                self.start_call(
                    None,
                    Box::pin(async move { CallResult::Other(handle.reconnect_now().await) }),
                )?;
            }
            DriverStep::NetworkChanged { client } => {
                let Some(handle) = self.client(client).cloned() else {
                    return Ok(());
                };
                self.start_call(
                    None,
                    Box::pin(async move { CallResult::Other(handle.network_changed().await) }),
                )?;
            }
            DriverStep::CloneClient { client } => {
                if let Some(handle) = self.client(client).cloned()
                    && let Some(free) = self.clients.iter_mut().find(|slot| slot.is_none())
                {
                    *free = Some(handle);
                }
            }
            DriverStep::DropClient { client } => {
                self.clients[usize::from(client) % 4] = None;
            }
            DriverStep::DropEvents => {
                if self.events.take().is_some() {
                    self.observer.drop_events();
                }
            }
            DriverStep::ReadEvents(count) => self.read_events(usize::from(count))?,
            DriverStep::PeerData { binary } => {
                self.next_peer += 1;
                let payload = format!("p{}", self.next_peer);
                let message = if binary {
                    WireMessage::Binary(Bytes::from(payload.into_bytes()))
                } else {
                    WireMessage::text(payload)
                };
                self.peer(Inbound::Message(message));
            }
            DriverStep::PeerPing => {
                self.peer(Inbound::Message(WireMessage::Ping(Bytes::from_static(
                    b"peer",
                ))));
            }
            DriverStep::PeerPong => {
                let mut world = lock(&self.world);
                if let Some(socket) = world.current_socket() {
                    let application = matches!(
                        self.observer.config().heartbeat(),
                        Heartbeat::Application { .. }
                    );
                    let reply = if application {
                        WireMessage::text("hb-pong")
                    } else {
                        WireMessage::Pong(world.sockets[socket].last_flushed_ping.map_or_else(
                            || Bytes::from_static(b"unsolicited"),
                            |ping| Bytes::copy_from_slice(ping.as_slice()),
                        ))
                    };
                    world.push_inbound(socket, Inbound::Message(reply));
                }
            }
            DriverStep::PeerClose(code) => {
                self.peer(Inbound::Message(WireMessage::Close(Some(CloseFrame {
                    code: code.into(),
                    reason: "peer".into(),
                }))));
            }
            DriverStep::ReadError(kind) => {
                let error = match kind {
                    0 => WireError::Utf8("invalid utf-8 sequence".into()),
                    1 => WireError::Capacity(CapacityError::MessageTooLong {
                        size: 1 << 30,
                        max_size: 1 << 20,
                    }),
                    2 => WireError::Protocol(ProtocolError::NonZeroReservedBits),
                    _ => WireError::Io(std::io::ErrorKind::ConnectionReset.into()),
                };
                self.peer(Inbound::Error(error));
            }
            DriverStep::Eof => self.peer(Inbound::Eof),
            DriverStep::WritesBlock => self.room(Some(0)),
            DriverStep::WritesRoom(frames) => self.room(Some(usize::from(frames) + 1)),
            DriverStep::WritesFree => self.room(None),
            DriverStep::FlushError => {
                let mut world = lock(&self.world);
                if let Some(socket) = world.current_socket() {
                    world.sockets[socket].flush_error = true;
                    if let Some(waker) = world.sockets[socket].write_waker.take() {
                        waker.wake();
                    }
                }
            }
            DriverStep::Resolve(outcome) => self.resolve(outcome),
            DriverStep::Advance(how) => self.advance(how),
            DriverStep::TimerEarly => {
                let mut world = lock(&self.world);
                world.timer.fire_early = true;
                if let Some(waker) = world.timer.waker.take() {
                    waker.wake();
                }
            }
            DriverStep::SpuriousPoll => self.driver_wakes.wake_by_ref(),
        }
        Ok(())
    }

    fn peer(&mut self, item: Inbound) {
        let mut world = lock(&self.world);
        if let Some(socket) = world.current_socket() {
            world.push_inbound(socket, item);
        }
    }

    fn room(&mut self, room: Option<usize>) {
        let mut world = lock(&self.world);
        if let Some(socket) = world.current_socket() {
            world.set_room(socket, room);
        }
    }

    fn resolve(&mut self, outcome: u8) {
        let mut world = lock(&self.world);
        let Some(index) = world.current_attempt() else {
            return;
        };
        let url = || "ws://sim/".to_owned();
        let io = |kind: std::io::ErrorKind| Arc::new(std::io::Error::from(kind));
        let result = match outcome {
            0 => Ok(()),
            1 => Err(Error::Refused {
                url: url(),
                addr: std::net::SocketAddr::from(([127, 0, 0, 1], 9)),
            }),
            2 => Err(Error::Dns {
                host: "sim".into(),
                source: io(std::io::ErrorKind::NotFound),
            }),
            3 => Err(Error::Tls {
                server: "sim:443".into(),
                reason: "invalid peer certificate: UnknownIssuer".into(),
                source: None,
            }),
            4 => Err(Error::Io {
                url: url(),
                stage: Stage::Connect,
                source: io(std::io::ErrorKind::TimedOut),
            }),
            5 => Err(Error::Protocol {
                url: url(),
                reason: "the server's Sec-WebSocket-Accept does not match".into(),
            }),
            n => {
                let status = STATUSES[usize::from(n - 6) % STATUSES.len()];
                Err(Error::Http {
                    url: url(),
                    status,
                    retry_after: (status == 429 || status == 503)
                        .then(|| Duration::from_millis(u64::from(n) * 100)),
                    body: None,
                })
            }
        };
        let attempt = &mut world.attempts[index];
        attempt.outcome = Some(result);
        if let Some(waker) = attempt.waker.take() {
            waker.wake();
        }
    }

    fn advance(&mut self, how: Advance) {
        let mut world = lock(&self.world);
        let now = world.elapsed;
        let deadline = world.deadline().filter(|deadline| *deadline > now);
        let to = match how {
            Advance::ToDeadline => deadline.unwrap_or(now + Duration::from_millis(1)),
            Advance::JustBefore => deadline.map_or(now, |at| {
                at.checked_sub(Duration::from_millis(1))
                    .unwrap_or(now)
                    .max(now)
            }),
            Advance::PastDeadline(ms) => {
                deadline.unwrap_or(now) + Duration::from_millis(u64::from(ms))
            }
            Advance::By(ms) => now + Duration::from_millis(u64::from(ms)),
            Advance::Minutes(minutes) => now + Duration::from_secs(60 * u64::from(minutes) + 60),
        };
        let by = to.saturating_sub(now);
        if by > self.observer.config().late_tick_threshold() {
            self.observer.late_jump = to;
        }
        world.advance(by);
    }

    /// Reads up to `count` events, like an application awaiting `recv()` in a loop: whenever
    /// none is ready, the driver runs (room in the channel wakes it) before the next try.
    fn read_events(&mut self, count: usize) -> Result<(), DriverViolation> {
        let mut left = count;
        while left > 0 {
            let Some(mut events) = self.events.take() else {
                return Ok(());
            };
            let outcome = self.read_from(&mut events, left);
            self.events = Some(events);
            let read = outcome?;
            if read == 0 || self.observer.stream_ended {
                return Ok(());
            }
            left -= read;
            self.poll_calls()?;
            self.run_driver()?;
        }
        Ok(())
    }

    fn read_from(&mut self, events: &mut Events, count: usize) -> Result<usize, DriverViolation> {
        let waker = self.app_waker.clone();
        let mut context = Context::from_waker(&waker);
        let mut read = 0;
        while read < count {
            match Pin::new(&mut *events).poll_next(&mut context) {
                Poll::Ready(Some(event)) => {
                    read += 1;
                    if let Event::Open { connection, .. } = &event {
                        self.opened.push(*connection);
                    }
                    self.record(&event);
                    self.observer.event(&event)?;
                }
                Poll::Ready(None) => {
                    if !self.observer.closed_read {
                        return Err(violation(
                            DriverInvariant::NoHang,
                            "the event stream ended without Closed".into(),
                        ));
                    }
                    self.observer.stream_ended = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        Ok(read)
    }

    /// Polls the application's calls that were woken; records what they returned.
    fn poll_calls(&mut self) -> Result<(), DriverViolation> {
        if self.app_wakes.take() == 0 {
            return Ok(());
        }
        let waker = self.app_waker.clone();
        let mut context = Context::from_waker(&waker);
        let mut index = 0;
        while index < self.calls.len() {
            let Poll::Ready(result) = self.calls[index].future.as_mut().poll(&mut context) else {
                index += 1;
                continue;
            };
            let call = self.calls.remove(index);
            match result {
                CallResult::Send(result) => {
                    self.record(&result);
                    let id = call.message.expect("a send carries a message");
                    let returned = result.err().map(SendError::into_message);
                    self.observer.returned(id, returned.as_ref())?;
                }
                CallResult::Other(result) => self.record(result.map_err(|e| e.to_string())),
            }
        }
        Ok(())
    }

    fn poll_driver(&mut self) -> Poll<()> {
        let Some(driver) = self.driver.as_mut() else {
            return Poll::Ready(());
        };
        self.observer.counters.polls += 1;
        let mut context = Context::from_waker(&self.driver_waker);
        let poll = match self.meter {
            Some(meter) => {
                let mut outcome = Poll::Pending;
                self.allocations += meter(&mut || {
                    outcome = Pin::new(&mut *driver).poll(&mut context);
                });
                outcome
            }
            None => Pin::new(driver).poll(&mut context),
        };
        if poll.is_ready() {
            self.driver = None;
            self.observer.counters.completed = true;
            self.record("driver completed");
        }
        poll
    }

    /// Polls the driver while it is woken.
    fn run_driver(&mut self) -> Result<(), DriverViolation> {
        let mut polls = 0;
        while self.driver.is_some() && self.driver_wakes.take() > 0 {
            polls += 1;
            if polls > MAX_POLLS_PER_STEP {
                return Err(violation(
                    DriverInvariant::BusyLoop,
                    format!("the driver woke itself {polls} times at one instant"),
                ));
            }
            let _ = self.poll_driver();
            // What it fed is taken in as it goes (the wire log is bounded by one poll).
            let mut world = lock(&self.world);
            self.observer.wire(&mut world)?;
        }
        Ok(())
    }

    /// What the application and the wire can see changing.
    fn fingerprint(&mut self) -> (u64, usize, ws_client::State, bool) {
        let progress = lock(&self.world).progress;
        let queued = self
            .events
            .as_ref()
            .map_or(0, |events| events.size_hint().0);
        (progress, queued, self.watch.get(), self.driver.is_some())
    }

    fn check_no_lost_wakeup(&mut self) -> Result<(), DriverViolation> {
        if self.driver.is_none() {
            return Ok(());
        }
        let before = self.fingerprint();
        let _ = self.poll_driver();
        let after = self.fingerprint();
        if before != after {
            return Err(violation(
                DriverInvariant::LostWakeup,
                format!(
                    "a poll without a wake-up made progress: {before:?} -> {after:?} (a source was ready but had not woken the driver)"
                ),
            ));
        }
        // A poll that found nothing to do may still ask to come back; that must end.
        self.run_driver()
    }

    /// The end of a run: the application closes (or drops its last handles), the world
    /// behaves, and everything must wind down: the driver completes, every pending call
    /// returns, the event stream ends, and every message given ended in exactly one outcome.
    pub fn wind_down(&mut self) -> Result<(), DriverViolation> {
        if self.observer.counters.polls == 0 {
            self.settle()?;
        }
        self.record("wind down");
        // Writes go through from now on; hung attempts stay hung (the close drops them).
        {
            let mut world = lock(&self.world);
            for socket in 0..world.sockets.len() {
                if world.sockets[socket].alive {
                    world.set_room(socket, None);
                }
            }
        }
        if let Some(handle) = self.clients.iter().flatten().next().cloned() {
            self.start_call(
                None,
                Box::pin(async move {
                    CallResult::Other(handle.close(CloseCode::NORMAL, "wind down").await)
                }),
            )?;
        } else if self.events.take().is_some() {
            self.observer.drop_events();
        }
        self.settle()?;
        for _ in 0..WIND_DOWN_ROUNDS {
            self.read_events(usize::MAX)?;
            self.settle()?;
            let events_done = self.events.is_none() || self.observer.stream_ended;
            if self.driver.is_none() && events_done {
                break;
            }
            // Time moves to the next deadline: close timeouts, connect timeouts, backoff.
            let mut world = lock(&self.world);
            let now = world.elapsed;
            let to = world
                .deadline()
                .filter(|at| *at > now)
                .unwrap_or(now + Duration::from_millis(1));
            world.advance(to.saturating_sub(now));
            drop(world);
            self.settle()?;
        }
        if self.driver.is_some() {
            return Err(violation(
                DriverInvariant::NoHang,
                format!(
                    "the driver did not complete after the client closed (state {:?})",
                    self.watch.get()
                ),
            ));
        }
        if self.events.is_some() && !self.observer.stream_ended {
            return Err(violation(
                DriverInvariant::NoHang,
                "the event stream did not end after the driver completed".into(),
            ));
        }
        self.after_the_end()?;
        self.observer.finish()
    }

    /// Once the client is closed, no handle call pends.
    fn after_the_end(&mut self) -> Result<(), DriverViolation> {
        self.app_wakes.wake_by_ref();
        self.poll_calls()?;
        if !self.calls.is_empty() {
            return Err(violation(
                DriverInvariant::NoHang,
                format!(
                    "{} handle calls still pending after the client closed",
                    self.calls.len()
                ),
            ));
        }
        let mut context = Context::from_waker(&self.app_waker);
        for handle in self.clients.iter().flatten() {
            let closed = std::pin::pin!(handle.closed());
            if closed.poll(&mut context).is_pending() {
                return Err(violation(
                    DriverInvariant::NoHang,
                    "`closed()` pends after the client closed".into(),
                ));
            }
            if !handle.is_closed() {
                return Err(violation(
                    DriverInvariant::NoHang,
                    "`is_closed()` is false after the driver completed".into(),
                ));
            }
            let send = std::pin::pin!(handle.send("late"));
            if send.poll(&mut context).is_pending() {
                return Err(violation(
                    DriverInvariant::NoHang,
                    "a send after the client closed pends".into(),
                ));
            }
        }
        for _ in 0..4 {
            let changed = std::pin::pin!(self.watch.changed());
            match changed.poll(&mut context) {
                Poll::Ready(None) => return Ok(()),
                Poll::Ready(Some(_)) => {}
                Poll::Pending => break,
            }
        }
        Err(violation(
            DriverInvariant::NoHang,
            "the state watch does not end after the client closed".into(),
        ))
    }
}

/// The proptest and fuzz entry point: decodes `data`, runs it twice with every check, and
/// panics with the failure (the scenario, the step and the broken promise).
pub fn check_bytes(data: &[u8]) {
    if let Err(failure) = DriverScenario::from_bytes(data).check() {
        panic!("{failure}");
    }
}
