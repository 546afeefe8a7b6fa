//! The scripted harness: a virtual clock and a scripted peer that drive an
//! [`ObservedSupervisor`] step by step.
//!
//! The harness turns symbolic [`Step`]s into concrete calls (fresh unique payloads, the ids of
//! the transports the supervisor actually asked for, pongs carrying the latest ping's number),
//! so the observer sees exactly what a real driver and application would do.

use core::fmt;
use core::time::Duration;

use ws_core::{
    Bytes, CloseCode, Config, ConnectionId, Frame, Heartbeat, Input, Instant, Matcher, Message,
    Text,
};

use crate::observation::{Call, Observation};
use crate::observed::ObservedSupervisor;
use crate::observer::Observer;
use crate::shrink::minimize;
use crate::step::{FrameKind, PongPayload, Step, Target};
use crate::violation::{Invariant, Violation};

/// A supervisor, its observer, a virtual clock and a peer that follows a script.
#[derive(Debug)]
pub struct Harness {
    observed: ObservedSupervisor,
    now: Instant,
    /// Counter behind the unique outbound payloads.
    next_payload: u64,
    /// Steps run so far; inbound messages are named after their step, so that replacing a
    /// step by a no-op leaves every other message unchanged.
    steps: u64,
}

impl Harness {
    /// A harness for a supervisor built from `config` and `seed`, checking every invariant.
    pub fn new(config: Config, seed: u64) -> Self {
        Harness::observed_by(ObservedSupervisor::new(config, seed))
    }

    /// A harness whose observer checks only `invariants`.
    pub fn checking(config: Config, seed: u64, invariants: &[Invariant]) -> Self {
        let observer = Observer::new(config.clone()).only(invariants);
        Harness::observed_by(ObservedSupervisor::with_observer(config, seed, observer))
    }

    fn observed_by(observed: ObservedSupervisor) -> Self {
        Harness {
            observed,
            now: Instant::ZERO,
            next_payload: 0,
            steps: 0,
        }
    }

    /// The virtual clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Sets the virtual clock (forward or backward).
    pub fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    /// The supervisor and its observer.
    pub fn observed(&self) -> &ObservedSupervisor {
        &self.observed
    }

    /// Every call made so far, with its outputs.
    pub fn transcript(&self) -> &[Observation] {
        self.observed.trace()
    }

    /// Performs `call` at the current virtual time.
    pub fn call(&mut self, call: Call) -> Result<&Observation, Violation> {
        self.observed.call(self.now, call)
    }

    /// Runs one step.
    pub fn apply(&mut self, step: &Step) -> Result<(), Violation> {
        self.steps += 1;
        let call = match step {
            Step::Advance(by) => {
                self.now = self.now + *by;
                return Ok(());
            }
            Step::Rewind(by) => {
                self.now = Instant::from_duration(self.now.since_origin().saturating_sub(*by));
                return Ok(());
            }
            Step::TickOnTime => return self.tick_late(Duration::ZERO),
            Step::TickLate(by) => return self.tick_late(*by),
            other => self.resolve(other),
        };
        self.call(call).map(|_| ())
    }

    /// Moves the clock to `poll_timeout()` plus `lateness` (never backwards) and ticks; does
    /// nothing when no deadline is pending.
    pub fn tick_late(&mut self, lateness: Duration) -> Result<(), Violation> {
        let Some(at) = self.observed.supervisor().poll_timeout() else {
            return Ok(());
        };
        self.now = self.now.max(at + lateness);
        self.call(Call::Tick).map(|_| ())
    }

    /// A fresh message of about `len` bytes, unique within this run.
    pub fn fresh_message(&mut self, binary: bool, len: usize) -> Message {
        self.next_payload += 1;
        let mut payload = format!("m{}:", self.next_payload);
        while payload.len() < len {
            payload.push('x');
        }
        if binary {
            Message::Binary(Bytes::from(payload.into_bytes()))
        } else {
            Message::from(payload)
        }
    }

    fn fresh_inbound(&self) -> String {
        format!("in{}", self.steps)
    }

    /// The concrete call a step stands for, at this moment.
    fn resolve(&mut self, step: &Step) -> Call {
        match step {
            Step::Connect => Call::Connect,
            Step::Send { binary, len } => Call::Send {
                message: self.fresh_message(*binary, usize::from(*len)),
                deadline: None,
            },
            Step::SendWithDeadline { len, within } => Call::Send {
                message: self.fresh_message(false, usize::from(*len)),
                deadline: Some(self.now + *within),
            },
            Step::SendNow { target, len } => Call::SendNow {
                connection: self.target(*target),
                message: self.fresh_message(false, usize::from(*len)),
            },
            Step::Ready(target) => Call::Ready {
                connection: self.target(*target),
            },
            Step::Close { code, reason_len } => Call::Close {
                code: CloseCode(*code),
                reason: Text::from("r".repeat(usize::from(*reason_len))),
            },
            Step::ReconnectNow => Call::ReconnectNow,
            Step::Opened(target) => Call::Input(Input::Opened {
                connection: self.target(*target),
            }),
            Step::Frame(target, kind) => {
                let connection = self.target(*target);
                let frame = self.frame(*kind);
                Call::Input(Input::Frame { connection, frame })
            }
            Step::ConnectFailed(target, failure) => Call::Input(Input::ConnectFailed {
                connection: self.target(*target),
                failure: *failure,
            }),
            Step::Error(target, error) => Call::Input(Input::Error {
                connection: self.target(*target),
                error: *error,
            }),
            Step::Closed(target, code) => Call::Input(Input::Closed {
                connection: self.target(*target),
                code: CloseCode(*code),
                reason: Text::from_static("bye"),
            }),
            Step::NetworkChanged => Call::Input(Input::NetworkChanged),
            Step::Tick
            | Step::TickOnTime
            | Step::TickLate(_)
            | Step::Advance(_)
            | Step::Rewind(_) => Call::Tick,
        }
    }

    fn target(&self, target: Target) -> ConnectionId {
        let latest = self
            .observed
            .observer()
            .latest_connection()
            .map_or(0, |c| c.0);
        ConnectionId(match target {
            Target::Current => latest,
            Target::Previous(n) => latest.saturating_sub(u64::from(n) + 1),
            Target::Next => latest + 1,
        })
    }

    fn frame(&mut self, kind: FrameKind) -> Frame {
        let config = self.observed.observer().config();
        match kind {
            FrameKind::Text => Frame::Text(Text::from(self.fresh_inbound())),
            FrameKind::Binary => Frame::Binary(Bytes::from(self.fresh_inbound().into_bytes())),
            FrameKind::Ping => Frame::Ping(Bytes::from_static(b"server")),
            FrameKind::Pong(payload) => {
                let latest = self.observed.observer().ping_sequence();
                let number = match payload {
                    PongPayload::Latest => latest,
                    PongPayload::Older(n) => latest.saturating_sub(u64::from(n) + 1),
                    PongPayload::Ahead => latest + 1,
                    PongPayload::Garbage => return Frame::Pong(Bytes::from_static(b"xyz")),
                };
                Frame::Pong(Bytes::copy_from_slice(&number.to_be_bytes()))
            }
            FrameKind::AppPong => Frame::from(match config.heartbeat() {
                Heartbeat::Application { pong, .. } => sample(pong),
                _ => Message::from("pong"),
            }),
            FrameKind::NotAppPong => {
                Frame::Text(Text::from(format!("not-a-reply-{}", self.fresh_inbound())))
            }
            FrameKind::ServerPing => Frame::from(
                config
                    .answer_server_ping()
                    .map_or(Message::from("ping"), |server| sample(&server.ping)),
            ),
        }
    }
}

/// A message `matcher` accepts (for the matchers the generators use).
pub fn sample(matcher: &Matcher) -> Message {
    match matcher {
        Matcher::Exact(text) => Message::Text(text.clone()),
        Matcher::Contains(text) => Message::from(format!("{{{text},\"ts\":1}}")),
        _ => Message::from("pong"),
    }
}

/// A script that broke an invariant, with a minimal reproduction.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The supervisor's seed.
    pub seed: u64,
    /// The config, printed.
    pub config: String,
    /// The smallest script found that still breaks the same invariant.
    pub steps: Vec<Step>,
    /// The violation that script produces.
    pub violation: Violation,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.violation)?;
        writeln!(f, "seed: {}", self.seed)?;
        writeln!(f, "config: {}", self.config)?;
        writeln!(f, "minimal script ({} steps):", self.steps.len())?;
        for (index, step) in self.steps.iter().enumerate() {
            writeln!(f, "  {index:>3}: {step:?}")?;
        }
        Ok(())
    }
}

/// Runs `steps` on a fresh harness and returns the transcript, or the first violation.
pub fn run_script(
    config: &Config,
    seed: u64,
    steps: &[Step],
) -> Result<Vec<Observation>, Violation> {
    let mut harness = Harness::new(config.clone(), seed);
    for step in steps {
        harness.apply(step)?;
    }
    Ok(harness.observed.into_trace())
}

/// Runs `steps`; on a violation, shrinks the script to a minimal one that breaks the same
/// invariant and returns it with the seed.
pub fn check_script(config: &Config, seed: u64, steps: &[Step]) -> Result<(), Box<Failure>> {
    let Err(violation) = run_script(config, seed, steps) else {
        return Ok(());
    };
    let invariant = violation.invariant;
    let steps = minimize(steps, |candidate| {
        run_script(config, seed, candidate).is_err_and(|v| v.invariant == invariant)
    });
    let violation = run_script(config, seed, &steps).expect_err("the minimal script still fails");
    Err(Box::new(Failure {
        seed,
        config: format!("{config:?}"),
        steps,
        violation,
    }))
}

/// Invariant 8: runs `steps` twice from scratch and checks that both runs produce identical
/// observations.
pub fn check_determinism(config: &Config, seed: u64, steps: &[Step]) -> Result<(), Violation> {
    let first = run_script(config, seed, steps);
    let second = run_script(config, seed, steps);
    match (first, second) {
        (Ok(a), Ok(b)) => match a.iter().zip(&b).position(|(x, y)| x != y) {
            None if a.len() == b.len() => Ok(()),
            index => {
                let call = index.unwrap_or(a.len().min(b.len()));
                Err(Violation {
                    invariant: Invariant::Determinism,
                    call,
                    at: a.get(call).map_or(Instant::ZERO, |o| o.now),
                    detail: format!(
                        "two runs of the same script differ:\n  first:  {:?}\n  second: {:?}",
                        a.get(call),
                        b.get(call)
                    ),
                })
            }
        },
        (Err(a), Err(b)) if a == b => Ok(()),
        (Err(violation), _) | (_, Err(violation)) => Err(violation),
    }
}
