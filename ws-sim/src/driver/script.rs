//! Scenarios for the driver simulation, decoded from bytes: every byte string is a valid
//! config and schedule, so proptest (random bytes) and cargo-fuzz (mutated bytes) search the
//! same space, and a corpus file replays on stable Rust.

use crate::reader::Reader;

use ws_client::ClientOptions;
use ws_core::{Config, Heartbeat, Jitter, Liveness, Matcher, Message, Overflow, Text};

/// One thing that happens to the driver, from the application, the peer, the network or the
/// runtime. Steps naming a client handle, a socket or an attempt that does not exist do
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverStep {
    /// `try_send` on client handle `client` (0–3) of a fresh text or binary message.
    TrySend {
        /// The handle.
        client: u8,
        /// Binary rather than text.
        binary: bool,
    },
    /// `send` (a future, polled now and whenever woken).
    Send {
        /// The handle.
        client: u8,
        /// Binary rather than text.
        binary: bool,
    },
    /// `send_now` on the latest connection the application saw open (or an older one).
    SendNow {
        /// The handle.
        client: u8,
        /// Name the connection before the latest one.
        stale: bool,
    },
    /// `ready` on the latest connection the application saw open (or an older one).
    Ready {
        /// The handle.
        client: u8,
        /// Name the connection before the latest one.
        stale: bool,
    },
    /// `close` with a code (some of them refused by the handle).
    Close {
        /// The handle.
        client: u8,
        /// The close code.
        code: u16,
    },
    /// `reconnect_now`.
    ReconnectNow {
        /// The handle.
        client: u8,
    },
    /// `network_changed`.
    NetworkChanged {
        /// The handle.
        client: u8,
    },
    /// Clones handle `client` into the first free slot.
    CloneClient {
        /// The handle.
        client: u8,
    },
    /// Drops handle `client`.
    DropClient {
        /// The handle.
        client: u8,
    },
    /// Drops the event stream.
    DropEvents,
    /// The application reads up to this many events (255: all that are ready).
    ReadEvents(u8),
    /// The peer sends a text or binary message.
    PeerData {
        /// Binary rather than text.
        binary: bool,
    },
    /// The peer sends a protocol Ping.
    PeerPing,
    /// The peer answers our latest flushed heartbeat (a Pong, or the application-level
    /// reply), or sends an unsolicited Pong.
    PeerPong,
    /// The peer sends a Close with this code.
    PeerClose(u16),
    /// A read fails: 0 invalid UTF-8, 1 a message over the limit, 2 a protocol error, 3 and
    /// above a reset.
    ReadError(u8),
    /// The stream ends without a Close.
    Eof,
    /// The socket stops taking writes (flushes stay pending).
    WritesBlock,
    /// Flushes may push out this many more frames, then block.
    WritesRoom(u8),
    /// Flushes push out everything.
    WritesFree,
    /// The next flush fails.
    FlushError,
    /// The newest pending connect attempt completes: 0 opens, 1 refused, 2 DNS, 3 TLS, 4 an
    /// I/O timeout, 5 a protocol error, 6.. an HTTP status.
    Resolve(u8),
    /// Virtual time passes: to the timer's deadline, just before it, past it (by a little or
    /// a lot), or by a fixed amount.
    Advance(Advance),
    /// The timer fires early (its next poll is ready though its deadline has not passed).
    TimerEarly,
    /// The executor polls the driver without a wake-up.
    SpuriousPoll,
}

/// How far an [`DriverStep::Advance`] moves the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Advance {
    /// To the timer's deadline exactly (on time).
    ToDeadline,
    /// To 1 ms before the deadline.
    JustBefore,
    /// To this many ms past the deadline (a late timer).
    PastDeadline(u16),
    /// By this many ms.
    By(u16),
    /// By this many minutes (a suspended machine).
    Minutes(u8),
}

/// The HTTP statuses a refused handshake answers with.
pub(crate) const STATUSES: [u16; 8] = [400, 401, 403, 404, 429, 500, 502, 503];
/// Close codes the application tries (1005 and 1006 are refused by the handle).
const APP_CODES: [u16; 4] = [1000, 4000, 1005, 1006];
/// Close codes the peer sends: mostly ones the default policy reconnects after.
const PEER_CODES: [u16; 8] = [1000, 1001, 1011, 1012, 4000, 1005, 1000, 1008];

/// A driver scenario: client options and a schedule.
#[derive(Clone, Debug)]
pub struct DriverScenario {
    /// The client's options (the supervisor's config among them).
    pub options: ClientOptions,
    /// `poll_read_ready` knows when a socket has something to read.
    pub read_hint: bool,
    /// The schedule.
    pub steps: Vec<DriverStep>,
}

/// Steps per scenario at most.
pub const MAX_STEPS: usize = 400;

impl DriverScenario {
    /// Decodes `data`: the first bytes choose the config and the client options, the rest
    /// the steps (at most [`MAX_STEPS`]).
    pub fn from_bytes(data: &[u8]) -> DriverScenario {
        let mut r = Reader::new(data);
        let config = config(&mut r);
        let options = ClientOptions::builder("ws://sim/")
            .config(config)
            .seed(u64::from(r.byte()))
            .command_capacity(1 + usize::from(r.below(4)))
            .event_capacity(1 + usize::from(r.below(8)))
            .build()
            .expect("decoded options are valid");
        let read_hint = r.flag();
        let mut steps = Vec::new();
        while !r.exhausted() && steps.len() < MAX_STEPS {
            steps.push(step(&mut r));
        }
        DriverScenario {
            options,
            read_hint,
            steps,
        }
    }
}

fn config(r: &mut Reader<'_>) -> Config {
    let heartbeat = match r.below(4) {
        0 => Heartbeat::Protocol,
        1 => Heartbeat::Application {
            ping: Message::from("hb-ping"),
            pong: Matcher::Exact(Text::from_static("hb-pong")),
        },
        2 => Heartbeat::ServerDriven,
        _ => Heartbeat::Disabled,
    };
    let initial = r.coarse_millis();
    let mut builder = Config::builder()
        .heartbeat(heartbeat)
        .liveness(if r.flag() {
            Liveness::AnyFrame
        } else {
            Liveness::ReplyOnly
        })
        .ping_interval(r.coarse_millis())
        .pong_timeout(r.coarse_millis())
        .idle_timeout(r.coarse_millis())
        .late_tick_threshold(r.coarse_millis())
        .connect_timeout(r.coarse_millis())
        .close_timeout(r.coarse_millis())
        .initial_delay(initial)
        .max_delay(initial * 4)
        .jitter(match r.below(3) {
            0 => Jitter::None,
            1 => Jitter::Full,
            _ => Jitter::Equal,
        })
        .max_attempts(match r.below(8) {
            n @ 5..=7 => Some(u32::from(n - 5) * 2),
            _ => None,
        })
        .queue_max_messages(usize::from(r.below(6)))
        .overflow(if r.flag() {
            Overflow::DropOldest
        } else {
            Overflow::RejectNew
        });
    let gate = r.byte();
    builder = builder.hold_queue_until_ready(gate & 1 == 1);
    if gate & 2 == 2 {
        builder = builder.max_queue_age(Some(r.coarse_millis()));
    }
    if gate & 4 == 4 {
        builder = builder
            .replay_on_open(|connection| vec![Message::from(format!("replay-{}", connection.0))]);
    }
    builder.build().expect("decoded configs are valid")
}

fn step(r: &mut Reader<'_>) -> DriverStep {
    let choice = r.byte();
    // The spare high bits of the choice pick the handle.
    let client = (choice >> 5) % 4;
    let flag = choice & 0x80 != 0;
    match choice % 26 {
        0 | 1 => DriverStep::TrySend {
            client,
            binary: flag,
        },
        2 | 3 => DriverStep::Send {
            client,
            binary: flag,
        },
        4 => DriverStep::SendNow {
            client,
            stale: flag,
        },
        5 => DriverStep::Ready {
            client,
            stale: flag,
        },
        6 => {
            // Closing ends the run's interesting part (the wind-down closes anyway): one time
            // in 64.
            let code = r.byte();
            if code < 4 {
                DriverStep::Close {
                    client,
                    code: APP_CODES[usize::from(code)],
                }
            } else {
                DriverStep::TrySend {
                    client,
                    binary: flag,
                }
            }
        }
        7 => DriverStep::ReconnectNow { client },
        8 => DriverStep::NetworkChanged { client },
        9 => DriverStep::CloneClient { client },
        10 => match r.below(16) {
            0 => DriverStep::DropEvents,
            1 => DriverStep::DropClient { client },
            _ => DriverStep::ReadEvents(255),
        },
        11 | 12 => DriverStep::ReadEvents(match r.byte() {
            n @ 0..=8 => n,
            _ => 255,
        }),
        13 => DriverStep::PeerData { binary: flag },
        14 => DriverStep::PeerPing,
        15 => DriverStep::PeerPong,
        16 => DriverStep::PeerClose(PEER_CODES[usize::from(r.below(8))]),
        17 => {
            if r.below(3) == 0 {
                DriverStep::Eof
            } else {
                DriverStep::ReadError(r.below(6))
            }
        }
        18 => match r.below(4) {
            0 => DriverStep::WritesBlock,
            1 => DriverStep::WritesRoom(r.below(4)),
            2 => DriverStep::FlushError,
            _ => DriverStep::WritesFree,
        },
        // Half of the resolved attempts open.
        19 | 20 => DriverStep::Resolve(match r.byte() {
            0..=127 => 0,
            byte => 1 + byte % (5 + STATUSES.len() as u8),
        }),
        21 | 22 => DriverStep::Advance(match r.below(6) {
            0 | 1 => Advance::ToDeadline,
            2 => Advance::JustBefore,
            3 => Advance::PastDeadline(u16::from(r.byte()) * 10),
            4 => Advance::By(u16::from(r.byte()) * 10),
            _ => Advance::Minutes(r.below(10)),
        }),
        23 => DriverStep::TimerEarly,
        24 => DriverStep::SpuriousPoll,
        _ => DriverStep::ReadEvents(255),
    }
}
