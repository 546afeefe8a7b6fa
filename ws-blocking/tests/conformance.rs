//! The shared conformance scenarios (ws-testkit), run against the blocking adapter.

use std::time::Duration;

use ws_blocking::{Client, CloseCode, Events, Message, State};
use ws_client::{ClientOptions, Event};
use ws_testkit::conformance;

/// Starts each client on its own I/O thread, exactly as an application would.
struct Blocking;

/// The two handles of one client. Dropping them closes the connection and joins its thread.
struct Handles {
    client: Client,
    events: Events,
}

impl conformance::Adapter for Blocking {
    type Client = Handles;

    fn name(&self) -> &'static str {
        "ws-blocking"
    }

    fn start(&self, options: ClientOptions) -> Handles {
        let (client, events) = ws_blocking::connect(options);
        Handles { client, events }
    }
}

impl conformance::Client for Handles {
    fn send(&self, message: Message) -> Result<(), String> {
        self.client.send(message).map_err(|e| e.to_string())
    }

    fn send_json(&self, value: &serde_json::Value) -> Result<(), String> {
        self.client.send_json(value).map_err(|e| e.to_string())
    }

    fn close(&self, code: CloseCode, reason: &str) {
        self.client
            .close(code, reason.to_owned())
            .expect("the client is running");
    }

    fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }

    fn state(&self) -> State {
        self.client.state()
    }
}

ws_testkit::conformance_suite!(Blocking);
