//! One call into the supervisor, seen from outside: what went in, at what time, and everything
//! that came out.
//!
//! The [`Observer`](crate::Observer) judges the supervisor only through these records, never
//! through its internals, so the same checks hold for any implementation of the contract and
//! can be replayed from a recorded trace.

use ws_core::{
    Action, CloseCode, CloseError, ConnectionId, Event, Input, Instant, Message, SendError,
    Supervisor, Text,
};

/// What the harness asked of the supervisor: an application command, a driver input, or a
/// tick.
#[derive(Clone, PartialEq, Debug)]
pub enum Call {
    /// `connect(now)`.
    Connect,
    /// `send(message, now)`, or `send_with_deadline(message, deadline, now)` when a deadline
    /// is given.
    Send {
        /// The message; its payload must be unique within a run (the observer tracks
        /// messages by payload).
        message: Message,
        /// The deadline passed to `send_with_deadline`.
        deadline: Option<Instant>,
    },
    /// `send_now(connection, message, now)`.
    SendNow {
        /// The transport the message is meant for.
        connection: ConnectionId,
        /// The message; unique payload, as for [`Call::Send`].
        message: Message,
    },
    /// `ready(connection, now)`.
    Ready {
        /// The transport whose flush gate opens.
        connection: ConnectionId,
    },
    /// `close(code, reason, now)`.
    Close {
        /// The code asked for (possibly one that may not be sent).
        code: CloseCode,
        /// The reason asked for (possibly too long).
        reason: Text,
    },
    /// `reconnect_now(now)`.
    ReconnectNow,
    /// `handle_input(input, now)`.
    Input(Input),
    /// `handle_timeout(now)`.
    Tick,
}

/// What the call returned, for the calls that return something.
#[derive(Clone, PartialEq, Debug)]
pub enum Returned {
    /// The call returns nothing.
    Unit,
    /// The result of `send`, `send_with_deadline` or `send_now`.
    Send(Result<(), SendError>),
    /// The result of `close`.
    Close(Result<(), CloseError>),
}

/// One call and everything it produced, drained completely.
#[derive(Clone, PartialEq, Debug)]
pub struct Observation {
    /// The `now` passed to the call (possibly earlier than a previous one: the core clamps).
    pub now: Instant,
    /// The call.
    pub call: Call,
    /// What it returned.
    pub returned: Returned,
    /// Every action drained after the call, in order.
    pub actions: Vec<Action>,
    /// Every event drained after the call, in order.
    pub events: Vec<Event>,
    /// `poll_timeout()` just before the call.
    pub timeout_before: Option<Instant>,
    /// `poll_timeout()` just after the call (and the drain).
    pub timeout_after: Option<Instant>,
}

impl Observation {
    /// Performs `call` at `now` on `supervisor`, drains both outputs, and records it all.
    pub fn perform(supervisor: &mut Supervisor, now: Instant, call: Call) -> Observation {
        let timeout_before = supervisor.poll_timeout();
        let returned = match &call {
            Call::Connect => {
                supervisor.connect(now);
                Returned::Unit
            }
            Call::Send {
                message,
                deadline: None,
            } => Returned::Send(supervisor.send(message.clone(), now)),
            Call::Send {
                message,
                deadline: Some(deadline),
            } => Returned::Send(supervisor.send_with_deadline(message.clone(), *deadline, now)),
            Call::SendNow {
                connection,
                message,
            } => Returned::Send(supervisor.send_now(*connection, message.clone(), now)),
            Call::Ready { connection } => {
                supervisor.ready(*connection, now);
                Returned::Unit
            }
            Call::Close { code, reason } => {
                Returned::Close(supervisor.close(*code, reason.clone(), now))
            }
            Call::ReconnectNow => {
                supervisor.reconnect_now(now);
                Returned::Unit
            }
            Call::Input(input) => {
                supervisor.handle_input(input.clone(), now);
                Returned::Unit
            }
            Call::Tick => {
                supervisor.handle_timeout(now);
                Returned::Unit
            }
        };
        let actions = core::iter::from_fn(|| supervisor.poll_action()).collect();
        let events = core::iter::from_fn(|| supervisor.poll_event()).collect();
        Observation {
            now,
            call,
            returned,
            actions,
            events,
            timeout_before,
            timeout_after: supervisor.poll_timeout(),
        }
    }

    /// Whether the call produced no action and no event.
    pub fn is_silent(&self) -> bool {
        self.actions.is_empty() && self.events.is_empty()
    }
}
