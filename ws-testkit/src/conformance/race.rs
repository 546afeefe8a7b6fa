//! Sends racing the client's final stop. Every message given to a send ends in exactly one
//! way — delivered to the server, handed back in an event (`Rejected`, `Undelivered`), or
//! handed back in the call's `Err` — however the stop and the sends interleave, and no send
//! stays blocked once the client has closed. Each scenario repeats the race for many short
//! rounds against one server, so the interleavings vary.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ws_client::{Event, SendError, TrySendError};
use ws_core::{CloseCode, Message};

use super::observe::{Scenario, describe_all, is_open};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, Handle, SLACK, WAIT};
use crate::{Behavior, TestServer};

const ROUNDS: usize = 20;
/// Sending threads per round.
const SENDERS: usize = 3;
/// Messages the server receives in a round before the stop is started.
const BEFORE_THE_STOP: usize = 30;

/// What one sender did: the indices of its messages taken by a send, and those handed back
/// in the call's `Err`.
#[derive(Debug, Default)]
struct Sent {
    accepted: Vec<usize>,
    refused: Vec<usize>,
    /// An `Err` that did not hold the message it was given.
    wrong_message: Option<String>,
}

fn text(round: usize, sender: usize, index: usize) -> String {
    format!("r{round}-s{sender}-{index}")
}

/// Parses a message of this scenario: `(round, sender, index)`.
fn parse(text: &str) -> Option<(usize, usize, usize)> {
    let mut parts = text.split('-');
    let round = parts.next()?.strip_prefix('r')?.parse().ok()?;
    let sender = parts.next()?.strip_prefix('s')?.parse().ok()?;
    let index = parts.next()?.parse().ok()?;
    Some((round, sender, index))
}

/// Starts the senders of `round`, each with its own clone of `handle`, sending until a send
/// says the client has closed or `limit` messages were sent; with `try_send_first`, sender 0
/// uses `try_send` (handed back as `Full` while the channel is full), the others the waiting
/// `send`. They start together once the caller waits on the returned barrier.
fn start_senders<H: Handle>(
    handle: &H,
    round: usize,
    limit: usize,
    try_send_first: bool,
) -> (Arc<Barrier>, Receiver<(usize, Sent, Instant)>) {
    let start = Arc::new(Barrier::new(SENDERS + 1));
    let (report, reports) = mpsc::channel();
    for sender in 0..SENDERS {
        let (handle, start, report) = (handle.clone(), Arc::clone(&start), report.clone());
        std::thread::spawn(move || {
            start.wait();
            let mut sent = Sent::default();
            for index in 0..limit {
                let message = Message::from(text(round, sender, index));
                let (refused, closed) = if try_send_first && sender == 0 {
                    match handle.try_send(message.clone()) {
                        Ok(()) => (None, false),
                        Err(TrySendError::Full(back)) => (Some(back), false),
                        Err(TrySendError::Closed(back)) => (Some(back), true),
                        Err(other) => (Some(other.into_message()), true),
                    }
                } else {
                    match handle.send(message.clone()) {
                        Ok(()) => (None, false),
                        Err(SendError(back)) => (Some(back), true),
                    }
                };
                match refused {
                    None => sent.accepted.push(index),
                    Some(back) => {
                        if back != message {
                            sent.wrong_message =
                                Some(format!("sent {message:?}, handed back {back:?}"));
                        }
                        sent.refused.push(index);
                        if !closed {
                            std::thread::yield_now();
                        }
                    }
                }
                if closed {
                    break;
                }
            }
            drop(handle);
            let _ = report.send((sender, sent, Instant::now()));
        });
    }
    (start, reports)
}

/// Collects every sender's report, failing if one is still sending `within` after `since`.
fn reports(
    s: &Scenario,
    reports: &Receiver<(usize, Sent, Instant)>,
    since: Instant,
    within: Duration,
    round: usize,
) -> Vec<Sent> {
    let mut by_sender: Vec<Option<Sent>> = (0..SENDERS).map(|_| None).collect();
    for _ in 0..SENDERS {
        let left = (since + within).saturating_duration_since(Instant::now());
        match reports.recv_timeout(left) {
            Ok((sender, sent, _)) => by_sender[sender] = Some(sent),
            Err(_) => s.fail(format_args!(
                "round {round}: a sender is still in a send {within:?} after the client \
                 stopped; finished: {:?}",
                by_sender.iter().map(Option::is_some).collect::<Vec<_>>()
            )),
        }
    }
    by_sender
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// Checks one round's accounting: every attempted message is in exactly one of `delivered`
/// (the server's record), `handed_back` (events) and the senders' refusals, and the delivered
/// ones of each sender are in the order sent.
#[track_caller]
fn account(
    s: &Scenario,
    round: usize,
    sent: &[Sent],
    delivered: &[String],
    handed_back: &[String],
) {
    let mut outcomes: HashMap<(usize, usize), Vec<&str>> = HashMap::new();
    let mut last_delivered = [None::<usize>; SENDERS];
    for text in delivered {
        let Some((r, sender, index)) = parse(text) else {
            s.fail(format_args!("round {round}: the server received {text:?}"))
        };
        if r != round {
            s.fail(format_args!(
                "round {round}: the server received {text:?} from another round"
            ));
        }
        s.check(last_delivered[sender] < Some(index), || {
            format!(
                "round {round}: sender {sender}'s messages arrived out of order: {text:?} after \
                 index {:?}",
                last_delivered[sender]
            )
        });
        last_delivered[sender] = Some(index);
        outcomes
            .entry((sender, index))
            .or_default()
            .push("delivered");
    }
    for text in handed_back {
        let Some((r, sender, index)) = parse(text).filter(|(r, ..)| *r == round) else {
            s.fail(format_args!("round {round}: an event handed back {text:?}"))
        };
        let _ = r;
        outcomes.entry((sender, index)).or_default().push("event");
    }
    let mut attempted = 0;
    for (sender, sent) in sent.iter().enumerate() {
        if let Some(wrong) = &sent.wrong_message {
            s.fail(format_args!("round {round}: sender {sender}: {wrong}"));
        }
        attempted += sent.accepted.len() + sent.refused.len();
        for &index in &sent.refused {
            outcomes.entry((sender, index)).or_default().push("error");
        }
        for &index in &sent.accepted {
            let seen = outcomes.get(&(sender, index)).map(Vec::as_slice);
            s.check(matches!(seen, Some(["delivered" | "event"])), || {
                format!(
                    "round {round}: {:?}, taken by send, must be delivered or handed back in \
                     an event exactly once; its outcomes: {seen:?}",
                    text(round, sender, index)
                )
            });
        }
        for &index in &sent.refused {
            let seen = outcomes.get(&(sender, index)).map(Vec::as_slice);
            s.check(seen == Some(&["error"][..]), || {
                format!(
                    "round {round}: {:?}, handed back by the call's Err, must have no other \
                     outcome; its outcomes: {seen:?}",
                    text(round, sender, index)
                )
            });
        }
    }
    let outcomes_total: usize = outcomes.values().map(Vec::len).sum();
    s.check(
        outcomes.len() == attempted && outcomes_total == attempted,
        || {
            format!(
                "round {round}: {attempted} messages sent, {} delivered + {} handed back in \
                 events + {} refused in errors = {outcomes_total} outcomes for {} messages",
                delivered.len(),
                handed_back.len(),
                sent.iter().map(|sent| sent.refused.len()).sum::<usize>(),
                outcomes.len()
            )
        },
    );
}

/// The messages of `round` the server received, in order.
fn delivered_in(server: &TestServer, round: usize) -> Vec<String> {
    let prefix = format!("r{round}-");
    server
        .received_texts()
        .into_iter()
        .filter(|text| text.starts_with(&prefix))
        .collect()
}

/// Three threads send in a loop (one with `try_send`, two with `send`) on an open client
/// while the test thread closes it with 1000; twenty rounds. Each message ends in exactly one
/// outcome (sent = delivered + handed back in events + refused in errors, no duplicates), the
/// delivered ones of each sender arrive in the order sent, `Closed` is the last event, and
/// every sender returns within `SLACK` of `Closed`.
pub fn sends_racing_the_close_each_end_in_exactly_one_outcome<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "sends_racing_the_close_each_end_in_exactly_one_outcome",
    );
    let server = TestServer::start_with(Behavior {
        echo: false,
        ..Behavior::default()
    });
    for round in 0..ROUNDS {
        let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
        s.wait_for(&mut client, WAIT, "Open", is_open);
        let received_before = server.received().len();
        let (start, reports_rx) = start_senders(client.handle(), round, usize::MAX, true);
        start.wait();
        s.check(
            server.wait_for_received(received_before + BEFORE_THE_STOP, WAIT),
            || format!("round {round}: the sends never reached the server"),
        );
        if let Err(error) = client.close(CloseCode::NORMAL, "") {
            s.fail(format_args!("round {round}: close failed: {error}"));
        }
        let events = s.until_end(&mut client, WAIT, "close");
        let closed_at = Instant::now();
        let sent = reports(&s, &reports_rx, closed_at, SLACK, round);
        s.check(server.wait_for_client_closes(round + 1, WAIT), || {
            format!("round {round}: the server did not see the connection end")
        });
        let handed_back: Vec<String> = events
            .iter()
            .filter_map(|event| match event {
                Event::Rejected { message, .. } | Event::Undelivered { message, .. } => {
                    Some(message.as_text().unwrap_or("<binary>").to_owned())
                }
                _ => None,
            })
            .collect();
        s.check(
            matches!(
                events
                    .iter()
                    .find(|e| matches!(e, Event::Disconnected { .. })),
                Some(Event::Disconnected {
                    code: CloseCode::NORMAL,
                    will_reconnect: false,
                    ..
                })
            ),
            || {
                format!(
                    "round {round}: expected the application's close (1000); events:{}",
                    describe_all(&events)
                )
            },
        );
        account(
            &s,
            round,
            &sent,
            &delivered_in(&server, round),
            &handed_back,
        );
    }
}

/// Three threads each send 200 messages with their own clone of the handle and then drop it,
/// while the test thread drops its handle and the events: the last clone to go is the last
/// handle, and its sends still in the command channel must go out before the client closes
/// with 1001. Twenty rounds; nothing may be lost, doubled or reordered.
pub fn sends_racing_the_last_handle_drop_are_all_delivered<A: Adapter>(adapter: &A) {
    const PER_SENDER: usize = 200;
    let s = Scenario::new(
        adapter,
        "sends_racing_the_last_handle_drop_are_all_delivered",
    );
    let server = TestServer::start_with(Behavior {
        echo: false,
        ..Behavior::default()
    });
    for round in 0..ROUNDS {
        let mut client = adapter.start(build(options(&server.url(), fast_reconnect())));
        s.wait_for(&mut client, WAIT, "Open", is_open);
        let received_before = server.received().len();
        let (start, reports_rx) = start_senders(client.handle(), round, PER_SENDER, false);
        start.wait();
        s.check(
            server.wait_for_received(received_before + BEFORE_THE_STOP, WAIT),
            || format!("round {round}: the sends never reached the server"),
        );
        client.drop_events();
        client.drop_handle();
        let sent = reports(&s, &reports_rx, Instant::now(), WAIT, round);
        s.check(server.wait_for_client_closes(round + 1, WAIT), || {
            format!("round {round}: the connection did not end after the last handle went")
        });
        let code = server.client_close_codes().get(round).copied().flatten();
        s.check(code == Some(1001), || {
            format!("round {round}: expected a Close with 1001, got {code:?}")
        });
        for (sender, sent) in sent.iter().enumerate() {
            s.check(sent.refused.is_empty(), || {
                format!(
                    "round {round}: sender {sender} was refused {:?} while it held a handle",
                    sent.refused
                )
            });
        }
        let delivered = delivered_in(&server, round);
        s.check(delivered.len() == SENDERS * PER_SENDER, || {
            format!(
                "round {round}: {} messages sent, {} delivered (none may be handed back: the \
                 client never closed while a handle was held)",
                SENDERS * PER_SENDER,
                delivered.len()
            )
        });
        account(&s, round, &sent, &delivered, &[]);
    }
}
