//! The shared conformance suite (ws-testkit) against ws-async-std, once on smol's global
//! executor (started by the crate's own `connect`) and once on async-std's (discontinued
//! upstream, still supported: it runs on async-io too).
//!
//! On each, the driver is spawned on the executor and every call blocks on it from a plain
//! thread, as an application thread outside the executor would. Timeouts use async-io's
//! timer, so any executor will do.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use async_io::Timer;
use futures_util::future::{Either, select};
use ws_async_std::{
    Bytes, ClientOptions, CloseCode, ConnectionId, Error, Event, Message, SendError, State, Stats,
    TrySendError,
};
use ws_testkit::conformance;

/// The executor a test runs on.
#[derive(Clone, Copy, Debug)]
enum Executor {
    /// smol's global executor, through the crate's own `connect`.
    Smol,
    /// async-std's, through `connect_with_driver` and `async_std::task::spawn`.
    AsyncStd,
}

impl Executor {
    fn block_on<T>(self, future: impl Future<Output = T>) -> T {
        match self {
            Executor::Smol => smol::block_on(future),
            Executor::AsyncStd => async_std::task::block_on(future),
        }
    }

    /// `future`'s output, or `None` after `limit`.
    fn block_on_within<T>(self, limit: Duration, future: impl Future<Output = T>) -> Option<T> {
        self.block_on(async {
            match select(pin!(future), Timer::after(limit)).await {
                Either::Left((output, _)) => Some(output),
                Either::Right(_) => None,
            }
        })
    }
}

/// The adapter on one executor.
struct Conformance(Executor);

impl conformance::Adapter for Conformance {
    type Handle = Handle;
    type Events = Events;
    type Driver = Driver;

    fn name(&self) -> &'static str {
        match self.0 {
            Executor::Smol => "ws-async-std on smol",
            Executor::AsyncStd => "ws-async-std on async-std",
        }
    }

    fn connect(&self, options: ClientOptions) -> (Handle, Events) {
        let (client, events) = match self.0 {
            Executor::Smol => ws_async_std::connect(options),
            Executor::AsyncStd => {
                let (client, events, driver) = ws_async_std::connect_with_driver(options);
                drop(async_std::task::spawn(driver));
                (client, events)
            }
        };
        let executor = self.0;
        (Handle { executor, client }, Events { executor, events })
    }

    fn connect_with_driver(&self, options: ClientOptions) -> (Handle, Events, Driver) {
        let (client, events, driver) = ws_async_std::connect_with_driver(options);
        let executor = self.0;
        (
            Handle { executor, client },
            Events { executor, events },
            Driver { executor, driver },
        )
    }
}

#[derive(Clone)]
struct Handle {
    executor: Executor,
    client: ws_async_std::Client,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.client.fmt(f)
    }
}

impl conformance::Handle for Handle {
    fn send(&self, message: Message) -> Result<(), SendError> {
        self.executor.block_on(self.client.send(message))
    }

    fn try_send(&self, message: Message) -> Result<(), TrySendError> {
        self.client.try_send(message)
    }

    fn send_text(&self, text: &str) -> Result<(), SendError> {
        self.executor
            .block_on(self.client.send_text(text.to_owned()))
    }

    fn send_binary(&self, bytes: Bytes) -> Result<(), SendError> {
        self.executor.block_on(self.client.send_binary(bytes))
    }

    fn send_json(&self, value: &serde_json::Value) -> Result<(), Error> {
        self.executor.block_on(self.client.send_json(value))
    }

    fn send_with_deadline(&self, message: Message, within: Duration) -> Result<(), SendError> {
        self.executor
            .block_on(self.client.send_with_deadline(message, within))
    }

    fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.executor
            .block_on(self.client.close(code, reason.to_owned()))
    }

    fn reconnect_now(&self) -> Result<(), Error> {
        self.executor.block_on(self.client.reconnect_now())
    }

    fn send_now(&self, connection: ConnectionId, message: Message) -> Result<(), SendError> {
        self.executor
            .block_on(self.client.send_now(connection, message))
    }

    fn ready(&self, connection: ConnectionId) -> Result<(), Error> {
        self.executor.block_on(self.client.ready(connection))
    }

    fn network_changed(&self) -> Result<(), Error> {
        self.executor.block_on(self.client.network_changed())
    }

    fn state(&self) -> State {
        self.client.state()
    }

    fn stats(&self) -> Stats {
        self.client.stats()
    }

    fn closed_within(&self, timeout: Duration) -> bool {
        self.executor
            .block_on_within(timeout, self.client.closed())
            .is_some()
    }

    fn watch_state(&self) -> Box<dyn conformance::StateWatch> {
        Box::new(StateWatch {
            executor: self.executor,
            watch: self.client.watch_state(),
        })
    }
}

struct Events {
    executor: Executor,
    events: ws_async_std::Events,
}

impl conformance::Events for Events {
    fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let events = &mut self.events;
        self.executor
            .block_on_within(timeout, events.recv())
            .flatten()
    }
}

struct Driver {
    executor: Executor,
    driver: ws_async_std::Driver,
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}

impl conformance::Driver for Driver {
    fn run(self) {
        self.executor.block_on(self.driver);
    }
}

struct StateWatch {
    executor: Executor,
    watch: ws_async_std::StateWatch,
}

impl conformance::StateWatch for StateWatch {
    fn get(&mut self) -> State {
        self.watch.get()
    }

    fn changed_within(&mut self, timeout: Duration) -> Result<State, RecvTimeoutError> {
        let watch = &mut self.watch;
        match self.executor.block_on_within(timeout, watch.changed()) {
            Some(Some(state)) => Ok(state),
            Some(None) => Err(RecvTimeoutError::Disconnected),
            None => Err(RecvTimeoutError::Timeout),
        }
    }
}

ws_testkit::conformance_suite!(on_smol: Conformance(Executor::Smol));
ws_testkit::conformance_suite!(on_async_std: Conformance(Executor::AsyncStd));
