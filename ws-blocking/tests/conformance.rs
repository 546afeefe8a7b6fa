//! The shared conformance scenarios (ws-testkit), run against the blocking adapter: its
//! handles are called directly, as an application thread would.

use std::fmt;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use ws_blocking::{
    Bytes, ClientOptions, CloseCode, ConnectionId, Error, Event, Message, SendError, State, Stats,
    TrySendError,
};
use ws_testkit::conformance;

/// Starts each client on its own I/O thread, exactly as an application would.
struct Blocking;

impl conformance::Adapter for Blocking {
    type Handle = Handle;
    type Events = Events;
    type Driver = Driver;

    fn name(&self) -> &'static str {
        "ws-blocking"
    }

    fn connect(&self, options: ClientOptions) -> (Handle, Events) {
        let (client, events) = ws_blocking::connect(options);
        (Handle(client), Events(events))
    }

    fn connect_with_driver(&self, options: ClientOptions) -> (Handle, Events, Driver) {
        let (client, events, driver) =
            ws_blocking::connect_with_driver(options).expect("create the I/O thread's poller");
        (Handle(client), Events(events), Driver(driver))
    }
}

/// A `ws_blocking::Client`. Dropping the last handle (with the events) closes the connection
/// and joins the I/O thread.
#[derive(Clone)]
struct Handle(ws_blocking::Client);

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl conformance::Handle for Handle {
    fn send(&self, message: Message) -> Result<(), SendError> {
        self.0.send(message)
    }

    fn try_send(&self, message: Message) -> Result<(), TrySendError> {
        self.0.try_send(message)
    }

    fn send_text(&self, text: &str) -> Result<(), SendError> {
        self.0.send_text(text.to_owned())
    }

    fn send_binary(&self, bytes: Bytes) -> Result<(), SendError> {
        self.0.send_binary(bytes)
    }

    fn send_json(&self, value: &serde_json::Value) -> Result<(), Error> {
        self.0.send_json(value)
    }

    fn send_with_deadline(&self, message: Message, within: Duration) -> Result<(), SendError> {
        self.0.send_with_deadline(message, within)
    }

    fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.0.close(code, reason.to_owned())
    }

    fn reconnect_now(&self) -> Result<(), Error> {
        self.0.reconnect_now()
    }

    fn send_now(&self, connection: ConnectionId, message: Message) -> Result<(), SendError> {
        self.0.send_now(connection, message)
    }

    fn ready(&self, connection: ConnectionId) -> Result<(), Error> {
        self.0.ready(connection)
    }

    fn network_changed(&self) -> Result<(), Error> {
        self.0.network_changed()
    }

    fn state(&self) -> State {
        self.0.state()
    }

    fn stats(&self) -> Stats {
        self.0.stats()
    }

    fn closed_within(&self, timeout: Duration) -> bool {
        self.0.closed_timeout(timeout)
    }

    fn watch_state(&self) -> Box<dyn conformance::StateWatch> {
        Box::new(StateWatch(self.0.watch_state()))
    }
}

struct Events(ws_blocking::Events);

impl conformance::Events for Events {
    fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        self.0.recv_timeout(timeout).ok()
    }
}

struct Driver(ws_blocking::Driver);

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl conformance::Driver for Driver {
    fn run(self) {
        self.0.run();
    }
}

struct StateWatch(ws_blocking::StateWatch);

impl conformance::StateWatch for StateWatch {
    fn get(&mut self) -> State {
        self.0.get()
    }

    fn changed_within(&mut self, timeout: Duration) -> Result<State, RecvTimeoutError> {
        self.0.changed_timeout(timeout)
    }
}

ws_testkit::conformance_suite!(Blocking);
