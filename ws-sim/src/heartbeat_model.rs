//! The observer's picture of dead-peer detection, built only from what went in and out: when
//! the peer last showed life, which ping is unanswered, and therefore when the next ping or
//! the drop is due (DESIGN invariants 2 and 3).
//!
//! The bound it encodes: with the peer silent, a ping is due `ping_interval` after the last
//! sign of life and the drop `pong_timeout` after the first unanswered ping (a later probe never
//! extends it). A tick later than a drop deadline by more than `late_tick_threshold` earns one
//! probe, whose own deadline is final.

use core::time::Duration;

use ws_core::{Config, Frame, Heartbeat, Instant, Liveness, Message};

/// The heartbeat mode, reduced to what the bound depends on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    /// Client pings (protocol or application level).
    ClientPings,
    /// No client pings; silence for `idle_timeout` is death.
    ServerDriven,
    /// No heartbeat (only network-change probes).
    Disabled,
}

impl Mode {
    pub(crate) fn of(config: &Config) -> Mode {
        match config.heartbeat() {
            Heartbeat::Protocol | Heartbeat::Application { .. } => Mode::ClientPings,
            Heartbeat::ServerDriven => Mode::ServerDriven,
            _ => Mode::Disabled,
        }
    }
}

/// What a heartbeat deadline that has passed calls for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Due {
    /// Send the next ping.
    Ping,
    /// The tick is late: send one probe instead of dropping.
    Probe,
    /// The peer is dead: drop the transport.
    Drop,
}

/// Dead-peer state of one open transport.
#[derive(Clone, Debug)]
pub(crate) struct OpenHeartbeat {
    /// The latest sign of life (or the open).
    pub(crate) last_alive: Instant,
    /// Reply deadline of the first ping still unanswered since `last_alive`.
    awaiting: Option<Instant>,
    /// A late-tick probe is out; its deadline is final.
    probing: bool,
    /// Server-driven mode: the idle deadline runs (stopped while a late-tick probe is out).
    idle_armed: bool,
}

impl OpenHeartbeat {
    pub(crate) fn opened(now: Instant) -> Self {
        OpenHeartbeat {
            last_alive: now,
            awaiting: None,
            probing: false,
            idle_armed: true,
        }
    }

    /// The next heartbeat deadline and what it calls for if it passes unanswered.
    pub(crate) fn deadline(&self, config: &Config) -> Option<(Instant, Due)> {
        let (at, due) = self.unclamped_deadline(config)?;
        reachable(at).map(|at| (at, due))
    }

    fn unclamped_deadline(&self, config: &Config) -> Option<(Instant, Due)> {
        match Mode::of(config) {
            Mode::ClientPings => Some(match self.awaiting {
                Some(at) => (at, Due::Drop),
                None => (self.last_alive + config.ping_interval(), Due::Ping),
            }),
            Mode::ServerDriven => {
                let idle = self
                    .idle_armed
                    .then(|| self.last_alive + config.idle_timeout());
                earliest(idle, self.awaiting).map(|at| (at, Due::Drop))
            }
            Mode::Disabled => self.awaiting.map(|at| (at, Due::Drop)),
        }
    }

    /// What a tick at `now` must do, if a heartbeat deadline has passed.
    pub(crate) fn due(&self, config: &Config, now: Instant) -> Option<(Instant, Due)> {
        let (at, due) = self.deadline(config)?;
        if at > now {
            return None;
        }
        let late = now - at > config.late_tick_threshold();
        Some(match due {
            Due::Drop if late && !self.probing => (at, Due::Probe),
            other => (at, other),
        })
    }

    /// A ping went out at `now` because `due` (or a network change, `None`) asked for it.
    pub(crate) fn pinged(&mut self, config: &Config, now: Instant, due: Option<Due>) {
        let deadline = now + config.pong_timeout();
        match due {
            Some(Due::Probe) => {
                self.probing = true;
                self.idle_armed = false;
                self.awaiting = Some(deadline);
            }
            Some(Due::Ping | Due::Drop) => self.awaiting = Some(deadline),
            // A network-change probe never extends a reply deadline already running.
            None => self.awaiting = earliest(self.awaiting, Some(deadline)),
        }
    }

    /// The peer showed life at `now`.
    pub(crate) fn alive(&mut self, now: Instant) {
        *self = OpenHeartbeat::opened(now);
    }
}

/// What an inbound frame is, for the heartbeat.
#[derive(Clone, PartialEq, Debug)]
pub(crate) enum Inbound {
    /// A heartbeat reply, with the round trip it measures (if it answers the latest ping).
    Reply(Option<Duration>),
    /// The server's application-level ping, which the core answers itself.
    ServerPing,
    /// An application message, to be delivered.
    Message(Message),
    /// A protocol ping or an unmatched pong: neither delivered nor a reply.
    Other,
}

/// Heartbeat numbering across transports: which pong answers which ping.
#[derive(Clone, Debug, Default)]
pub(crate) struct PingLedger {
    /// Number of the latest heartbeat ping (the core numbers them 1, 2, 3… for its life).
    pub(crate) sequence: u64,
    /// Highest number answered.
    acknowledged: u64,
    /// When the latest ping went out, while it is unanswered.
    sent_at: Option<Instant>,
}

impl PingLedger {
    /// A transport opened: replies to pings sent on earlier ones no longer count.
    pub(crate) fn opened(&mut self) {
        self.acknowledged = self.sequence;
        self.sent_at = None;
    }

    pub(crate) fn pinged(&mut self, sequence: u64, now: Instant) {
        self.sequence = sequence;
        self.sent_at = Some(now);
    }

    /// Classifies an inbound frame the way the contract describes it.
    pub(crate) fn classify(&mut self, frame: &Frame, config: &Config, now: Instant) -> Inbound {
        match frame {
            Frame::Pong(payload) => {
                let Ok(bytes) = <[u8; 8]>::try_from(payload.as_ref()) else {
                    return Inbound::Other;
                };
                let number = u64::from_be_bytes(bytes);
                if number > self.acknowledged && number <= self.sequence {
                    self.acknowledged = number;
                    let rtt = (number == self.sequence)
                        .then_some(self.sent_at)
                        .flatten()
                        .map(|sent| now - sent);
                    self.sent_at = None;
                    Inbound::Reply(rtt)
                } else {
                    Inbound::Other
                }
            }
            Frame::Text(text) => self.classify_message(Message::Text(text.clone()), config, now),
            Frame::Binary(bytes) => {
                self.classify_message(Message::Binary(bytes.clone()), config, now)
            }
            _ => Inbound::Other,
        }
    }

    fn classify_message(&mut self, message: Message, config: &Config, now: Instant) -> Inbound {
        if let Heartbeat::Application { pong, .. } = config.heartbeat()
            && pong.matches(&message)
        {
            self.acknowledged = self.sequence;
            return Inbound::Reply(self.sent_at.take().map(|sent| now - sent));
        }
        if config
            .answer_server_ping()
            .is_some_and(|server| server.ping.matches(&message))
        {
            return Inbound::ServerPing;
        }
        Inbound::Message(message)
    }
}

/// Whether `inbound` counts as a sign of life under `config`.
pub(crate) fn is_alive(inbound: &Inbound, config: &Config) -> bool {
    matches!(inbound, Inbound::Reply(_))
        || config.liveness() == Liveness::AnyFrame
        || Mode::of(config) == Mode::ServerDriven
}

/// A deadline as the core keeps it: one that saturated at the end of the clock
/// ([`Instant::MAX`]) can never be reached, so it is no deadline at all.
pub(crate) fn reachable(at: Instant) -> Option<Instant> {
    (at < Instant::MAX).then_some(at)
}

pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
