//! Dead-peer detection: when to ping, what counts as an answer, and when silence means death.
//!
//! The bound it keeps (DESIGN invariant 2): with the peer silent, a ping goes out no later than
//! `ping_interval` after the last sign of life, and the transport is dropped no later than
//! `pong_timeout` after that ping. The one exception is a *late tick*: when the driver ticks
//! long after a deadline, the pong may be sitting unread in a socket buffer of a process that
//! was suspended, so one fresh probe is sent and its deadline is final.

use core::time::Duration;

use crate::config::{Config, Heartbeat, Liveness};
use crate::io::Action;
use crate::message::{Frame, Message, PingPayload};
use crate::time::Instant;
use crate::timer::{TimerReason, Timers};

/// What an inbound frame meant to the heartbeat.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// A heartbeat reply, consumed; carries the round trip if it answers the latest ping.
    Reply(Option<Duration>),
    /// The server's application-level ping; the automatic reply is inside.
    ServerPing(Message),
    /// Anything else: deliver messages to the application.
    Other(Frame),
}

/// What to do when a heartbeat deadline passes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// The peer is dead.
    Dead,
    /// Send this probe and wait `pong_timeout` for its answer.
    Probe(Action),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct HeartbeatState {
    /// Sequence number of the latest ping sent.
    sequence: u64,
    /// Highest sequence number answered.
    acknowledged: u64,
    /// When the latest ping went out, while it is unanswered.
    ping_sent_at: Option<Instant>,
    /// A late-tick probe is out: its deadline is final.
    probing: bool,
}

impl HeartbeatState {
    /// Arms the first deadline of a freshly opened transport.
    pub(crate) fn on_open(&mut self, config: &Config, timers: &mut Timers, now: Instant) {
        self.ping_sent_at = None;
        self.probing = false;
        self.acknowledged = self.sequence;
        Self::arm_after_liveness(config, timers, now);
    }

    fn arm_after_liveness(config: &Config, timers: &mut Timers, now: Instant) {
        timers.clear(TimerReason::PongOverdue);
        match config.heartbeat {
            Heartbeat::Protocol | Heartbeat::Application { .. } => {
                timers.set(TimerReason::PingDue, now + config.ping_interval);
            }
            Heartbeat::ServerDriven => {
                timers.set(TimerReason::IdleTimeout, now + config.idle_timeout);
            }
            Heartbeat::Disabled => {}
        }
    }

    /// Classifies an inbound frame and records any sign of life it carries.
    pub(crate) fn on_frame(
        &mut self,
        frame: Frame,
        config: &Config,
        timers: &mut Timers,
        now: Instant,
    ) -> Inbound {
        let inbound = self.classify(frame, config, now);
        let alive = matches!(inbound, Inbound::Reply(_))
            || config.liveness == Liveness::AnyFrame
            || matches!(config.heartbeat, Heartbeat::ServerDriven);
        if alive {
            self.probing = false;
            if matches!(inbound, Inbound::Reply(_)) {
                self.ping_sent_at = None;
            }
            Self::arm_after_liveness(config, timers, now);
        }
        inbound
    }

    fn classify(&mut self, frame: Frame, config: &Config, now: Instant) -> Inbound {
        match frame {
            Frame::Pong(payload) => match PingPayload::sequence_of(&payload) {
                Some(seq) if seq > self.acknowledged && seq <= self.sequence => {
                    self.acknowledged = seq;
                    let rtt = (seq == self.sequence)
                        .then_some(self.ping_sent_at)
                        .flatten()
                        .map(|sent| now - sent);
                    Inbound::Reply(rtt)
                }
                _ => Inbound::Other(Frame::Pong(payload)),
            },
            Frame::Text(text) => self.classify_message(Message::Text(text), config, now),
            Frame::Binary(bytes) => self.classify_message(Message::Binary(bytes), config, now),
            other => Inbound::Other(other),
        }
    }

    fn classify_message(&mut self, message: Message, config: &Config, now: Instant) -> Inbound {
        if let Heartbeat::Application { pong, .. } = &config.heartbeat
            && pong.matches(&message)
        {
            self.acknowledged = self.sequence;
            return Inbound::Reply(self.ping_sent_at.map(|sent| now - sent));
        }
        if let Some(server_ping) = &config.answer_server_ping
            && server_ping.ping.matches(&message)
        {
            return Inbound::ServerPing(server_ping.reply.clone());
        }
        Inbound::Other(Frame::from(message))
    }

    /// `PingDue` fired: the ping to send, with its reply deadline armed.
    pub(crate) fn on_ping_due(
        &mut self,
        config: &Config,
        timers: &mut Timers,
        now: Instant,
    ) -> Action {
        self.send_ping(config, timers, now, now + config.pong_timeout)
    }

    /// `PongOverdue` or `IdleTimeout` fired at `now`, for a deadline `at`.
    pub(crate) fn on_expiry(
        &mut self,
        config: &Config,
        timers: &mut Timers,
        at: Instant,
        now: Instant,
    ) -> Expiry {
        let late = now - at > config.late_tick_threshold;
        if late && !self.probing {
            self.probing = true;
            timers.clear(TimerReason::IdleTimeout);
            Expiry::Probe(self.send_ping(config, timers, now, now + config.pong_timeout))
        } else {
            Expiry::Dead
        }
    }

    /// A network change: probe now, without ever extending a reply deadline already running.
    pub(crate) fn probe_now(
        &mut self,
        config: &Config,
        timers: &mut Timers,
        now: Instant,
    ) -> Action {
        let deadline = now + config.pong_timeout;
        let deadline = timers
            .get(TimerReason::PongOverdue)
            .map_or(deadline, |running| running.min(deadline));
        self.send_ping(config, timers, now, deadline)
    }

    fn send_ping(
        &mut self,
        config: &Config,
        timers: &mut Timers,
        now: Instant,
        reply_deadline: Instant,
    ) -> Action {
        self.sequence += 1;
        self.ping_sent_at = Some(now);
        timers.clear(TimerReason::PingDue);
        timers.set(TimerReason::PongOverdue, reply_deadline);
        match &config.heartbeat {
            Heartbeat::Application { ping, .. } => Action::Heartbeat(ping.clone()),
            _ => Action::Ping(PingPayload::from_sequence(self.sequence)),
        }
    }
}
