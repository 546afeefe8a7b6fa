//! The invariant checker.
//!
//! The [`Observer`] is fed every call made on a supervisor ([`Observation`]s, in order) and
//! judges it by what went in and what came out, never by the supervisor's internals. From that
//! alone it keeps the picture a careful driver and application would keep — which transport is
//! live and in which phase, when the peer last showed life, which reconnect streak is running,
//! where every message is — and checks DESIGN §3's invariants 1–7 and 9 against it after every
//! call (8, determinism, needs two runs: see [`Harness`](crate::Harness)).
//!
//! Each output must be justified by the call (an `Abort` by a due deadline or a command, a
//! `Connect` by a command or an elapsed backoff…), each due effect must appear, and after each
//! call `poll_timeout()` must equal the earliest deadline of that picture.
//!
//! Replay messages (the config's `replay_on_open`) are not `send()` messages: at each open the
//! observer asks the replay function for them (so it must be a pure function of the
//! connection id, as the generators' are), expects exactly them as the first `Send`s of that
//! call, and keeps them out of the conservation ledger.

use std::collections::{BTreeSet, VecDeque};

use core::time::Duration;

use ws_core::{
    Action, CloseCode, CloseError, Config, ConnectFailure, ConnectionId, Disconnect, Event,
    Heartbeat, Input, Instant, Message, ReconnectDecision, SendErrorKind, Text, UndeliveredReason,
};

use crate::backoff_bounds::{delay_bounds, raise_to_retry_after, within};
use crate::heartbeat_model::{Due, Inbound, Mode, OpenHeartbeat, PingLedger, is_alive, reachable};
use crate::ledger::{CallLedger, Intake, Ledger};
use crate::observation::{Call, Observation, Returned};
use crate::violation::{Invariant, Violation};

/// Longest reason a Close frame can carry.
const MAX_CLOSE_REASON: usize = 123;

/// Checks every call made on one supervisor against the contract.
///
/// Feed it every call, in order, with [`observe`](Self::observe) (or let
/// [`ObservedSupervisor`](crate::ObservedSupervisor) do it). Messages must have unique
/// payloads: the observer follows them by payload.
#[derive(Debug)]
pub struct Observer {
    config: Config,
    enabled: BTreeSet<Invariant>,
    calls: usize,
    clock: Instant,
    transport: Option<Transport>,
    latest_connection: Option<ConnectionId>,
    /// Why the supervisor is idle (`State::Closed`), when it is.
    idle: Option<Idle>,
    /// The application called `close()` and not `connect()` since.
    app_closed: bool,
    /// `connect()` was called during our close handshake.
    connect_after_close: bool,
    /// When the backoff wait ends, while waiting to reconnect.
    waiting: Option<Instant>,
    /// The attempt number of the latest reconnect in the current streak (0: none yet).
    streak: u32,
    /// An upper bound on the previous delay drawn in this streak (decorrelated jitter).
    previous_delay: Duration,
    /// Auth refusals (HTTP 401/403) since a transport last opened or `connect()` started
    /// afresh: up to `auth_retries` of them are retried despite the close policy when
    /// credentials are refreshed per attempt.
    auth_refusals: u32,
    ledger: Ledger,
    pings: PingLedger,
    counters: Counters,
    last_backoff: Option<BackoffSample>,
}

/// One reconnect delay with the range the formula allowed for it.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct BackoffSample {
    /// The attempt number.
    pub attempt: u32,
    /// The delay the supervisor chose.
    pub delay: Duration,
    /// The inclusive range the jitter mode allows (before any Retry-After).
    pub formula: (Duration, Duration),
    /// Whether a server's Retry-After raised the range.
    pub retry_after: bool,
}

/// What the observer has seen so far, for reports and for tests that must prove their
/// scenario really happened.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Counters {
    /// `Connect` actions.
    pub connects: u64,
    /// Transports that opened.
    pub opens: u64,
    /// Transports dropped as dead (heartbeat or idle timeout).
    pub dead_peer_drops: u64,
    /// Late-tick probes.
    pub probes: u64,
    /// Heartbeat pings, probes included.
    pub pings: u64,
    /// `Reconnecting` events.
    pub reconnects_scheduled: u64,
    /// `GaveUp` events.
    pub gave_up: u64,
    /// Messages given to `send()` or `send_now()` and emitted as `Send`.
    pub sent: u64,
    /// Replay messages emitted as `Send` at an open.
    pub replayed: u64,
    /// Messages handed back in `Undelivered`.
    pub handed_back: u64,
    /// Inputs naming another transport.
    pub stale_inputs: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Idle {
    /// Never connected.
    Initial,
    /// After the application's `close()`.
    AppClosed,
    /// After `GaveUp`.
    GaveUp,
    /// After a permanent failure.
    Stopped,
}

#[derive(Clone, Debug)]
struct Transport {
    id: ConnectionId,
    phase: Phase,
}

#[derive(Clone, Debug)]
enum Phase {
    Connecting { deadline: Instant },
    Open(Box<OpenState>),
    Closing { deadline: Instant },
}

#[derive(Clone, Debug)]
struct OpenState {
    /// When the attempt counter resets, until it has.
    stable_at: Option<Instant>,
    /// The flush gate is open.
    released: bool,
    heartbeat: OpenHeartbeat,
}

/// How a transport ended, and so what its `Disconnected` must say and what must follow.
#[derive(Clone, Debug)]
struct End {
    /// `None`: the observer saw no reason for this end.
    cause: Option<Disconnect>,
    code: CloseCode,
    reason: Text,
    kind: EndKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum EndKind {
    /// The close policy and `max_attempts` decide.
    Policy,
    /// Our close handshake ended; reconnect only if `connect()` came meanwhile.
    FinishClose,
    /// `close()` while connecting: never reconnected.
    AppClose,
    /// `reconnect_now()` or a network change: a new attempt at once.
    Immediate,
    /// No reason seen.
    Unexplained,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Follow {
    Reconnecting,
    ConnectNow,
    Stop { gave_up: bool },
}

impl End {
    fn abnormal(cause: Disconnect, kind: EndKind) -> End {
        End {
            cause: Some(cause),
            code: CloseCode::ABNORMAL,
            reason: Text::new(),
            kind,
        }
    }
}

/// Why a heartbeat ping must come out of a call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PingCause {
    /// A tick found a heartbeat deadline passed.
    Due(Due),
    /// The platform reported a network change.
    NetworkChange,
}

/// Expectations and findings of one call. Each flag is an independent output the call owes.
#[derive(Default)]
#[allow(clippy::struct_excessive_bools)]
struct Ctx {
    index: usize,
    now: Instant,
    tick: bool,
    violations: Vec<Violation>,
    ledger: CallLedger,
    /// An `Abort` that must come, with the end it means.
    abort: Option<End>,
    /// Ended transports whose `Disconnected` has not been seen yet.
    ends: VecDeque<End>,
    follow: Option<Follow>,
    gave_up_seen: bool,
    /// A heartbeat ping that must come.
    ping: Option<PingCause>,
    server_reply: bool,
    open_event: bool,
    /// The replay messages the open owes, in order, before any queued message.
    replay: VecDeque<Message>,
    message: Option<Message>,
    rtt: Option<Duration>,
    close_action: Option<(CloseCode, Text)>,
    /// A `Connect` that a command requires.
    connect: bool,
    closed_event: bool,
    retry_after: Option<Duration>,
    /// The reason queued messages are handed back with in this call.
    stopping: Option<UndeliveredReason>,
    /// The queue must be empty after this call.
    flush_all: bool,
}

impl Ctx {
    fn fail(&mut self, invariant: Invariant, detail: impl Into<String>) {
        self.violations.push(Violation {
            invariant,
            call: self.index,
            at: self.now,
            detail: detail.into(),
        });
    }
}

impl Observer {
    /// An observer for a supervisor built with `config`, checking every invariant.
    pub fn new(config: Config) -> Self {
        Observer {
            previous_delay: config.initial_delay(),
            config,
            enabled: Invariant::ALL.into_iter().collect(),
            calls: 0,
            clock: Instant::ZERO,
            transport: None,
            latest_connection: None,
            idle: Some(Idle::Initial),
            app_closed: false,
            connect_after_close: false,
            waiting: None,
            streak: 0,
            auth_refusals: 0,
            ledger: Ledger::default(),
            pings: PingLedger::default(),
            counters: Counters::default(),
            last_backoff: None,
        }
    }

    /// Reports only violations of `invariants` (the picture is still kept whole). For a
    /// property test that targets one invariant.
    #[must_use]
    pub fn only(mut self, invariants: &[Invariant]) -> Self {
        self.enabled = invariants.iter().copied().collect();
        self
    }

    /// The configuration being checked against.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Calls observed so far.
    pub fn calls(&self) -> usize {
        self.calls
    }

    /// The latest transport the supervisor asked for (live or not).
    pub fn latest_connection(&self) -> Option<ConnectionId> {
        self.latest_connection
    }

    /// The live transport, if any.
    pub fn live_connection(&self) -> Option<ConnectionId> {
        self.transport.as_ref().map(|t| t.id)
    }

    /// Whether the live transport is open.
    pub fn is_open(&self) -> bool {
        matches!(
            self.transport,
            Some(Transport {
                phase: Phase::Open(_),
                ..
            })
        )
    }

    /// Whether the supervisor is idle (closed, nothing pending until `connect()`).
    pub fn is_idle(&self) -> bool {
        self.idle.is_some()
    }

    /// The number of the latest heartbeat ping (what a right pong must carry).
    pub fn ping_sequence(&self) -> u64 {
        self.pings.sequence
    }

    /// When the live open transport's peer last showed life.
    pub fn last_sign_of_life(&self) -> Option<Instant> {
        match &self.transport {
            Some(Transport {
                phase: Phase::Open(open),
                ..
            }) => Some(open.heartbeat.last_alive),
            _ => None,
        }
    }

    /// Messages given to `send()` whose outcome is still open (queued).
    pub fn unresolved_messages(&self) -> usize {
        self.ledger.unresolved()
    }

    /// What has been seen so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The latest `Reconnecting` delay, with the range the formula allowed.
    pub fn last_backoff(&self) -> Option<BackoffSample> {
        self.last_backoff
    }

    /// The deadline the supervisor must report next, from the observer's picture.
    pub fn expected_deadline(&self) -> Option<Instant> {
        self.deadlines().into_iter().map(|(at, _)| at).min()
    }

    /// Checks one call. Returns the first violation of an enabled invariant.
    pub fn observe(&mut self, observation: &Observation) -> Result<(), Violation> {
        let now = self.clock.max(observation.now);
        // Time never goes back in the core: an earlier `now` is clamped to the latest seen. A
        // close() refused for its arguments is misuse that touches nothing, the clock included.
        if !matches!(observation.returned, Returned::Close(Err(_))) {
            self.clock = now;
        }
        let mut ctx = Ctx {
            index: self.calls,
            now,
            tick: observation.call == Call::Tick,
            ..Ctx::default()
        };
        self.calls += 1;
        if self.is_stale(&observation.call) {
            self.counters.stale_inputs += 1;
            if !observation.is_silent() || observation.timeout_after != observation.timeout_before {
                ctx.fail(
                    Invariant::StaleInput,
                    format!(
                        "input for another transport (live: {:?}) produced {:?} / {:?}, deadline {:?} -> {:?}",
                        self.live_connection(),
                        observation.actions,
                        observation.events,
                        observation.timeout_before,
                        observation.timeout_after
                    ),
                );
            }
            return self.verdict(ctx);
        }
        if ctx.tick
            && observation.timeout_before.is_none_or(|at| now < at)
            && (!observation.is_silent() || observation.timeout_after != observation.timeout_before)
        {
            ctx.fail(
                Invariant::PollTimeout,
                format!(
                    "tick before the deadline {:?} produced {:?} / {:?}, deadline -> {:?}",
                    observation.timeout_before,
                    observation.actions,
                    observation.events,
                    observation.timeout_after
                ),
            );
        }
        self.apply_call(&mut ctx, observation);
        self.walk_outputs(&mut ctx, observation);
        self.end_of_call(&mut ctx, observation);
        self.verdict(ctx)
    }

    fn verdict(&self, ctx: Ctx) -> Result<(), Violation> {
        match ctx
            .violations
            .into_iter()
            .find(|v| self.enabled.contains(&v.invariant))
        {
            Some(violation) => Err(violation),
            None => Ok(()),
        }
    }

    /// An input naming a transport other than the live one, or a `ready` naming one other
    /// than the open one: it must change nothing.
    fn is_stale(&self, call: &Call) -> bool {
        match call {
            Call::Input(input) => input
                .connection()
                .is_some_and(|c| Some(c) != self.live_connection()),
            Call::Ready { connection } => !self.is_open_transport(*connection),
            _ => false,
        }
    }

    /// Whether `connection` is the live transport and it is open.
    fn is_open_transport(&self, connection: ConnectionId) -> bool {
        self.is_open() && self.live_connection() == Some(connection)
    }

    fn open_state(&mut self) -> Option<&mut OpenState> {
        match &mut self.transport {
            Some(Transport {
                phase: Phase::Open(open),
                ..
            }) => Some(open),
            _ => None,
        }
    }

    fn reset_streak(&mut self) {
        self.streak = 0;
        self.previous_delay = self.config.initial_delay();
    }

    // ----- the call's own effects, before its outputs ----------------------------------------

    fn apply_call(&mut self, ctx: &mut Ctx, observation: &Observation) {
        let now = ctx.now;
        match &observation.call {
            Call::Connect => {
                self.app_closed = false;
                if self.idle.is_some() {
                    self.reset_streak();
                    self.auth_refusals = 0;
                    ctx.connect = true;
                } else if self.waiting.is_some() {
                    ctx.connect = true;
                } else if matches!(
                    self.transport,
                    Some(Transport {
                        phase: Phase::Closing { .. },
                        ..
                    })
                ) {
                    self.connect_after_close = true;
                }
            }
            Call::Send { message, deadline } => {
                let intake = self.intake();
                let result = send_result(ctx, &observation.returned);
                if let Some(result) = result
                    && let Err(detail) = self.ledger.offer(
                        &mut ctx.ledger,
                        &self.config,
                        message,
                        *deadline,
                        now,
                        intake,
                        result,
                    )
                {
                    ctx.fail(Invariant::Conservation, detail);
                }
            }
            Call::SendNow {
                connection,
                message,
            } => {
                let refusal = if self.is_open_transport(*connection) {
                    None
                } else if self.live_connection() == Some(*connection) {
                    Some(SendErrorKind::NotOpen)
                } else {
                    Some(SendErrorKind::StaleConnection)
                };
                if let Some(result) = send_result(ctx, &observation.returned)
                    && let Err(detail) =
                        self.ledger
                            .offer_now(&mut ctx.ledger, message, refusal, result)
                {
                    ctx.fail(Invariant::Conservation, detail);
                }
            }
            Call::Ready { .. } => {
                // Only for the open transport: any other `ready` is stale (see `is_stale`).
                if let Some(open) = self.open_state() {
                    open.released = true;
                }
            }
            Call::Close { code, reason } => self.apply_close(ctx, *code, reason, observation),
            Call::ReconnectNow => self.apply_reconnect_now(ctx),
            Call::Input(input) => self.apply_input(ctx, input),
            Call::Tick => self.apply_tick(ctx),
        }
    }

    fn intake(&self) -> Intake {
        let (open, released, closing) = match &self.transport {
            Some(Transport {
                phase: Phase::Open(open),
                ..
            }) => (true, open.released, false),
            Some(Transport {
                phase: Phase::Closing { .. },
                ..
            }) => (false, false, true),
            _ => (false, false, false),
        };
        Intake {
            accepting: self.idle.is_none() && (!closing || self.connect_after_close),
            open,
            released,
        }
    }

    fn apply_close(&mut self, ctx: &mut Ctx, code: CloseCode, reason: &Text, obs: &Observation) {
        let expected = if !is_sendable(code) {
            Err(CloseError::CodeNotSendable(code))
        } else if reason.len() > MAX_CLOSE_REASON {
            Err(CloseError::ReasonTooLong(reason.len()))
        } else {
            Ok(())
        };
        let Returned::Close(returned) = &obs.returned else {
            ctx.fail(Invariant::Contract, "close() observed without its result");
            return;
        };
        if *returned != expected {
            ctx.fail(
                Invariant::Contract,
                format!("close({code}, {reason:?}) returned {returned:?}, expected {expected:?}"),
            );
        }
        if returned.is_err() {
            return;
        }
        self.app_closed = true;
        self.connect_after_close = false;
        match &self.transport {
            Some(Transport {
                phase: Phase::Open(_),
                ..
            }) => {
                ctx.close_action = Some((code, reason.clone()));
                ctx.stopping = Some(UndeliveredReason::Closed);
                ctx.flush_all = true;
            }
            Some(Transport {
                phase: Phase::Connecting { .. },
                ..
            }) => {
                ctx.abort = Some(End {
                    cause: Some(Disconnect::Application),
                    code: CloseCode::NORMAL,
                    reason: Text::new(),
                    kind: EndKind::AppClose,
                });
                ctx.stopping = Some(UndeliveredReason::Closed);
                ctx.flush_all = true;
            }
            None if self.waiting.is_some() => {
                ctx.closed_event = true;
                ctx.stopping = Some(UndeliveredReason::Closed);
                ctx.flush_all = true;
            }
            _ => {}
        }
    }

    fn apply_reconnect_now(&mut self, ctx: &mut Ctx) {
        match &self.transport {
            Some(Transport {
                phase: Phase::Open(_) | Phase::Connecting { .. },
                ..
            }) => {
                ctx.abort = Some(End::abnormal(
                    Disconnect::ReconnectRequested,
                    EndKind::Immediate,
                ));
            }
            None if self.waiting.is_some() => ctx.connect = true,
            _ => {}
        }
    }

    fn apply_input(&mut self, ctx: &mut Ctx, input: &Input) {
        let now = ctx.now;
        let config = &self.config;
        let Some(transport) = &mut self.transport else {
            if matches!(input, Input::NetworkChanged) && self.waiting.is_some() {
                ctx.connect = true;
            }
            return;
        };
        let connecting = matches!(transport.phase, Phase::Connecting { .. });
        let closing = matches!(transport.phase, Phase::Closing { .. });
        let mut ended = None;
        match input {
            Input::NetworkChanged => match &mut transport.phase {
                Phase::Open(_) => ctx.ping = Some(PingCause::NetworkChange),
                Phase::Connecting { .. } => {
                    ctx.abort = Some(End::abnormal(
                        Disconnect::ReconnectRequested,
                        EndKind::Immediate,
                    ));
                }
                Phase::Closing { .. } => {}
            },
            Input::Opened { .. } if connecting => {
                let stable_at =
                    (!config.stable_after().is_zero()).then(|| now + config.stable_after());
                transport.phase = Phase::Open(Box::new(OpenState {
                    stable_at,
                    released: !config.hold_queue_until_ready(),
                    heartbeat: OpenHeartbeat::opened(now),
                }));
                let connection = transport.id;
                self.on_opened(ctx, connection, stable_at.is_none());
            }
            Input::Frame { frame, .. } if !connecting => {
                let inbound = self.pings.classify(frame, config, now);
                let alive = is_alive(&inbound, config);
                match inbound {
                    Inbound::Reply(rtt) => ctx.rtt = rtt,
                    Inbound::ServerPing => ctx.server_reply = !closing,
                    Inbound::Message(message) => ctx.message = Some(message),
                    Inbound::Other => {}
                }
                if let Phase::Open(open) = &mut transport.phase
                    && alive
                {
                    open.heartbeat.alive(now);
                }
            }
            Input::ConnectFailed { failure, .. } => {
                if connecting {
                    if let ConnectFailure::Http { retry_after, .. } = failure {
                        ctx.retry_after = *retry_after;
                    }
                    ended = Some(End::abnormal(
                        Disconnect::ConnectFailed(*failure),
                        EndKind::Policy,
                    ));
                } else if closing {
                    ended = Some(End::abnormal(Disconnect::Application, EndKind::FinishClose));
                }
            }
            Input::Error { error, .. } => {
                ended = Some(if closing {
                    End::abnormal(Disconnect::Application, EndKind::FinishClose)
                } else {
                    End::abnormal(Disconnect::Transport(*error), EndKind::Policy)
                });
            }
            Input::Closed { code, reason, .. } => {
                ended = Some(End {
                    cause: Some(if closing {
                        Disconnect::Application
                    } else {
                        Disconnect::PeerClosed { code: *code }
                    }),
                    code: *code,
                    reason: reason.clone(),
                    kind: if closing {
                        EndKind::FinishClose
                    } else {
                        EndKind::Policy
                    },
                });
            }
            _ => {}
        }
        if let Some(end) = ended {
            self.transport = None;
            ctx.ends.push_back(end);
        }
    }

    /// What the opening of `connection` owes, besides its new phase.
    fn on_opened(&mut self, ctx: &mut Ctx, connection: ConnectionId, stable_at_once: bool) {
        self.pings.opened();
        ctx.open_event = true;
        // The observer asks the replay function itself: the generators' functions are pure, so
        // it answers what it answered the supervisor.
        ctx.replay = self
            .config
            .replay_on_open()
            .map(|replay| replay.messages(connection))
            .unwrap_or_default()
            .into();
        self.counters.opens += 1;
        self.auth_refusals = 0;
        if stable_at_once {
            self.reset_streak();
        }
    }

    fn apply_tick(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let config = self.config.clone();
        let mut reset = false;
        match self.transport.as_mut().map(|t| &mut t.phase) {
            Some(Phase::Connecting { deadline })
                if reachable(*deadline).is_some_and(|at| at <= now) =>
            {
                ctx.abort = Some(End::abnormal(Disconnect::ConnectTimeout, EndKind::Policy));
            }
            Some(Phase::Closing { deadline })
                if reachable(*deadline).is_some_and(|at| at <= now) =>
            {
                ctx.abort = Some(End::abnormal(Disconnect::Application, EndKind::FinishClose));
            }
            Some(Phase::Open(open)) => {
                let due = open.heartbeat.due(&config, now);
                if let Some(stable_at) = open.stable_at.and_then(reachable)
                    && stable_at <= now
                {
                    // Timers fire in deadline order: a drop due earlier ends the transport
                    // (and its stability timer) first.
                    let dropped_first = matches!(due, Some((at, Due::Drop)) if at < stable_at);
                    if !dropped_first {
                        open.stable_at = None;
                        reset = true;
                    }
                }
                match due {
                    Some((_, Due::Drop)) => {
                        let cause = if Mode::of(&config) == Mode::ServerDriven {
                            Disconnect::IdleTimeout
                        } else {
                            Disconnect::HeartbeatTimeout
                        };
                        ctx.abort = Some(End::abnormal(cause, EndKind::Policy));
                    }
                    Some((_, due)) => ctx.ping = Some(PingCause::Due(due)),
                    None => {}
                }
            }
            _ => {}
        }
        if reset {
            self.reset_streak();
        }
    }

    // ----- the outputs -----------------------------------------------------------------------

    /// Walks the outputs in segments separated by `Connect` (and its `Connecting` event):
    /// everything before a `Connect` concerns the previous transport or none.
    fn walk_outputs(&mut self, ctx: &mut Ctx, obs: &Observation) {
        let mut actions = obs.actions.iter().peekable();
        let mut events = obs.events.iter().peekable();
        loop {
            while let Some(action) = actions.next_if(|a| !matches!(a, Action::Connect { .. })) {
                self.on_action(ctx, action, obs);
            }
            while let Some(event) = events.next_if(|e| !matches!(e, Event::Connecting { .. })) {
                self.on_event(ctx, event);
            }
            match (actions.next(), events.next()) {
                (None, None) => break,
                (
                    Some(Action::Connect {
                        connection,
                        attempt,
                    }),
                    Some(Event::Connecting { attempt: announced }),
                ) => {
                    if attempt != announced {
                        ctx.fail(
                            Invariant::Contract,
                            format!(
                                "Connect attempt {attempt} announced as Connecting {announced}"
                            ),
                        );
                    }
                    self.on_connect(ctx, *connection, *attempt);
                }
                (action, event) => {
                    ctx.fail(
                        Invariant::Contract,
                        format!("Connect and Connecting do not pair up: {action:?} / {event:?}"),
                    );
                    if let Some(Action::Connect {
                        connection,
                        attempt,
                    }) = action
                    {
                        self.on_connect(ctx, *connection, *attempt);
                    }
                }
            }
        }
    }

    fn on_connect(&mut self, ctx: &mut Ctx, connection: ConnectionId, attempt: u32) {
        let now = ctx.now;
        self.counters.connects += 1;
        if let Some(live) = &self.transport {
            ctx.fail(
                Invariant::OneTransport,
                format!(
                    "Connect {connection} while transport {} is still {}",
                    live.id,
                    match live.phase {
                        Phase::Connecting { .. } => "connecting",
                        Phase::Open(_) => "open",
                        Phase::Closing { .. } => "closing",
                    }
                ),
            );
        }
        let permitted = if ctx.follow == Some(Follow::ConnectNow) {
            ctx.follow = None;
            true
        } else if ctx.connect {
            ctx.connect = false;
            true
        } else {
            ctx.tick && self.waiting.and_then(reachable).is_some_and(|at| at <= now)
        };
        if !permitted {
            let (invariant, why) = if self.app_closed {
                (
                    Invariant::NoReconnectAfterClose,
                    "after the application's close() and before connect()".to_string(),
                )
            } else if self.idle == Some(Idle::GaveUp) {
                (
                    Invariant::Backoff,
                    "after GaveUp and before connect()".into(),
                )
            } else if let Some(at) = self.waiting {
                (
                    Invariant::Backoff,
                    format!("before the backoff wait ends at {at:?}"),
                )
            } else {
                (
                    Invariant::Contract,
                    format!("with nothing asking for it (idle: {:?})", self.idle),
                )
            };
            ctx.fail(invariant, format!("Connect {connection} {why}"));
        }
        if attempt != self.streak {
            ctx.fail(
                Invariant::Backoff,
                format!(
                    "Connect {connection} carries attempt {attempt}, but the streak is at {}",
                    self.streak
                ),
            );
        }
        if self
            .latest_connection
            .is_some_and(|latest| connection <= latest)
        {
            ctx.fail(
                Invariant::Contract,
                format!(
                    "Connect reuses id {connection} (latest {:?})",
                    self.latest_connection
                ),
            );
        }
        self.latest_connection = Some(connection);
        self.transport = Some(Transport {
            id: connection,
            phase: Phase::Connecting {
                deadline: now + self.config.connect_timeout(),
            },
        });
        self.waiting = None;
        self.idle = None;
    }

    fn on_action(&mut self, ctx: &mut Ctx, action: &Action, obs: &Observation) {
        let now = ctx.now;
        match action {
            Action::Send(message) => self.on_send(ctx, message),
            Action::Heartbeat(reply)
                if ctx.server_reply
                    && self
                        .config
                        .answer_server_ping()
                        .is_some_and(|server| server.reply == *reply) =>
            {
                ctx.server_reply = false;
            }
            Action::Heartbeat(message) => {
                let expected = match self.config.heartbeat() {
                    Heartbeat::Application { ping, .. } => Some(ping),
                    _ => None,
                };
                if expected != Some(message) {
                    ctx.fail(
                        Invariant::Contract,
                        format!(
                            "Heartbeat({message:?}) emitted; the configured ping is {expected:?}"
                        ),
                    );
                }
                let sequence = self.pings.sequence + 1;
                self.on_ping(ctx, sequence);
            }
            Action::Ping(payload) => {
                if matches!(self.config.heartbeat(), Heartbeat::Application { .. }) {
                    ctx.fail(
                        Invariant::Contract,
                        "protocol Ping emitted although the heartbeat is application-level",
                    );
                }
                if payload.sequence() <= self.pings.sequence {
                    ctx.fail(
                        Invariant::Contract,
                        format!(
                            "Ping #{} does not follow #{}",
                            payload.sequence(),
                            self.pings.sequence
                        ),
                    );
                }
                self.on_ping(ctx, payload.sequence());
            }
            Action::Close { code, reason } => {
                if ctx.close_action.as_ref() == Some(&(*code, reason.clone())) {
                    ctx.close_action = None;
                    if let Some(transport) = &mut self.transport {
                        transport.phase = Phase::Closing {
                            deadline: now + self.config.close_timeout(),
                        };
                    }
                } else {
                    ctx.fail(
                        Invariant::Contract,
                        format!(
                            "Close({code}, {reason:?}) emitted, expected {:?}",
                            ctx.close_action
                        ),
                    );
                }
            }
            Action::Abort => {
                if self.transport.take().is_none() {
                    ctx.fail(Invariant::Contract, "Abort with no transport");
                    return;
                }
                let end = ctx.abort.take().unwrap_or(End {
                    cause: None,
                    code: CloseCode::ABNORMAL,
                    reason: Text::new(),
                    kind: EndKind::Unexplained,
                });
                ctx.ends.push_back(end);
            }
            other => ctx.fail(
                Invariant::Contract,
                format!("unexpected action {other:?} for {:?}", obs.call),
            ),
        }
    }

    /// A `Send`: the replay the open owes comes first; anything else is a `send()` message.
    fn on_send(&mut self, ctx: &mut Ctx, message: &Message) {
        if let Some(expected) = ctx.replay.pop_front() {
            if expected == *message {
                self.counters.replayed += 1;
            } else {
                ctx.fail(
                    Invariant::Contract,
                    format!(
                        "Send({message:?}) where the replay owed {expected:?} (replay goes first, in order)"
                    ),
                );
            }
            return;
        }
        let (open, released) = match &self.transport {
            Some(Transport {
                phase: Phase::Open(open),
                ..
            }) => (true, open.released),
            _ => (false, false),
        };
        match self.ledger.emitted(message, ctx.now, open, released) {
            Ok(()) => self.counters.sent += 1,
            Err(detail) => ctx.fail(Invariant::Conservation, detail),
        }
    }

    fn on_ping(&mut self, ctx: &mut Ctx, sequence: u64) {
        let now = ctx.now;
        self.counters.pings += 1;
        let config = self.config.clone();
        let Some(open) = self.open_state() else {
            ctx.fail(Invariant::Contract, "heartbeat ping with no open transport");
            return;
        };
        if let Some(cause) = ctx.ping.take() {
            let due = match cause {
                PingCause::Due(due) => Some(due),
                PingCause::NetworkChange => None,
            };
            open.heartbeat.pinged(&config, now, due);
            if due == Some(Due::Probe) {
                self.counters.probes += 1;
            }
        } else {
            let deadline = open.heartbeat.deadline(&config);
            ctx.fail(
                Invariant::Contract,
                format!(
                    "heartbeat ping that nothing called for (next heartbeat deadline {deadline:?})"
                ),
            );
        }
        self.pings.pinged(sequence, now);
    }

    fn on_event(&mut self, ctx: &mut Ctx, event: &Event) {
        match event {
            Event::Open { connection } => {
                if !std::mem::take(&mut ctx.open_event) {
                    ctx.fail(Invariant::Contract, "Open without an opened transport");
                } else if !self.is_open_transport(*connection) {
                    ctx.fail(
                        Invariant::Contract,
                        format!(
                            "Open names {connection}, but the transport that opened is {:?}",
                            self.live_connection()
                        ),
                    );
                }
            }
            Event::Message(message) => {
                if ctx.message.as_ref() == Some(message) {
                    ctx.message = None;
                } else {
                    ctx.fail(
                        Invariant::Contract,
                        format!("Message({message:?}) delivered, expected {:?}", ctx.message),
                    );
                }
            }
            Event::Rtt(rtt) => {
                if ctx.rtt == Some(*rtt) {
                    ctx.rtt = None;
                } else {
                    ctx.fail(
                        Invariant::Contract,
                        format!("Rtt({rtt:?}) reported, expected {:?}", ctx.rtt),
                    );
                }
            }
            Event::Disconnected {
                code,
                reason,
                cause,
                will_reconnect,
            } => self.on_disconnected(ctx, *code, reason, *cause, *will_reconnect),
            Event::Reconnecting { attempt, delay } => self.on_reconnecting(ctx, *attempt, *delay),
            Event::GaveUp {
                attempts,
                undelivered,
            } => {
                self.counters.gave_up += 1;
                if ctx.follow != Some(Follow::Stop { gave_up: true }) || ctx.gave_up_seen {
                    ctx.fail(
                        Invariant::Backoff,
                        format!(
                            "GaveUp with the streak at {} of {:?} (expected next: {:?})",
                            self.streak,
                            self.config.max_attempts(),
                            ctx.follow
                        ),
                    );
                }
                ctx.gave_up_seen = true;
                if *attempts != self.streak {
                    ctx.fail(
                        Invariant::Backoff,
                        format!(
                            "GaveUp after {attempts} attempts, but {} were made",
                            self.streak
                        ),
                    );
                }
                if *undelivered != self.ledger.queued_len() {
                    ctx.fail(
                        Invariant::Conservation,
                        format!(
                            "GaveUp announces {undelivered} undelivered, {} are queued",
                            self.ledger.queued_len()
                        ),
                    );
                }
            }
            Event::Undelivered { message, reason } => {
                match self.ledger.handed_back(
                    &mut ctx.ledger,
                    message,
                    *reason,
                    ctx.now,
                    ctx.stopping,
                ) {
                    Ok(()) => self.counters.handed_back += 1,
                    Err(detail) => ctx.fail(Invariant::Conservation, detail),
                }
            }
            Event::Closed => self.on_closed(ctx),
            other => ctx.fail(Invariant::Contract, format!("unexpected event {other:?}")),
        }
    }

    fn on_disconnected(
        &mut self,
        ctx: &mut Ctx,
        code: CloseCode,
        reason: &Text,
        cause: Disconnect,
        will_reconnect: bool,
    ) {
        let dead = matches!(
            cause,
            Disconnect::HeartbeatTimeout | Disconnect::IdleTimeout
        );
        if dead {
            self.counters.dead_peer_drops += 1;
        }
        let Some(end) = ctx.ends.pop_front() else {
            ctx.fail(
                if dead {
                    Invariant::NoFalsePositive
                } else {
                    Invariant::Contract
                },
                format!("Disconnected({cause:?}) with no transport ending"),
            );
            return;
        };
        if end.cause != Some(cause) {
            ctx.fail(
                if dead {
                    Invariant::NoFalsePositive
                } else {
                    Invariant::Contract
                },
                format!(
                    "Disconnected with cause {cause:?}, expected {:?}{}",
                    end.cause,
                    if dead {
                        " (the peer was not overdue: dropped while alive)"
                    } else {
                        ""
                    }
                ),
            );
        }
        if end.code != code || end.reason != *reason {
            ctx.fail(
                Invariant::Contract,
                format!(
                    "Disconnected({code}, {reason:?}), expected ({}, {:?})",
                    end.code, end.reason
                ),
            );
        }
        let cause = end.cause.unwrap_or(cause);
        let (expected, follow, label) =
            self.expected_follow(ctx, &end, cause, dead, will_reconnect);
        if expected != will_reconnect {
            ctx.fail(
                label,
                format!(
                    "Disconnected({cause:?}) says will_reconnect = {will_reconnect}, expected {expected} (streak {} of {:?})",
                    self.streak,
                    self.config.max_attempts()
                ),
            );
        }
        if let Follow::Stop { .. } = follow {
            ctx.stopping = Some(if matches!(end.kind, EndKind::Policy) {
                UndeliveredReason::Stopped
            } else {
                UndeliveredReason::Closed
            });
        }
        if let Some(previous) = ctx.follow.replace(follow) {
            ctx.fail(
                Invariant::Contract,
                format!("a second transport ended before {previous:?} followed the first"),
            );
        }
    }

    /// What must follow the end of a transport: whether it reconnects, how, and which
    /// invariant a wrong `will_reconnect` breaks.
    fn expected_follow(
        &mut self,
        ctx: &mut Ctx,
        end: &End,
        cause: Disconnect,
        dead: bool,
        will_reconnect: bool,
    ) -> (bool, Follow, Invariant) {
        match end.kind {
            EndKind::Policy => {
                let retry_auth = self.retry_auth_refusal(cause);
                let permanent = self.config.close_policy().decide(&cause)
                    == ReconnectDecision::Stop
                    && !retry_auth;
                let exhausted = self
                    .config
                    .max_attempts()
                    .is_some_and(|max| self.streak >= max);
                let will = !permanent && !exhausted;
                let follow = if will {
                    Follow::Reconnecting
                } else {
                    Follow::Stop {
                        gave_up: !permanent,
                    }
                };
                let label = if exhausted {
                    Invariant::Backoff
                } else {
                    Invariant::Contract
                };
                (will, follow, label)
            }
            EndKind::FinishClose => {
                let will = std::mem::take(&mut self.connect_after_close);
                if will {
                    self.reset_streak();
                }
                let follow = if will {
                    Follow::ConnectNow
                } else {
                    Follow::Stop { gave_up: false }
                };
                (will, follow, Invariant::NoReconnectAfterClose)
            }
            EndKind::AppClose => (
                false,
                Follow::Stop { gave_up: false },
                Invariant::NoReconnectAfterClose,
            ),
            EndKind::Immediate => (true, Follow::ConnectNow, Invariant::Contract),
            EndKind::Unexplained => {
                if !dead {
                    ctx.fail(
                        Invariant::Contract,
                        format!("Abort with nothing calling for it (cause {cause:?})"),
                    );
                }
                (will_reconnect, Follow::Reconnecting, Invariant::Contract)
            }
        }
    }

    /// Counts an auth refusal; whether it is retried although the close policy says stop
    /// (fresh credentials per attempt, and at most `auth_retries` refusals in a row).
    fn retry_auth_refusal(&mut self, cause: Disconnect) -> bool {
        let Disconnect::ConnectFailed(ConnectFailure::Http {
            status: 401 | 403, ..
        }) = cause
        else {
            return false;
        };
        self.auth_refusals = self.auth_refusals.saturating_add(1);
        self.config.credentials_refreshed() && self.auth_refusals <= self.config.auth_retries()
    }

    fn on_reconnecting(&mut self, ctx: &mut Ctx, attempt: u32, delay: Duration) {
        self.counters.reconnects_scheduled += 1;
        if ctx.follow == Some(Follow::Reconnecting) {
            ctx.follow = None;
        } else {
            ctx.fail(
                Invariant::Backoff,
                format!(
                    "Reconnecting {{ attempt: {attempt} }} with no loss calling for it (expected {:?})",
                    ctx.follow
                ),
            );
        }
        let expected = self.streak.saturating_add(1);
        if attempt != expected {
            ctx.fail(
                Invariant::Backoff,
                format!("Reconnecting attempt {attempt}, expected {expected}"),
            );
        }
        if let Some(max) = self.config.max_attempts()
            && attempt > max
        {
            ctx.fail(
                Invariant::Backoff,
                format!("Reconnecting attempt {attempt} beyond max_attempts {max}"),
            );
        }
        let formula = delay_bounds(&self.config, attempt, self.previous_delay);
        let bounds = raise_to_retry_after(formula, &self.config, ctx.retry_after);
        self.last_backoff = Some(BackoffSample {
            attempt,
            delay,
            formula,
            retry_after: bounds != formula,
        });
        if !within(delay, bounds) {
            ctx.fail(
                Invariant::Backoff,
                format!(
                    "Reconnecting attempt {attempt} waits {delay:?}, outside {:?}..={:?} ({:?} jitter, Retry-After {:?})",
                    bounds.0,
                    bounds.1,
                    self.config.jitter(),
                    ctx.retry_after
                ),
            );
        }
        self.streak = attempt;
        self.previous_delay = delay;
        self.waiting = Some(ctx.now + delay);
    }

    fn on_closed(&mut self, ctx: &mut Ctx) {
        let gave_up = match ctx.follow {
            Some(Follow::Stop { gave_up }) => {
                ctx.follow = None;
                gave_up
            }
            _ if ctx.closed_event => {
                ctx.closed_event = false;
                false
            }
            other => {
                ctx.fail(
                    Invariant::Contract,
                    format!("Closed with no stop calling for it (expected {other:?})"),
                );
                false
            }
        };
        if gave_up && !ctx.gave_up_seen {
            ctx.fail(
                Invariant::Backoff,
                format!(
                    "stopped after {} reconnect attempts (max {:?}) without GaveUp",
                    self.streak,
                    self.config.max_attempts()
                ),
            );
        }
        if self.transport.is_some() {
            ctx.fail(Invariant::Contract, "Closed while a transport is live");
        }
        self.waiting = None;
        self.idle = Some(if self.app_closed {
            Idle::AppClosed
        } else if gave_up {
            Idle::GaveUp
        } else {
            Idle::Stopped
        });
    }

    // ----- after the outputs -----------------------------------------------------------------

    fn end_of_call(&mut self, ctx: &mut Ctx, obs: &Observation) {
        let now = ctx.now;
        if let Some(end) = ctx.abort.take() {
            let invariant = match end.cause {
                Some(Disconnect::HeartbeatTimeout | Disconnect::IdleTimeout) => {
                    Invariant::DeadPeerBound
                }
                _ => Invariant::Contract,
            };
            ctx.fail(
                invariant,
                format!("transport not dropped although {:?} was due", end.cause),
            );
        }
        if !ctx.ends.is_empty() {
            let ends = format!("{:?}", ctx.ends);
            ctx.fail(
                Invariant::Contract,
                format!("transport ended without Disconnected: {ends}"),
            );
        }
        if let Some(follow) = ctx.follow.take() {
            ctx.fail(
                if follow == Follow::Reconnecting {
                    Invariant::Backoff
                } else {
                    Invariant::Contract
                },
                format!("a transport ended but {follow:?} did not follow"),
            );
        }
        if let Some(cause) = ctx.ping.take() {
            let (invariant, why) = match cause {
                PingCause::Due(Due::Probe) => (Invariant::DeadPeerBound, "a late-tick probe"),
                PingCause::Due(_) => (
                    Invariant::DeadPeerBound,
                    "ping_interval after the last sign of life",
                ),
                PingCause::NetworkChange => (Invariant::Contract, "network change"),
            };
            ctx.fail(
                invariant,
                format!("no heartbeat ping although one was due ({why})"),
            );
        }
        let leftovers = [
            (ctx.server_reply, "the automatic reply to the server's ping"),
            (ctx.open_event, "Open"),
            (!ctx.replay.is_empty(), "the replay messages"),
            (ctx.message.is_some(), "the inbound message"),
            (ctx.rtt.is_some(), "Rtt"),
            (ctx.close_action.is_some(), "the Close action"),
            (ctx.connect, "the Connect asked for"),
            (ctx.closed_event, "Closed"),
        ];
        for (missing, what) in leftovers {
            if missing {
                ctx.fail(Invariant::Contract, format!("{what} did not come out"));
            }
        }
        let flowing = ctx.flush_all
            || self.idle.is_some()
            || matches!(&self.transport, Some(Transport { phase: Phase::Open(open), .. }) if open.released);
        let call_ledger = std::mem::take(&mut ctx.ledger);
        if let Err(detail) =
            self.ledger
                .end_of_call(call_ledger, &self.config, flowing, ctx.tick.then_some(now))
        {
            ctx.fail(Invariant::Conservation, detail);
        }
        if self.idle.is_some() && (self.transport.is_some() || self.waiting.is_some()) {
            ctx.fail(
                Invariant::Contract,
                "idle (Closed) with a transport or a reconnect pending",
            );
        }
        self.check_deadlines(ctx, obs);
    }

    /// The deadlines of the observer's picture, each labelled by the invariant it serves.
    fn deadlines(&self) -> Vec<(Instant, Invariant)> {
        let mut all = Vec::new();
        match &self.transport {
            Some(Transport {
                phase: Phase::Connecting { deadline } | Phase::Closing { deadline },
                ..
            }) => all.push((*deadline, Invariant::Contract)),
            Some(Transport {
                phase: Phase::Open(open),
                ..
            }) => {
                if let Some((at, _)) = open.heartbeat.deadline(&self.config) {
                    all.push((at, Invariant::DeadPeerBound));
                }
                if let Some(at) = open.stable_at {
                    all.push((at, Invariant::Backoff));
                }
            }
            None => {}
        }
        if let Some(at) = self.waiting {
            all.push((at, Invariant::Backoff));
        }
        if let Some(at) = self.ledger.earliest_deadline() {
            all.push((at, Invariant::Conservation));
        }
        all.retain(|(at, _)| reachable(*at).is_some());
        all
    }

    fn check_deadlines(&mut self, ctx: &mut Ctx, obs: &Observation) {
        let now = ctx.now;
        let deadlines = self.deadlines();
        if ctx.tick {
            for (at, invariant) in &deadlines {
                if *at <= now {
                    ctx.fail(
                        *invariant,
                        format!("deadline {at:?} passed at this tick but nothing happened"),
                    );
                }
            }
            if obs.timeout_after.is_some_and(|at| at <= now) {
                ctx.fail(
                    Invariant::PollTimeout,
                    format!(
                        "busy loop: after handle_timeout({now:?}) poll_timeout() is {:?}",
                        obs.timeout_after
                    ),
                );
            }
        }
        let expected = deadlines.iter().map(|(at, _)| *at).min();
        if obs.timeout_after != expected {
            let overslept = match (obs.timeout_after, expected) {
                (None, Some(_)) => true,
                (Some(reported), Some(due)) => reported > due,
                _ => false,
            };
            let invariant = if overslept {
                deadlines
                    .iter()
                    .filter(|(at, _)| Some(*at) == expected)
                    .map(|(_, invariant)| *invariant)
                    .min()
                    .unwrap_or(Invariant::PollTimeout)
            } else {
                Invariant::PollTimeout
            };
            let invariant = if invariant == Invariant::Contract {
                Invariant::PollTimeout
            } else {
                invariant
            };
            ctx.fail(
                invariant,
                format!(
                    "poll_timeout() is {:?}, but the earliest pending deadline is {expected:?} ({deadlines:?})",
                    obs.timeout_after
                ),
            );
        }
    }
}

/// The result of a send-like call, in the ledger's terms.
fn send_result<'a>(
    ctx: &mut Ctx,
    returned: &'a Returned,
) -> Option<Result<(), (ws_core::SendErrorKind, &'a Message)>> {
    match returned {
        Returned::Send(Ok(())) => Some(Ok(())),
        Returned::Send(Err(error)) => Some(Err((error.kind(), error.message()))),
        other => {
            ctx.fail(
                Invariant::Contract,
                format!("a send observed without its result ({other:?})"),
            );
            None
        }
    }
}

/// Whether a Close frame may carry `code` (RFC 6455 §7.4).
fn is_sendable(code: CloseCode) -> bool {
    matches!(code.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
