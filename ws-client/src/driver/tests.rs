//! The driver against a scripted runtime: a socket whose reads and flushes the test controls,
//! a clock that moves only when told, and a timer on that clock. No sockets, no executor: the
//! test polls the driver itself.

use std::collections::VecDeque;
use std::future::{pending, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Wake, Waker};
use std::time::Duration;

use tungstenite::protocol::CloseFrame;
use ws_core::{CloseCode, Config, Disconnect, SendErrorKind, Text};

use super::*;

/// What the scripted socket has seen and will do.
#[derive(Default)]
struct Wire {
    /// Read by the driver, in order; then `Pending`, or the end of the stream once `ended`.
    inbound: VecDeque<Result<WireMessage, WireError>>,
    ended: bool,
    /// Every read finds a message at once.
    endless: bool,
    /// Messages read while `endless`.
    reads: usize,
    /// Fed with `start_send`, in order.
    fed: Vec<WireMessage>,
    /// How many of `fed` a flush has pushed out.
    flushed: usize,
    /// Flushes that completed.
    flushes: usize,
    /// Flushes answer `Pending` while set.
    stuck: bool,
}

#[derive(Default)]
struct Shared<T>(Arc<Mutex<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap()
    }
}

struct Socket(Shared<Wire>);

impl Stream for Socket {
    type Item = Result<WireMessage, WireError>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut wire = self.0.lock();
        if wire.endless {
            wire.reads += 1;
            return Poll::Ready(Some(Ok(WireMessage::text("more"))));
        }
        match wire.inbound.pop_front() {
            Some(item) => Poll::Ready(Some(item)),
            None if wire.ended => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

impl Sink<WireMessage> for Socket {
    type Error = WireError;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: WireMessage) -> Result<(), WireError> {
        self.0.lock().fed.push(message);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        let mut wire = self.0.lock();
        if wire.stuck {
            return Poll::Pending;
        }
        wire.flushed = wire.fed.len();
        wire.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WireError>> {
        self.poll_flush(cx)
    }
}

struct Clock {
    now: Shared<Instant>,
    set: Arc<AtomicUsize>,
    deadline: Option<Instant>,
}

impl Timer for Clock {
    fn set(&mut self, deadline: Option<Instant>) {
        self.set.fetch_add(1, Ordering::Relaxed);
        self.deadline = deadline;
    }

    fn poll_expired(&mut self, _: &mut Context<'_>) -> Poll<()> {
        match self.deadline {
            Some(deadline) if *self.now.lock() >= deadline => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }
}

struct Scripted {
    now: Shared<Instant>,
    timer_sets: Arc<AtomicUsize>,
    wire: Shared<Wire>,
    hang: bool,
}

impl Runtime for Scripted {
    type Socket = Socket;
    type Timer = Clock;

    fn now(&self) -> Instant {
        *self.now.lock()
    }

    fn timer(&self) -> Clock {
        Clock {
            now: self.now.clone(),
            set: Arc::clone(&self.timer_sets),
            deadline: None,
        }
    }

    fn connect(
        &self,
        _: Arc<ClientOptions>,
        _: crate::endpoint::Attempt,
    ) -> BoxFuture<Result<Connected<Socket>, Error>> {
        if self.hang {
            return Box::pin(pending());
        }
        Box::pin(ready(Ok(Connected {
            socket: Socket(self.wire.clone()),
            response: tungstenite::http::Response::builder()
                .status(101)
                .body(None)
                .unwrap(),
            server: "h:80".to_owned(),
            label: "ws://h/".to_owned(),
        })))
    }
}

struct Harness {
    driver: Driver<Scripted>,
    /// The application's handles; `None` once dropped.
    client: Option<Client>,
    events: Option<Events>,
    now: Shared<Instant>,
    timer_sets: Arc<AtomicUsize>,
    wire: Shared<Wire>,
}

#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl Harness {
    fn new(options: ClientOptionsBuilderFn, hang: bool) -> Harness {
        let now = Shared(Arc::new(Mutex::new(Instant::now())));
        let timer_sets = Arc::new(AtomicUsize::new(0));
        let wire = Shared::default();
        let runtime = Scripted {
            now: now.clone(),
            timer_sets: Arc::clone(&timer_sets),
            wire: wire.clone(),
            hang,
        };
        let options = options(ClientOptions::builder("ws://h/").seed(1))
            .build()
            .unwrap();
        let (driver, client, events) = Driver::new(options, runtime);
        Harness {
            driver,
            client: Some(client),
            events: Some(events),
            now,
            timer_sets,
            wire,
        }
    }

    fn open() -> Harness {
        let mut harness = Harness::new(|options| options, false);
        assert!(harness.poll().is_pending());
        assert_eq!(harness.client().state(), ws_core::State::Open);
        harness
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the client handle was dropped")
    }

    /// Sends `text` without waiting (the channel has room in every test).
    fn send_text(&self, text: &'static str) -> Result<(), crate::client::TrySendError> {
        self.client().try_send(text)
    }

    /// Polls the driver once, as an executor would after a wake-up; counts self-wakes.
    fn poll_counting(&mut self, wakes: &Arc<Wakes>) -> Poll<()> {
        let waker = Waker::from(Arc::clone(wakes));
        Pin::new(&mut self.driver).poll(&mut Context::from_waker(&waker))
    }

    fn poll(&mut self) -> Poll<()> {
        self.poll_counting(&Arc::default())
    }

    fn advance(&self, by: Duration) {
        *self.now.lock() += by;
    }

    /// The events the application can read now.
    fn events(&mut self) -> Vec<Event> {
        let events = self.events.as_mut().unwrap();
        let mut context = Context::from_waker(Waker::noop());
        std::iter::from_fn(|| match Pin::new(&mut *events).poll_next(&mut context) {
            Poll::Ready(event) => event,
            Poll::Pending => None,
        })
        .collect()
    }

    fn wire(&self) -> MutexGuard<'_, Wire> {
        self.wire.lock()
    }
}

type ClientOptionsBuilderFn = fn(crate::ClientOptionsBuilder) -> crate::ClientOptionsBuilder;

fn texts(messages: &[WireMessage]) -> Vec<String> {
    messages.iter().map(ToString::to_string).collect()
}

#[test]
fn commands_taken_together_are_fed_as_one_batch_and_flushed_once() {
    let mut harness = Harness::new(|options| options, false);
    for text in ["a", "b", "c"] {
        harness.send_text(text).unwrap();
    }
    assert!(harness.poll().is_pending());
    let wire = harness.wire();
    assert_eq!(texts(&wire.fed), ["a", "b", "c"]);
    assert_eq!((wire.flushed, wire.flushes), (3, 1));
}

#[test]
fn a_ping_is_answered_by_a_flush_even_when_nothing_is_sent() {
    let mut harness = Harness::open();
    let flushes = harness.wire().flushes;
    harness
        .wire()
        .inbound
        .push_back(Ok(WireMessage::Ping(b"?".as_slice().into())));
    assert!(harness.poll().is_pending());
    let wire = harness.wire();
    assert!(wire.fed.is_empty());
    assert_eq!(wire.flushes, flushes + 1, "tungstenite's Pong goes out");
}

#[test]
fn a_socket_that_takes_no_writes_stops_the_commands_until_it_does() {
    let mut harness = Harness::open();
    harness.wire().stuck = true;
    harness.send_text("a").unwrap();
    assert!(harness.poll().is_pending());
    harness.send_text("b").unwrap();
    assert!(harness.poll().is_pending());
    assert_eq!(texts(&harness.wire().fed), ["a"], "b waits in the channel");
    harness.wire().stuck = false;
    assert!(harness.poll().is_pending());
    let wire = harness.wire();
    assert_eq!(texts(&wire.fed), ["a", "b"]);
    assert_eq!(wire.flushed, 2);
}

/// Every frame read pushes the heartbeat back; the timer is not reset for it. It fires at the
/// old deadline, early: nothing is due then, and it is set to the new one, where the ping
/// goes out on time.
#[test]
fn a_deadline_pushed_back_by_frames_is_set_once_the_timer_fires_early() {
    let mut harness = Harness::new(
        |options| {
            options.config(
                Config::builder()
                    .ping_interval(Duration::from_secs(1))
                    .pong_timeout(Duration::from_secs(1))
                    .build()
                    .unwrap(),
            )
        },
        false,
    );
    assert!(harness.poll().is_pending());
    assert_eq!(harness.client().state(), ws_core::State::Open);
    let sets = harness.timer_sets.load(Ordering::Relaxed);
    let pings = |harness: &Harness| {
        let wire = harness.wire();
        wire.fed
            .iter()
            .filter(|message| matches!(message, WireMessage::Ping(_)))
            .count()
    };
    for _ in 0..10 {
        harness.advance(Duration::from_millis(50));
        harness
            .wire()
            .inbound
            .push_back(Ok(WireMessage::text("alive")));
        assert!(harness.poll().is_pending());
    }
    assert_eq!(
        harness.timer_sets.load(Ordering::Relaxed),
        sets,
        "not reset per frame"
    );
    // The first deadline: the timer fires, nothing is due, the timer moves to the last frame
    // (at 500 ms) + 1 s.
    harness.advance(Duration::from_millis(500));
    assert!(harness.poll().is_pending());
    assert_eq!(pings(&harness), 0, "the heartbeat was pushed back");
    assert_eq!(harness.timer_sets.load(Ordering::Relaxed), sets + 1);
    harness.advance(Duration::from_millis(499));
    assert!(harness.poll().is_pending());
    assert_eq!(pings(&harness), 0);
    harness.advance(Duration::from_millis(1));
    assert!(harness.poll().is_pending());
    assert_eq!(pings(&harness), 1, "the ping goes out at the new deadline");
    assert_eq!(
        harness.events().len(),
        12,
        "connecting, open and ten messages"
    );
}

#[test]
fn the_timer_is_set_only_when_the_deadline_moves_and_fires_the_connect_timeout() {
    let mut harness = Harness::new(
        |options| {
            options.config(
                Config::builder()
                    .connect_timeout(Duration::from_secs(7))
                    .no_reconnect()
                    .build()
                    .unwrap(),
            )
        },
        true,
    );
    for _ in 0..3 {
        assert!(harness.poll().is_pending());
    }
    assert_eq!(harness.timer_sets.load(Ordering::Relaxed), 1);
    harness.advance(Duration::from_millis(6_999));
    assert!(harness.poll().is_pending());
    assert_eq!(harness.client().state(), ws_core::State::Connecting);
    harness.advance(Duration::from_millis(1));
    assert!(harness.poll().is_ready(), "gave up: the driver is done");
    let events = harness.events();
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::Connecting { attempt: 0 },
                Event::ConnectFailed {
                    error: Error::Timeout {
                        what: crate::error::Timeout::Connect,
                        ..
                    },
                    will_reconnect: false,
                },
                Event::GaveUp { .. },
                Event::Closed,
            ]
        ),
        "{events:?}"
    );
}

/// A send accepted by the channel just as the client stopped would otherwise vanish with the
/// channel: it must come back, before `Closed`, and later sends must fail.
#[test]
fn a_send_racing_the_final_close_comes_back_before_closed() {
    let mut harness = Harness::new(|options| options, true);
    let inner = &mut harness.driver.inner;
    let now = inner.now();
    inner.session.start(now);
    let _connect = inner.session.poll_work();
    let close = Command::Close {
        code: CloseCode::NORMAL,
        reason: Text::new(),
    };
    inner.session.command(close, now);
    harness.send_text("late").unwrap();
    harness.driver.inner.forward_events();

    let seen = harness.events();
    assert!(
        matches!(
            seen.as_slice(),
            [
                Event::Connecting { attempt: 0 },
                Event::Disconnected { .. },
                Event::Rejected { message, reason: SendErrorKind::Closed },
                Event::Closed,
            ] if message.as_text() == Some("late")
        ),
        "{seen:?}"
    );
    assert!(harness.send_text("later").is_err());
}

#[test]
fn every_handle_gone_closes_with_going_away() {
    let mut harness = Harness::open();
    harness.events = None;
    harness.client = None;
    assert!(harness.poll().is_pending(), "waits for the server's reply");
    let wire = harness.wire();
    let Some(WireMessage::Close(Some(CloseFrame { code, .. }))) = wire.fed.last() else {
        panic!("{:?}", wire.fed);
    };
    assert_eq!(u16::from(*code), 1001);
}

#[test]
fn a_busy_connection_yields_to_the_executor_and_asks_to_come_back() {
    let mut harness = Harness::new(|options| options.event_capacity(1 << 20), false);
    harness.wire().endless = true;
    let wakes = Arc::new(Wakes::default());
    assert!(harness.poll_counting(&wakes).is_pending());
    assert_eq!(wakes.0.load(Ordering::Relaxed), 1);
    let read = harness
        .events()
        .iter()
        .filter(|event| matches!(event, Event::Message(_)))
        .count();
    // The first loop connects; the others read a batch each.
    assert_eq!(read, (LOOPS_PER_POLL - 1) * BATCH);
}

#[test]
fn the_application_behind_on_events_stops_the_reading() {
    let mut harness = Harness::new(|options| options.event_capacity(4), false);
    harness.wire().endless = true;
    assert!(harness.poll().is_pending());
    // One batch was read: Connecting, Open and two messages fill the channel, the other 62
    // messages wait in the backlog, and the socket is not read again while they do.
    assert_eq!(harness.wire().reads, BATCH);
    for _ in 0..3 {
        assert_eq!(harness.events().len(), 4, "the channel's capacity");
        assert!(harness.poll().is_pending());
    }
    assert_eq!(harness.wire().reads, BATCH);
    // Reading goes on once the application has caught up with the backlog.
    let mut polls = 0;
    while harness.wire().reads == BATCH {
        assert!(harness.events().len() <= 4);
        assert!(harness.poll().is_pending());
        polls += 1;
    }
    // 12 events were read above and 4 wait in the channel: the poll that moves the last of
    // the backlog into the channel reads again.
    assert_eq!(polls, (2 + BATCH - 12 - 4).div_ceil(4));
}

fn peer_closes(harness: &Harness) {
    harness
        .wire()
        .inbound
        .push_back(Ok(WireMessage::Close(Some(CloseFrame {
            code: 1000.into(),
            reason: "bye".into(),
        }))));
}

/// How many sockets over the scripted wire are alive (the harness holds one handle).
fn sockets(harness: &Harness) -> usize {
    Arc::strong_count(&harness.wire.0) - 2
}

#[test]
fn the_reply_to_the_peers_close_is_flushed_before_the_socket_goes() {
    let mut harness = Harness::new(
        |options| options.config(Config::builder().no_reconnect().build().unwrap()),
        false,
    );
    assert!(harness.poll().is_pending());
    assert_eq!(sockets(&harness), 1);
    harness.wire().stuck = true;
    peer_closes(&harness);
    assert!(harness.poll().is_pending(), "the reply is not out yet");
    assert_eq!(harness.client().state(), ws_core::State::Closed);
    assert_eq!(sockets(&harness), 1, "kept for the reply");
    harness.wire().stuck = false;
    assert!(harness.poll().is_ready());
    assert_eq!(sockets(&harness), 0);
    let flushes = harness.wire().flushes;
    assert!(flushes >= 1, "{flushes}");
}

#[test]
fn a_close_reply_that_cannot_go_out_is_dropped_at_the_close_timeout() {
    let mut harness = Harness::new(
        |options| {
            options.config(
                Config::builder()
                    .close_timeout(Duration::from_secs(2))
                    .no_reconnect()
                    .build()
                    .unwrap(),
            )
        },
        false,
    );
    assert!(harness.poll().is_pending());
    harness.wire().stuck = true;
    peer_closes(&harness);
    assert!(harness.poll().is_pending());
    harness.advance(Duration::from_millis(1_999));
    assert!(harness.poll().is_pending());
    assert_eq!(sockets(&harness), 1);
    harness.advance(Duration::from_millis(1));
    assert!(
        harness.poll().is_ready(),
        "the timer fired at the close timeout"
    );
    assert_eq!(sockets(&harness), 0);
}

#[test]
fn a_new_attempt_does_not_wait_for_the_close_reply() {
    let mut harness = Harness::new(
        |options| {
            options.config(
                Config::builder()
                    .close_timeout(Duration::from_secs(60))
                    .initial_delay(Duration::from_millis(10))
                    .jitter(ws_core::Jitter::None)
                    .build()
                    .unwrap(),
            )
        },
        false,
    );
    assert!(harness.poll().is_pending());
    harness.wire().stuck = true;
    peer_closes(&harness);
    assert!(harness.poll().is_pending());
    assert_eq!(sockets(&harness), 1);
    harness.advance(Duration::from_millis(10));
    assert!(harness.poll().is_pending());
    // The closing socket went when the attempt started; the new one is open.
    assert_eq!(sockets(&harness), 1);
    assert_eq!(harness.client().state(), ws_core::State::Open);
    assert_eq!(harness.client().stats().opened, 2);
}

#[test]
fn a_stream_that_ends_without_a_close_frame_is_a_lost_connection() {
    let mut harness = Harness::new(
        |options| options.config(Config::builder().no_reconnect().build().unwrap()),
        false,
    );
    assert!(harness.poll().is_pending());
    harness.wire().ended = true;
    assert!(harness.poll().is_ready());
    let events = harness.events();
    let Some(Event::Disconnected {
        cause: Disconnect::Transport(ws_core::TransportError::Eof),
        error: Some(error),
        ..
    }) = events.get(2)
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        error.to_string(),
        "I/O error reading from ws://h/: the connection ended without a close frame"
    );
}

/// A driver dropped unfinished (its task cancelled) ends the state watches: `changed` answers
/// `None` instead of waiting for a state that will never change.
#[test]
fn dropping_the_driver_ends_the_state_watches() {
    let Harness { driver, client, .. } = Harness::new(|options| options, true);
    let client = client.expect("a fresh harness has its client");
    let mut watch = client.watch_state();
    let mut changed = std::pin::pin!(watch.changed());
    let mut context = Context::from_waker(Waker::noop());
    assert!(changed.as_mut().poll(&mut context).is_pending());
    drop(driver);
    assert_eq!(changed.as_mut().poll(&mut context), Poll::Ready(None));
    assert!(
        client.is_closed(),
        "the command channel went with the driver"
    );
}

fn close_code(message: &WireMessage) -> Option<u16> {
    match message {
        WireMessage::Close(Some(frame)) => Some(frame.code.into()),
        _ => None,
    }
}

fn bad_frame() -> WireError {
    WireError::Protocol(tungstenite::error::ProtocolError::NonZeroReservedBits)
}

/// What a sequential client does (read, reply, read again: the reply goes out before the bad
/// frame is even read) the driver does too, although it read both in one batch.
#[test]
fn a_reply_to_a_message_before_a_protocol_violation_goes_out_before_the_close() {
    let mut harness = Harness::new(
        |options| options.config(Config::builder().no_reconnect().build().unwrap()),
        false,
    );
    assert!(harness.poll().is_pending());
    harness.events();
    {
        let mut wire = harness.wire();
        wire.inbound.push_back(Ok(WireMessage::text("hello")));
        wire.inbound.push_back(Err(bad_frame()));
        wire.inbound.push_back(Ok(WireMessage::text("after")));
    }
    assert!(harness.poll().is_pending());
    assert!(harness.wire().fed.is_empty(), "no Close while unread");
    assert_eq!(harness.client().state(), ws_core::State::Open);
    let events = harness.events();
    assert!(
        matches!(&events[..], [Event::Message(message)] if message.as_text() == Some("hello")),
        "{events:?}"
    );
    harness.send_text("echo: hello").unwrap();
    assert!(harness.poll().is_ready(), "closed for good (no reconnect)");
    let wire = harness.wire();
    assert_eq!(wire.fed.len(), 2, "{:?}", wire.fed);
    assert_eq!(wire.fed[0].to_string(), "echo: hello");
    assert_eq!(close_code(&wire.fed[1]), Some(1002));
    assert_eq!(wire.inbound.len(), 1, "nothing after the bad frame is read");
    drop(wire);
    let events = harness.events();
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::Disconnected {
                cause: Disconnect::Transport(ws_core::TransportError::Protocol),
                ..
            }
        )),
        "{events:?}"
    );
}

/// An application that is already waiting for events has nothing left to do: the Close goes
/// out in the same pass.
#[test]
fn a_protocol_violation_with_nothing_unread_fails_at_once() {
    let mut harness = Harness::open();
    harness.events();
    harness.wire().inbound.push_back(Err(bad_frame()));
    assert!(
        harness.poll().is_ready(),
        "a protocol violation is permanent by default"
    );
    let fed = &harness.wire().fed;
    assert_eq!(fed.len(), 1, "{fed:?}");
    assert_eq!(close_code(&fed[0]), Some(1002));
}

/// An application that never reads again does not keep a broken connection open: the wait
/// ends at `close_timeout`.
#[test]
fn a_protocol_violation_behind_unread_events_fails_at_the_close_timeout() {
    let mut harness = Harness::new(
        |options| {
            options.config(
                Config::builder()
                    .close_timeout(Duration::from_secs(2))
                    .no_reconnect()
                    .build()
                    .unwrap(),
            )
        },
        false,
    );
    assert!(harness.poll().is_pending());
    {
        let mut wire = harness.wire();
        wire.inbound.push_back(Ok(WireMessage::text("unread")));
        wire.inbound.push_back(Err(WireError::Utf8("bad".into())));
    }
    assert!(harness.poll().is_pending());
    harness.advance(Duration::from_millis(1999));
    assert!(harness.poll().is_pending());
    assert!(harness.wire().fed.is_empty());
    harness.advance(Duration::from_millis(1));
    assert!(harness.poll().is_ready(), "closed for good (no reconnect)");
    let fed = &harness.wire().fed;
    assert_eq!(fed.len(), 1, "{fed:?}");
    assert_eq!(close_code(&fed[0]), Some(1007));
    assert_eq!(harness.client().state(), ws_core::State::Closed);
}
