//! The few ws-core items whose signatures are about to change, used from this one place.
//!
//! ws-core is moving to `Event::Open` carrying the [`ConnectionId`] it is about,
//! `Supervisor::ready` and `Supervisor::send_now` naming the connection they are meant for,
//! and `ClosePolicy` becoming a struct around a closure. Everything else in this crate calls
//! these wrappers, so adapting is an edit to this file only.

use ws_core::{ConnectionId, Event, Instant, Message, SendError, Supervisor};

/// Whether `event` is the supervisor's "the transport is open" event.
pub(crate) fn is_open(event: &Event) -> bool {
    matches!(event, Event::Open)
}

/// Releases the queue held by `hold_queue_until_ready` on `connection`.
pub(crate) fn ready(supervisor: &mut Supervisor, _connection: ConnectionId, now: Instant) {
    supervisor.ready(now);
}

/// Sends ahead of the queue on `connection`, which must be open.
pub(crate) fn send_now(
    supervisor: &mut Supervisor,
    _connection: ConnectionId,
    message: Message,
    now: Instant,
) -> Result<(), SendError> {
    supervisor.send_now(message, now)
}
