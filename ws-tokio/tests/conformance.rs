//! The shared conformance suite (ws-testkit) run against the tokio adapter.
//!
//! The scenarios are blocking, so the adapter owns a multi-thread runtime and the test thread
//! (a plain thread, never inside the runtime) blocks on it for each call.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::runtime::Runtime;
use ws_testkit::conformance;
use ws_tokio::{ClientOptions, CloseCode, Event, Events, Message, State};

/// ws-tokio behind the conformance facade.
struct TokioAdapter {
    runtime: Arc<Runtime>,
}

impl TokioAdapter {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("conformance-tokio")
            .enable_all()
            .build()
            .expect("build the tokio runtime");
        TokioAdapter {
            runtime: Arc::new(runtime),
        }
    }
}

impl conformance::Adapter for TokioAdapter {
    type Client = TokioClient;

    fn name(&self) -> &'static str {
        "ws-tokio"
    }

    fn start(&self, options: ClientOptions) -> TokioClient {
        // `connect` spawns the driver on the current runtime.
        let (client, events) = {
            let _entered = self.runtime.enter();
            ws_tokio::connect(options)
        };
        TokioClient {
            runtime: Arc::clone(&self.runtime),
            client,
            events,
        }
    }
}

/// A ws-tokio client and its event stream, plus the runtime to block on.
struct TokioClient {
    runtime: Arc<Runtime>,
    client: ws_tokio::Client,
    events: Events,
}

impl conformance::Client for TokioClient {
    fn send(&self, message: Message) -> Result<(), String> {
        self.runtime
            .block_on(self.client.send(message))
            .map_err(|error| error.to_string())
    }

    fn send_json(&self, value: &serde_json::Value) -> Result<(), String> {
        self.runtime
            .block_on(self.client.send_json(value))
            .map_err(|error| error.to_string())
    }

    fn close(&self, code: CloseCode, reason: &str) {
        // After the client stopped there is nothing to close; the scenario sees it in events.
        let _ = self
            .runtime
            .block_on(self.client.close(code, reason.to_owned()));
    }

    fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        // `timeout` creates its timer at once, so it must be called inside the runtime.
        let events = &mut self.events;
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, events.next()).await })
            .ok()
            .flatten()
    }

    fn state(&self) -> State {
        self.client.state()
    }
}

ws_testkit::conformance_suite!(TokioAdapter::new());
