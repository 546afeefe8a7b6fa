//! The outbound queue: messages sent while no transport is open.
//!
//! Bounded by count and by bytes, flushed in order, and never lossy without saying so: every
//! message leaves it either as a `Send` action or handed back to the application.

use alloc::collections::VecDeque;

use crate::message::Message;
use crate::time::Instant;

#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) message: Message,
    pub(crate) deadline: Option<Instant>,
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    items: VecDeque<Queued>,
    bytes: usize,
    /// The earliest deadline of any queued message, kept so `poll_timeout` stays O(1).
    earliest_deadline: Option<Instant>,
}

impl Queue {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn earliest_deadline(&self) -> Option<Instant> {
        self.earliest_deadline
    }

    /// Whether one more message of `len` bytes fits under both bounds.
    pub(crate) fn fits(&self, len: usize, max_messages: usize, max_bytes: usize) -> bool {
        self.items.len() < max_messages && self.bytes.saturating_add(len) <= max_bytes
    }

    pub(crate) fn push(&mut self, queued: Queued) {
        self.bytes += queued.message.len();
        self.earliest_deadline = earliest(self.earliest_deadline, queued.deadline);
        self.items.push_back(queued);
    }

    pub(crate) fn pop_front(&mut self) -> Option<Queued> {
        let queued = self.items.pop_front()?;
        self.bytes -= queued.message.len();
        if self.items.is_empty() {
            self.earliest_deadline = None;
        } else if queued.deadline.is_some() && queued.deadline == self.earliest_deadline {
            self.recompute_earliest();
        }
        Some(queued)
    }

    /// Removes every message whose deadline is at or before `now`, oldest first.
    pub(crate) fn remove_expired(&mut self, now: Instant, mut expired: impl FnMut(Message)) {
        if self.earliest_deadline.is_none_or(|at| at > now) {
            return;
        }
        // Rotate once through the ring: survivors go back in order, the expired leave in order.
        for _ in 0..self.items.len() {
            let Some(queued) = self.items.pop_front() else {
                break;
            };
            if queued.deadline.is_some_and(|at| at <= now) {
                self.bytes -= queued.message.len();
                expired(queued.message);
            } else {
                self.items.push_back(queued);
            }
        }
        self.recompute_earliest();
    }

    fn recompute_earliest(&mut self) {
        self.earliest_deadline = self
            .items
            .iter()
            .fold(None, |acc, queued| earliest(acc, queued.deadline));
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn queued(text: &'static str, deadline: Option<u64>) -> Queued {
        Queued {
            message: Message::from(text),
            deadline: deadline.map(Instant::from_millis),
        }
    }

    #[test]
    fn bounds_by_count_and_bytes() {
        let mut queue = Queue::default();
        queue.push(queued("abcd", None));
        assert!(queue.fits(4, 2, 8));
        assert!(!queue.fits(5, 2, 8));
        queue.push(queued("efgh", None));
        assert!(!queue.fits(0, 2, 100));
        assert_eq!(queue.bytes(), 8);
    }

    #[test]
    fn expiry_keeps_order_of_survivors_and_reports_oldest_first() {
        let mut queue = Queue::default();
        queue.push(queued("a", Some(10)));
        queue.push(queued("b", None));
        queue.push(queued("c", Some(5)));
        queue.push(queued("d", Some(20)));
        assert_eq!(queue.earliest_deadline(), Some(Instant::from_millis(5)));
        let mut expired = Vec::new();
        queue.remove_expired(Instant::from_millis(10), |m| expired.push(m));
        assert_eq!(expired, [Message::from("a"), Message::from("c")]);
        assert_eq!(queue.earliest_deadline(), Some(Instant::from_millis(20)));
        let rest: Vec<_> = core::iter::from_fn(|| queue.pop_front())
            .map(|q| q.message)
            .collect();
        assert_eq!(rest, [Message::from("b"), Message::from("d")]);
        assert_eq!(queue.bytes(), 0);
        assert_eq!(queue.earliest_deadline(), None);
    }
}
