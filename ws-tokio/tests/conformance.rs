//! The shared conformance suite (ws-testkit) run against the tokio adapter.
//!
//! The scenarios are blocking, so the adapter owns a multi-thread runtime and every call
//! blocks on it from a plain thread (never one of the runtime's), as an application thread
//! outside the runtime would.

use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use tokio::runtime::Runtime;
use ws_testkit::conformance;
use ws_tokio::{
    Bytes, ClientOptions, CloseCode, ConnectionId, Error, Event, Message, SendError, State, Stats,
    TrySendError,
};

/// ws-tokio behind the conformance facade, with a runtime of its own per test.
struct Tokio {
    runtime: Arc<Runtime>,
}

impl Tokio {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("conformance-tokio")
            .enable_all()
            .build()
            .expect("build the tokio runtime");
        Tokio {
            runtime: Arc::new(runtime),
        }
    }
}

impl conformance::Adapter for Tokio {
    type Handle = Handle;
    type Events = Events;
    type Driver = Driver;

    fn name(&self) -> &'static str {
        "ws-tokio"
    }

    fn connect(&self, options: ClientOptions) -> (Handle, Events) {
        // `connect` spawns the driver on the current runtime.
        let (client, events) = {
            let _entered = self.runtime.enter();
            ws_tokio::connect(options)
        };
        let runtime = Arc::clone(&self.runtime);
        (
            Handle {
                runtime: Arc::clone(&runtime),
                client,
            },
            Events { runtime, events },
        )
    }

    fn connect_with_driver(&self, options: ClientOptions) -> (Handle, Events, Driver) {
        let (client, events, driver) = ws_tokio::connect_with_driver(options);
        let runtime = Arc::clone(&self.runtime);
        (
            Handle {
                runtime: Arc::clone(&runtime),
                client,
            },
            Events {
                runtime: Arc::clone(&runtime),
                events,
            },
            Driver { runtime, driver },
        )
    }
}

/// A `ws_tokio::Client` and the runtime to block on.
#[derive(Clone)]
struct Handle {
    runtime: Arc<Runtime>,
    client: ws_tokio::Client,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.client.fmt(f)
    }
}

impl conformance::Handle for Handle {
    fn send(&self, message: Message) -> Result<(), SendError> {
        self.runtime.block_on(self.client.send(message))
    }

    fn try_send(&self, message: Message) -> Result<(), TrySendError> {
        self.client.try_send(message)
    }

    fn send_text(&self, text: &str) -> Result<(), SendError> {
        self.runtime
            .block_on(self.client.send_text(text.to_owned()))
    }

    fn send_binary(&self, bytes: Bytes) -> Result<(), SendError> {
        self.runtime.block_on(self.client.send_binary(bytes))
    }

    fn send_json(&self, value: &serde_json::Value) -> Result<(), Error> {
        self.runtime.block_on(self.client.send_json(value))
    }

    fn send_with_deadline(&self, message: Message, within: Duration) -> Result<(), SendError> {
        self.runtime
            .block_on(self.client.send_with_deadline(message, within))
    }

    fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.runtime
            .block_on(self.client.close(code, reason.to_owned()))
    }

    fn reconnect_now(&self) -> Result<(), Error> {
        self.runtime.block_on(self.client.reconnect_now())
    }

    fn send_now(&self, connection: ConnectionId, message: Message) -> Result<(), SendError> {
        self.runtime
            .block_on(self.client.send_now(connection, message))
    }

    fn ready(&self, connection: ConnectionId) -> Result<(), Error> {
        self.runtime.block_on(self.client.ready(connection))
    }

    fn network_changed(&self) -> Result<(), Error> {
        self.runtime.block_on(self.client.network_changed())
    }

    fn state(&self) -> State {
        self.client.state()
    }

    fn stats(&self) -> Stats {
        self.client.stats()
    }

    fn closed_within(&self, timeout: Duration) -> bool {
        // `timeout` creates its timer at once, so it must be called inside the runtime.
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, self.client.closed()).await })
            .is_ok()
    }

    fn watch_state(&self) -> Box<dyn conformance::StateWatch> {
        Box::new(StateWatch {
            runtime: Arc::clone(&self.runtime),
            watch: self.client.watch_state(),
        })
    }
}

struct Events {
    runtime: Arc<Runtime>,
    events: ws_tokio::Events,
}

impl conformance::Events for Events {
    fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let events = &mut self.events;
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, events.recv()).await })
            .ok()
            .flatten()
    }
}

struct Driver {
    runtime: Arc<Runtime>,
    driver: ws_tokio::Driver,
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}

impl conformance::Driver for Driver {
    fn run(self) {
        self.runtime.block_on(self.driver);
    }
}

struct StateWatch {
    runtime: Arc<Runtime>,
    watch: ws_tokio::StateWatch,
}

impl conformance::StateWatch for StateWatch {
    fn get(&mut self) -> State {
        self.watch.get()
    }

    fn changed_within(&mut self, timeout: Duration) -> Result<State, RecvTimeoutError> {
        let watch = &mut self.watch;
        match self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, watch.changed()).await })
        {
            Ok(Some(state)) => Ok(state),
            Ok(None) => Err(RecvTimeoutError::Disconnected),
            Err(_) => Err(RecvTimeoutError::Timeout),
        }
    }
}

ws_testkit::conformance_suite!(Tokio::new());
