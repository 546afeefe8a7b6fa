//! Configuration, validated once.
//!
//! Every value is checked by [`ConfigBuilder::build`], so the supervisor never has to guard
//! against a zero interval (a busy loop), an initial delay above the maximum, or a multiplier
//! that shrinks the backoff. A bad value is a [`ConfigError`] naming the field and the range.

use core::fmt;
use core::time::Duration;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::close::{ClosePolicy, Disconnect, ReconnectDecision};
use crate::io::ConnectionId;
use crate::message::{Message, Text};
use crate::replay::Replay;

/// How the supervisor finds out that the peer is dead.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Heartbeat {
    /// Send a protocol Ping every `ping_interval`; the peer is dead when nothing that counts as
    /// [`Liveness`] arrives within `pong_timeout`. The Ping carries a sequence number, so the
    /// round trip is measured from the matching Pong.
    Protocol,
    /// Send an application message (e.g. `"ping"` or `{"action":4}`) every `ping_interval`; the
    /// reply is recognised by `pong` and is not delivered to the application as a message. For
    /// services whose servers ignore protocol pings or whose proxies strip them.
    Application {
        /// The message to send as the heartbeat.
        ping: Message,
        /// Recognises the server's reply.
        pong: Matcher,
    },
    /// The server sends heartbeats (pings or messages); the client sends none and declares the
    /// peer dead after `idle_timeout` without any inbound frame.
    ServerDriven,
    /// No heartbeat. A dead peer is noticed only when the operating system reports it, which
    /// can take many minutes on a half-open TCP connection.
    Disabled,
}

/// Recognises an application-level heartbeat message.
#[derive(Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// A text message exactly equal to this text.
    Exact(Text),
    /// A text message containing this text (e.g. `"\"action\":4"` for JSON replies that carry
    /// extra fields).
    Contains(Text),
    /// Any message for which the function returns true (e.g. a JSON reply parsed and compared
    /// field by field). Build it with [`Matcher::custom`].
    Custom(Arc<dyn Fn(&Message) -> bool + Send + Sync>),
}

impl Matcher {
    /// A matcher that asks `predicate`.
    pub fn custom(predicate: impl Fn(&Message) -> bool + Send + Sync + 'static) -> Self {
        Matcher::Custom(Arc::new(predicate))
    }

    /// Whether `message` is the heartbeat this matcher looks for.
    pub fn matches(&self, message: &Message) -> bool {
        match (self, message) {
            (Matcher::Exact(expected), Message::Text(text)) => {
                text.as_bytes() == expected.as_bytes()
            }
            (Matcher::Contains(needle), Message::Text(text)) => {
                contains(text.as_bytes(), needle.as_bytes())
            }
            (Matcher::Custom(predicate), message) => predicate(message),
            _ => false,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Exact(text) => f.debug_tuple("Exact").field(text).finish(),
            Matcher::Contains(text) => f.debug_tuple("Contains").field(text).finish(),
            Matcher::Custom(_) => f.write_str("Custom(fn)"),
        }
    }
}

/// What proves that the peer is alive while a heartbeat reply is awaited.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Liveness {
    /// Only the heartbeat reply. Strict: a peer that streams data but never answers pings is
    /// declared dead.
    ReplyOnly,
    /// Any inbound frame (message, ping or pong) resets the heartbeat. Fewer pings on busy
    /// connections; the common choice.
    AnyFrame,
}

/// An application-level ping sent by the server that the client answers by itself.
///
/// Built with [`ServerPing::new`]; non-exhaustive so that later versions can add options
/// (a computed reply, say) without breaking callers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerPing {
    /// Recognises the server's ping; it is not delivered to the application.
    pub ping: Matcher,
    /// The reply to send.
    pub reply: Message,
}

impl ServerPing {
    /// Answers every message `ping` recognises with `reply`.
    pub fn new(ping: Matcher, reply: impl Into<Message>) -> Self {
        ServerPing {
            ping,
            reply: reply.into(),
        }
    }
}

/// How the random part of a backoff delay is drawn (see "Exponential Backoff and Jitter",
/// AWS Architecture Blog, 2015). `base` is `initial_delay × multiplier^(attempt−1)`, capped at
/// `max_delay`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Jitter {
    /// Exactly `base`. Many clients that lost the same server come back in lockstep.
    None,
    /// Uniform in `0..=base`: spreads a fleet the most.
    Full,
    /// Uniform in `base/2..=base`: spread, with a guaranteed minimum wait.
    Equal,
    /// Uniform in `initial_delay..=previous × multiplier`, capped at `max_delay`: each delay
    /// grows from the last one drawn rather than from the attempt number.
    Decorrelated,
}

/// What `send()` does when the outbound queue is full.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Overflow {
    /// Refuse the new message: `send()` returns it in the error.
    RejectNew,
    /// Drop the oldest queued messages to make room; each is handed back in an
    /// [`Event::Undelivered`](crate::Event).
    DropOldest,
}

/// A field of [`Config`] that failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    field: &'static str,
    problem: String,
}

impl ConfigError {
    fn new(field: &'static str, problem: String) -> Self {
        ConfigError { field, problem }
    }

    /// The name of the offending field, as in the builder method.
    pub fn field(&self) -> &'static str {
        self.field
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: {}", self.field, self.problem)
    }
}

impl core::error::Error for ConfigError {}

/// The supervisor's configuration. Built and validated by [`Config::builder`]; the
/// [`Default`] suits a public internet service.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) heartbeat: Heartbeat,
    pub(crate) ping_interval: Duration,
    pub(crate) pong_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) liveness: Liveness,
    pub(crate) answer_server_ping: Option<ServerPing>,
    pub(crate) late_tick_threshold: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) initial_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) multiplier: f64,
    pub(crate) jitter: Jitter,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) stable_after: Duration,
    pub(crate) retry_after_cap: Duration,
    pub(crate) queue_max_messages: usize,
    pub(crate) queue_max_bytes: usize,
    pub(crate) overflow: Overflow,
    pub(crate) max_queue_age: Option<Duration>,
    pub(crate) hold_queue_until_ready: bool,
    pub(crate) close_policy: ClosePolicy,
    pub(crate) auth_retries: u32,
    pub(crate) credentials_refreshed: bool,
    pub(crate) replay_on_open: Option<Replay>,
}

impl Default for Config {
    /// Ping every 20 s, pong timeout 20 s, any frame counts as liveness; connect timeout 10 s,
    /// close timeout 5 s; backoff from 1 s doubling to 30 s with full jitter, reconnecting
    /// forever, attempts reset after 10 s of stable connection, Retry-After honoured up to
    /// 10 min; queue of 1,024 messages or 4 MiB rejecting new messages when full; the default
    /// close policy, with 2 retries after an auth refusal once the driver says credentials are
    /// refreshed per attempt (it does not, by default).
    fn default() -> Self {
        Config {
            heartbeat: Heartbeat::Protocol,
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(40),
            liveness: Liveness::AnyFrame,
            answer_server_ping: None,
            late_tick_threshold: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: Jitter::Full,
            max_attempts: None,
            stable_after: Duration::from_secs(10),
            retry_after_cap: Duration::from_secs(600),
            queue_max_messages: 1024,
            queue_max_bytes: 4 * 1024 * 1024,
            overflow: Overflow::RejectNew,
            max_queue_age: None,
            hold_queue_until_ready: false,
            close_policy: ClosePolicy::default(),
            auth_retries: 2,
            credentials_refreshed: false,
            replay_on_open: None,
        }
    }
}

macro_rules! getters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $($(#[$doc])* pub fn $name(&self) -> $ty { self.$name })*
    };
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
        }
    }

    /// A builder starting from this configuration, to change a few settings of a valid one
    /// (checked again by [`build`](ConfigBuilder::build)).
    pub fn into_builder(self) -> ConfigBuilder {
        ConfigBuilder { config: self }
    }

    /// The heartbeat mode.
    pub fn heartbeat(&self) -> &Heartbeat {
        &self.heartbeat
    }

    getters! {
        /// Time from the last sign of life to the next heartbeat ping.
        ping_interval: Duration;
        /// How long a heartbeat reply may take before the peer is declared dead.
        pong_timeout: Duration;
        /// Silence after which a server-driven heartbeat declares the peer dead.
        idle_timeout: Duration;
        /// What counts as a sign of life.
        liveness: Liveness;
        /// How late a tick may come before it is treated as a suspended process.
        late_tick_threshold: Duration;
        /// How long the opening handshake may take.
        connect_timeout: Duration;
        /// How long to wait for the peer's Close after sending ours.
        close_timeout: Duration;
        /// The first reconnect delay (before jitter).
        initial_delay: Duration;
        /// The largest reconnect delay (before a server's Retry-After).
        max_delay: Duration;
        /// Growth factor of the delay per attempt.
        multiplier: f64;
        /// How the delay is randomised.
        jitter: Jitter;
        /// Reconnect attempts after a loss before giving up (`None`: forever).
        max_attempts: Option<u32>;
        /// How long a connection must stay open for the attempt counter to reset.
        stable_after: Duration;
        /// The longest server `Retry-After` that is honoured.
        retry_after_cap: Duration;
        /// Most messages held while disconnected.
        queue_max_messages: usize;
        /// Most payload bytes held while disconnected.
        queue_max_bytes: usize;
        /// What a full queue does with a new message.
        overflow: Overflow;
        /// Longest time a message may wait in the queue.
        max_queue_age: Option<Duration>;
        /// Whether the queue waits for [`Supervisor::ready`](crate::Supervisor::ready) after each open.
        hold_queue_until_ready: bool;
        /// How many auth refusals in a row are retried despite the close policy, when
        /// credentials are refreshed per attempt.
        auth_retries: u32;
        /// Whether every attempt uses freshly fetched credentials.
        credentials_refreshed: bool;
    }

    /// Decides whether to reconnect after a transport ends.
    pub fn close_policy(&self) -> &ClosePolicy {
        &self.close_policy
    }

    /// The server-ping auto-reply, if configured.
    pub fn answer_server_ping(&self) -> Option<&ServerPing> {
        self.answer_server_ping.as_ref()
    }

    /// The messages replayed first on every connection, if configured.
    pub fn replay_on_open(&self) -> Option<&Replay> {
        self.replay_on_open.as_ref()
    }
}

/// Builds a [`Config`]; every setter documents its allowed range, checked by [`build`](Self::build).
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ConfigBuilder {
    config: Config,
}

const MILLISECOND: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
const TEN_MINUTES: Duration = Duration::from_secs(600);
/// Largest queue length accepted: beyond this, a bounded queue is not a bound.
pub const MAX_QUEUE_MESSAGES: usize = 1 << 24;
/// Most auth refusals in a row that may be retried: beyond this, credentials that keep being
/// refused are not going to be accepted.
pub const MAX_AUTH_RETRIES: u32 = 100;

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $($(#[$doc])* pub fn $name(mut self, value: $ty) -> Self { self.config.$name = value; self })*
    };
}

impl ConfigBuilder {
    /// The heartbeat mode (default: [`Heartbeat::Protocol`]).
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.config.heartbeat = heartbeat;
        self
    }

    /// Answer the server's application-level ping (e.g. `"ping"` → `"pong"`) without involving
    /// the application (default: off).
    pub fn answer_server_ping(mut self, server_ping: ServerPing) -> Self {
        self.config.answer_server_ping = Some(server_ping);
        self
    }

    /// Sends the messages `messages(connection)` returns first on every connection that opens,
    /// ahead of the queue and of the flush gate (default: none). For what the server forgets
    /// with each connection, such as subscriptions; see [`Replay`].
    pub fn replay_on_open(
        mut self,
        messages: impl Fn(ConnectionId) -> Vec<Message> + Send + Sync + 'static,
    ) -> Self {
        self.config.replay_on_open = Some(Replay::new(messages));
        self
    }

    /// Never reconnect: the same as `max_attempts(Some(0))`.
    pub fn no_reconnect(mut self) -> Self {
        self.config.max_attempts = Some(0);
        self
    }

    setters! {
        /// Time from the last sign of life to the next ping: 1 ms..=1 h (default 20 s).
        ping_interval: Duration;
        /// How long a reply may take: 1 ms..=1 h (default 20 s).
        pong_timeout: Duration;
        /// Server-driven mode's allowed silence: 1 ms..=24 h (default 40 s).
        idle_timeout: Duration;
        /// What counts as a sign of life (default [`Liveness::AnyFrame`]).
        liveness: Liveness;
        /// A tick later than its deadline by more than this is a late tick (the process was
        /// suspended or starved): a heartbeat deadline then sends a probe instead of declaring
        /// the peer dead. 1 ms..=1 h (default 1 s).
        late_tick_threshold: Duration;
        /// Opening handshake limit: 1 ms..=10 min (default 10 s).
        connect_timeout: Duration;
        /// Wait for the peer's Close: 1 ms..=10 min (default 5 s).
        close_timeout: Duration;
        /// First reconnect delay: 1 ms..=1 h and at most `max_delay` (default 1 s).
        initial_delay: Duration;
        /// Largest reconnect delay: `initial_delay`..=24 h (default 30 s).
        max_delay: Duration;
        /// Delay growth per attempt: 1.0..=100.0; 1.0 gives a fixed delay (default 2.0).
        multiplier: f64;
        /// Jitter mode (default [`Jitter::Full`]).
        jitter: Jitter;
        /// Reconnect attempts after a loss before giving up; `None` retries forever, `Some(0)`
        /// never reconnects (default `None`).
        max_attempts: Option<u32>;
        /// Open time after which the attempt counter resets: 0..=24 h (default 10 s).
        stable_after: Duration;
        /// Longest honoured `Retry-After`: 0..=24 h (default 10 min); a longer one is cut to it.
        retry_after_cap: Duration;
        /// Queue length bound: 0..=2^24 (default 1,024). 0 means sends while disconnected fail.
        queue_max_messages: usize;
        /// Queue payload-bytes bound (default 4 MiB). A message larger than this is refused
        /// while disconnected.
        queue_max_bytes: usize;
        /// Full-queue policy (default [`Overflow::RejectNew`]).
        overflow: Overflow;
        /// Longest time a message may wait in the queue before it is handed back as expired:
        /// `None` or 1 ms..=24 h (default `None`).
        max_queue_age: Option<Duration>;
        /// Hold the queue after each open until [`Supervisor::ready`](crate::Supervisor::ready),
        /// so the application's login or subscribe messages go first (default false).
        hold_queue_until_ready: bool;
        /// How many consecutive auth refusals (HTTP 401 or 403 to the upgrade request) are
        /// retried although the close policy says stop: 0..=100 (default 2). Applies only when
        /// [`credentials_refreshed`](Self::credentials_refreshed) is set: a token that expired
        /// between fetching and connecting, or a server that had not yet seen a just-issued
        /// one, deserves another attempt with a fresh token; a static one refused once will be
        /// refused forever.
        ///
        /// The retries follow the normal backoff and count against `max_attempts`. The streak
        /// resets when a connection opens (and on a fresh `connect()`); a refusal beyond it is
        /// left to the close policy (the default one stops).
        auth_retries: u32;
        /// Set by a driver whose URL (and so its token) comes from a function called before
        /// every attempt: each attempt carries fresh credentials, so an auth refusal may be
        /// retried (see [`auth_retries`](Self::auth_retries)). Default false: a static URL
        /// keeps the close policy's answer.
        credentials_refreshed: bool;
    }

    /// Decides whether to reconnect after a transport ends (default
    /// [`default_close_policy`](crate::default_close_policy)). The closure may capture its own
    /// settings (and state, behind an atomic or a lock) and delegate what it does not decide
    /// to `default_close_policy`.
    ///
    /// The application's own `close()` never reconnects and `reconnect_now()` always does,
    /// whatever the policy says; with fresh credentials per attempt, a few auth refusals are
    /// retried even when it says stop (see [`auth_retries`](Self::auth_retries)).
    ///
    /// This takes the closure itself, not `impl Into<ClosePolicy>`, so that a closure written
    /// in place (`|cause| ...`) needs no type annotation; a policy already built as a
    /// [`ClosePolicy`] goes through [`shared_close_policy`](Self::shared_close_policy).
    pub fn close_policy(
        self,
        decide: impl Fn(&Disconnect) -> ReconnectDecision + Send + Sync + 'static,
    ) -> Self {
        self.shared_close_policy(ClosePolicy::new(decide))
    }

    /// Uses `policy`, a [`ClosePolicy`] built earlier: several configs (one per connection of
    /// a pool, say) then share one policy and whatever state it keeps.
    pub fn shared_close_policy(mut self, policy: ClosePolicy) -> Self {
        self.config.close_policy = policy;
        self
    }

    /// Checks every field and returns the config, or the first field that is out of range.
    pub fn build(self) -> Result<Config, ConfigError> {
        let c = &self.config;
        in_range("ping_interval", c.ping_interval, MILLISECOND, HOUR)?;
        in_range("pong_timeout", c.pong_timeout, MILLISECOND, HOUR)?;
        in_range("idle_timeout", c.idle_timeout, MILLISECOND, DAY)?;
        in_range(
            "late_tick_threshold",
            c.late_tick_threshold,
            MILLISECOND,
            HOUR,
        )?;
        in_range(
            "connect_timeout",
            c.connect_timeout,
            MILLISECOND,
            TEN_MINUTES,
        )?;
        in_range("close_timeout", c.close_timeout, MILLISECOND, TEN_MINUTES)?;
        in_range("initial_delay", c.initial_delay, MILLISECOND, HOUR)?;
        in_range("max_delay", c.max_delay, MILLISECOND, DAY)?;
        if c.initial_delay > c.max_delay {
            return Err(ConfigError::new(
                "initial_delay",
                format!(
                    "{:?} is above max_delay ({:?}); it must be at most max_delay",
                    c.initial_delay, c.max_delay
                ),
            ));
        }
        if !(1.0..=100.0).contains(&c.multiplier) {
            return Err(ConfigError::new(
                "multiplier",
                format!("{} is outside 1.0..=100.0", c.multiplier),
            ));
        }
        in_range("stable_after", c.stable_after, Duration::ZERO, DAY)?;
        in_range("retry_after_cap", c.retry_after_cap, Duration::ZERO, DAY)?;
        if c.queue_max_messages > MAX_QUEUE_MESSAGES {
            return Err(ConfigError::new(
                "queue_max_messages",
                format!(
                    "{} is outside 0..={MAX_QUEUE_MESSAGES}",
                    c.queue_max_messages
                ),
            ));
        }
        if let Some(age) = c.max_queue_age {
            in_range("max_queue_age", age, MILLISECOND, DAY)?;
        }
        if c.auth_retries > MAX_AUTH_RETRIES {
            return Err(ConfigError::new(
                "auth_retries",
                format!("{} is outside 0..={MAX_AUTH_RETRIES}", c.auth_retries),
            ));
        }
        Ok(self.config)
    }
}

fn in_range(
    field: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::new(
            field,
            format!("{value:?} is outside {min:?}..={max:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn defaults_are_valid() {
        let config = Config::builder().build().unwrap();
        assert_eq!(config.ping_interval(), Duration::from_secs(20));
        assert_eq!(config.queue_max_messages(), 1024);
    }

    #[test]
    fn zero_interval_is_rejected_with_field_and_range() {
        let err = Config::builder()
            .ping_interval(Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(err.field(), "ping_interval");
        assert_eq!(
            err.to_string(),
            "invalid `ping_interval`: 0ns is outside 1ms..=3600s"
        );
    }

    #[test]
    fn initial_delay_above_max_delay_is_rejected() {
        let err = Config::builder()
            .initial_delay(Duration::from_secs(60))
            .max_delay(Duration::from_secs(30))
            .build()
            .unwrap_err();
        assert_eq!(err.field(), "initial_delay");
        assert!(err.to_string().contains("above max_delay"), "{err}");
    }

    #[test]
    fn multiplier_below_one_or_nan_is_rejected() {
        for bad in [0.5, f64::NAN, f64::INFINITY, 101.0] {
            let err = Config::builder().multiplier(bad).build().unwrap_err();
            assert_eq!(err.field(), "multiplier");
        }
    }

    #[test]
    fn every_duration_field_is_checked() {
        let zero = Duration::ZERO;
        let cases: [(&str, ConfigBuilder); 8] = [
            ("pong_timeout", Config::builder().pong_timeout(zero)),
            ("idle_timeout", Config::builder().idle_timeout(zero)),
            (
                "late_tick_threshold",
                Config::builder().late_tick_threshold(zero),
            ),
            ("connect_timeout", Config::builder().connect_timeout(zero)),
            ("close_timeout", Config::builder().close_timeout(zero)),
            ("initial_delay", Config::builder().initial_delay(zero)),
            ("max_queue_age", Config::builder().max_queue_age(Some(zero))),
            ("stable_after", Config::builder().stable_after(DAY * 2)),
        ];
        for (field, builder) in cases {
            assert_eq!(builder.build().unwrap_err().field(), field);
        }
        let err = Config::builder()
            .queue_max_messages(MAX_QUEUE_MESSAGES + 1)
            .build()
            .unwrap_err();
        assert_eq!(err.field(), "queue_max_messages");
    }

    #[test]
    fn auth_retries_are_bounded_and_off_without_fresh_credentials() {
        let config = Config::builder().build().unwrap();
        assert_eq!(config.auth_retries(), 2);
        assert!(!config.credentials_refreshed());
        let config = Config::builder()
            .auth_retries(100)
            .credentials_refreshed(true)
            .build()
            .unwrap();
        assert_eq!(config.auth_retries(), 100);
        assert!(config.credentials_refreshed());
        assert_eq!(
            Config::builder()
                .auth_retries(0)
                .build()
                .unwrap()
                .auth_retries(),
            0
        );
        let err = Config::builder().auth_retries(101).build().unwrap_err();
        assert_eq!(err.field(), "auth_retries");
        assert_eq!(
            err.to_string(),
            "invalid `auth_retries`: 101 is outside 0..=100"
        );
    }

    #[test]
    fn matchers() {
        let pong = Message::from("{\"action\":4,\"ts\":1}");
        assert!(Matcher::Contains(Text::from("\"action\":4")).matches(&pong));
        assert!(!Matcher::Exact(Text::from("{\"action\":4}")).matches(&pong));
        assert!(Matcher::Exact(Text::from("pong")).matches(&Message::from("pong")));
        assert!(!Matcher::Exact(Text::from("pong")).matches(&Message::from(alloc::vec![b'p'])));
        assert!(Matcher::custom(|m| m.len() == 3).matches(&Message::from("abc")));
    }
}
