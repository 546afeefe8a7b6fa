//! What the server and the network do during one phase of a simulated schedule: the faults a
//! resilient client exists for.

use core::time::Duration;

/// The server's and the network's behaviour during a phase.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Behaviour {
    /// All is well: handshakes complete after `handshake`, pings are answered after
    /// `reply_delay`, and the server sends a message every `chatter` (its own heartbeat in
    /// server-driven mode).
    Healthy {
        /// Handshake time.
        handshake: Duration,
        /// Time from a ping to its answer.
        reply_delay: Duration,
        /// Interval of the server's own messages, if it sends any.
        chatter: Option<Duration>,
    },
    /// The link is half-open or the server froze: handshakes complete, then nothing comes back
    /// (no pong, no message, no close).
    Silent {
        /// Handshake time.
        handshake: Duration,
    },
    /// Every connection opens and then breaks (EOF) after `after`.
    DropLink {
        /// Handshake time.
        handshake: Duration,
        /// Time from open to the break.
        after: Duration,
    },
    /// Every connection opens and then the server closes it with `code` after `after`.
    CloseWith {
        /// Handshake time.
        handshake: Duration,
        /// Time from open to the server's Close.
        after: Duration,
        /// The close code.
        code: u16,
    },
    /// The server refuses the handshake with an HTTP status (and maybe a Retry-After).
    Refuse {
        /// The HTTP status.
        status: u16,
        /// The Retry-After it sends.
        retry_after: Option<Duration>,
    },
    /// Nothing listens: each connect fails with an I/O error after `after`.
    Unreachable {
        /// Time to the failure.
        after: Duration,
    },
    /// Connects hang: only the connect timeout ends them.
    Blackhole,
}

impl Behaviour {
    /// Whether the server answers pings and closes in this phase.
    pub fn answers(self) -> bool {
        matches!(
            self,
            Behaviour::Healthy { .. } | Behaviour::DropLink { .. } | Behaviour::CloseWith { .. }
        )
    }

    /// Whether an open connection survives the switch to this phase (the server is still
    /// there, even if silent).
    pub fn keeps_open_connections(self) -> bool {
        matches!(self, Behaviour::Healthy { .. } | Behaviour::Silent { .. })
    }

    /// The handshake time, for behaviours that let connections open.
    pub fn handshake(self) -> Option<Duration> {
        match self {
            Behaviour::Healthy { handshake, .. }
            | Behaviour::Silent { handshake }
            | Behaviour::DropLink { handshake, .. }
            | Behaviour::CloseWith { handshake, .. } => Some(handshake),
            Behaviour::Refuse { .. } | Behaviour::Unreachable { .. } | Behaviour::Blackhole => None,
        }
    }
}

/// One phase of a schedule.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Phase {
    /// What happens during it.
    pub behaviour: Behaviour,
    /// How long it lasts.
    pub duration: Duration,
    /// The client's process is suspended for this long when the phase starts (a laptop
    /// asleep): no tick, no input, until it wakes up late.
    pub suspend: Option<Duration>,
    /// The platform reports a network change when the phase starts.
    pub network_change: bool,
}
