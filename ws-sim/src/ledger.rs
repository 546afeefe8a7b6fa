//! The message ledger behind invariant 6 (conservation): every message given to `send()` ends
//! in exactly one outcome — emitted once as `Action::Send`, refused by the call, or handed back
//! once — emitted messages keep their send order, and nothing queued leaves before the flush
//! gate opens.
//!
//! Messages are tracked by payload, so a run must give every message a unique payload.

use std::collections::{BTreeSet, HashMap};

use ws_core::{Config, Instant, Message, Overflow, SendErrorKind, UndeliveredReason};

use crate::heartbeat_model::earliest;

/// Where one message is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// In the supervisor's queue.
    Queued,
    /// Accepted by this call and due to be emitted in it (direct send or `send_now`).
    EmitNow,
    /// Accepted by this call with a deadline already passed: due back as expired in it.
    ExpireNow,
    Sent,
    Refused,
    HandedBack(UndeliveredReason),
}

#[derive(Clone, Debug)]
struct Entry {
    state: State,
    len: usize,
    /// The effective deadline while queued (the earlier of its own and the queue age).
    deadline: Option<Instant>,
    /// Sent with `send_now`: outside the queue order.
    jumps_queue: bool,
}

/// How the supervisor stands, as far as a new message is concerned.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Intake {
    /// `send()` accepts messages (not closed, not closing for good).
    pub(crate) accepting: bool,
    /// A transport is open.
    pub(crate) open: bool,
    /// The flush gate is open on it.
    pub(crate) released: bool,
}

/// What one call did to the ledger, checked when the call's outputs are all seen.
#[derive(Default, Debug)]
pub(crate) struct CallLedger {
    /// Messages that must be handed back as dropped in this call, oldest first.
    must_drop: Vec<usize>,
    /// Messages accepted in this call that must resolve in it.
    resolving: Vec<usize>,
}

/// Every message the application ever gave, with its fate.
#[derive(Default, Debug)]
pub(crate) struct Ledger {
    ids: HashMap<Message, usize>,
    entries: Vec<Entry>,
    queued: BTreeSet<usize>,
    queued_bytes: usize,
    /// The latest queue-ordered message emitted.
    last_emitted: Option<usize>,
}

impl Ledger {
    pub(crate) fn queued_len(&self) -> usize {
        self.queued.len()
    }

    /// The earliest deadline of a queued message.
    pub(crate) fn earliest_deadline(&self) -> Option<Instant> {
        self.queued
            .iter()
            .fold(None, |acc, &id| earliest(acc, self.entries[id].deadline))
    }

    /// Number of messages not yet resolved (queued or due in the current call).
    pub(crate) fn unresolved(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.state, State::Queued | State::EmitNow | State::ExpireNow))
            .count()
    }

    fn register(&mut self, message: &Message, jumps_queue: bool) -> Result<usize, String> {
        if self.ids.contains_key(message) {
            return Err(format!(
                "harness misuse: payload {message:?} given twice (payloads must be unique)"
            ));
        }
        let id = self.entries.len();
        self.ids.insert(message.clone(), id);
        self.entries.push(Entry {
            state: State::Refused,
            len: message.len(),
            deadline: None,
            jumps_queue,
        });
        Ok(id)
    }

    /// `send()` or `send_with_deadline()` was called and returned `result`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn offer(
        &mut self,
        call: &mut CallLedger,
        config: &Config,
        message: &Message,
        deadline: Option<Instant>,
        now: Instant,
        intake: Intake,
        result: Result<(), (SendErrorKind, &Message)>,
    ) -> Result<(), String> {
        let id = self.register(message, false)?;
        if let Err((_, returned)) = result
            && returned != message
        {
            return Err(format!(
                "send() refused {message:?} but handed back {returned:?}"
            ));
        }
        if !intake.accepting {
            return expect_refusal(result, &[SendErrorKind::Closed], message);
        }
        if intake.open && intake.released && self.queued.is_empty() {
            ok_or(result, message, "an open connection with an empty queue")?;
            self.entries[id].state = State::EmitNow;
            call.resolving.push(id);
            return Ok(());
        }
        let len = message.len();
        let (max_messages, max_bytes) = (config.queue_max_messages(), config.queue_max_bytes());
        if max_messages == 0 || len > max_bytes {
            return expect_refusal(result, &[SendErrorKind::TooLargeForQueue], message);
        }
        let effective = earliest(deadline, config.max_queue_age().map(|age| now + age));
        let expired = effective.is_some_and(|at| at <= now);
        let fits = |count: usize, bytes: usize| count < max_messages && bytes + len <= max_bytes;
        if !fits(self.queued.len(), self.queued_bytes) && config.overflow() == Overflow::RejectNew {
            // An already-expired message may be refused as well as handed back as expired.
            if result.is_err() || !expired {
                return expect_refusal(result, &[SendErrorKind::QueueFull], message);
            }
        }
        ok_or(result, message, "a queue with room for it")?;
        if expired {
            // Never queued, so it must not push anything out of the queue.
            self.entries[id].state = State::ExpireNow;
            call.resolving.push(id);
            return Ok(());
        }
        let (mut count, mut bytes) = (self.queued.len(), self.queued_bytes);
        for &oldest in &self.queued {
            if fits(count, bytes) {
                break;
            }
            call.must_drop.push(oldest);
            count -= 1;
            bytes -= self.entries[oldest].len;
        }
        let entry = &mut self.entries[id];
        entry.state = State::Queued;
        entry.deadline = effective;
        self.queued.insert(id);
        self.queued_bytes += len;
        Ok(())
    }

    /// `send_now()` was called and returned `result`; `refusal` is the error it had to give
    /// (none when it named the open transport).
    pub(crate) fn offer_now(
        &mut self,
        call: &mut CallLedger,
        message: &Message,
        refusal: Option<SendErrorKind>,
        result: Result<(), (SendErrorKind, &Message)>,
    ) -> Result<(), String> {
        let id = self.register(message, true)?;
        if let Err((_, returned)) = result
            && returned != message
        {
            return Err(format!(
                "send_now() refused {message:?} but handed back {returned:?}"
            ));
        }
        match refusal {
            None => {
                ok_or(result, message, "the named connection open")?;
                self.entries[id].state = State::EmitNow;
                call.resolving.push(id);
                Ok(())
            }
            Some(kind) => expect_refusal(result, &[kind], message),
        }
    }

    /// An `Action::Send(message)` came out at `now`; `open` and `released` describe the
    /// transport at that point.
    pub(crate) fn emitted(
        &mut self,
        message: &Message,
        now: Instant,
        open: bool,
        released: bool,
    ) -> Result<(), String> {
        let Some(&id) = self.ids.get(message) else {
            return Err(format!(
                "Send({message:?}) emitted, but no such message was ever given to send()"
            ));
        };
        if !open {
            return Err(format!("Send({message:?}) emitted with no open transport"));
        }
        let entry = &self.entries[id];
        match entry.state {
            State::EmitNow if entry.jumps_queue => {}
            State::EmitNow | State::Queued => {
                if !released {
                    return Err(format!(
                        "queued {message:?} emitted before the flush gate opened (ready())"
                    ));
                }
                if entry.state == State::Queued && entry.deadline.is_some_and(|at| at <= now) {
                    return Err(format!(
                        "{message:?} emitted at {now:?}, at or after its deadline {:?}",
                        entry.deadline
                    ));
                }
                if self.last_emitted.is_some_and(|last| last > id) {
                    return Err(format!(
                        "{message:?} emitted after a message sent later: order broken"
                    ));
                }
                self.last_emitted = Some(id);
            }
            other => {
                return Err(format!(
                    "Send({message:?}) emitted, but the message was already {other:?}"
                ));
            }
        }
        self.take_out_of_queue(id);
        self.entries[id].state = State::Sent;
        Ok(())
    }

    /// An `Event::Undelivered { message, reason }` came out at `now`; `stopping` is the
    /// reason the supervisor is handing its queue back in this call, if it is.
    pub(crate) fn handed_back(
        &mut self,
        call: &mut CallLedger,
        message: &Message,
        reason: UndeliveredReason,
        now: Instant,
        stopping: Option<UndeliveredReason>,
    ) -> Result<(), String> {
        let Some(&id) = self.ids.get(message) else {
            return Err(format!(
                "Undelivered({message:?}) handed back, but it was never given to send()"
            ));
        };
        let entry = &self.entries[id];
        match (entry.state, reason) {
            (State::ExpireNow, UndeliveredReason::Expired) => {}
            (State::Queued, UndeliveredReason::Expired) => {
                if entry.deadline.is_none_or(|at| at > now) {
                    return Err(format!(
                        "{message:?} handed back as expired at {now:?}, before its deadline {:?}",
                        entry.deadline
                    ));
                }
            }
            (State::Queued, UndeliveredReason::Dropped) => {
                if call.must_drop.first() != Some(&id) {
                    return Err(format!(
                        "{message:?} dropped, but the drops due in this call were {:?}",
                        call.must_drop
                    ));
                }
                call.must_drop.remove(0);
            }
            (State::Queued, reason) if Some(reason) == stopping => {}
            (state, reason) => {
                return Err(format!(
                    "{message:?} handed back as {reason:?} while {state:?} (stopping: {stopping:?})"
                ));
            }
        }
        self.take_out_of_queue(id);
        self.entries[id].state = State::HandedBack(reason);
        Ok(())
    }

    fn take_out_of_queue(&mut self, id: usize) {
        if self.queued.remove(&id) {
            self.queued_bytes -= self.entries[id].len;
        }
    }

    /// Checks what must hold once a call's outputs are all seen. `flowing` is true when the
    /// queue must be empty (open with the gate open, idle, or just closed); `tick` is the time
    /// of a tick, by which every due message must be gone.
    pub(crate) fn end_of_call(
        &mut self,
        call: CallLedger,
        config: &Config,
        flowing: bool,
        tick: Option<Instant>,
    ) -> Result<(), String> {
        if !call.must_drop.is_empty() {
            return Err(format!(
                "messages {:?} had to be dropped to make room but were not handed back",
                call.must_drop
            ));
        }
        for id in call.resolving {
            let state = self.entries[id].state;
            if matches!(state, State::EmitNow | State::ExpireNow) {
                return Err(format!(
                    "message #{id} was due to be {} in this call but was not",
                    if state == State::EmitNow {
                        "emitted"
                    } else {
                        "handed back as expired"
                    }
                ));
            }
        }
        if self.queued.len() > config.queue_max_messages()
            || self.queued_bytes > config.queue_max_bytes()
        {
            return Err(format!(
                "queue holds {} messages / {} bytes, over its bounds {} / {}",
                self.queued.len(),
                self.queued_bytes,
                config.queue_max_messages(),
                config.queue_max_bytes()
            ));
        }
        if let (Some(last), Some(&first)) = (self.last_emitted, self.queued.first())
            && first < last
        {
            return Err(format!(
                "message #{first} is still queued behind #{last}, which was sent after it and already emitted"
            ));
        }
        if flowing && !self.queued.is_empty() {
            return Err(format!(
                "{} messages left in the queue when it must be empty",
                self.queued.len()
            ));
        }
        if let Some(now) = tick
            && let Some(id) = self
                .queued
                .iter()
                .copied()
                .find(|&id| self.entries[id].deadline.is_some_and(|at| at <= now))
        {
            return Err(format!(
                "message #{id} still queued at {now:?}, past its deadline {:?}",
                self.entries[id].deadline
            ));
        }
        Ok(())
    }
}

fn ok_or(
    result: Result<(), (SendErrorKind, &Message)>,
    message: &Message,
    situation: &str,
) -> Result<(), String> {
    match result {
        Ok(()) => Ok(()),
        Err((kind, _)) => Err(format!(
            "{message:?} refused with {kind:?} although the supervisor had {situation}"
        )),
    }
}

fn expect_refusal(
    result: Result<(), (SendErrorKind, &Message)>,
    allowed: &[SendErrorKind],
    message: &Message,
) -> Result<(), String> {
    match result {
        Err((kind, _)) if allowed.contains(&kind) => Ok(()),
        Err((kind, _)) => Err(format!(
            "{message:?} refused with {kind:?}, expected {allowed:?}"
        )),
        Ok(()) => Err(format!(
            "{message:?} accepted, but it had to be refused with {allowed:?}"
        )),
    }
}
