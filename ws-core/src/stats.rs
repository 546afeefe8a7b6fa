//! Counters for dashboards and tests.

use core::time::Duration;

/// A snapshot of the supervisor's counters, from [`Supervisor::stats`](crate::Supervisor::stats).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Connect attempts started (the first connect included).
    pub attempts: u64,
    /// Transports that opened.
    pub opened: u64,
    /// Transports that opened after an earlier one ended.
    pub reconnects: u64,
    /// The current reconnect streak: 0 while the first connect or a stable connection is in
    /// progress, else the number of the latest attempt.
    pub current_attempt: u32,
    /// Messages waiting in the queue.
    pub queued_messages: usize,
    /// Payload bytes waiting in the queue (a WebSocket's `bufferedAmount`).
    pub queued_bytes: usize,
    /// The latest heartbeat round trip.
    pub last_rtt: Option<Duration>,
    /// Messages given to `send()` or `send_now()` and emitted as `Send`.
    pub messages_sent: u64,
    /// Messages of the [`Replay`](crate::Replay) emitted as `Send` at each open (not counted
    /// in `messages_sent`).
    pub messages_replayed: u64,
    /// Application messages delivered as `Event::Message`.
    pub messages_received: u64,
    /// Heartbeat pings emitted.
    pub pings_sent: u64,
    /// Inputs that named a transport other than the current one, and `ready()` calls that
    /// named one other than the current open one (ignored).
    pub stale_inputs: u64,
    /// Inputs that made no sense in the current state (ignored).
    pub ignored_inputs: u64,
    /// `handle_timeout` calls that came more than `late_tick_threshold` after the earliest
    /// deadline (a suspended process or a starved runtime).
    pub late_ticks: u64,
    /// Calls whose `now` was earlier than a previous one (clamped).
    pub clock_regressions: u64,
    /// Auth refusals (HTTP 401 or 403 to the upgrade request) since a connection last opened:
    /// the streak that [`auth_retries`](crate::ConfigBuilder::auth_retries) bounds.
    pub auth_refusals: u32,
}
