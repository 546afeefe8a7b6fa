//! The deterministic fault simulator: a punctual driver, a scripted server and an application
//! run a supervisor through hours of virtual time while the server and the network go through
//! the phases of a [`Schedule`] (healthy, silent, dropping, closing, refusing, unreachable,
//! hanging; the client's process now and then suspended), with the [`Observer`](crate::Observer)
//! checking every call.
//!
//! Everything is drawn from the seed, so a failure is reproduced by its seed alone; a failing
//! run is replayed, recorded and shrunk to a minimal list of calls.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use core::time::Duration;

use ws_core::{
    Bytes, CloseCode, ConnectFailure, ConnectionId, Disconnect, Event, Frame, Heartbeat, Input,
    Instant, Jitter, Message, Text, TransportError,
};

use crate::fault::Behaviour;
use crate::harness::sample;
use crate::observation::{Call, Observation};
use crate::observed::ObservedSupervisor;
use crate::observer::{BackoffSample, Counters};
use crate::rng::SplitMix;
use crate::schedule::Schedule;
use crate::shrink::minimize;
use crate::violation::{Invariant, Violation};
use ws_core::Action;

/// One dead peer caught by the heartbeat.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Detection {
    /// From the peer's last sign of life to the drop.
    pub since_last_sign_of_life: Duration,
    /// From the moment the server fell silent (or its last frame in flight arrived, if later)
    /// to the drop, when it fell silent while the connection was open.
    pub since_silence: Option<Duration>,
    /// The configured bound: `ping_interval + pong_timeout` (`idle_timeout` when
    /// server-driven).
    pub bound: Duration,
    /// The client's process was suspended during this connection (late ticks: the bound
    /// does not apply, a probe does).
    pub suspended: bool,
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Measurements {
    /// Calls made.
    pub calls: u64,
    /// Virtual time covered.
    pub virtual_time: Duration,
    /// Dead peers caught.
    pub detections: Vec<Detection>,
    /// Reconnect delays, with their jitter mode and allowed range.
    pub backoffs: Vec<(Jitter, BackoffSample)>,
    /// The observer's counters at the end.
    pub counters: Counters,
}

/// A run that broke a guarantee.
#[derive(Clone, Debug)]
pub struct SimFailure {
    /// The schedule's seed: `simulate(seed, hours)` replays it.
    pub seed: u64,
    /// Hours of the schedule.
    pub hours: u64,
    /// What broke.
    pub violation: Violation,
    /// A minimal list of calls (time and call) that still breaks the same invariant on a
    /// fresh supervisor with the schedule's config and seed.
    pub minimal: Vec<(Instant, Call)>,
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.violation)?;
        writeln!(
            f,
            "seed: {} (replay: ws_sim::simulate({}, {}))",
            self.seed, self.seed, self.hours
        )?;
        writeln!(f, "minimal reproduction ({} calls):", self.minimal.len())?;
        for (at, call) in &self.minimal {
            writeln!(f, "  {at:?}: {call:?}")?;
        }
        Ok(())
    }
}

/// Runs the schedule drawn from `seed` for `hours` of virtual time with every invariant
/// checked; on a violation or a panic, returns the seed with a shrunk reproduction.
pub fn simulate(seed: u64, hours: u64) -> Result<Measurements, Box<SimFailure>> {
    let schedule = Schedule::generate(seed, hours);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        Simulation::new(schedule.clone(), false).run()
    }));
    let violation = match outcome {
        Ok(Ok(measurements)) => return Ok(measurements),
        Ok(Err(violation)) => violation,
        Err(panic) => Violation {
            invariant: Invariant::Totality,
            call: 0,
            at: Instant::ZERO,
            detail: format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default()
            ),
        },
    };
    Err(Box::new(SimFailure {
        seed,
        hours,
        minimal: shrink(&schedule, violation.invariant),
        violation,
    }))
}

/// Replays the run with its trace recorded, and shrinks the trace.
fn shrink(schedule: &Schedule, invariant: Invariant) -> Vec<(Instant, Call)> {
    let mut recorded = Simulation::new(schedule.clone(), true);
    let trace: Vec<(Instant, Call)> = match catch_unwind(AssertUnwindSafe(|| {
        let _ = recorded.run_inner();
        recorded
            .observed
            .trace()
            .iter()
            .map(|o| (o.now, o.call.clone()))
            .collect()
    })) {
        Ok(trace) => trace,
        Err(_) => return Vec::new(),
    };
    let fails = |calls: &[(Instant, Call)]| {
        catch_unwind(AssertUnwindSafe(|| {
            let mut observed =
                ObservedSupervisor::new(schedule.config.clone(), schedule.seed).without_trace();
            calls.iter().any(|(at, call)| {
                observed
                    .call(*at, call.clone())
                    .is_err_and(|v| v.invariant == invariant)
            })
        }))
        .unwrap_or(invariant == Invariant::Totality)
    };
    minimize(&trace, fails)
}

/// What the server sends, scheduled for a time.
#[derive(Clone, Debug)]
enum PeerEvent {
    Opened,
    Failed(ConnectFailure),
    Frame(Frame),
    Error(TransportError),
    Closed(u16),
    /// The server's next unsolicited message.
    Chatter,
}

struct Simulation {
    schedule: Schedule,
    observed: ObservedSupervisor,
    rng: SplitMix,
    now: Instant,
    end: Instant,
    pending: BTreeMap<(Instant, u64), (ConnectionId, PeerEvent)>,
    scheduled: u64,
    phase: usize,
    phase_end: Instant,
    asleep_until: Option<Instant>,
    /// The connection the server considers open.
    server_connection: Option<ConnectionId>,
    /// When the server fell silent on the open connection.
    silent_since: Option<Instant>,
    /// The client was suspended while the current connection was open.
    suspended: bool,
    /// When the last frame reached the client on the current connection.
    last_frame: Option<Instant>,
    next_send: Instant,
    payloads: u64,
    /// When the application calls `connect()` again after a stop or its own close.
    app_connect_at: Option<Instant>,
    app_closed: bool,
    login_due: Option<ConnectionId>,
    measurements: Measurements,
}

impl Simulation {
    fn new(schedule: Schedule, record: bool) -> Self {
        let observed = ObservedSupervisor::new(schedule.config.clone(), schedule.seed);
        let observed = if record {
            observed
        } else {
            observed.without_trace()
        };
        let end = Instant::ZERO + schedule.duration();
        let phase_end = Instant::ZERO
            + schedule
                .phases
                .first()
                .map_or(Duration::ZERO, |p| p.duration);
        Simulation {
            rng: SplitMix::new(schedule.seed ^ 0x5EED_F00D),
            next_send: Instant::ZERO + schedule.app.send_every,
            schedule,
            observed,
            now: Instant::ZERO,
            end,
            pending: BTreeMap::new(),
            scheduled: 0,
            phase: 0,
            phase_end,
            asleep_until: None,
            server_connection: None,
            silent_since: None,
            suspended: false,
            last_frame: None,
            payloads: 0,
            app_connect_at: None,
            app_closed: false,
            login_due: None,
            measurements: Measurements::default(),
        }
    }

    fn behaviour(&self) -> Behaviour {
        self.schedule
            .phases
            .get(self.phase)
            .map_or(Behaviour::Blackhole, |p| p.behaviour)
    }

    fn run(mut self) -> Result<Measurements, Violation> {
        self.run_inner()?;
        self.measurements.counters = self.observed.observer().counters();
        self.measurements.virtual_time = self.now - Instant::ZERO;
        Ok(self.measurements)
    }

    fn run_inner(&mut self) -> Result<(), Violation> {
        if let Some(phase) = self.schedule.phases.first().copied() {
            self.start_phase(phase)?;
        }
        self.call(Call::Connect)?;
        while let Some(wake) = self.next_wake()
            && wake < self.end
        {
            self.now = self.now.max(wake);
            self.step()?;
        }
        self.finish()
    }

    /// The next moment anything happens, pushed past a suspension.
    fn next_wake(&self) -> Option<Instant> {
        let candidates = [
            self.pending.keys().next().map(|(at, _)| *at),
            self.observed.supervisor().poll_timeout(),
            (!self.app_closed && !self.observed.observer().is_idle()).then_some(self.next_send),
            Some(self.phase_end),
            self.app_connect_at,
        ];
        let wake = candidates.into_iter().flatten().min()?;
        Some(self.asleep_until.map_or(wake, |until| wake.max(until)))
    }

    /// Everything due at `now`: a phase change, the server's messages, the application, and
    /// the tick (inputs first, as a driver that reads its socket before its timer).
    fn step(&mut self) -> Result<(), Violation> {
        if self.asleep_until.is_some_and(|until| until <= self.now) {
            self.asleep_until = None;
        }
        while self.now >= self.phase_end && self.phase + 1 < self.schedule.phases.len() {
            self.phase += 1;
            let phase = self.schedule.phases[self.phase];
            self.phase_end = self.phase_end + phase.duration;
            self.start_phase(phase)?;
        }
        if self.now >= self.phase_end {
            self.phase_end = self.end;
        }
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (connection, event) = entry.remove();
            self.deliver(connection, event)?;
        }
        self.application()?;
        if self
            .observed
            .supervisor()
            .poll_timeout()
            .is_some_and(|at| at <= self.now)
        {
            self.call(Call::Tick)?;
        }
        Ok(())
    }

    fn start_phase(&mut self, phase: crate::fault::Phase) -> Result<(), Violation> {
        let behaviour = phase.behaviour;
        if let Some(connection) = self.server_connection {
            match behaviour {
                Behaviour::Healthy { chatter, .. } => {
                    self.silent_since = None;
                    if let Some(every) = chatter {
                        self.schedule_at(self.now + every, connection, PeerEvent::Chatter);
                    }
                }
                Behaviour::Silent { .. } => {
                    self.silent_since.get_or_insert(self.now);
                }
                Behaviour::CloseWith { code, .. } => {
                    self.schedule_at(self.now, connection, PeerEvent::Closed(code));
                }
                _ => self.schedule_at(self.now, connection, PeerEvent::Error(TransportError::Eof)),
            }
        }
        if phase.network_change {
            self.call(Call::Input(Input::NetworkChanged))?;
        }
        if self.phase > 0 && self.rng.chance(self.schedule.app.close_percent) {
            self.app_close()?;
        }
        if let Some(asleep) = phase.suspend {
            self.asleep_until = Some(self.now + asleep);
            self.suspended |= self.server_connection.is_some();
        }
        Ok(())
    }

    fn app_close(&mut self) -> Result<(), Violation> {
        self.call(Call::Close {
            code: CloseCode::NORMAL,
            reason: Text::from_static("bye"),
        })?;
        self.app_closed = true;
        self.app_connect_at = Some(self.now + Duration::from_secs(60));
        Ok(())
    }

    fn application(&mut self) -> Result<(), Violation> {
        if self.app_connect_at.is_some_and(|at| at <= self.now) {
            self.app_connect_at = None;
            self.app_closed = false;
            self.call(Call::Connect)?;
        }
        // The connection may have ended since it opened: the supervisor then refuses the
        // login and ignores the ready, which the observer checks.
        if let Some(connection) = self.login_due.take() {
            let login = self.fresh_message("login");
            self.call(Call::SendNow {
                connection,
                message: login,
            })?;
            self.call(Call::Ready { connection })?;
        }
        if self.next_send <= self.now {
            self.next_send = self.now + self.schedule.app.send_every;
            if !self.app_closed {
                let message = self.fresh_message("m");
                let every = u64::from(self.schedule.app.deadline_every);
                // Some deadlines are already due: data that was stale before it could be sent.
                let deadline = (every > 0 && self.payloads.is_multiple_of(every)).then(|| {
                    if self.rng.chance(10) {
                        self.now
                    } else {
                        self.now + self.rng.millis(1, 60_000)
                    }
                });
                self.call(Call::Send { message, deadline })?;
            }
        }
        Ok(())
    }

    fn fresh_message(&mut self, prefix: &str) -> Message {
        self.payloads += 1;
        Message::from(format!("{prefix}{}", self.payloads))
    }

    fn schedule_at(&mut self, at: Instant, connection: ConnectionId, event: PeerEvent) {
        self.scheduled += 1;
        self.pending
            .insert((at, self.scheduled), (connection, event));
    }

    fn deliver(&mut self, connection: ConnectionId, event: PeerEvent) -> Result<(), Violation> {
        if matches!(event, PeerEvent::Frame(_) | PeerEvent::Chatter)
            && self.server_connection == Some(connection)
        {
            self.last_frame = Some(self.now);
        }
        let input = match event {
            PeerEvent::Opened => Input::Opened { connection },
            PeerEvent::Failed(failure) => Input::ConnectFailed {
                connection,
                failure,
            },
            PeerEvent::Frame(frame) => Input::Frame { connection, frame },
            PeerEvent::Error(error) => Input::Error { connection, error },
            PeerEvent::Closed(code) => Input::Closed {
                connection,
                code: CloseCode(code),
                reason: Text::new(),
            },
            PeerEvent::Chatter => {
                let Behaviour::Healthy {
                    chatter: Some(every),
                    ..
                } = self.behaviour()
                else {
                    return Ok(());
                };
                if self.server_connection != Some(connection) {
                    return Ok(());
                }
                self.schedule_at(self.now + every, connection, PeerEvent::Chatter);
                self.payloads += 1;
                let frame = if matches!(self.schedule.config.heartbeat(), Heartbeat::ServerDriven)
                    && self.payloads.is_multiple_of(2)
                {
                    Frame::Ping(Bytes::from_static(b"server"))
                } else {
                    Frame::Text(Text::from(format!("srv{}", self.payloads)))
                };
                Input::Frame { connection, frame }
            }
        };
        self.call(Call::Input(input))
    }

    /// Performs a call at `now`, checks it, and lets the server and the application react.
    fn call(&mut self, call: Call) -> Result<(), Violation> {
        let alive_before = self.observed.observer().last_sign_of_life();
        let observation = self.observed.call(self.now, call)?.clone();
        self.measurements.calls += 1;
        self.react(&observation, alive_before);
        Ok(())
    }

    fn react(&mut self, observation: &Observation, alive_before: Option<Instant>) {
        let behaviour = self.behaviour();
        for action in &observation.actions {
            match action {
                Action::Connect { connection, .. } => self.server_connect(*connection, behaviour),
                Action::Ping(payload) if behaviour.answers() => {
                    if let (Some(connection), Some(delay)) =
                        (self.server_connection, reply_delay(behaviour))
                    {
                        let pong = Frame::Pong(Bytes::copy_from_slice(payload.as_bytes()));
                        self.schedule_at(self.now + delay, connection, PeerEvent::Frame(pong));
                    }
                }
                Action::Heartbeat(message) if behaviour.answers() => {
                    if let Heartbeat::Application { ping, pong } = self.schedule.config.heartbeat()
                        && ping == message
                        && let (Some(connection), Some(delay)) =
                            (self.server_connection, reply_delay(behaviour))
                    {
                        let reply = Frame::from(sample(pong));
                        self.schedule_at(self.now + delay, connection, PeerEvent::Frame(reply));
                    }
                }
                Action::Close { .. } if behaviour.answers() => {
                    if let Some(connection) = self.server_connection {
                        self.schedule_at(
                            self.now + Duration::from_millis(20),
                            connection,
                            PeerEvent::Closed(1000),
                        );
                    }
                }
                Action::Abort => self.server_connection = None,
                _ => {}
            }
        }
        for event in &observation.events {
            match event {
                Event::Open { connection } => self.server_open(*connection, behaviour),
                Event::Disconnected { cause, .. } => {
                    if matches!(
                        cause,
                        Disconnect::HeartbeatTimeout | Disconnect::IdleTimeout
                    ) && let Some(alive) = alive_before
                    {
                        let config = &self.schedule.config;
                        let bound = if matches!(config.heartbeat(), Heartbeat::ServerDriven) {
                            config.idle_timeout()
                        } else {
                            config.ping_interval() + config.pong_timeout()
                        };
                        self.measurements.detections.push(Detection {
                            since_last_sign_of_life: self.now - alive,
                            since_silence: self
                                .silent_since
                                .map(|s| self.now - s.max(self.last_frame.unwrap_or(s))),
                            bound,
                            suspended: self.suspended,
                        });
                    }
                    self.server_connection = None;
                    self.silent_since = None;
                    self.suspended = false;
                }
                Event::Reconnecting { .. } => {
                    if let Some(sample) = self.observed.observer().last_backoff() {
                        self.measurements
                            .backoffs
                            .push((self.schedule.config.jitter(), sample));
                    }
                }
                Event::Closed if !self.app_closed => {
                    self.app_connect_at = Some(self.now + self.schedule.app.retry_after_stop);
                }
                _ => {}
            }
        }
    }

    /// The server's side of a connect attempt.
    fn server_connect(&mut self, connection: ConnectionId, behaviour: Behaviour) {
        match behaviour {
            Behaviour::Refuse {
                status,
                retry_after,
            } => self.schedule_at(
                self.now + Duration::from_millis(10),
                connection,
                PeerEvent::Failed(ConnectFailure::Http {
                    status,
                    retry_after,
                }),
            ),
            Behaviour::Unreachable { after } => self.schedule_at(
                self.now + after,
                connection,
                PeerEvent::Failed(ConnectFailure::Io),
            ),
            Behaviour::Blackhole => {}
            other => {
                let handshake = other.handshake().unwrap_or_default();
                self.schedule_at(self.now + handshake, connection, PeerEvent::Opened);
            }
        }
    }

    /// The server's side of an open connection.
    fn server_open(&mut self, connection: ConnectionId, behaviour: Behaviour) {
        self.server_connection = Some(connection);
        // Opened in the same instant the client fell asleep: it sleeps on an open connection.
        self.suspended = self.asleep_until.is_some();
        self.silent_since = None;
        match behaviour {
            Behaviour::Silent { .. } => self.silent_since = Some(self.now),
            Behaviour::DropLink { after, .. } => {
                self.schedule_at(
                    self.now + after,
                    connection,
                    PeerEvent::Error(TransportError::Eof),
                );
            }
            Behaviour::CloseWith { after, code, .. } => {
                self.schedule_at(self.now + after, connection, PeerEvent::Closed(code));
            }
            Behaviour::Healthy {
                chatter: Some(every),
                ..
            } => self.schedule_at(self.now + every, connection, PeerEvent::Chatter),
            _ => {}
        }
        if self.schedule.config.hold_queue_until_ready() {
            self.login_due = Some(connection);
        }
    }

    /// The application closes; the run drains until the supervisor is idle, and every message
    /// must have found its outcome.
    fn finish(&mut self) -> Result<(), Violation> {
        self.now = self.now.max(self.end);
        self.asleep_until = None;
        self.app_connect_at = None;
        self.app_close()?;
        self.app_connect_at = None;
        let deadline = self.now + Duration::from_secs(3_600);
        while !self.observed.observer().is_idle() {
            let Some(wake) = [
                self.pending.keys().next().map(|(at, _)| *at),
                self.observed.supervisor().poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min()
            .filter(|at| *at < deadline) else {
                break;
            };
            self.now = self.now.max(wake);
            while let Some(entry) = self.pending.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let (connection, event) = entry.remove();
                self.deliver(connection, event)?;
            }
            if self
                .observed
                .supervisor()
                .poll_timeout()
                .is_some_and(|at| at <= self.now)
            {
                self.call(Call::Tick)?;
            }
        }
        let unresolved = self.observed.observer().unresolved_messages();
        if !self.observed.observer().is_idle() || unresolved > 0 {
            return Err(Violation {
                invariant: Invariant::Conservation,
                call: self.observed.observer().calls(),
                at: self.now,
                detail: format!(
                    "after close() and an hour of draining: idle {}, {unresolved} messages without an outcome",
                    self.observed.observer().is_idle()
                ),
            });
        }
        Ok(())
    }
}

fn reply_delay(behaviour: Behaviour) -> Option<Duration> {
    match behaviour {
        Behaviour::Healthy { reply_delay, .. } => Some(reply_delay),
        Behaviour::DropLink { .. } | Behaviour::CloseWith { .. } => Some(Duration::from_millis(50)),
        _ => None,
    }
}
