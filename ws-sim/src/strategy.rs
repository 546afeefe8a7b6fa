//! Proptest generators: valid configs that cover every mode, and scripts of steps weighted
//! towards what a property exercises.
//!
//! Durations are milliseconds to seconds, so that short scripts cross many deadlines and hit
//! ties; queues are tiny, so that overflow and the byte limit are reached.

use core::time::Duration;

use proptest::prelude::*;
use ws_core::{
    CloseCode, Config, ConnectFailure, ConnectionId, Disconnect, Heartbeat, Jitter, Liveness,
    Matcher, Message, Overflow, ReconnectDecision, ServerPing, Text, TransportError,
};

use crate::step::{FrameKind, PongPayload, Step, Target};

fn millis(range: core::ops::RangeInclusive<u64>) -> impl Strategy<Value = Duration> {
    range.prop_map(Duration::from_millis)
}

/// Every heartbeat mode: protocol, application text and JSON, server-driven, disabled.
pub fn heartbeat() -> impl Strategy<Value = Heartbeat> {
    prop_oneof![
        3 => Just(Heartbeat::Protocol),
        2 => Just(text_heartbeat()),
        2 => Just(json_heartbeat()),
        1 => Just(Heartbeat::ServerDriven),
        1 => Just(Heartbeat::Disabled),
    ]
}

/// The seeds' text heartbeat: `"ping"`, answered by exactly `"pong"`.
pub fn text_heartbeat() -> Heartbeat {
    Heartbeat::Application {
        ping: Message::from("ping"),
        pong: Matcher::Exact(Text::from_static("pong")),
    }
}

/// The seeds' JSON heartbeat: `{"action":4}`, answered by any text containing `"action":4`.
pub fn json_heartbeat() -> Heartbeat {
    Heartbeat::Application {
        ping: Message::from("{\"action\":4}"),
        pong: Matcher::Contains(Text::from_static("\"action\":4")),
    }
}

/// Reconnect only after an abnormal loss (code 1006), as one of the seeds does.
pub fn reconnect_only_after_1006(cause: &Disconnect) -> ReconnectDecision {
    if cause.close_code() == CloseCode::ABNORMAL {
        ReconnectDecision::Reconnect
    } else {
        ReconnectDecision::Stop
    }
}

/// Reconnect after everything.
pub fn always_reconnect(_: &Disconnect) -> ReconnectDecision {
    ReconnectDecision::Reconnect
}

/// Never reconnect.
pub fn never_reconnect(_: &Disconnect) -> ReconnectDecision {
    ReconnectDecision::Stop
}

/// A replay of `count` messages naming the connection (`"replay#3.0"`, …): a pure function of
/// the connection id, as the observer requires.
pub fn replay(count: usize) -> impl Fn(ConnectionId) -> Vec<Message> + Send + Sync + 'static {
    move |connection| {
        (0..count)
            .map(|index| Message::from(format!("replay{connection}.{index}")))
            .collect()
    }
}

/// Every jitter mode.
pub fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

/// A valid config: any heartbeat and liveness mode, any jitter, `max_attempts` none, zero or
/// a few, tiny queues with either overflow policy, the flush gate on or off, a queue age or
/// none, one of four close policies, credentials refreshed per attempt or not with 0–3 auth
/// retries, and a replay of 0–2 messages at each open.
pub fn config() -> impl Strategy<Value = Config> {
    config_with(heartbeat().boxed(), &POLICIES)
}

/// A close policy as a plain function, so that a list of them can be a `const`.
pub type PolicyFn = fn(&Disconnect) -> ReconnectDecision;

/// The close policies [`config`] picks from: the default, reconnect only after 1006, always,
/// never.
pub const POLICIES: [PolicyFn; 4] = [
    ws_core::default_close_policy,
    reconnect_only_after_1006,
    always_reconnect,
    never_reconnect,
];

/// A valid config as [`config`] makes it, with the heartbeat drawn from `heartbeat` and the
/// close policy from `policies`.
pub fn config_with(
    heartbeat: BoxedStrategy<Heartbeat>,
    policies: &'static [PolicyFn],
) -> impl Strategy<Value = Config> {
    let heartbeat_part = (
        heartbeat,
        prop_oneof![Just(Liveness::AnyFrame), Just(Liveness::ReplyOnly)],
        proptest::bool::weighted(0.3),
        millis(1..=4_000),
        millis(1..=4_000),
        millis(1..=8_000),
        millis(1..=3_000),
    );
    let reconnect_part = (
        millis(1..=2_000),
        millis(0..=10_000),
        prop_oneof![Just(1.0), Just(2.0), 1.0..4.0f64],
        jitter(),
        prop_oneof![Just(None), Just(Some(0)), (1..=4u32).prop_map(Some)],
        prop_oneof![Just(Duration::ZERO), millis(1..=6_000)],
        millis(0..=5_000),
        prop::sample::select(policies),
        any::<bool>(),
        0..=3u32,
    );
    let queue_part = (
        0..=4usize,
        0..=48usize,
        prop_oneof![Just(Overflow::RejectNew), Just(Overflow::DropOldest)],
        prop_oneof![Just(None), millis(1..=5_000).prop_map(Some)],
        any::<bool>(),
        millis(1..=5_000),
        millis(1..=3_000),
        prop_oneof![2 => Just(0usize), 1 => 1..=2usize],
    );
    (heartbeat_part, reconnect_part, queue_part).prop_map(
        |(
            (heartbeat, liveness, server_ping, ping, pong, idle, late),
            (
                initial,
                extra,
                multiplier,
                jitter,
                max_attempts,
                stable,
                retry_cap,
                policy,
                credentials_refreshed,
                auth_retries,
            ),
            (
                queue_messages,
                queue_bytes,
                overflow,
                max_age,
                hold,
                connect_timeout,
                close_timeout,
                replayed,
            ),
        )| {
            let mut builder = Config::builder()
                .heartbeat(heartbeat)
                .liveness(liveness)
                .ping_interval(ping)
                .pong_timeout(pong)
                .idle_timeout(idle)
                .late_tick_threshold(late)
                .connect_timeout(connect_timeout)
                .close_timeout(close_timeout)
                .initial_delay(initial)
                .max_delay(initial + extra)
                .multiplier(multiplier)
                .jitter(jitter)
                .max_attempts(max_attempts)
                .stable_after(stable)
                .retry_after_cap(retry_cap)
                .queue_max_messages(queue_messages)
                .queue_max_bytes(queue_bytes)
                .overflow(overflow)
                .max_queue_age(max_age)
                .hold_queue_until_ready(hold)
                .close_policy(policy)
                .credentials_refreshed(credentials_refreshed)
                .auth_retries(auth_retries);
            if replayed > 0 {
                builder = builder.replay_on_open(replay(replayed));
            }
            if server_ping {
                builder = builder.answer_server_ping(ServerPing::new(
                    Matcher::Exact(Text::from_static("ping")),
                    Message::from("pong"),
                ));
            }
            builder.build().expect("generated configs are valid")
        },
    )
}

/// What a script concentrates on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mix {
    /// A bit of everything.
    General,
    /// Connects, failures, losses, reconnects, network changes.
    Transports,
    /// Sends of every kind, the flush gate, closes.
    Messages,
    /// Inputs naming old or future transports.
    Stale,
    /// Ticks early, on time and late, and clock movements.
    Timing,
}

impl Mix {
    /// Relative weights of: connect, send, ready/close/reconnect, opened, frame, failures,
    /// network change, advance, rewind, tick, tick on time, tick late.
    fn weights(self) -> [u32; 12] {
        match self {
            Mix::General => [4, 10, 4, 14, 14, 5, 1, 10, 1, 3, 14, 2],
            Mix::Transports => [6, 3, 4, 14, 6, 10, 3, 8, 1, 2, 14, 2],
            Mix::Messages => [4, 24, 6, 14, 6, 4, 1, 8, 1, 2, 10, 1],
            Mix::Stale => [4, 4, 3, 14, 14, 8, 1, 8, 1, 2, 10, 1],
            Mix::Timing => [3, 6, 2, 12, 12, 3, 1, 14, 1, 10, 16, 4],
        }
    }

    /// How often an input names a transport other than the latest.
    fn stale_share(self) -> u32 {
        if self == Mix::Stale { 40 } else { 8 }
    }
}

fn target(mix: Mix) -> impl Strategy<Value = Target> {
    let stale = mix.stale_share();
    prop_oneof![
        100 - stale => Just(Target::Current),
        stale * 3 / 4 => (0..3u8).prop_map(Target::Previous),
        stale / 4 => Just(Target::Next),
    ]
}

fn frame_kind() -> impl Strategy<Value = FrameKind> {
    prop_oneof![
        4 => Just(FrameKind::Text),
        1 => Just(FrameKind::Binary),
        1 => Just(FrameKind::Ping),
        5 => Just(FrameKind::Pong(PongPayload::Latest)),
        1 => (0..3u8).prop_map(|n| FrameKind::Pong(PongPayload::Older(n))),
        1 => Just(FrameKind::Pong(PongPayload::Ahead)),
        1 => Just(FrameKind::Pong(PongPayload::Garbage)),
        4 => Just(FrameKind::AppPong),
        1 => Just(FrameKind::NotAppPong),
        1 => Just(FrameKind::ServerPing),
    ]
}

/// Every kind of connect failure, HTTP statuses permanent and temporary, with and without a
/// Retry-After.
pub fn connect_failure() -> impl Strategy<Value = ConnectFailure> {
    prop_oneof![
        4 => Just(ConnectFailure::Io),
        1 => Just(ConnectFailure::Tls),
        1 => Just(ConnectFailure::Protocol),
        4 => (
            prop::sample::select(vec![400u16, 401, 403, 404, 408, 429, 500, 502, 503]),
            prop_oneof![Just(None), millis(0..=10_000).prop_map(Some)],
        )
            .prop_map(|(status, retry_after)| ConnectFailure::Http { status, retry_after }),
    ]
}

fn transport_error() -> impl Strategy<Value = TransportError> {
    prop_oneof![
        4 => Just(TransportError::Eof),
        4 => Just(TransportError::Io),
        1 => Just(TransportError::Protocol),
        1 => Just(TransportError::MessageTooLarge),
    ]
}

/// Close codes a peer may send: normal, restart, permanent, no status, application codes.
fn peer_close_code() -> impl Strategy<Value = u16> {
    prop::sample::select(vec![
        1000u16, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 4000,
    ])
}

/// Close codes the application may ask for, sendable or not.
fn app_close_code() -> impl Strategy<Value = u16> {
    prop_oneof![
        6 => Just(1000u16),
        1 => Just(1001u16),
        1 => 3000..=4999u16,
        2 => prop::sample::select(vec![0u16, 999, 1004, 1005, 1006, 1015, 2000, 5000]),
    ]
}

/// A clock movement: none, a little, a few deadlines' worth, or hours to weeks.
pub fn advance() -> impl Strategy<Value = Duration> {
    prop_oneof![
        2 => Just(Duration::ZERO),
        10 => millis(1..=2_000),
        3 => millis(2_000..=20_000),
        1 => millis(3_600_000..=2_600_000_000),
    ]
}

/// One step, weighted by `mix`.
pub fn step(mix: Mix) -> BoxedStrategy<Step> {
    let [
        connect,
        send,
        command,
        opened,
        frame,
        failure,
        network,
        forward,
        back,
        tick,
        on_time,
        late,
    ] = mix.weights();
    prop_oneof![
        connect => Just(Step::Connect),
        send * 3 => (any::<bool>(), 1..40u8).prop_map(|(binary, len)| Step::Send { binary, len }),
        send => (1..40u8, millis(0..=6_000))
            .prop_map(|(len, within)| Step::SendWithDeadline { len, within }),
        send => (target(mix), 1..20u8).prop_map(|(target, len)| Step::SendNow { target, len }),
        command * 2 => target(mix).prop_map(Step::Ready),
        command => (app_close_code(), prop_oneof![8 => 0..10u8, 1 => 120..130u8])
            .prop_map(|(code, reason_len)| Step::Close { code, reason_len }),
        command => Just(Step::ReconnectNow),
        opened => target(mix).prop_map(Step::Opened),
        frame => (target(mix), frame_kind()).prop_map(|(t, kind)| Step::Frame(t, kind)),
        failure => (target(mix), connect_failure()).prop_map(|(t, f)| Step::ConnectFailed(t, f)),
        failure => (target(mix), transport_error()).prop_map(|(t, e)| Step::Error(t, e)),
        failure => (target(mix), peer_close_code()).prop_map(|(t, code)| Step::Closed(t, code)),
        network => Just(Step::NetworkChanged),
        forward => advance().prop_map(Step::Advance),
        back => millis(1..=5_000).prop_map(Step::Rewind),
        tick => Just(Step::Tick),
        on_time => Just(Step::TickOnTime),
        late => millis(0..=10_000).prop_map(Step::TickLate),
    ]
    .boxed()
}

/// A script of up to `max_len` steps weighted by `mix`, starting with `connect()` most of the
/// time.
pub fn script(mix: Mix, max_len: usize) -> impl Strategy<Value = Vec<Step>> {
    (
        proptest::bool::weighted(0.9),
        prop::collection::vec(step(mix), 0..max_len),
    )
        .prop_map(|(connect_first, mut steps)| {
            if connect_first {
                steps.insert(0, Step::Connect);
            }
            steps
        })
}
