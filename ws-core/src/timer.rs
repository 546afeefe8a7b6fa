//! Every deadline the supervisor keeps, in one small table.
//!
//! One table with a reason per slot (after quinn-proto) makes [`poll_timeout`] a minimum over
//! eight values, makes "which timer fired" visible in traces, and makes it impossible for two
//! copies of the same deadline to disagree.
//!
//! [`poll_timeout`]: crate::Supervisor::poll_timeout

use crate::time::Instant;

/// Why a deadline is pending.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[non_exhaustive]
pub enum TimerReason {
    /// The open connection has been stable for `stable_after`: the attempt counter resets.
    ConnectionStable,
    /// A queued message reaches its deadline and is handed back as expired.
    MessageExpiry,
    /// `ping_interval` since the last sign of life: a heartbeat ping goes out.
    PingDue,
    /// `pong_timeout` since the ping: without a reply, the peer is dead.
    PongOverdue,
    /// `idle_timeout` of silence in server-driven mode: the peer is dead.
    IdleTimeout,
    /// The opening handshake took longer than `connect_timeout`.
    ConnectTimeout,
    /// Our Close was not answered within `close_timeout`.
    CloseTimeout,
    /// The backoff delay is over: the next connect attempt starts.
    ReconnectBackoff,
}

impl TimerReason {
    const ALL: [TimerReason; 8] = [
        TimerReason::ConnectionStable,
        TimerReason::MessageExpiry,
        TimerReason::PingDue,
        TimerReason::PongOverdue,
        TimerReason::IdleTimeout,
        TimerReason::ConnectTimeout,
        TimerReason::CloseTimeout,
        TimerReason::ReconnectBackoff,
    ];

    /// The timers that belong to one transport and die with it.
    pub(crate) const TRANSPORT: [TimerReason; 6] = [
        TimerReason::ConnectionStable,
        TimerReason::PingDue,
        TimerReason::PongOverdue,
        TimerReason::IdleTimeout,
        TimerReason::ConnectTimeout,
        TimerReason::CloseTimeout,
    ];
}

/// The deadlines, indexed by reason. Ties are broken by the reason's order, so the firing
/// order is deterministic.
///
/// The earliest is kept up to date as deadlines change: a driver asks for it several times
/// per message (to arm its timer, to decide whether to tick), while a busy connection changes
/// one deadline per message at most (the heartbeat's, pushed back by each frame read).
#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    deadlines: [Option<Instant>; 8],
    /// The earliest deadline and its slot.
    earliest: Option<(Instant, usize)>,
}

impl Timers {
    /// Arms `reason` at `at`. A deadline that saturated at [`Instant::MAX`] is "never": firing
    /// it would re-arm at the same instant and spin.
    pub(crate) fn set(&mut self, reason: TimerReason, at: Instant) {
        let index = reason as usize;
        let at = (at < Instant::MAX).then_some(at);
        self.deadlines[index] = at;
        match (at, self.earliest) {
            (Some(at), None) => self.earliest = Some((at, index)),
            (Some(at), Some((best, best_index)))
                if at < best || (at == best && index < best_index) =>
            {
                self.earliest = Some((at, index));
            }
            _ if self
                .earliest
                .is_some_and(|(_, best_index)| best_index == index) =>
            {
                self.find_earliest();
            }
            _ => {}
        }
    }

    pub(crate) fn clear(&mut self, reason: TimerReason) {
        let index = reason as usize;
        self.deadlines[index] = None;
        if self
            .earliest
            .is_some_and(|(_, best_index)| best_index == index)
        {
            self.find_earliest();
        }
    }

    pub(crate) fn get(&self, reason: TimerReason) -> Option<Instant> {
        self.deadlines[reason as usize]
    }

    pub(crate) fn clear_transport_timers(&mut self) {
        for reason in TimerReason::TRANSPORT {
            self.clear(reason);
        }
    }

    /// The earliest deadline and its reason.
    pub(crate) fn next(&self) -> Option<(Instant, TimerReason)> {
        self.earliest
            .map(|(at, index)| (at, TimerReason::ALL[index]))
    }

    /// Finds the earliest deadline again, after the one that was earliest moved or went.
    fn find_earliest(&mut self) {
        let mut earliest: Option<(Instant, usize)> = None;
        for (index, deadline) in self.deadlines.iter().enumerate() {
            if let Some(at) = *deadline
                && earliest.is_none_or(|(best, _)| at < best)
            {
                earliest = Some((at, index));
            }
        }
        self.earliest = earliest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_earliest_and_ties_are_ordered() {
        let mut timers = Timers::default();
        assert_eq!(timers.next(), None);
        timers.set(TimerReason::ReconnectBackoff, Instant::from_millis(5));
        timers.set(TimerReason::PingDue, Instant::from_millis(5));
        timers.set(TimerReason::CloseTimeout, Instant::from_millis(9));
        assert_eq!(
            timers.next(),
            Some((Instant::from_millis(5), TimerReason::PingDue))
        );
        timers.clear_transport_timers();
        assert_eq!(
            timers.next(),
            Some((Instant::from_millis(5), TimerReason::ReconnectBackoff))
        );
    }

    proptest::proptest! {
        /// The earliest kept as deadlines change is the one a scan of every slot finds.
        #[test]
        fn the_earliest_kept_is_the_earliest_there_is(
            changes in proptest::collection::vec((0usize..8, proptest::option::of(0u64..20)), 0..64)
        ) {
            let mut timers = Timers::default();
            for (slot, at) in changes {
                let reason = TimerReason::ALL[slot];
                match at {
                    Some(at) => timers.set(reason, Instant::from_millis(at)),
                    None => timers.clear(reason),
                }
                let scanned = timers
                    .deadlines
                    .iter()
                    .enumerate()
                    .filter_map(|(index, at)| at.map(|at| (at, index)))
                    .min()
                    .map(|(at, index)| (at, TimerReason::ALL[index]));
                proptest::prop_assert_eq!(timers.next(), scanned);
            }
        }
    }

    #[test]
    fn a_saturated_deadline_is_never() {
        let mut timers = Timers::default();
        timers.set(TimerReason::PingDue, Instant::MAX);
        assert_eq!(timers.next(), None);
    }
}
