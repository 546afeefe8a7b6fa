//! What a failed check reports: which invariant, at which call, at what time, and why.

use core::fmt;

use ws_core::Instant;

/// The guarantees the observer checks: DESIGN §3's nine invariants, plus the rest of the
/// documented contract (the events that must accompany a transition) and totality.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Invariant {
    /// 1. At most one transport: no `Connect` while one is connecting, open or closing.
    OneTransport,
    /// 2. A silent peer gets a ping within `ping_interval` of its last sign of life and is
    ///    dropped within `pong_timeout` of that ping (a late tick gets one probe instead).
    DeadPeerBound,
    /// 3. A peer that answers every ping in time is never dropped.
    NoFalsePositive,
    /// 4. Backoff delays follow the formula; attempts never exceed `max_attempts`; `GaveUp`
    ///    once per streak and then no reconnect.
    Backoff,
    /// 5. After the application's `close()`, no `Connect` until `connect()`.
    NoReconnectAfterClose,
    /// 6. Every message is sent once or handed back once, in order, never before the flush
    ///    gate opens.
    Conservation,
    /// 7. `poll_timeout()` is the earliest pending deadline, an early tick changes nothing,
    ///    and a tick never leaves a deadline at or before its own time.
    PollTimeout,
    /// 8. The same config, seed and calls give the same outputs.
    Determinism,
    /// 9. An input naming another transport changes nothing.
    StaleInput,
    /// The rest of the contract: each transition comes with its events (`Open`,
    /// `Disconnected`, `Closed`…), inbound messages are delivered once, misuse is refused.
    Contract,
    /// No sequence of calls panics.
    Totality,
}

impl Invariant {
    /// Every invariant, in order.
    pub const ALL: [Invariant; 11] = [
        Invariant::OneTransport,
        Invariant::DeadPeerBound,
        Invariant::NoFalsePositive,
        Invariant::Backoff,
        Invariant::NoReconnectAfterClose,
        Invariant::Conservation,
        Invariant::PollTimeout,
        Invariant::Determinism,
        Invariant::StaleInput,
        Invariant::Contract,
        Invariant::Totality,
    ];

    /// DESIGN §3's number for the invariant, if it has one.
    pub fn number(self) -> Option<u8> {
        match self {
            Invariant::OneTransport => Some(1),
            Invariant::DeadPeerBound => Some(2),
            Invariant::NoFalsePositive => Some(3),
            Invariant::Backoff => Some(4),
            Invariant::NoReconnectAfterClose => Some(5),
            Invariant::Conservation => Some(6),
            Invariant::PollTimeout => Some(7),
            Invariant::Determinism => Some(8),
            Invariant::StaleInput => Some(9),
            Invariant::Contract | Invariant::Totality => None,
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            Some(number) => write!(f, "invariant {number} ({self:?})"),
            None => write!(f, "{self:?}"),
        }
    }
}

/// A broken guarantee.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Violation {
    /// Which guarantee.
    pub invariant: Invariant,
    /// Index of the offending call among those observed (0-based).
    pub call: usize,
    /// The (clamped) time of that call.
    pub at: Instant,
    /// What was expected and what happened.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} violated at call #{} ({:?}): {}",
            self.invariant, self.call, self.at, self.detail
        )
    }
}

impl std::error::Error for Violation {}
