//! Runs every test under both executors the crate supports, with runtime-neutral waits.
//! Everything listens on 127.0.0.1 and every wait has a deadline.

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use async_io::Timer;
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use ws_async_std::{ClientOptions, Config, ConfigBuilder, Event, Events, Jitter};

/// Every wait in these tests ends within this.
pub(crate) const DEADLINE: Duration = Duration::from_secs(5);

/// The executor a test runs on. The driver is spawned on it; the test body runs in its
/// `block_on`, so the blocking test-kit calls in a test body never hold the driver back.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Executor {
    Smol,
    AsyncStd,
}

impl Executor {
    pub(crate) fn block_on<T>(self, future: impl Future<Output = T>) -> T {
        match self {
            Executor::Smol => smol::block_on(future),
            Executor::AsyncStd => async_std::task::block_on(future),
        }
    }

    pub(crate) fn spawn(self, future: impl Future<Output = ()> + Send + 'static) {
        match self {
            Executor::Smol => smol::spawn(future).detach(),
            Executor::AsyncStd => drop(async_std::task::spawn(future)),
        }
    }

    /// Starts a client whose driver runs on this executor.
    pub(crate) fn connect(self, options: ClientOptions) -> (ws_async_std::Client, Events) {
        let (client, events, driver) = ws_async_std::connect_with_driver(options);
        self.spawn(driver);
        (client, events)
    }
}

/// Generates `on_smol::$test` and `on_async_std::$test` for every `async fn $test(Executor)`.
#[macro_export]
macro_rules! on_both_executors {
    ($($test:ident),* $(,)?) => {
        mod on_smol {
            $(
                #[test]
                fn $test() {
                    let executor = $crate::common::Executor::Smol;
                    executor.block_on(super::$test(executor));
                }
            )*
        }
        mod on_async_std {
            $(
                #[test]
                fn $test() {
                    let executor = $crate::common::Executor::AsyncStd;
                    executor.block_on(super::$test(executor));
                }
            )*
        }
    };
}

/// A supervisor config that reconnects quickly and deterministically.
pub(crate) fn fast_config() -> ConfigBuilder {
    Config::builder()
        .initial_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(50))
        .jitter(Jitter::None)
}

/// Options for `url` with [`fast_config`] and a fixed seed.
pub(crate) fn options(url: &str) -> ws_async_std::ClientOptionsBuilder {
    ClientOptions::builder(url)
        .config(fast_config().build().unwrap())
        .seed(1)
}

/// `future`'s output, or `None` after `limit`: async-io's timer, so any executor will do.
pub(crate) async fn timeout<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    match select(pin!(future), Timer::after(limit)).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

/// The next event, within the deadline.
pub(crate) async fn next_event(events: &mut Events) -> Event {
    timeout(DEADLINE, events.next())
        .await
        .expect("no event within the deadline")
        .expect("the event stream ended")
}

/// Skips events until one matches, within the deadline.
pub(crate) async fn wait_for(
    events: &mut Events,
    what: &str,
    matches: impl Fn(&Event) -> bool,
) -> Event {
    let search = async {
        while let Some(event) = events.next().await {
            if matches(&event) {
                return event;
            }
        }
        panic!("the event stream ended before {what}");
    };
    timeout(DEADLINE, search)
        .await
        .unwrap_or_else(|| panic!("no {what} within the deadline"))
}

/// Waits for the end of the stream, returning the events seen on the way.
pub(crate) async fn until_end(events: &mut Events) -> Vec<Event> {
    timeout(DEADLINE, events.by_ref().collect::<Vec<_>>())
        .await
        .expect("the event stream did not end within the deadline")
}

/// Polls `condition` until it holds, within the deadline (for state only visible by asking,
/// like the client's counters).
pub(crate) async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < DEADLINE,
            "no {what} within the deadline"
        );
        Timer::after(Duration::from_millis(5)).await;
    }
}

/// A loopback address nothing listens on.
pub(crate) fn closed_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// ws-async-std behind ws-testkit's blocking conformance facade, on one executor: the driver
/// is spawned on it, and the test thread (a plain thread) blocks on it for each call.
pub(crate) struct Conformance(pub(crate) Executor);

impl ws_testkit::conformance::Adapter for Conformance {
    type Client = ConformanceClient;

    fn name(&self) -> &'static str {
        match self.0 {
            Executor::Smol => "ws-async-std on smol",
            Executor::AsyncStd => "ws-async-std on async-std",
        }
    }

    fn start(&self, options: ClientOptions) -> ConformanceClient {
        let (client, events) = self.0.connect(options);
        ConformanceClient {
            executor: self.0,
            client,
            events,
        }
    }
}

/// A client, its event stream, and the executor to block on.
pub(crate) struct ConformanceClient {
    executor: Executor,
    client: ws_async_std::Client,
    events: Events,
}

impl ws_testkit::conformance::Client for ConformanceClient {
    fn send(&self, message: ws_async_std::Message) -> Result<(), String> {
        self.executor
            .block_on(self.client.send(message))
            .map_err(|error| error.to_string())
    }

    fn send_json(&self, value: &serde_json::Value) -> Result<(), String> {
        self.executor
            .block_on(self.client.send_json(value))
            .map_err(|error| error.to_string())
    }

    fn close(&self, code: ws_async_std::CloseCode, reason: &str) {
        // After the client stopped there is nothing to close; the scenario sees it in events.
        let _ = self
            .executor
            .block_on(self.client.close(code, reason.to_owned()));
    }

    fn next_event(&mut self, limit: Duration) -> Option<Event> {
        let events = &mut self.events;
        self.executor
            .block_on(timeout(limit, events.next()))
            .flatten()
    }

    fn state(&self) -> ws_async_std::State {
        self.client.state()
    }
}
