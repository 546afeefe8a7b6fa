//! The application's side: ws-client's handles, blocking the calling thread where they wait.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::Serialize;
use ws_client::{
    Bytes, CloseCode, ConnectionId, Error, Event, Message, RecvTimeoutError, SendError, State,
    Stats, Text, TryRecvError, TrySendError,
};

use ws_client::runtime::{block_on, block_until};

/// Joins the I/O thread once every handle is gone.
#[derive(Default)]
pub(crate) struct Owner {
    thread: OnceLock<JoinHandle<()>>,
}

impl Owner {
    /// Hands the I/O thread to the handles, so the last one to go joins it.
    pub(crate) fn adopt(&self, thread: JoinHandle<()>) {
        let _ = self.thread.set(thread);
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // Never join ourselves: a handle can end up owned by the driver (e.g. captured by
            // a URL function).
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The time `timeout` from now; `None` for a timeout too long to represent (no limit).
fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Sends to, closes and inspects one resilient connection. Cheap to clone; every clone talks
/// to the same I/O thread.
///
/// The same handle as the async adapters' `Client`, with the calling thread blocked where
/// those await: sends go through a bounded command channel (`command_capacity`) in the order
/// they are made, `send` blocks only while that channel is full, and each wakes the I/O
/// thread at once. Every message handed to a send ends in exactly one way: on the wire once,
/// in order; given back by the call's `Err` ([`SendError`], [`TrySendError`]); or given back
/// by an event ([`Event::Rejected`], [`Event::Undelivered`]). Nothing is lost silently.
#[derive(Clone)]
pub struct Client {
    // Dropped first: the driver sees the last client go before the owner joins it.
    inner: ws_client::Client,
    owner: Arc<Owner>,
}

impl Client {
    pub(crate) fn new(inner: ws_client::Client, owner: Arc<Owner>) -> Self {
        Client { inner, owner }
    }

    pub(crate) fn owner(&self) -> &Owner {
        &self.owner
    }

    /// Sends a message, blocking while the command channel is full; once the client has
    /// closed, the message comes back in the error.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        block_on(self.inner.send(message))
    }

    /// Sends without blocking: hands the message back if the command channel is full or the
    /// client has closed.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), TrySendError> {
        self.inner.try_send(message)
    }

    /// Sends a text message (any `&str`, `String` or [`Text`]).
    pub fn send_text(&self, text: impl Into<Text>) -> Result<(), SendError> {
        block_on(self.inner.send_text(text))
    }

    /// Sends a binary message.
    pub fn send_binary(&self, bytes: impl Into<Bytes>) -> Result<(), SendError> {
        block_on(self.inner.send_binary(bytes))
    }

    /// Serialises `value` and sends it as a text message ([`Error::Json`] when it cannot be
    /// serialised, [`Error::Closed`] once the client has closed).
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        block_on(self.inner.send_json(value))
    }

    /// Sends a message that is worth nothing after `within`: if it is still queued then, it
    /// comes back as [`Event::Undelivered`] (expired) instead of going out late.
    pub fn send_with_deadline(
        &self,
        message: impl Into<Message>,
        within: Duration,
    ) -> Result<(), SendError> {
        block_on(self.inner.send_with_deadline(message, within))
    }

    /// Sends ahead of the queue on `connection` (from [`Event::Open`]) and only there; see
    /// the async adapters' `Client::send_now`.
    pub fn send_now(
        &self,
        connection: ConnectionId,
        message: impl Into<Message>,
    ) -> Result<(), SendError> {
        block_on(self.inner.send_now(connection, message))
    }

    /// [`send_now`](Self::send_now) with a value serialised to JSON.
    pub fn send_now_json<T: Serialize + ?Sized>(
        &self,
        connection: ConnectionId,
        value: &T,
    ) -> Result<(), Error> {
        block_on(self.inner.send_now_json(connection, value))
    }

    /// Releases the queue held by `hold_queue_until_ready` on `connection`; ignored if that
    /// connection is no longer the open one.
    pub fn ready(&self, connection: ConnectionId) -> Result<(), Error> {
        block_on(self.inner.ready(connection))
    }

    /// Closes gracefully with `code` and `reason`, after the sends made before it; see the
    /// async adapters' `Client::close`.
    pub fn close(&self, code: CloseCode, reason: impl Into<Text>) -> Result<(), Error> {
        block_on(self.inner.close(code, reason))
    }

    /// Replaces the connection now: the open or connecting one is dropped and a new attempt
    /// starts at once; a backoff wait is cut short.
    pub fn reconnect_now(&self) -> Result<(), Error> {
        block_on(self.inner.reconnect_now())
    }

    /// Reports a network change: an open connection is probed with a ping at once, a backoff
    /// wait is cut short.
    pub fn network_changed(&self) -> Result<(), Error> {
        block_on(self.inner.network_changed())
    }

    /// The lifecycle state, as of the I/O thread's last pass.
    pub fn state(&self) -> State {
        self.inner.state()
    }

    /// The counters (attempts, queued messages and bytes, last RTT…), as of the I/O thread's
    /// last pass.
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// A view of the lifecycle state that can be waited on.
    pub fn watch_state(&self) -> StateWatch {
        StateWatch(self.inner.watch_state())
    }

    /// Blocks until the client has closed for good: from then on every send fails.
    pub fn closed(&self) {
        block_on(self.inner.closed());
    }

    /// Like [`closed`](Self::closed), for at most `timeout`; returns whether it has closed.
    pub fn closed_timeout(&self, timeout: Duration) -> bool {
        if let Some(deadline) = deadline(timeout) {
            block_until(self.inner.closed(), deadline).is_some()
        } else {
            self.closed();
            true
        }
    }

    /// Whether the client has closed for good.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The connection's events, in order; the iterator ends after [`Event::Closed`].
///
/// Read them promptly: the channel behind them is bounded (`event_capacity`), and the I/O
/// thread stops reading the socket while the application is behind (see the crate
/// documentation). Heartbeats keep running meanwhile.
///
/// Dropping the receiver discards events from then on. Dropping it and every [`Client`]
/// closes the connection with 1001 (going away), waits for the server's reply (at most
/// `close_timeout`) and joins the I/O thread, which joins every thread it started: the last
/// handle's drop blocks that long. A connect thread stuck in a DNS lookup or in a TCP connect
/// to a host that does not answer cannot be interrupted (std has no way to); the drop then
/// also waits for that to give up (the resolver's timeout; `connect_timeout` for TCP).
pub struct Events {
    inner: ws_client::Events,
    owner: Arc<Owner>,
}

impl Events {
    pub(crate) fn new(inner: ws_client::Events, owner: Arc<Owner>) -> Self {
        Events { inner, owner }
    }

    /// The next event, blocking; `None` once the client has closed and every event was read.
    pub fn recv(&mut self) -> Option<Event> {
        block_on(self.inner.recv())
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        let next = match deadline(timeout) {
            Some(deadline) => {
                block_until(self.inner.recv(), deadline).ok_or(RecvTimeoutError::Timeout)?
            }
            None => self.recv(),
        };
        next.ok_or(RecvTimeoutError::Disconnected)
    }

    /// The next event if one is waiting, without blocking.
    pub fn try_recv(&mut self) -> Result<Event, TryRecvError> {
        self.inner.try_recv()
    }
}

impl Iterator for Events {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.recv()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = &self.owner;
        self.inner.fmt(f)
    }
}

/// Watches a client's lifecycle state: [`changed`](Self::changed) blocks until the state
/// changes and returns it as it is then (coalescing: a watcher that was away sees the latest
/// state, not every step; the event stream has every step).
#[derive(Clone, Debug)]
pub struct StateWatch(ws_client::StateWatch);

impl StateWatch {
    /// The state now, marking it as seen.
    pub fn get(&mut self) -> State {
        self.0.get()
    }

    /// Blocks until a state this watcher has not seen, and returns it; `None` once the client
    /// has closed and its final state was seen.
    pub fn changed(&mut self) -> Option<State> {
        block_on(self.0.changed())
    }

    /// Like [`changed`](Self::changed), waiting at most `timeout`.
    pub fn changed_timeout(&mut self, timeout: Duration) -> Result<State, RecvTimeoutError> {
        let next = match deadline(timeout) {
            Some(deadline) => {
                block_until(self.0.changed(), deadline).ok_or(RecvTimeoutError::Timeout)?
            }
            None => self.changed(),
        };
        next.ok_or(RecvTimeoutError::Disconnected)
    }
}
