//! The driver's observer: it sees only what goes in and what comes out — the handles' calls
//! and their results, the events the application reads, what reached the scripted wire and
//! when sockets and attempts were dropped — and checks the driver's promises against that.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use core::time::Duration;
use tungstenite::Message as WireMessage;
use ws_client::{Event, Heartbeat, Message};
use ws_core::Config;

use super::runtime::{ReadKind, World};

/// A promise of the driver.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum DriverInvariant {
    /// Every message given to a send ends in exactly one outcome: on the wire once, handed
    /// back in an event, or returned in the call's `Err`.
    Conservation,
    /// Messages from plain sends reach the wire in the order the sends were accepted.
    Order,
    /// Messages from the peer reach the application once each, in order.
    InboundOrder,
    /// Once the client is closed no handle call pends, the event stream ends after
    /// `Closed`, and the driver future completes.
    NoHang,
    /// An open, silent connection is dropped within the heartbeat's bound, whether or not
    /// the application reads its events.
    Heartbeat,
    /// A socket whose stream ended (the peer's Close, a read error) or on which we sent our
    /// Close is dropped within `close_timeout`, its reply flushed or not.
    CloseBound,
    /// A connect attempt is dropped within `connect_timeout`.
    ConnectBound,
    /// One transport at a time: no connect while an attempt or a socket is alive.
    OneTransport,
    /// A poll that changes nothing does not wake itself endlessly.
    BusyLoop,
    /// A poll without a wake-up finds nothing to do (no wake-up was lost).
    LostWakeup,
    /// Same bytes, same run.
    Determinism,
    /// No allocation per message in the steady state (the allocation window only).
    SteadyAllocation,
}

/// A broken promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverViolation {
    /// Which promise.
    pub invariant: DriverInvariant,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for DriverViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.invariant, self.detail)
    }
}

pub(crate) fn violation(invariant: DriverInvariant, detail: String) -> DriverViolation {
    DriverViolation { invariant, detail }
}

/// Which kind of call carried a message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lane {
    /// `send` or `try_send`: ordered with the other plain sends.
    Plain,
    /// `send_now`: ahead of the queue.
    Ahead,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Wire,
    HandedBack,
    CallErr,
}

#[derive(Debug)]
struct Tracked {
    lane: Lane,
    /// The order in which plain sends were accepted.
    accepted: Option<u64>,
    outcome: Option<Outcome>,
}

/// The observer's picture.
#[derive(Debug)]
pub(crate) struct DriverObserver {
    config: Config,
    messages: BTreeMap<u64, Tracked>,
    accepted: u64,
    /// The acceptance number of the last plain message seen on the wire.
    last_on_wire: Option<u64>,
    pub(crate) events_dropped: bool,
    pub(crate) closed_read: bool,
    pub(crate) stream_ended: bool,
    /// Peer messages read by the driver, not yet seen as events, in order.
    inbound: std::collections::VecDeque<Bytes>,
    /// The latest virtual time the clock jumped by more than `late_tick_threshold` (a late
    /// tick gets a fresh probe rather than a verdict).
    pub(crate) late_jump: Duration,
    pub(crate) counters: DriverCounters,
}

/// What a run did, to show that a scenario really exercised something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverCounters {
    /// Messages given to sends.
    pub given: u64,
    /// Messages seen on the wire.
    pub on_wire: u64,
    /// Messages handed back in events.
    pub handed_back: u64,
    /// Messages returned in a call's `Err`.
    pub returned: u64,
    /// Sockets opened.
    pub opened: u64,
    /// Events read.
    pub events: u64,
    /// Driver polls.
    pub polls: u64,
    /// Heartbeat pings (protocol Pings) fed to sockets.
    pub pings: u64,
    /// Whether the driver future completed.
    pub completed: bool,
}

/// The id of a message the scheduler made (`m<id>`).
pub(crate) fn message_id(payload: &[u8]) -> Option<u64> {
    let digits = payload.strip_prefix(b"m")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn payload_of(message: &Message) -> &[u8] {
    match message {
        Message::Text(text) => text.as_str().as_bytes(),
        Message::Binary(bytes) => bytes,
    }
}

impl DriverObserver {
    pub(crate) fn new(config: Config) -> Self {
        DriverObserver {
            config,
            messages: BTreeMap::new(),
            accepted: 0,
            last_on_wire: None,
            events_dropped: false,
            closed_read: false,
            stream_ended: false,
            inbound: std::collections::VecDeque::new(),
            late_jump: Duration::ZERO,
            counters: DriverCounters::default(),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// A message `id` is given to a call of `lane`.
    pub(crate) fn given(&mut self, id: u64, lane: Lane) {
        self.counters.given += 1;
        self.messages.insert(
            id,
            Tracked {
                lane,
                accepted: None,
                outcome: None,
            },
        );
    }

    /// The call carrying `id` returned: `Ok`, or `Err` with `returned`.
    pub(crate) fn returned(
        &mut self,
        id: u64,
        returned: Option<&Message>,
    ) -> Result<(), DriverViolation> {
        let tracked = self.messages.get_mut(&id).expect("a tracked message");
        match returned {
            None => {
                if tracked.lane == Lane::Plain {
                    self.accepted += 1;
                    tracked.accepted = Some(self.accepted);
                }
                Ok(())
            }
            Some(message) => {
                if message_id(payload_of(message)) != Some(id) {
                    return Err(violation(
                        DriverInvariant::Conservation,
                        format!("the call for m{id} returned another message: {message:?}"),
                    ));
                }
                self.counters.returned += 1;
                Self::settle(id, tracked, Outcome::CallErr)
            }
        }
    }

    fn settle(id: u64, tracked: &mut Tracked, outcome: Outcome) -> Result<(), DriverViolation> {
        if let Some(earlier) = tracked.outcome {
            return Err(violation(
                DriverInvariant::Conservation,
                format!("m{id} ended twice: {earlier:?}, then {outcome:?}"),
            ));
        }
        tracked.outcome = Some(outcome);
        Ok(())
    }

    /// The application read `event`.
    pub(crate) fn event(&mut self, event: &Event) -> Result<(), DriverViolation> {
        self.counters.events += 1;
        if self.closed_read {
            return Err(violation(
                DriverInvariant::NoHang,
                format!("an event after Closed: {event:?}"),
            ));
        }
        match event {
            Event::Rejected { message, .. } | Event::Undelivered { message, .. } => {
                let Some(id) = message_id(payload_of(message)) else {
                    return Err(violation(
                        DriverInvariant::Conservation,
                        format!("a message nobody sent was handed back: {event:?}"),
                    ));
                };
                let Some(tracked) = self.messages.get_mut(&id) else {
                    return Err(violation(
                        DriverInvariant::Conservation,
                        format!("m{id} handed back before it was given"),
                    ));
                };
                if tracked.accepted.is_none() && tracked.lane == Lane::Plain {
                    // Accepted sends only: a send still pending has not handed it over.
                    return Err(violation(
                        DriverInvariant::Conservation,
                        format!("m{id} handed back though its send was not accepted"),
                    ));
                }
                self.counters.handed_back += 1;
                Self::settle(id, tracked, Outcome::HandedBack)
            }
            Event::Message(message) => {
                let payload = payload_of(message);
                match self.inbound.pop_front() {
                    Some(expected) if expected.as_ref() == payload => Ok(()),
                    other => Err(violation(
                        DriverInvariant::InboundOrder,
                        format!("the application got {message:?}, the wire had {other:?} next"),
                    )),
                }
            }
            Event::Open { .. } => {
                self.counters.opened += 1;
                Ok(())
            }
            Event::Closed => {
                self.closed_read = true;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Takes in what the driver fed and read since the last call.
    pub(crate) fn wire(&mut self, world: &mut World) -> Result<(), DriverViolation> {
        while let Some((socket, message)) = world.fed.pop_front() {
            let payload = match &message {
                WireMessage::Text(text) => Bytes::from(text.clone()),
                WireMessage::Binary(bytes) => bytes.clone(),
                WireMessage::Frame(frame) => Bytes::copy_from_slice(frame.payload()),
                WireMessage::Ping(_) => {
                    self.counters.pings += 1;
                    continue;
                }
                _ => continue,
            };
            let Some(id) = message_id(&payload) else {
                continue; // a replay or an application heartbeat
            };
            let Some(tracked) = self.messages.get_mut(&id) else {
                return Err(violation(
                    DriverInvariant::Conservation,
                    format!("m{id} reached socket {socket} before it was given"),
                ));
            };
            self.counters.on_wire += 1;
            Self::settle(id, tracked, Outcome::Wire)?;
            if tracked.lane == Lane::Plain {
                let Some(accepted) = tracked.accepted else {
                    return Err(violation(
                        DriverInvariant::Conservation,
                        format!("m{id} reached the wire though its send was not accepted"),
                    ));
                };
                if self.last_on_wire.is_some_and(|last| last > accepted) {
                    return Err(violation(
                        DriverInvariant::Order,
                        format!(
                            "m{id} (accepted #{accepted}) reached socket {socket} after #{}",
                            self.last_on_wire.unwrap_or_default()
                        ),
                    ));
                }
                self.last_on_wire = Some(accepted);
            }
        }
        while let Some((_, kind)) = world.read.pop_front() {
            if let ReadKind::Data(payload) = kind
                && !self.events_dropped
                && !self.is_heartbeat_reply(&payload)
            {
                self.inbound.push_back(payload);
            }
        }
        Ok(())
    }

    fn is_heartbeat_reply(&self, payload: &[u8]) -> bool {
        matches!(self.config.heartbeat(), Heartbeat::Application { .. }) && payload == b"hb-pong"
    }

    /// The application dropped its event stream: what would have come back in events is
    /// lost by design from now on.
    pub(crate) fn drop_events(&mut self) {
        self.events_dropped = true;
        self.inbound.clear();
    }

    /// The bounds in time, after a step (`now`: virtual time).
    pub(crate) fn timing(&self, world: &World) -> Result<(), DriverViolation> {
        let now = world.elapsed;
        let config = &self.config;
        let threshold = config.late_tick_threshold();
        if world.overlapping_connects > 0 {
            return Err(violation(
                DriverInvariant::OneTransport,
                "a connect attempt started while another attempt or socket was alive".into(),
            ));
        }
        for (index, attempt) in world.attempts.iter().enumerate() {
            let since = attempt.started.max(self.late_jump);
            if attempt.alive && !attempt.done && now >= since + config.connect_timeout() {
                return Err(violation(
                    DriverInvariant::ConnectBound,
                    format!(
                        "attempt {index} started at {:?} still pending at {now:?}",
                        attempt.started
                    ),
                ));
            }
        }
        let heartbeat = match config.heartbeat() {
            Heartbeat::Protocol | Heartbeat::Application { .. } => {
                Some(config.ping_interval() + config.pong_timeout() + threshold)
            }
            Heartbeat::ServerDriven => Some(config.idle_timeout() + threshold),
            _ => None,
        };
        for (index, socket) in world.sockets.iter().enumerate() {
            if !socket.alive {
                continue;
            }
            let ended = socket.read_end.max(socket.our_close);
            if let Some(ended) = ended {
                let since = ended.max(self.late_jump);
                if now >= since + config.close_timeout() {
                    return Err(violation(
                        DriverInvariant::CloseBound,
                        format!(
                            "socket {index} (stream ended {:?}, our Close {:?}, reply pending {}) still held at {now:?}",
                            socket.read_end, socket.our_close, socket.close_reply_pending
                        ),
                    ));
                }
            } else if let Some(bound) = heartbeat {
                let since = socket.opened.max(socket.last_read).max(self.late_jump);
                if now >= since + bound {
                    return Err(violation(
                        DriverInvariant::Heartbeat,
                        format!(
                            "socket {index} silent since {since:?} still open at {now:?} (bound {bound:?})"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// At the end of a run: every message given has exactly one outcome (unless the
    /// application dropped its events, which loses what they would have handed back).
    pub(crate) fn finish(&self) -> Result<(), DriverViolation> {
        if self.events_dropped {
            return Ok(());
        }
        if let Some((id, tracked)) = self
            .messages
            .iter()
            .find(|(_, tracked)| tracked.outcome.is_none())
        {
            return Err(violation(
                DriverInvariant::Conservation,
                format!("m{id} ({:?}) ended in no outcome", tracked.lane),
            ));
        }
        if !self.inbound.is_empty() {
            return Err(violation(
                DriverInvariant::InboundOrder,
                format!(
                    "{} messages read from the wire never reached the application",
                    self.inbound.len()
                ),
            ));
        }
        Ok(())
    }
}
