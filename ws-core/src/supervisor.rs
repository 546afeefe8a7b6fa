//! The supervisor: one logical connection that survives many transports.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::time::Duration;

use crate::backoff::Backoff;
use crate::close::{CloseCode, ConnectFailure, Disconnect, ReconnectDecision};
use crate::config::{Config, Heartbeat, Overflow};
use crate::heartbeat::{Expiry, HeartbeatState, Inbound};
use crate::io::{
    Action, CloseError, ConnectionId, Event, Input, SendError, SendErrorKind, State,
    UndeliveredReason,
};
use crate::message::{Frame, Message, Text};
use crate::queue::{Queue, Queued};
use crate::rng::Rng;
use crate::stats::Stats;
use crate::time::Instant;
use crate::timer::{TimerReason, Timers};

/// Where the supervisor is in its lifecycle, with the transport it is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Closed,
    Connecting(ConnectionId),
    Open(ConnectionId),
    /// Our Close is out; waiting for the peer's.
    Closing(ConnectionId),
    WaitingToReconnect,
}

/// How many timers one `handle_timeout` may fire. Each handler re-arms only strictly after
/// `now`, so the loop ends long before this; the cap only keeps the call total.
const MAX_TIMERS_PER_TICK: usize = 64;

/// One logical WebSocket connection: heartbeat, reconnect, queue and close policy, with no IO.
///
/// See the [crate documentation](crate) for the driver loop.
#[derive(Debug)]
pub struct Supervisor {
    /// Shared: a fleet of clients started with the same options holds one copy (~400 bytes)
    /// instead of one per connection.
    config: Arc<Config>,
    rng: Rng,
    backoff: Backoff,
    phase: Phase,
    timers: Timers,
    heartbeat: HeartbeatState,
    queue: Queue,
    /// Whether queued messages may flow on the open transport (see `hold_queue_until_ready`).
    queue_released: bool,
    /// `connect()` was called while our close handshake was running.
    connect_after_close: bool,
    next_connection: u64,
    /// The current reconnect streak (0 = first connect or stable).
    attempt: u32,
    /// Auth refusals since a connection last opened (see `auth_retries`).
    auth_refusals: u32,
    now: Instant,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    stats: Stats,
}

impl Supervisor {
    /// A supervisor in [`State::Closed`]; call [`connect`](Self::connect) to start.
    ///
    /// `seed` drives the backoff jitter. Drivers seed it from OS entropy so a fleet spreads
    /// out; tests fix it to replay a schedule exactly. `config` may be shared with other
    /// supervisors (an `Arc<Config>`).
    pub fn new(config: impl Into<Arc<Config>>, seed: u64) -> Self {
        let config = config.into();
        Supervisor {
            backoff: Backoff::new(&config),
            config,
            rng: Rng::new(seed),
            phase: Phase::Closed,
            timers: Timers::default(),
            heartbeat: HeartbeatState::default(),
            queue: Queue::default(),
            queue_released: false,
            connect_after_close: false,
            next_connection: 0,
            attempt: 0,
            auth_refusals: 0,
            now: Instant::ZERO,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The lifecycle state.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Closed => State::Closed,
            Phase::Connecting(_) => State::Connecting,
            Phase::Open(_) => State::Open,
            Phase::Closing(_) => State::Closing,
            Phase::WaitingToReconnect => State::WaitingToReconnect,
        }
    }

    /// The transport inputs must name right now, if there is one.
    pub fn connection(&self) -> Option<ConnectionId> {
        match self.phase {
            Phase::Connecting(id) | Phase::Open(id) | Phase::Closing(id) => Some(id),
            Phase::Closed | Phase::WaitingToReconnect => None,
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        Stats {
            current_attempt: self.attempt,
            auth_refusals: self.auth_refusals,
            queued_messages: self.queue.len(),
            queued_bytes: self.queue.bytes(),
            ..self.stats
        }
    }

    // ----- application commands -------------------------------------------------------------

    /// Starts connecting. While waiting to reconnect, skips the wait; while our close handshake
    /// runs, connects once it is over; otherwise (already connecting or open) does nothing.
    pub fn connect(&mut self, now: Instant) {
        let now = self.advance_clock(now);
        match self.phase {
            Phase::Closed => {
                self.attempt = 0;
                self.auth_refusals = 0;
                self.backoff.reset(&self.config);
                self.start_attempt(now);
            }
            Phase::WaitingToReconnect => self.start_attempt(now),
            Phase::Closing(_) => self.connect_after_close = true,
            Phase::Connecting(_) | Phase::Open(_) => {}
        }
    }

    /// Sends `message`: at once when open (and nothing queued is waiting), else through the
    /// queue, which is flushed in order when a transport opens.
    ///
    /// Every message ends in exactly one outcome: emitted once as [`Action::Send`], refused
    /// here (the error gives it back), or handed back later in [`Event::Undelivered`].
    pub fn send(&mut self, message: Message, now: Instant) -> Result<(), SendError> {
        self.send_inner(message, None, now)
    }

    /// Like [`send`](Self::send), but if the message is still queued at `deadline` it is handed
    /// back as [`UndeliveredReason::Expired`] (for data that is worthless once stale, such as a
    /// cursor position).
    pub fn send_with_deadline(
        &mut self,
        message: Message,
        deadline: Instant,
        now: Instant,
    ) -> Result<(), SendError> {
        self.send_inner(message, Some(deadline), now)
    }

    /// Sends at once, ahead of the queue, on the open transport `connection` (the one named by
    /// [`Event::Open`]): for the login or subscribe messages that must precede queued ones
    /// when `hold_queue_until_ready` is set.
    ///
    /// Naming the connection makes a login meant for one connection impossible to send on the
    /// next: if that connection ended meanwhile, the message comes back with
    /// [`SendErrorKind::StaleConnection`] (the new connection gets its own `Open`, and the
    /// application logs in again there); if it is the current transport but not open (still
    /// connecting, or closing), with [`SendErrorKind::NotOpen`].
    pub fn send_now(
        &mut self,
        connection: ConnectionId,
        message: Message,
        now: Instant,
    ) -> Result<(), SendError> {
        self.advance_clock(now);
        match self.phase {
            Phase::Open(open) if open == connection => {
                self.emit_send(message);
                Ok(())
            }
            _ if self.connection() == Some(connection) => {
                Err(SendError::new(SendErrorKind::NotOpen, message))
            }
            _ => Err(SendError::new(SendErrorKind::StaleConnection, message)),
        }
    }

    /// Releases the queue held by `hold_queue_until_ready` on the open transport `connection`
    /// (the one named by [`Event::Open`]), once the application's own login or subscribe
    /// messages are out.
    ///
    /// A `ready` naming any other transport (one that ended while the application was
    /// logging in, so it arrives after a reconnect) is ignored and counted in
    /// [`Stats::stale_inputs`]: it must not release the new connection's queue before its own
    /// login.
    pub fn ready(&mut self, connection: ConnectionId, now: Instant) {
        let now = self.advance_clock(now);
        match self.phase {
            Phase::Open(open) if open == connection => {
                if !self.queue_released {
                    self.queue_released = true;
                    self.flush_queue(now);
                }
            }
            _ => self.stats.stale_inputs += 1,
        }
    }

    /// Closes gracefully with `code` and `reason`. Never followed by a reconnect; whatever is
    /// still queued is handed back as [`UndeliveredReason::Closed`].
    pub fn close(&mut self, code: CloseCode, reason: Text, now: Instant) -> Result<(), CloseError> {
        CloseError::check(code, &reason)?;
        let now = self.advance_clock(now);
        self.connect_after_close = false;
        match self.phase {
            Phase::Open(id) => {
                self.timers.clear_transport_timers();
                self.timers
                    .set(TimerReason::CloseTimeout, now + self.config.close_timeout);
                self.phase = Phase::Closing(id);
                self.actions.push_back(Action::Close { code, reason });
                self.hand_back_queue(UndeliveredReason::Closed);
            }
            Phase::Connecting(_) => {
                self.actions.push_back(Action::Abort);
                self.end_transport(
                    Disconnect::Application,
                    CloseCode::NORMAL,
                    Text::new(),
                    false,
                );
                self.stop(UndeliveredReason::Closed);
            }
            Phase::WaitingToReconnect => self.stop(UndeliveredReason::Closed),
            Phase::Closing(_) | Phase::Closed => {}
        }
        Ok(())
    }

    /// Replaces the transport now (e.g. after the application learns the network changed):
    /// an open or connecting transport is aborted and a new attempt starts at once; a backoff
    /// wait is cut short. Does nothing while closing or closed.
    pub fn reconnect_now(&mut self, now: Instant) {
        let now = self.advance_clock(now);
        match self.phase {
            Phase::Open(_) | Phase::Connecting(_) => {
                self.actions.push_back(Action::Abort);
                self.end_transport(
                    Disconnect::ReconnectRequested,
                    CloseCode::ABNORMAL,
                    Text::new(),
                    true,
                );
                self.start_attempt(now);
            }
            Phase::WaitingToReconnect => self.start_attempt(now),
            Phase::Closing(_) | Phase::Closed => {}
        }
    }

    // ----- driver inputs --------------------------------------------------------------------

    /// Feeds what happened to a transport. Inputs naming a transport other than the current
    /// one are ignored (and counted in [`Stats::stale_inputs`]).
    pub fn handle_input(&mut self, input: Input, now: Instant) {
        let now = self.advance_clock(now);
        if let Input::NetworkChanged = input {
            self.on_network_changed(now);
            return;
        }
        if input.connection() != self.connection() {
            self.stats.stale_inputs += 1;
            return;
        }
        match (input, self.phase) {
            (Input::Opened { connection }, Phase::Connecting(_)) => self.on_opened(connection, now),
            (Input::Frame { frame, .. }, Phase::Open(_) | Phase::Closing(_)) => {
                self.on_frame(frame, now);
            }
            (Input::ConnectFailed { failure, .. }, Phase::Connecting(_)) => {
                self.lose_transport(
                    Disconnect::ConnectFailed(failure),
                    CloseCode::ABNORMAL,
                    Text::new(),
                    now,
                );
            }
            (Input::Error { .. } | Input::ConnectFailed { .. }, Phase::Closing(_)) => {
                self.finish_close(CloseCode::ABNORMAL, Text::new(), now);
            }
            (Input::Closed { code, reason, .. }, Phase::Closing(_)) => {
                self.finish_close(code, reason, now);
            }
            (Input::Error { error, .. }, Phase::Connecting(_) | Phase::Open(_)) => {
                self.lose_transport(
                    Disconnect::Transport(error),
                    CloseCode::ABNORMAL,
                    Text::new(),
                    now,
                );
            }
            (Input::Closed { code, reason, .. }, Phase::Connecting(_) | Phase::Open(_)) => {
                self.lose_transport(Disconnect::PeerClosed { code }, code, reason, now);
            }
            _ => self.stats.ignored_inputs += 1,
        }
    }

    /// Fires every deadline at or before `now`. Calling it early (or twice) is harmless: it
    /// does nothing. A driver may therefore tick on every wake-up.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.advance_clock(now);
        match self.timers.next() {
            Some((at, _)) if at <= now => {
                if now - at > self.config.late_tick_threshold {
                    self.stats.late_ticks += 1;
                }
            }
            _ => return,
        }
        for _ in 0..MAX_TIMERS_PER_TICK {
            let Some((at, reason)) = self.timers.next() else {
                return;
            };
            if at > now {
                return;
            }
            self.timers.clear(reason);
            self.on_timer(reason, at, now);
        }
    }

    // ----- outputs --------------------------------------------------------------------------

    /// The next action for the driver. Drain until `None` after every call.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next event for the application. Drain until `None` after every call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest pending deadline: the driver calls [`handle_timeout`](Self::handle_timeout)
    /// once its clock reaches it. `None` means nothing is pending.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next().map(|(at, _)| at)
    }

    /// The earliest pending deadline with its reason, for tracing.
    #[must_use]
    pub fn next_deadline(&self) -> Option<(Instant, TimerReason)> {
        self.timers.next()
    }

    /// Gives back the memory of the action and event queues, if both are drained. They keep
    /// their capacity between calls, so that a busy connection allocates nothing per message;
    /// a driver calls this rarely (e.g. once per heartbeat), so that an idle one holds none.
    pub fn release_idle_memory(&mut self) {
        if self.actions.is_empty() && self.events.is_empty() {
            self.actions = VecDeque::new();
            self.events = VecDeque::new();
        }
    }

    // ----- internals ------------------------------------------------------------------------

    /// Time never goes backwards inside the supervisor: an earlier `now` is clamped and counted.
    fn advance_clock(&mut self, now: Instant) -> Instant {
        if now < self.now {
            self.stats.clock_regressions += 1;
        } else {
            self.now = now;
        }
        self.now
    }

    fn start_attempt(&mut self, now: Instant) {
        self.timers.clear(TimerReason::ReconnectBackoff);
        self.next_connection += 1;
        let connection = ConnectionId(self.next_connection);
        self.phase = Phase::Connecting(connection);
        self.timers.set(
            TimerReason::ConnectTimeout,
            now + self.config.connect_timeout,
        );
        self.stats.attempts += 1;
        let attempt = self.attempt;
        self.events.push_back(Event::Connecting { attempt });
        self.actions.push_back(Action::Connect {
            connection,
            attempt,
        });
    }

    fn on_opened(&mut self, connection: ConnectionId, now: Instant) {
        self.phase = Phase::Open(connection);
        self.timers.clear(TimerReason::ConnectTimeout);
        self.auth_refusals = 0;
        self.stats.opened += 1;
        if self.stats.opened > 1 {
            self.stats.reconnects += 1;
        }
        if self.config.stable_after.is_zero() {
            self.on_stable();
        } else {
            self.timers.set(
                TimerReason::ConnectionStable,
                now + self.config.stable_after,
            );
        }
        self.heartbeat.on_open(&self.config, &mut self.timers, now);
        self.events.push_back(Event::Open { connection });
        // What the server must hear again on every connection goes before anything queued,
        // whether or not the flush gate holds the queue.
        if let Some(replay) = &self.config.replay_on_open {
            for message in replay.messages(connection) {
                self.stats.messages_replayed += 1;
                self.actions.push_back(Action::Send(message));
            }
        }
        self.queue_released = !self.config.hold_queue_until_ready;
        if self.queue_released {
            self.flush_queue(now);
        }
    }

    fn on_stable(&mut self) {
        self.attempt = 0;
        self.backoff.reset(&self.config);
    }

    fn on_frame(&mut self, frame: Frame, now: Instant) {
        match self
            .heartbeat
            .on_frame(frame, &self.config, &mut self.timers, now)
        {
            Inbound::Reply(rtt) => {
                if let Some(rtt) = rtt {
                    self.stats.last_rtt = Some(rtt);
                    self.events.push_back(Event::Rtt(rtt));
                }
            }
            Inbound::ServerPing(reply) => {
                if matches!(self.phase, Phase::Open(_)) {
                    self.actions.push_back(Action::Heartbeat(reply));
                }
            }
            Inbound::Other(Frame::Text(text)) => self.deliver(Message::Text(text)),
            Inbound::Other(Frame::Binary(bytes)) => self.deliver(Message::Binary(bytes)),
            Inbound::Other(_) => {}
        }
        // Closing: the handshake decides from here on, not the heartbeat.
        if matches!(self.phase, Phase::Closing(_)) {
            self.clear_heartbeat_timers();
        }
    }

    fn deliver(&mut self, message: Message) {
        self.stats.messages_received += 1;
        self.events.push_back(Event::Message(message));
    }

    fn clear_heartbeat_timers(&mut self) {
        self.timers.clear(TimerReason::PingDue);
        self.timers.clear(TimerReason::PongOverdue);
        self.timers.clear(TimerReason::IdleTimeout);
    }

    fn on_network_changed(&mut self, now: Instant) {
        match self.phase {
            Phase::Open(_) => {
                let probe = self
                    .heartbeat
                    .probe_now(&self.config, &mut self.timers, now);
                self.emit_ping(probe);
            }
            Phase::Connecting(_) | Phase::WaitingToReconnect => self.reconnect_now(now),
            Phase::Closing(_) | Phase::Closed => {}
        }
    }

    fn on_timer(&mut self, reason: TimerReason, at: Instant, now: Instant) {
        match reason {
            TimerReason::ConnectionStable => self.on_stable(),
            TimerReason::MessageExpiry => self.expire_queued(now),
            TimerReason::PingDue => {
                let ping = self
                    .heartbeat
                    .on_ping_due(&self.config, &mut self.timers, now);
                self.emit_ping(ping);
            }
            TimerReason::PongOverdue | TimerReason::IdleTimeout => {
                match self
                    .heartbeat
                    .on_expiry(&self.config, &mut self.timers, at, now)
                {
                    Expiry::Probe(probe) => self.emit_ping(probe),
                    Expiry::Dead => {
                        let cause = if matches!(self.config.heartbeat, Heartbeat::ServerDriven) {
                            Disconnect::IdleTimeout
                        } else {
                            Disconnect::HeartbeatTimeout
                        };
                        self.actions.push_back(Action::Abort);
                        self.lose_transport(cause, CloseCode::ABNORMAL, Text::new(), now);
                    }
                }
            }
            TimerReason::ConnectTimeout => {
                self.actions.push_back(Action::Abort);
                self.lose_transport(
                    Disconnect::ConnectTimeout,
                    CloseCode::ABNORMAL,
                    Text::new(),
                    now,
                );
            }
            TimerReason::CloseTimeout => {
                self.actions.push_back(Action::Abort);
                self.finish_close(CloseCode::ABNORMAL, Text::new(), now);
            }
            TimerReason::ReconnectBackoff => self.start_attempt(now),
        }
    }

    fn emit_ping(&mut self, ping: Action) {
        self.stats.pings_sent += 1;
        self.actions.push_back(ping);
    }

    fn emit_send(&mut self, message: Message) {
        self.stats.messages_sent += 1;
        self.actions.push_back(Action::Send(message));
    }

    /// Ends the current transport and reports it; the caller decides what comes next.
    fn end_transport(
        &mut self,
        cause: Disconnect,
        code: CloseCode,
        reason: Text,
        will_reconnect: bool,
    ) {
        self.timers.clear_transport_timers();
        self.phase = Phase::Closed;
        self.events.push_back(Event::Disconnected {
            code,
            reason,
            cause,
            will_reconnect,
        });
    }

    /// A transport ended without the application asking: apply the close policy.
    fn lose_transport(&mut self, cause: Disconnect, code: CloseCode, reason: Text, now: Instant) {
        let retry_auth = self.retry_auth_refusal(&cause);
        let permanent =
            self.config.close_policy.decide(&cause) == ReconnectDecision::Stop && !retry_auth;
        let exhausted = self
            .config
            .max_attempts
            .is_some_and(|max| self.attempt >= max);
        self.end_transport(cause, code, reason, !permanent && !exhausted);
        if permanent {
            self.stop(UndeliveredReason::Stopped);
        } else if exhausted {
            self.events.push_back(Event::GaveUp {
                attempts: self.attempt,
                undelivered: self.queue.len(),
            });
            self.stop(UndeliveredReason::Stopped);
        } else {
            self.attempt = self.attempt.saturating_add(1);
            let mut delay = self.backoff.next_delay(&self.config, &mut self.rng);
            if let Disconnect::ConnectFailed(ConnectFailure::Http {
                retry_after: Some(wait),
                ..
            }) = cause
            {
                delay = delay.max(wait.min(self.config.retry_after_cap));
            }
            self.wait_to_reconnect(delay, now);
        }
    }

    /// Counts an auth refusal and says whether it is retried although the policy said stop:
    /// with fresh credentials per attempt, up to `auth_retries` refusals in a row are.
    fn retry_auth_refusal(&mut self, cause: &Disconnect) -> bool {
        if !matches!(
            cause,
            Disconnect::ConnectFailed(ConnectFailure::Http {
                status: 401 | 403,
                ..
            })
        ) {
            return false;
        }
        self.auth_refusals = self.auth_refusals.saturating_add(1);
        self.config.credentials_refreshed && self.auth_refusals <= self.config.auth_retries
    }

    fn wait_to_reconnect(&mut self, delay: Duration, now: Instant) {
        self.phase = Phase::WaitingToReconnect;
        self.timers.set(TimerReason::ReconnectBackoff, now + delay);
        self.events.push_back(Event::Reconnecting {
            attempt: self.attempt,
            delay,
        });
    }

    /// Our close handshake is over (answered, failed or timed out).
    fn finish_close(&mut self, code: CloseCode, reason: Text, now: Instant) {
        let reconnect = core::mem::take(&mut self.connect_after_close);
        self.end_transport(Disconnect::Application, code, reason, reconnect);
        if reconnect {
            self.attempt = 0;
            self.backoff.reset(&self.config);
            self.start_attempt(now);
        } else {
            self.stop(UndeliveredReason::Closed);
        }
    }

    /// Goes idle for good: hands back the queue and reports `Closed`.
    fn stop(&mut self, reason: UndeliveredReason) {
        self.timers.clear(TimerReason::ReconnectBackoff);
        self.phase = Phase::Closed;
        self.hand_back_queue(reason);
        self.events.push_back(Event::Closed);
    }

    fn hand_back_queue(&mut self, reason: UndeliveredReason) {
        while let Some(queued) = self.queue.pop_front() {
            self.events.push_back(Event::Undelivered {
                message: queued.message,
                reason,
            });
        }
        self.timers.clear(TimerReason::MessageExpiry);
    }

    fn send_inner(
        &mut self,
        message: Message,
        deadline: Option<Instant>,
        now: Instant,
    ) -> Result<(), SendError> {
        let now = self.advance_clock(now);
        let accepting = match self.phase {
            Phase::Closed => false,
            Phase::Closing(_) => self.connect_after_close,
            Phase::Connecting(_) | Phase::Open(_) | Phase::WaitingToReconnect => true,
        };
        if !accepting {
            return Err(SendError::new(SendErrorKind::Closed, message));
        }
        if matches!(self.phase, Phase::Open(_)) && self.queue_released && self.queue.is_empty() {
            self.emit_send(message);
            return Ok(());
        }
        self.enqueue(message, deadline, now)
    }

    fn enqueue(
        &mut self,
        message: Message,
        deadline: Option<Instant>,
        now: Instant,
    ) -> Result<(), SendError> {
        let (max_messages, max_bytes) =
            (self.config.queue_max_messages, self.config.queue_max_bytes);
        let len = message.len();
        if max_messages == 0 || len > max_bytes {
            return Err(SendError::new(SendErrorKind::TooLargeForQueue, message));
        }
        // Expired already: hand it back before it can push anything out of a full queue.
        let age_limit = self.config.max_queue_age.map(|age| now + age);
        let deadline = match (deadline, age_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if deadline.is_some_and(|at| at <= now) {
            self.events.push_back(Event::Undelivered {
                message,
                reason: UndeliveredReason::Expired,
            });
            return Ok(());
        }
        if !self.queue.fits(len, max_messages, max_bytes) {
            if self.config.overflow == Overflow::RejectNew {
                return Err(SendError::new(SendErrorKind::QueueFull, message));
            }
            while !self.queue.fits(len, max_messages, max_bytes) {
                let Some(oldest) = self.queue.pop_front() else {
                    break;
                };
                self.events.push_back(Event::Undelivered {
                    message: oldest.message,
                    reason: UndeliveredReason::Dropped,
                });
            }
        }
        self.queue.push(Queued { message, deadline });
        self.arm_expiry();
        Ok(())
    }

    fn arm_expiry(&mut self) {
        match self.queue.earliest_deadline() {
            Some(at) => self.timers.set(TimerReason::MessageExpiry, at),
            None => self.timers.clear(TimerReason::MessageExpiry),
        }
    }

    fn expire_queued(&mut self, now: Instant) {
        let events = &mut self.events;
        self.queue.remove_expired(now, |message| {
            events.push_back(Event::Undelivered {
                message,
                reason: UndeliveredReason::Expired,
            });
        });
        self.arm_expiry();
    }

    fn flush_queue(&mut self, now: Instant) {
        self.expire_queued(now);
        while let Some(queued) = self.queue.pop_front() {
            self.emit_send(queued.message);
        }
        self.timers.clear(TimerReason::MessageExpiry);
    }
}
