//! A tiny driver for the behaviour tests: a virtual clock in milliseconds and helpers that
//! feed the supervisor and collect everything it emits.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use ws_core::{
    Action, CloseCode, Config, ConfigBuilder, ConnectionId, Event, Frame, Input, Instant, Message,
    PingPayload, Supervisor, Text,
};

pub fn ms(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

pub fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// Everything one call produced.
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    pub actions: Vec<Action>,
    pub events: Vec<Event>,
}

impl Output {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.events.is_empty()
    }

    pub fn pings(&self) -> Vec<u64> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Ping(p) => Some(p.sequence()),
                _ => None,
            })
            .collect()
    }

    pub fn sent(&self) -> Vec<Message> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn connect(&self) -> Option<(ConnectionId, u32)> {
        self.actions.iter().find_map(|a| match a {
            Action::Connect {
                connection,
                attempt,
            } => Some((*connection, *attempt)),
            _ => None,
        })
    }

    pub fn reconnecting(&self) -> Option<(u32, Duration)> {
        self.events.iter().find_map(|e| match e {
            Event::Reconnecting { attempt, delay } => Some((*attempt, *delay)),
            _ => None,
        })
    }

    pub fn disconnected(&self) -> Option<&Event> {
        self.events
            .iter()
            .find(|e| matches!(e, Event::Disconnected { .. }))
    }

    pub fn messages(&self) -> Vec<Message> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }
}

pub struct Sim {
    pub sup: Supervisor,
    /// The transport the driver currently has.
    pub conn: Option<ConnectionId>,
}

impl Sim {
    pub fn new(config: Config) -> Self {
        Sim {
            sup: Supervisor::new(config, 7),
            conn: None,
        }
    }

    pub fn with(build: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        Sim::new(build(Config::builder()).build().expect("valid config"))
    }

    pub fn drain(&mut self) -> Output {
        let mut out = Output::default();
        while let Some(action) = self.sup.poll_action() {
            match &action {
                Action::Connect { connection, .. } => self.conn = Some(*connection),
                Action::Abort => self.conn = None,
                _ => {}
            }
            out.actions.push(action);
        }
        while let Some(event) = self.sup.poll_event() {
            out.events.push(event);
        }
        out
    }

    pub fn connect(&mut self, at: u64) -> Output {
        self.sup.connect(ms(at));
        self.drain()
    }

    pub fn id(&self) -> ConnectionId {
        self.conn.expect("a transport exists")
    }

    pub fn opened(&mut self, at: u64) -> Output {
        let connection = self.id();
        self.input(Input::Opened { connection }, at)
    }

    /// connect at `at`, open at the same instant; returns the output of the open.
    pub fn open_at(&mut self, at: u64) -> Output {
        let _ = self.connect(at);
        self.opened(at)
    }

    pub fn input(&mut self, input: Input, at: u64) -> Output {
        self.sup.handle_input(input, ms(at));
        self.drain()
    }

    pub fn frame(&mut self, frame: Frame, at: u64) -> Output {
        let connection = self.id();
        self.input(Input::Frame { connection, frame }, at)
    }

    pub fn pong(&mut self, sequence: u64, at: u64) -> Output {
        let payload = PingPayload::from_sequence_for_tests(sequence);
        self.frame(Frame::Pong(payload), at)
    }

    pub fn text(&mut self, text: &'static str, at: u64) -> Output {
        self.frame(Frame::Text(Text::from_static(text)), at)
    }

    pub fn peer_closes(&mut self, code: u16, at: u64) -> Output {
        let connection = self.id();
        self.conn = None;
        self.input(
            Input::Closed {
                connection,
                code: CloseCode(code),
                reason: Text::from_static("bye"),
            },
            at,
        )
    }

    pub fn tick(&mut self, at: u64) -> Output {
        self.sup.handle_timeout(ms(at));
        self.drain()
    }

    /// Ticks exactly at every deadline up to and including `until`, collecting all output.
    pub fn run_until(&mut self, until: u64) -> Output {
        let mut all = Output::default();
        while let Some(at) = self.sup.poll_timeout() {
            if at > ms(until) {
                break;
            }
            self.sup.handle_timeout(at);
            let out = self.drain();
            all.actions.extend(out.actions);
            all.events.extend(out.events);
        }
        all
    }

    pub fn send(&mut self, text: &'static str, at: u64) -> Output {
        self.sup
            .send(Message::from(text), ms(at))
            .expect("send accepted");
        self.drain()
    }
}

/// The pong payload for a given sequence number, as a peer would echo it.
pub trait PongPayload {
    fn from_sequence_for_tests(sequence: u64) -> ws_core::Bytes;
}

impl PongPayload for PingPayload {
    fn from_sequence_for_tests(sequence: u64) -> ws_core::Bytes {
        ws_core::Bytes::copy_from_slice(&sequence.to_be_bytes())
    }
}
