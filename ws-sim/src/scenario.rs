//! Scenarios decoded from raw bytes, for the fuzz target and its corpus replay: every byte
//! string is a valid config, a seed and a script, so a fuzzer spends its time on behaviours,
//! not on parse errors, and a corpus file replays on stable Rust with no fuzzing crate.

use core::time::Duration;

use ws_core::{
    Config, ConnectFailure, Heartbeat, Jitter, Liveness, Matcher, Message, Overflow, ServerPing,
    Text, TransportError,
};

use crate::harness::{Failure, check_determinism, check_script};
use crate::reader::Reader;
use crate::step::{FrameKind, PongPayload, Step, Target};
use crate::strategy::{POLICIES, json_heartbeat, replay, text_heartbeat};

/// A config, a seed and a script.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The supervisor's config.
    pub config: Config,
    /// The supervisor's seed.
    pub seed: u64,
    /// The script.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Decodes `data`: the first bytes choose the config and the seed, the rest the steps
    /// (at most 256).
    pub fn from_bytes(data: &[u8]) -> Scenario {
        let mut reader = Reader::new(data);
        let config = config(&mut reader);
        let seed = u64::from(reader.u16());
        let mut steps = Vec::new();
        while !reader.exhausted() && steps.len() < 256 {
            steps.push(step(&mut reader));
        }
        Scenario {
            config,
            seed,
            steps,
        }
    }

    /// Runs the script with every invariant checked, then checks determinism (a second run
    /// gives the same outputs). A failure carries a shrunk script.
    pub fn check(&self) -> Result<(), Box<Failure>> {
        check_script(&self.config, self.seed, &self.steps)?;
        check_determinism(&self.config, self.seed, &self.steps).map_err(|violation| {
            Box::new(Failure {
                seed: self.seed,
                config: format!("{:?}", self.config),
                steps: self.steps.clone(),
                violation,
            })
        })
    }
}

fn config(r: &mut Reader<'_>) -> Config {
    let heartbeat = match r.below(5) {
        0 => Heartbeat::Protocol,
        1 => text_heartbeat(),
        2 => json_heartbeat(),
        3 => Heartbeat::ServerDriven,
        _ => Heartbeat::Disabled,
    };
    let initial = r.millis();
    let mut builder = Config::builder()
        .heartbeat(heartbeat)
        .liveness(if r.flag() {
            Liveness::AnyFrame
        } else {
            Liveness::ReplyOnly
        })
        .ping_interval(r.millis())
        .pong_timeout(r.millis())
        .idle_timeout(r.millis())
        .late_tick_threshold(r.millis())
        .connect_timeout(r.millis())
        .close_timeout(r.millis())
        .initial_delay(initial)
        .max_delay(initial + r.millis())
        .multiplier(1.0 + f64::from(r.byte()) / 64.0)
        .jitter(match r.below(4) {
            0 => Jitter::None,
            1 => Jitter::Full,
            2 => Jitter::Equal,
            _ => Jitter::Decorrelated,
        })
        .max_attempts(match r.below(4) {
            0 => None,
            n => Some(u32::from(n - 1) * 2),
        })
        .stable_after(if r.flag() { Duration::ZERO } else { r.millis() })
        .retry_after_cap(r.millis())
        .queue_max_messages(usize::from(r.below(6)))
        .queue_max_bytes(usize::from(r.byte()))
        .overflow(if r.flag() {
            Overflow::DropOldest
        } else {
            Overflow::RejectNew
        })
        .max_queue_age(r.flag().then(|| r.millis()));
    // One byte sets the flush gate (its low bit, as before replays existed, so the committed
    // corpus keeps its meaning) and the replay at each open (0–2 messages, its next bits).
    let gate = r.byte();
    builder = builder.hold_queue_until_ready(gate & 1 == 1);
    let replayed = usize::from(gate >> 1) % 3;
    if replayed > 0 {
        builder = builder.replay_on_open(replay(replayed));
    }
    // One byte chooses the policy (its low bits, as before auth retries existed, so the
    // committed corpus keeps its meaning) and the credential handling (its high bits).
    let policy = r.byte();
    builder = builder
        .close_policy(POLICIES[usize::from(policy % 4)])
        .credentials_refreshed(policy & 0x10 != 0)
        .auth_retries(u32::from(policy >> 5) % 4);
    if r.flag() {
        builder = builder.answer_server_ping(ServerPing::new(
            Matcher::Exact(Text::from_static("ping")),
            Message::from("pong"),
        ));
    }
    builder.build().expect("decoded configs are valid")
}

fn target(r: &mut Reader<'_>) -> Target {
    match r.below(8) {
        0 => Target::Previous(r.below(3)),
        1 => Target::Next,
        _ => Target::Current,
    }
}

fn frame_kind(r: &mut Reader<'_>) -> FrameKind {
    match r.below(10) {
        0 => FrameKind::Text,
        1 => FrameKind::Binary,
        2 => FrameKind::Ping,
        3 => FrameKind::Pong(PongPayload::Latest),
        4 => FrameKind::Pong(PongPayload::Older(r.below(3))),
        5 => FrameKind::Pong(PongPayload::Ahead),
        6 => FrameKind::Pong(PongPayload::Garbage),
        7 => FrameKind::AppPong,
        8 => FrameKind::NotAppPong,
        _ => FrameKind::ServerPing,
    }
}

/// The transport a `ready` or `send_now` names, from the spare high part of a byte that
/// already chose something else (so the committed corpus keeps its meaning).
fn target_from(spare: u8) -> Target {
    match spare % 8 {
        0 => Target::Previous(0),
        1 => Target::Next,
        _ => Target::Current,
    }
}

fn step(r: &mut Reader<'_>) -> Step {
    let choice = r.byte();
    match choice % 19 {
        0 => Step::Connect,
        1 => Step::Send {
            binary: r.flag(),
            len: r.below(48),
        },
        2 => Step::SendWithDeadline {
            len: r.below(48),
            within: Duration::from_millis(u64::from(r.u16())),
        },
        3 => {
            let len = r.byte();
            Step::SendNow {
                target: target_from(len / 24),
                len: len % 24,
            }
        }
        4 => Step::Ready(target_from(choice / 19)),
        5 => Step::Close {
            code: r.u16(),
            reason_len: r.below(130),
        },
        6 => Step::ReconnectNow,
        7 => Step::Opened(target(r)),
        8 | 9 => Step::Frame(target(r), frame_kind(r)),
        10 => Step::ConnectFailed(
            target(r),
            match r.below(4) {
                0 => ConnectFailure::Io,
                1 => ConnectFailure::Tls,
                2 => ConnectFailure::Protocol,
                _ => ConnectFailure::Http {
                    status: 400 + u16::from(r.below(200)),
                    retry_after: r.flag().then(|| Duration::from_millis(u64::from(r.u16()))),
                },
            },
        ),
        11 => Step::Error(
            target(r),
            match r.below(4) {
                0 => TransportError::Eof,
                1 => TransportError::Io,
                2 => TransportError::Protocol,
                _ => TransportError::MessageTooLarge,
            },
        ),
        12 => Step::Closed(target(r), 1000 + u16::from(r.below(16))),
        13 => Step::NetworkChanged,
        14 => Step::Advance(match r.below(8) {
            0 => Duration::ZERO,
            1 => Duration::from_secs(u64::from(r.u16()) * 60),
            _ => Duration::from_millis(u64::from(r.u16())),
        }),
        15 => Step::Rewind(Duration::from_millis(u64::from(r.u16()))),
        16 => Step::Tick,
        17 => Step::TickLate(Duration::from_millis(u64::from(r.u16()))),
        _ => Step::TickOnTime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_decode_to_a_scenario() {
        let empty = Scenario::from_bytes(&[]);
        assert!(empty.steps.is_empty());
        assert_eq!(empty.seed, 0);
        let long = Scenario::from_bytes(&[0xA5; 4_000]);
        assert_eq!(long.steps.len(), 256);
    }

    #[test]
    fn decoded_scenarios_pass_every_check() {
        let mut state = 0x1234_5678_u32;
        for length in [8usize, 64, 200, 600] {
            let data: Vec<u8> = (0..length)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state.to_le_bytes()[0]
                })
                .collect();
            let scenario = Scenario::from_bytes(&data);
            if let Err(failure) = scenario.check() {
                panic!("{failure}");
            }
        }
    }
}
