//! The setups of the wrappers this project replaces ("the seeds"), replayed to the exact
//! millisecond with every invariant checked along the way.

use core::time::Duration;

use ws_core::{
    Action, Bytes, CloseCode, Config, ConfigBuilder, ConnectFailure, Disconnect, Event, Frame,
    Heartbeat, Input, Instant, Jitter, Liveness, Message, PingPayload, Text, TransportError,
    UndeliveredReason,
};
use ws_sim::strategy::{json_heartbeat, reconnect_only_after_1006, text_heartbeat};
use ws_sim::{Call, Harness, Observation};

fn ms(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// A virtual driver and application around a checked supervisor.
struct Seed {
    harness: Harness,
}

impl Seed {
    fn new(build: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        let config: Config = build(Config::builder()).build().expect("valid config");
        Seed {
            harness: Harness::new(config, 7),
        }
    }

    /// `call` at `at` milliseconds; panics with the violation if a guarantee broke.
    fn call(&mut self, at: u64, call: Call) -> Observation {
        self.harness.set_now(ms(at));
        match self.harness.call(call) {
            Ok(observation) => observation.clone(),
            Err(violation) => panic!("{violation}"),
        }
    }

    fn tick(&mut self, at: u64) -> Observation {
        self.call(at, Call::Tick)
    }

    fn input(&mut self, at: u64, input: Input) -> Observation {
        self.call(at, Call::Input(input))
    }

    fn connection(&self) -> ws_core::ConnectionId {
        self.harness
            .observed()
            .observer()
            .latest_connection()
            .expect("a transport was asked for")
    }

    fn open(&mut self, at: u64) -> Observation {
        self.call(at, Call::Connect);
        let connection = self.connection();
        self.input(at, Input::Opened { connection })
    }

    fn frame(&mut self, at: u64, frame: Frame) -> Observation {
        let connection = self.connection();
        self.input(at, Input::Frame { connection, frame })
    }

    fn text(&mut self, at: u64, text: &'static str) -> Observation {
        self.frame(at, Frame::Text(Text::from_static(text)))
    }

    fn fail(&mut self, at: u64) -> Observation {
        let connection = self.connection();
        self.input(
            at,
            Input::ConnectFailed {
                connection,
                failure: ConnectFailure::Io,
            },
        )
    }

    fn send(&mut self, at: u64, text: &'static str) -> Observation {
        self.call(
            at,
            Call::Send {
                message: Message::from(text),
                deadline: None,
            },
        )
    }

    fn deadline(&self) -> Option<Instant> {
        self.harness.observed().supervisor().poll_timeout()
    }
}

fn reconnecting(observation: &Observation) -> Option<(u32, Duration)> {
    observation.events.iter().find_map(|event| match event {
        Event::Reconnecting { attempt, delay } => Some((*attempt, *delay)),
        _ => None,
    })
}

fn connect_attempt(observation: &Observation) -> Option<u32> {
    observation.actions.iter().find_map(|action| match action {
        Action::Connect { attempt, .. } => Some(*attempt),
        _ => None,
    })
}

fn pong(sequence: u64) -> Frame {
    Frame::Pong(Bytes::copy_from_slice(&sequence.to_be_bytes()))
}

#[test]
fn text_heartbeat_every_15_seconds_filters_the_pong() {
    let mut seed = Seed::new(|c| {
        c.heartbeat(text_heartbeat())
            .ping_interval(secs(15))
            .pong_timeout(secs(10))
            .stable_after(secs(60))
    });
    seed.open(0);
    assert_eq!(seed.deadline(), Some(ms(15_000)));
    assert!(seed.tick(14_999).is_silent());
    assert_eq!(
        seed.tick(15_000).actions,
        [Action::Heartbeat(Message::from("ping"))]
    );
    // The reply measures the round trip and is not delivered as a message.
    assert_eq!(
        seed.text(15_200, "pong").events,
        [Event::Rtt(Duration::from_millis(200))]
    );
    assert_eq!(seed.deadline(), Some(ms(30_200)));
    // Anything else is a message, and (any-frame liveness) moves the next ping.
    assert_eq!(
        seed.text(20_000, "pong!").events,
        [Event::Message(Message::from("pong!"))]
    );
    assert_eq!(seed.deadline(), Some(ms(35_000)));
    assert_eq!(
        seed.tick(35_000).actions,
        [Action::Heartbeat(Message::from("ping"))]
    );
}

#[test]
fn json_heartbeat_every_30_seconds() {
    let mut seed = Seed::new(|c| {
        c.heartbeat(json_heartbeat())
            .ping_interval(secs(30))
            .stable_after(secs(120))
    });
    seed.open(1_000);
    assert!(seed.tick(30_999).is_silent());
    assert_eq!(
        seed.tick(31_000).actions,
        [Action::Heartbeat(Message::from("{\"action\":4}"))]
    );
    let reply = seed.text(31_250, "{\"action\":4,\"ts\":1700000000}");
    assert_eq!(reply.events, [Event::Rtt(Duration::from_millis(250))]);
    assert_eq!(
        seed.text(40_000, "{\"action\":5,\"data\":[1,2]}").events,
        [Event::Message(Message::from(
            "{\"action\":5,\"data\":[1,2]}"
        ))]
    );
    assert_eq!(seed.deadline(), Some(ms(70_000)));
    assert_eq!(
        seed.tick(70_000).actions,
        [Action::Heartbeat(Message::from("{\"action\":4}"))]
    );
}

#[test]
fn reconnect_only_after_1006_at_most_3_times_then_give_up() {
    let mut seed = Seed::new(|c| {
        c.close_policy(reconnect_only_after_1006)
            .max_attempts(Some(3))
            .initial_delay(secs(1))
            .multiplier(2.0)
            .jitter(Jitter::None)
    });
    seed.open(100);
    let connection = seed.connection();
    let lost = seed.input(
        1_000,
        Input::Error {
            connection,
            error: TransportError::Eof,
        },
    );
    assert_eq!(
        lost.events,
        [
            Event::Disconnected {
                code: CloseCode::ABNORMAL,
                reason: Text::new(),
                cause: Disconnect::Transport(TransportError::Eof),
                will_reconnect: true,
            },
            Event::Reconnecting {
                attempt: 1,
                delay: secs(1)
            },
        ]
    );
    assert!(seed.send(1_500, "queued during the outage").is_silent());
    let mut at = 1_000;
    let mut schedule = Vec::new();
    for attempt in 1..=3 {
        let (_, delay) = reconnecting(
            seed.harness
                .transcript()
                .iter()
                .rev()
                .find(|o| reconnecting(o).is_some())
                .unwrap(),
        )
        .expect("a reconnect is scheduled");
        at += u64::try_from(delay.as_millis()).unwrap();
        assert!(seed.tick(at - 1).is_silent());
        assert_eq!(connect_attempt(&seed.tick(at)), Some(attempt));
        schedule.push((attempt, at));
        at += 100;
        let failed = seed.fail(at);
        if attempt < 3 {
            assert_eq!(reconnecting(&failed).map(|(a, _)| a), Some(attempt + 1));
        } else {
            assert_eq!(
                failed.events,
                [
                    Event::Disconnected {
                        code: CloseCode::ABNORMAL,
                        reason: Text::new(),
                        cause: Disconnect::ConnectFailed(ConnectFailure::Io),
                        will_reconnect: false,
                    },
                    Event::GaveUp {
                        attempts: 3,
                        undelivered: 1
                    },
                    Event::Undelivered {
                        message: Message::from("queued during the outage"),
                        reason: UndeliveredReason::Stopped,
                    },
                    Event::Closed,
                ]
            );
        }
    }
    assert_eq!(schedule, [(1, 2_000), (2, 4_100), (3, 8_200)]);
    // Given up: nothing is pending and nothing wakes it, whatever happens.
    assert_eq!(seed.deadline(), None);
    assert!(seed.tick(3_600_000).is_silent());
    assert!(seed.input(3_600_001, Input::NetworkChanged).is_silent());
    let gave_up = seed
        .harness
        .transcript()
        .iter()
        .flat_map(|o| &o.events)
        .filter(|e| matches!(e, Event::GaveUp { .. }))
        .count();
    assert_eq!(gave_up, 1);
}

#[test]
fn a_clean_close_is_final_under_the_1006_only_policy() {
    let mut seed = Seed::new(|c| c.close_policy(reconnect_only_after_1006));
    seed.open(0);
    let connection = seed.connection();
    let closed = seed.input(
        5_000,
        Input::Closed {
            connection,
            code: CloseCode::GOING_AWAY,
            reason: Text::from_static("restart"),
        },
    );
    assert_eq!(
        closed.events,
        [
            Event::Disconnected {
                code: CloseCode::GOING_AWAY,
                reason: Text::from_static("restart"),
                cause: Disconnect::PeerClosed {
                    code: CloseCode::GOING_AWAY
                },
                will_reconnect: false,
            },
            Event::Closed,
        ]
    );
    assert_eq!(seed.deadline(), None);
}

#[test]
fn fixed_2_second_reconnect_at_most_10_times() {
    let mut seed = Seed::new(|c| {
        c.initial_delay(secs(2))
            .max_delay(secs(2))
            .multiplier(1.0)
            .jitter(Jitter::None)
            .max_attempts(Some(10))
    });
    seed.call(0, Call::Connect);
    let mut failed = seed.fail(0);
    let mut delays = Vec::new();
    let mut connects = Vec::new();
    let mut at = 0;
    while let Some((attempt, delay)) = reconnecting(&failed) {
        delays.push(delay);
        at += 2_000;
        assert!(seed.tick(at - 1).is_silent());
        assert_eq!(connect_attempt(&seed.tick(at)), Some(attempt));
        connects.push(at);
        failed = seed.fail(at);
    }
    assert_eq!(delays, [secs(2); 10]);
    assert_eq!(connects, (1..=10).map(|n| n * 2_000).collect::<Vec<u64>>());
    assert!(failed.events.contains(&Event::GaveUp {
        attempts: 10,
        undelivered: 0
    }));
    assert!(failed.events.ends_with(&[Event::Closed]));
}

#[test]
fn ping_every_10s_close_without_pong_in_10s_reconnect_after_4s() {
    let mut seed = Seed::new(|c| {
        c.ping_interval(secs(10))
            .pong_timeout(secs(10))
            .initial_delay(secs(4))
            .max_delay(secs(4))
            .multiplier(1.0)
            .jitter(Jitter::None)
    });
    seed.open(0);
    assert_eq!(seed.tick(10_000).actions, [Action::Ping(ping_payload(1))]);
    assert!(seed.tick(19_999).is_silent());
    let dropped = seed.tick(20_000);
    assert_eq!(dropped.actions, [Action::Abort]);
    assert_eq!(
        dropped.events,
        [
            Event::Disconnected {
                code: CloseCode::ABNORMAL,
                reason: Text::new(),
                cause: Disconnect::HeartbeatTimeout,
                will_reconnect: true,
            },
            Event::Reconnecting {
                attempt: 1,
                delay: secs(4)
            },
        ]
    );
    assert_eq!(seed.deadline(), Some(ms(24_000)));
    assert!(seed.tick(23_999).is_silent());
    assert_eq!(connect_attempt(&seed.tick(24_000)), Some(1));
}

#[test]
fn a_pong_one_millisecond_before_the_deadline_keeps_the_connection() {
    let mut seed = Seed::new(|c| c.ping_interval(secs(10)).pong_timeout(secs(10)));
    seed.open(0);
    seed.tick(10_000);
    assert_eq!(
        seed.frame(19_999, pong(1)).events,
        [Event::Rtt(Duration::from_millis(9_999))]
    );
    assert!(seed.tick(20_000).is_silent());
    assert_eq!(seed.tick(29_999).actions, [Action::Ping(ping_payload(2))]);
}

fn ping_payload(sequence: u64) -> PingPayload {
    // The only way to get a PingPayload is from the supervisor: take it from a fresh one.
    let config = Config::builder()
        .ping_interval(Duration::from_millis(1))
        .pong_timeout(Duration::from_secs(3_600))
        .build()
        .expect("valid");
    let mut harness = Harness::new(config, 0);
    harness.call(Call::Connect).expect("connects");
    let connection = harness
        .observed()
        .observer()
        .latest_connection()
        .expect("asked");
    harness
        .call(Call::Input(Input::Opened { connection }))
        .expect("opens");
    let mut found = None;
    for n in 1..=sequence {
        harness.set_now(Instant::from_millis(n));
        let tick = harness.call(Call::Tick).expect("ticks").clone();
        found = tick.actions.into_iter().find_map(|a| match a {
            Action::Ping(p) => Some(p),
            _ => None,
        });
        if n < sequence {
            harness
                .call(Call::Input(Input::Frame {
                    connection,
                    frame: pong(n),
                }))
                .expect("pong");
        }
    }
    let payload = found.expect("pinged");
    assert_eq!(payload.sequence(), sequence);
    payload
}

#[test]
fn any_inbound_message_resets_the_heartbeat() {
    let mut seed = Seed::new(|c| {
        c.liveness(Liveness::AnyFrame)
            .ping_interval(secs(10))
            .pong_timeout(secs(5))
            .stable_after(secs(60))
    });
    seed.open(0);
    assert_eq!(seed.text(8_000, "a").events.len(), 1);
    assert_eq!(seed.deadline(), Some(ms(18_000)));
    seed.text(16_000, "b");
    assert!(seed.tick(18_000).is_silent());
    assert!(seed.tick(25_999).is_silent());
    assert_eq!(seed.tick(26_000).actions, [Action::Ping(ping_payload(1))]);
    // While the ping is out, a message also proves life.
    seed.text(30_000, "c");
    assert!(seed.tick(31_000).is_silent());
    assert_eq!(seed.deadline(), Some(ms(40_000)));
}

#[test]
fn reply_only_liveness_is_not_fooled_by_messages() {
    let mut seed = Seed::new(|c| {
        c.liveness(Liveness::ReplyOnly)
            .ping_interval(secs(10))
            .pong_timeout(secs(5))
            .heartbeat(Heartbeat::Protocol)
    });
    seed.open(0);
    seed.text(8_000, "a");
    assert_eq!(seed.tick(10_000).actions, [Action::Ping(ping_payload(1))]);
    seed.text(12_000, "b");
    seed.text(14_000, "c");
    assert_eq!(seed.tick(15_000).actions, [Action::Abort]);
}
