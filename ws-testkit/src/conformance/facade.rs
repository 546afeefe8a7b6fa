//! The blocking facade a scenario sees an adapter through.
//!
//! Each adapter's test crate implements [`Adapter`], [`Handle`], [`Events`], [`Driver`] and
//! [`StateWatch`] in a few lines per method: the blocking adapter calls its own methods, an
//! async one blocks on its runtime (or executor) for each call, exactly as an application
//! thread outside the runtime would. What the scenarios hold is a [`Client`]: the adapter's
//! handle and event stream, which can be dropped separately.

use std::fmt;
use std::ops::Deref;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use ws_client::{ClientOptions, Error, Event, SendError, TrySendError};
use ws_core::{Bytes, CloseCode, ConnectionId, Message, State, Stats};

/// One adapter, seen through a blocking facade so the same scenarios run on every runtime.
pub trait Adapter: Sync {
    /// The adapter's client handle.
    type Handle: Handle;
    /// The adapter's event stream.
    type Events: Events;
    /// The adapter's driver, for a client started without one.
    type Driver: Driver;

    /// The adapter's name, for failure messages.
    fn name(&self) -> &'static str;

    /// Starts a client that connects at once, the way the adapter's `connect` does.
    fn connect(&self, options: ClientOptions) -> (Self::Handle, Self::Events);

    /// Creates a client whose driver is handed back instead of started (the adapter's
    /// `connect_with_driver`): nothing happens until [`Driver::run`].
    fn connect_with_driver(
        &self,
        options: ClientOptions,
    ) -> (Self::Handle, Self::Events, Self::Driver);

    /// [`connect`](Self::connect), as one [`Client`].
    fn start(&self, options: ClientOptions) -> Client<Self::Handle, Self::Events> {
        let (handle, events) = self.connect(options);
        Client::new(handle, events)
    }
}

/// The application's handle (`Client` in every adapter), every call blocking the calling
/// thread where the async adapters await. Clones talk to the same driver, from any thread.
pub trait Handle: Clone + Send + Sync + fmt::Debug + 'static {
    /// `send`: waits only while the command channel is full.
    fn send(&self, message: Message) -> Result<(), SendError>;
    /// `try_send`: never waits.
    fn try_send(&self, message: Message) -> Result<(), TrySendError>;
    /// `send_text`.
    fn send_text(&self, text: &str) -> Result<(), SendError>;
    /// `send_binary`.
    fn send_binary(&self, bytes: Bytes) -> Result<(), SendError>;
    /// `send_json`, through the adapter's own JSON path.
    fn send_json(&self, value: &serde_json::Value) -> Result<(), Error>;
    /// `send_with_deadline`.
    fn send_with_deadline(&self, message: Message, within: Duration) -> Result<(), SendError>;
    /// `close`.
    fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error>;
    /// `reconnect_now`.
    fn reconnect_now(&self) -> Result<(), Error>;
    /// `network_changed`.
    fn network_changed(&self) -> Result<(), Error>;
    /// `send_now`, on the connection `Event::Open` named.
    fn send_now(&self, connection: ConnectionId, message: Message) -> Result<(), SendError>;
    /// `ready`, for the connection `Event::Open` named.
    fn ready(&self, connection: ConnectionId) -> Result<(), Error>;
    /// `state`.
    fn state(&self) -> State;
    /// `stats`.
    fn stats(&self) -> Stats;
    /// Waits at most `timeout` for `closed`; whether the client has closed for good.
    fn closed_within(&self, timeout: Duration) -> bool;
    /// `watch_state`.
    fn watch_state(&self) -> Box<dyn StateWatch>;
}

/// The application's event stream.
pub trait Events: Send + 'static {
    /// The next event, waiting at most `timeout`; `None` on timeout or once the stream ended.
    fn next_event(&mut self, timeout: Duration) -> Option<Event>;
}

/// A client's driver, handed back by [`Adapter::connect_with_driver`]. Dropping it unrun
/// drops the adapter's driver.
pub trait Driver: Send + fmt::Debug + 'static {
    /// Runs the driver on the calling thread until it completes.
    fn run(self);
}

/// The adapter's `StateWatch`.
pub trait StateWatch: Send {
    /// The state now, marking it as seen.
    fn get(&mut self) -> State;
    /// The next state this watcher has not seen, waiting at most `timeout`;
    /// `Err(Disconnected)` once the client has closed and its final state was seen.
    fn changed_within(&mut self, timeout: Duration) -> Result<State, RecvTimeoutError>;
}

/// A running client as a scenario holds it: the handle (also reachable through `Deref`) and
/// the event stream, each of which the scenario may drop on its own.
pub struct Client<H, E> {
    handle: Option<H>,
    events: Option<E>,
}

impl<H: Handle, E: Events> Client<H, E> {
    /// Holds `handle` and `events`.
    pub fn new(handle: H, events: E) -> Self {
        Client {
            handle: Some(handle),
            events: Some(events),
        }
    }

    /// The handle.
    ///
    /// # Panics
    ///
    /// After [`drop_handle`](Self::drop_handle).
    pub fn handle(&self) -> &H {
        self.handle
            .as_ref()
            .expect("the scenario dropped this client's handle")
    }

    /// The next event, waiting at most `timeout`; `None` on timeout, once the stream ended,
    /// or after [`drop_events`](Self::drop_events).
    pub fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        self.events.as_mut()?.next_event(timeout)
    }

    /// Drops the scenario's handle (clones elsewhere live on).
    pub fn drop_handle(&mut self) {
        self.handle = None;
    }

    /// Drops the event stream.
    pub fn drop_events(&mut self) {
        self.events = None;
    }
}

impl<H: Handle, E> Deref for Client<H, E> {
    type Target = H;

    fn deref(&self) -> &H {
        self.handle
            .as_ref()
            .expect("the scenario dropped this client's handle")
    }
}

impl<H: Handle, E: Events> super::Observe for Client<H, E> {
    fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        Client::next_event(self, timeout)
    }

    fn state_now(&self) -> Option<State> {
        self.handle.as_ref().map(Handle::state)
    }
}
