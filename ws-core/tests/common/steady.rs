//! An open connection in its steady state, shared by the allocation test and the benchmark so
//! both measure the same cycle.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use ws_core::{Action, Bytes, Config, Event, Frame, Input, Instant, Message, Supervisor, Text};

/// An open supervisor and a driver-side clock.
pub struct SteadyState {
    pub sup: Supervisor,
    pub connection: ws_core::ConnectionId,
    pub now: Instant,
    /// The payload the "application" sends and the "peer" echoes: built once, moved by
    /// reference count afterwards, as tungstenite's `Bytes` are.
    pub payload: Bytes,
    pub text: Text,
    pub drained: u64,
}

impl SteadyState {
    pub fn new() -> Self {
        let config = Config::builder()
            .ping_interval(Duration::from_secs(20))
            .build()
            .expect("valid config");
        let mut sup = Supervisor::new(config, 1);
        sup.connect(Instant::ZERO);
        let Some(Action::Connect { connection, .. }) = sup.poll_action() else {
            panic!("expected a connect action");
        };
        sup.handle_input(Input::Opened { connection }, Instant::ZERO);
        let mut steady = SteadyState {
            sup,
            connection,
            now: Instant::ZERO,
            payload: Bytes::from(vec![7u8; 64]),
            text: Text::from(String::from("hello from the peer")),
            drained: 0,
        };
        steady.drain();
        // Warm up: let every output queue reach its working capacity.
        for _ in 0..64 {
            steady.message_out();
            steady.message_in();
            steady.ping_pong();
        }
        steady
    }

    pub fn drain(&mut self) {
        while let Some(action) = self.sup.poll_action() {
            std::hint::black_box(&action);
            self.drained += 1;
        }
        while let Some(event) = self.sup.poll_event() {
            if let Event::Message(message) = &event {
                std::hint::black_box(message);
            }
            self.drained += 1;
        }
    }

    /// The application sends one binary message; the driver takes the `Send` action.
    pub fn message_out(&mut self) {
        let message = Message::Binary(self.payload.clone());
        self.sup.send(message, self.now).expect("open");
        self.drain();
    }

    /// The peer's text message arrives and is delivered.
    pub fn message_in(&mut self) {
        let frame = Frame::Text(self.text.clone());
        self.now = self.now + Duration::from_micros(1);
        self.sup.handle_input(
            Input::Frame {
                connection: self.connection,
                frame,
            },
            self.now,
        );
        self.drain();
    }

    /// A heartbeat falls due, the ping goes out, its pong comes back.
    pub fn ping_pong(&mut self) {
        let due = self.sup.poll_timeout().expect("a ping is always pending");
        self.now = due;
        self.sup.handle_timeout(due);
        let mut sequence = 0;
        while let Some(action) = self.sup.poll_action() {
            if let Action::Ping(ping) = action {
                sequence = ping.sequence();
            }
        }
        while self.sup.poll_event().is_some() {}
        self.now = self.now + Duration::from_millis(3);
        self.sup.handle_input(
            Input::Frame {
                connection: self.connection,
                frame: Frame::Pong(pong_payload(sequence)),
            },
            self.now,
        );
        self.drain();
    }

    /// A tick with nothing due: the common spurious wake-up.
    pub fn idle_tick(&mut self) {
        self.sup.handle_timeout(self.now);
        self.drain();
    }
}

/// How many ping/pong cycles one fixture supports.
pub const MAX_CYCLES: u64 = 1 << 18;

/// A pong echoing the ping's sequence, without allocating. tungstenite hands the driver a
/// pong's payload as `Bytes` slicing its read buffer, so building it is not the core's cost:
/// here the payloads are slices of one buffer made before any measurement.
fn pong_payload(sequence: u64) -> Bytes {
    static TABLE: std::sync::OnceLock<&'static [u8]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let bytes: Vec<u8> = (0..MAX_CYCLES).flat_map(u64::to_be_bytes).collect();
        Box::leak(bytes.into_boxed_slice())
    });
    assert!(
        sequence < MAX_CYCLES,
        "more ping/pong cycles than the fixture's table"
    );
    let start = usize::try_from(sequence).expect("small sequence") * 8;
    Bytes::from_static(&table[start..start + 8])
}
