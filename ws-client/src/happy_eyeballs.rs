//! Happy Eyeballs (RFC 8305): race TCP connections across a host's addresses so that one
//! dead address (a black-holed IPv6 route, a server that dropped off) costs 250 ms, not the
//! whole connect timeout.
//!
//! - [`interleave`]: the order (RFC 8305 §4): IPv6 first, then the families alternate.
//! - [`Race`]: the schedule, IO-free. Start the first address; start the next one when the
//!   previous has had [`ATTEMPT_DELAY`] without connecting, or at once when it fails; the
//!   first connection wins and the others are dropped.
//! - [`race`]: the schedule driven by any runtime, given a `connect(addr)` future and a
//!   `sleep(duration)` future. ws-tokio and ws-async-std use it as is; ws-blocking drives
//!   [`Race`] with its own poll loop.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long an attempt has before the next address is tried alongside it (RFC 8305 §5's
/// recommended "Connection Attempt Delay").
pub const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Orders `addrs` for a race: IPv6 first (if the first address is IPv6, as resolvers sort
/// it when the host has IPv6), then alternating families, each family in the resolver's order.
pub fn interleave(addrs: impl IntoIterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    let (mut v6, mut v4): (VecDeque<_>, VecDeque<_>) =
        addrs.into_iter().partition(SocketAddr::is_ipv6);
    let mut ordered = Vec::with_capacity(v6.len() + v4.len());
    loop {
        match (v6.pop_front(), v4.pop_front()) {
            (None, None) => return ordered,
            (first, second) => ordered.extend(first.into_iter().chain(second)),
        }
    }
}

/// The next thing a race driver does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[must_use]
#[non_exhaustive]
pub enum RaceStep {
    /// Start connecting to this address, and (re)arm the timer for [`ATTEMPT_DELAY`].
    Start(SocketAddr),
    /// Wait for an attempt to finish or for the timer.
    Wait,
    /// Every address was tried and failed.
    Exhausted,
}

/// The Happy Eyeballs schedule, IO-free: the driver reports attempt failures and timer
/// expiries, and asks [`next_step`](Self::next_step) what to do.
#[derive(Clone, Debug)]
pub struct Race {
    waiting: VecDeque<SocketAddr>,
    tried: Vec<SocketAddr>,
    running: usize,
    may_start: bool,
    last_error: Option<(SocketAddr, io::ErrorKind, String)>,
}

impl Race {
    /// A race over `addrs`, in the order given (see [`interleave`]).
    pub fn new(addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        Race {
            waiting: addrs.into_iter().collect(),
            tried: Vec::new(),
            running: 0,
            may_start: true,
            last_error: None,
        }
    }

    /// What to do now.
    pub fn next_step(&mut self) -> RaceStep {
        if self.may_start
            && let Some(addr) = self.waiting.pop_front()
        {
            self.may_start = false;
            self.running += 1;
            self.tried.push(addr);
            return RaceStep::Start(addr);
        }
        if self.running == 0 && self.waiting.is_empty() {
            RaceStep::Exhausted
        } else {
            RaceStep::Wait
        }
    }

    /// The attempt to `addr` failed: the next address may start at once.
    pub fn failed(&mut self, addr: SocketAddr, error: &io::Error) {
        self.running = self.running.saturating_sub(1);
        self.may_start = true;
        self.last_error = Some((addr, error.kind(), error.to_string()));
    }

    /// The timer armed at the last start expired: the next address may start.
    pub fn timer_expired(&mut self) {
        self.may_start = true;
    }

    /// The addresses started so far, in order.
    pub fn tried(&self) -> &[SocketAddr] {
        &self.tried
    }

    /// The last failure: its address and a copy of its error.
    pub fn last_error(&self) -> Option<(SocketAddr, io::Error)> {
        self.last_error
            .as_ref()
            .map(|(addr, kind, text)| (*addr, io::Error::new(*kind, text.clone())))
    }
}

/// Why [`race`] found no connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum RaceError {
    /// No address to try.
    NoAddress,
    /// Every address failed; the last failure.
    Failed {
        /// The address of the last failure.
        addr: SocketAddr,
        /// Its error.
        error: io::Error,
        /// Every address tried, in order.
        tried: Vec<SocketAddr>,
    },
}

/// Races connections to `addrs` (in this order; see [`interleave`]) by the Happy Eyeballs
/// schedule, with `connect` opening one connection and `sleep` the runtime's timer. Returns
/// the first connection and its address; the losers are dropped (closed). Bound it with
/// [`within`](crate::runtime::within): the addresses tried so far are in `tried`, which the race
/// keeps up to date for the caller's timeout error.
pub async fn race<T, C, F, S, SF>(
    addrs: Vec<SocketAddr>,
    mut connect: C,
    mut sleep: S,
    tried: &mut Vec<SocketAddr>,
) -> Result<(T, SocketAddr), RaceError>
where
    C: FnMut(SocketAddr) -> F,
    F: Future<Output = io::Result<T>>,
    S: FnMut(Duration) -> SF,
    SF: Future<Output = ()>,
{
    if addrs.is_empty() {
        return Err(RaceError::NoAddress);
    }
    let mut schedule = Race::new(addrs);
    let mut attempts: Vec<(SocketAddr, Pin<Box<F>>)> = Vec::new();
    let mut timer: Option<Pin<Box<SF>>> = None;
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        loop {
            match schedule.next_step() {
                RaceStep::Start(addr) => {
                    tried.push(addr);
                    attempts.push((addr, Box::pin(connect(addr))));
                    timer = Some(Box::pin(sleep(ATTEMPT_DELAY)));
                    continue;
                }
                RaceStep::Exhausted => {
                    let (addr, error) = schedule
                        .last_error()
                        .unwrap_or_else(|| (tried[0], io::ErrorKind::NotFound.into()));
                    return Poll::Ready(Err(RaceError::Failed {
                        addr,
                        error,
                        tried: tried.clone(),
                    }));
                }
                RaceStep::Wait => {}
            }
            let mut progressed = false;
            let mut index = 0;
            while index < attempts.len() {
                match attempts[index].1.as_mut().poll(cx) {
                    Poll::Ready(Ok(connection)) => {
                        let addr = attempts[index].0;
                        return Poll::Ready(Ok((connection, addr)));
                    }
                    Poll::Ready(Err(error)) => {
                        let (addr, _) = attempts.swap_remove(index);
                        schedule.failed(addr, &error);
                        progressed = true;
                    }
                    Poll::Pending => index += 1,
                }
            }
            if let Some(sleeping) = &mut timer
                && sleeping.as_mut().poll(cx).is_ready()
            {
                timer = None;
                schedule.timer_expired();
                progressed = true;
            }
            if !progressed {
                return Poll::Pending;
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn families_alternate_ipv6_first() {
        let resolved = [
            addr("10.0.0.1:1"),
            addr("10.0.0.2:1"),
            addr("10.0.0.3:1"),
            addr("[2001:db8::1]:1"),
            addr("[2001:db8::2]:1"),
        ];
        assert_eq!(
            interleave(resolved),
            [
                addr("[2001:db8::1]:1"),
                addr("10.0.0.1:1"),
                addr("[2001:db8::2]:1"),
                addr("10.0.0.2:1"),
                addr("10.0.0.3:1"),
            ]
        );
        assert_eq!(interleave([addr("10.0.0.1:1")]), [addr("10.0.0.1:1")]);
        assert!(interleave([]).is_empty());
    }

    #[test]
    fn the_next_address_starts_after_the_delay_or_at_once_on_failure() {
        let [a, b, c] = [addr("[::1]:1"), addr("127.0.0.1:1"), addr("[::1]:2")];
        let mut race = Race::new([a, b, c]);
        assert_eq!(race.next_step(), RaceStep::Start(a));
        assert_eq!(race.next_step(), RaceStep::Wait, "b waits for the delay");
        race.timer_expired();
        assert_eq!(race.next_step(), RaceStep::Start(b));
        assert_eq!(race.next_step(), RaceStep::Wait);
        race.failed(b, &io::ErrorKind::ConnectionRefused.into());
        assert_eq!(
            race.next_step(),
            RaceStep::Start(c),
            "a failure starts the next at once"
        );
        assert_eq!(race.next_step(), RaceStep::Wait);
        race.timer_expired();
        assert_eq!(
            race.next_step(),
            RaceStep::Wait,
            "nothing left to start: a and c still run"
        );
        race.failed(a, &io::ErrorKind::TimedOut.into());
        assert_eq!(race.next_step(), RaceStep::Wait);
        race.failed(c, &io::ErrorKind::ConnectionRefused.into());
        assert_eq!(race.next_step(), RaceStep::Exhausted);
        assert_eq!(race.tried(), [a, b, c]);
        let (last, error) = race.last_error().unwrap();
        assert_eq!((last, error.kind()), (c, io::ErrorKind::ConnectionRefused));
    }

    /// Polls `future` to the end with a no-op waker: the futures below are ready or pending
    /// according to shared flags, flipped between polls.
    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn race_keeps_the_first_connection_and_records_what_it_tried() {
        use std::cell::Cell;
        let [a, b] = [addr("[::1]:1"), addr("127.0.0.1:1")];
        let timer_fired = Cell::new(false);
        let started = Cell::new(0);
        let mut tried = Vec::new();
        {
            let race = race(
                vec![a, b],
                |addr| {
                    started.set(started.get() + 1);
                    // `a` hangs for ever; `b` connects.
                    let hangs = addr == a;
                    std::future::poll_fn(move |_| {
                        if hangs {
                            Poll::Pending
                        } else {
                            Poll::Ready(Ok(addr))
                        }
                    })
                },
                |_| {
                    let fired = &timer_fired;
                    std::future::poll_fn(move |_| {
                        if fired.get() {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                },
                &mut tried,
            );
            let mut race = std::pin::pin!(race);
            assert!(poll_once(race.as_mut()).is_pending());
            assert_eq!(started.get(), 1, "b waits for the attempt delay");
            timer_fired.set(true);
            match poll_once(race.as_mut()) {
                Poll::Ready(Ok((connection, winner))) => assert_eq!((connection, winner), (b, b)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(tried, [a, b]);
    }

    #[test]
    fn race_reports_the_last_failure_when_every_address_fails() {
        let [a, b] = [addr("[::1]:1"), addr("127.0.0.1:1")];
        let mut tried = Vec::new();
        let race = race(
            vec![a, b],
            |addr| {
                std::future::ready(Err::<(), _>(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    addr.to_string(),
                )))
            },
            |_| std::future::pending::<()>(),
            &mut tried,
        );
        let mut race = std::pin::pin!(race);
        match poll_once(race.as_mut()) {
            Poll::Ready(Err(RaceError::Failed { addr, error, tried })) => {
                assert_eq!((addr, error.kind()), (b, io::ErrorKind::ConnectionRefused));
                assert_eq!(tried, [a, b]);
            }
            other => panic!("{other:?}"),
        }
    }
}
