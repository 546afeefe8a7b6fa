//! One connection's side of an echo workload, without any I/O: which message to send next,
//! whether an echo is the right one, and the round-trip times.
//!
//! Every client (adapter or raw baseline, async or blocking) drives the same
//! [`Conversation`], so they do identical work and are validated identically:
//!
//! - Each connection has a ring of distinct payloads (its number and the message's position
//!   are written into the text, the rest is filler). Message `n` carries payload `n % ring`;
//!   the ring is longer than twice the window of messages in flight, so a lost, duplicated,
//!   reordered or cross-connection echo never matches what is expected.
//! - Payloads are built once, before the window opens; sending clones a [`Bytes`] (a reference
//!   count), so the application itself allocates nothing per message and the allocation
//!   counts belong to the library under test.
//! - A connection keeps `in_flight` messages outstanding until the deadline, then stops
//!   sending and drains what is still in flight.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::cases::{Case, Kind};
use crate::stats::Histogram;

/// An echo that was not the expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The connection it arrived on.
    pub connection: usize,
    /// Its position in that connection's stream of echoes.
    pub position: u64,
    /// What was wrong.
    pub problem: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connection {} echo #{}: {}",
            self.connection, self.position, self.problem
        )
    }
}

impl std::error::Error for Mismatch {}

/// One connection's conversation with the echo server.
#[derive(Debug)]
pub struct Conversation {
    connection: usize,
    kind: Kind,
    ring: Vec<Bytes>,
    in_flight: usize,
    sent: u64,
    received: u64,
    bytes: u64,
    sent_at: Vec<Instant>,
    deadline: Option<Instant>,
    rtt: Histogram,
}

/// Builds the payload of message `position` of `connection`: ASCII, so valid as text too.
fn payload(connection: usize, position: usize, size: usize) -> Bytes {
    let mut bytes = format!("c{connection:05}m{position:05}:").into_bytes();
    let filler = b"abcdefghijklmnopqrstuvwxyz";
    bytes.extend((0..size.saturating_sub(bytes.len())).map(|i| filler[(i + position) % 26]));
    bytes.truncate(size);
    let bytes = Bytes::from(bytes);
    // `Bytes::from(Vec)` allocates its shared header on the first clone: do that now, not in
    // the measured window.
    drop(bytes.clone());
    bytes
}

impl Conversation {
    /// The conversation of connection `connection` in `case`, not started.
    pub fn new(case: &Case, connection: usize) -> Self {
        let ring_len = 2 * case.in_flight + 3;
        Conversation {
            connection,
            kind: case.kind,
            ring: (0..ring_len)
                .map(|position| payload(connection, position, case.size))
                .collect(),
            in_flight: case.in_flight,
            sent: 0,
            received: 0,
            bytes: 0,
            sent_at: vec![Instant::now(); case.in_flight],
            deadline: None,
            rtt: Histogram::default(),
        }
    }

    /// One conversation per connection of `case`.
    pub fn all(case: &Case) -> Vec<Conversation> {
        (0..case.connections)
            .map(|c| Conversation::new(case, c))
            .collect()
    }

    /// The payloads, for the client to turn into its own message type once.
    pub fn ring(&self) -> &[Bytes] {
        &self.ring
    }

    /// Text or binary.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Opens the window: messages may be sent until `deadline`.
    pub fn start(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// The ring index of the next message to send, if one may go now (started, before the
    /// deadline, fewer than `in_flight` outstanding). Records the send time.
    pub fn next_send(&mut self, now: Instant) -> Option<usize> {
        let open = self.deadline.is_some_and(|deadline| now < deadline);
        if !open || self.sent - self.received >= self.in_flight as u64 {
            return None;
        }
        let index = (self.sent % self.ring.len() as u64) as usize;
        self.sent_at[(self.sent % self.in_flight as u64) as usize] = now;
        self.sent += 1;
        Some(index)
    }

    /// Checks an echo (its kind and payload) received at `now` and records its round trip.
    pub fn check(&mut self, kind: Kind, payload: &[u8], now: Instant) -> Result<(), Mismatch> {
        let position = self.received;
        let fail = |problem: String| Mismatch {
            connection: self.connection,
            position,
            problem,
        };
        if position >= self.sent {
            return Err(fail("an echo of a message that was never sent".to_owned()));
        }
        if kind != self.kind {
            return Err(fail(format!("a {kind} message, expected {}", self.kind)));
        }
        let expected = &self.ring[(position % self.ring.len() as u64) as usize];
        if payload != expected.as_ref() {
            let shown =
                |bytes: &[u8]| String::from_utf8_lossy(&bytes[..bytes.len().min(16)]).into_owned();
            return Err(fail(format!(
                "payload of {} bytes starting {:?}, expected {} bytes starting {:?}",
                payload.len(),
                shown(payload),
                expected.len(),
                shown(expected)
            )));
        }
        let sent_at = self.sent_at[(position % self.in_flight as u64) as usize];
        self.rtt.record(now.saturating_duration_since(sent_at));
        self.received += 1;
        self.bytes += payload.len() as u64;
        Ok(())
    }

    /// Whether the window is over and every message sent has come back.
    pub fn finished(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|deadline| now >= deadline) && self.received == self.sent
    }

    /// Echoes received and checked.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Payload bytes received and checked.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Round-trip times.
    pub fn rtt(&self) -> &Histogram {
        &self.rtt
    }

    /// A human-readable account of where the conversation stands, for timeout errors.
    pub fn progress(&self) -> String {
        format!(
            "connection {}: {} sent, {} echoed",
            self.connection, self.sent, self.received
        )
    }
}

/// How long a conversation may take beyond its window before the run is declared stuck.
pub const GRACE: Duration = Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use super::*;

    fn case(in_flight: usize) -> Case {
        Case {
            connections: 2,
            size: 20,
            in_flight,
            kind: Kind::Text,
        }
    }

    #[test]
    fn keeps_the_window_full_then_drains() {
        let mut conversation = Conversation::new(&case(2), 1);
        let t0 = Instant::now();
        assert_eq!(conversation.next_send(t0), None, "not started");
        conversation.start(t0 + Duration::from_secs(1));
        let first = conversation.next_send(t0).unwrap();
        let second = conversation.next_send(t0).unwrap();
        assert_eq!(conversation.next_send(t0), None, "two in flight");
        let echo = conversation.ring()[first].clone();
        conversation.check(Kind::Text, &echo, t0).unwrap();
        assert!(conversation.next_send(t0).is_some());
        let late = t0 + Duration::from_secs(2);
        assert_eq!(conversation.next_send(late), None, "deadline passed");
        let echo = conversation.ring()[second].clone();
        conversation.check(Kind::Text, &echo, late).unwrap();
        assert!(!conversation.finished(late), "one still in flight");
        let third = conversation.ring()[2].clone();
        conversation.check(Kind::Text, &third, late).unwrap();
        assert!(conversation.finished(late));
        assert_eq!(conversation.received(), 3);
        assert_eq!(conversation.bytes(), 60);
    }

    #[test]
    fn rejects_reordered_wrong_kind_and_foreign_echoes() {
        let mut conversation = Conversation::new(&case(2), 0);
        let t0 = Instant::now();
        conversation.start(t0 + Duration::from_secs(1));
        let first = conversation.next_send(t0).unwrap();
        let second = conversation.next_send(t0).unwrap();
        let ring = conversation.ring().to_vec();
        assert!(conversation.check(Kind::Text, &ring[second], t0).is_err());
        assert!(conversation.check(Kind::Binary, &ring[first], t0).is_err());
        let foreign = Conversation::new(&case(2), 1).ring()[first].clone();
        assert!(conversation.check(Kind::Text, &foreign, t0).is_err());
        conversation.check(Kind::Text, &ring[first], t0).unwrap();
        conversation.check(Kind::Text, &ring[second], t0).unwrap();
        assert!(
            conversation.check(Kind::Text, &ring[0], t0).is_err(),
            "never sent"
        );
        assert_eq!(ring[0].len(), 20);
        assert!(ring.iter().all(|p| std::str::from_utf8(p).is_ok()));
    }
}
