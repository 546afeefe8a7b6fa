//! Messages every new connection starts with.
//!
//! A server forgets a client's subscriptions when the connection drops, so each new connection
//! must say them again, before anything queued during the outage (an order for a channel that
//! is not yet subscribed would be rejected). Queueing them with `send()` at every `Open` is
//! racy and would hand them back on a give-up as if they were the application's data; a
//! replay function is asked at every open instead.

use core::fmt;

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::io::ConnectionId;
use crate::message::Message;

/// The messages to send first on every connection that opens: subscriptions, a session
/// resume, anything the server must hear again after a reconnect.
///
/// The function is called once per [`Input::Opened`](crate::Input), with the connection that
/// opened; what it returns is emitted as [`Action::Send`](crate::Action) before any queued
/// message, even while `hold_queue_until_ready` holds the queue. Replayed messages are not
/// queued messages: they count in [`Stats::messages_replayed`](crate::Stats), never in the
/// queue's counters, and are never handed back (the next connection asks for them afresh).
///
/// For [determinism](crate#guarantees) the function should depend on the connection id and on
/// state the application changes itself (the set of current subscriptions, say), and it must
/// not block: it runs inside the supervisor's call.
#[derive(Clone)]
pub struct Replay(Arc<ReplayFn>);

/// The closure behind a [`Replay`].
type ReplayFn = dyn Fn(ConnectionId) -> Vec<Message> + Send + Sync;

impl Replay {
    /// A replay that asks `messages` at every open.
    pub fn new(messages: impl Fn(ConnectionId) -> Vec<Message> + Send + Sync + 'static) -> Self {
        Replay(Arc::new(messages))
    }

    /// The messages to replay on `connection`, which just opened.
    #[must_use]
    pub fn messages(&self, connection: ConnectionId) -> Vec<Message> {
        (self.0)(connection)
    }
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Replay(..)")
    }
}
