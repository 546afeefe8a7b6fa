//! The driver: one future per client, owning the socket, the supervisor and one timer.
//!
//! It is a hand-written [`Future`] rather than an `async` block so that it is a named type the
//! application can spawn on any executor, and so that it can yield to that executor by itself
//! after a bounded amount of work (smol and async-std have no cooperative budget like tokio's).
//!
//! Every wake-up polls every source once, in one function (no `select!`, so each source can be
//! enabled or paused by a plain condition, and the socket can be read and flushed from the same
//! place without two borrows):
//!
//! 1. flush what was fed to the socket (after a batch of writes, or after reading a Ping),
//! 2. the connect attempt, which therefore runs concurrently with everything else,
//! 3. inbound frames, unless the application is behind on events,
//! 4. application commands, unless the socket does not take writes or the backlog is full,
//! 5. room in the event channel for the backlog,
//! 6. the timer, reset in place to the supervisor's `poll_timeout()`.
//!
//! Then: tick the supervisor with a fresh `now`, carry out its work (feed the writes, flushed
//! on the next pass), hand its events on. All policy (heartbeat, backoff, queue) is in ws-core.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::Timer;
use async_tungstenite::tungstenite::{Error as WireError, Message as WireMessage};
use futures_channel::{mpsc as event_channel, oneshot};
use futures_util::{Sink, Stream};
use ws_core::ConnectionId;
use ws_transport::{ClientOptions, Command, Error, Event, Received, Session, Stage, Status, Work};

use crate::client::{Client, Events, SharedStatus};
use crate::connect::{Connected, Socket, connect};

/// Frames or commands taken per source per wake-up, so one busy source cannot starve the
/// others (or the timer).
const BATCH: usize = 64;

/// Loops per `poll` before the driver hands the thread back to the executor: a connection
/// that always has work must not monopolise a worker.
const LOOPS_PER_POLL: usize = 16;

/// Where the writes fed to the socket are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Writes {
    /// Everything fed has been flushed.
    Flushed,
    /// Fed (or a Pong queued by tungstenite), not flushed yet.
    Unflushed,
    /// The last flush could not finish: the socket does not take writes.
    Blocked,
}

impl Writes {
    /// After feeding more: a blocked socket stays blocked until a flush finishes.
    fn max_unflushed(self) -> Writes {
        match self {
            Writes::Flushed | Writes::Unflushed => Writes::Unflushed,
            Writes::Blocked => Writes::Blocked,
        }
    }
}

type Attempt = Pin<Box<dyn Future<Output = Result<Connected, Error>> + Send>>;

enum Transport {
    None,
    Connecting {
        connection: ConnectionId,
        attempt: Attempt,
    },
    Open {
        connection: ConnectionId,
        socket: Box<Socket>,
        server: String,
        label: String,
    },
}

/// The future behind a [`Client`]: spawn it on the executor of your choice (see the crate
/// documentation). It completes once the client is closed for good and the last event is
/// handed over, or once every handle is gone and the connection is closed. Dropping it stops
/// the client at once, without a closing handshake.
#[must_use = "the client does nothing until its driver is spawned or awaited"]
pub struct Driver {
    options: Arc<ClientOptions>,
    session: Session,
    span: tracing::Span,
    /// The origin of the supervisor's clock, set on the first poll: a driver spawned late
    /// does not start with its connect timeout already spent.
    origin: Option<Instant>,
    /// The one timer, reset in place with `set_at`; it disarms itself once it fires.
    timer: Timer,
    armed: Option<Instant>,
    transport: Transport,
    writes: Writes,
    /// Boxed: async-channel's receiver is `!Unpin`, the driver is not.
    commands: Pin<Box<async_channel::Receiver<Command>>>,
    commands_closed: bool,
    events: event_channel::Sender<Event>,
    events_dropped: oneshot::Receiver<()>,
    events_closed: bool,
    /// Events the channel had no room for, in order. While it is not empty the socket is not
    /// read; while it holds `event_capacity` events, commands are not taken either.
    backlog: VecDeque<Event>,
    status: SharedStatus,
}

impl Driver {
    /// A driver for `options` and the handles to talk to it. Nothing happens until the driver
    /// is polled.
    pub(crate) fn new(options: ClientOptions) -> (Driver, Client, Events) {
        let session = Session::new(&options);
        let (command_sender, commands) = async_channel::bounded(options.command_capacity());
        // The channel holds `capacity - 1` plus one slot for its single sender.
        let (events, event_receiver) = event_channel::channel(options.event_capacity() - 1);
        let (alive, events_dropped) = oneshot::channel();
        let status = Arc::new(Mutex::new(Status::of(&session)));
        let label: Arc<str> = options.label().into();
        let driver = Driver {
            span: tracing::info_span!("ws_client", url = %label),
            options: Arc::new(options),
            session,
            origin: None,
            timer: Timer::never(),
            armed: None,
            transport: Transport::None,
            writes: Writes::Flushed,
            commands: Box::pin(commands),
            commands_closed: false,
            events,
            events_dropped,
            events_closed: false,
            backlog: VecDeque::new(),
            status: status.clone(),
        };
        let client = Client::new(command_sender, status, label);
        (driver, client, Events::new(event_receiver, alive))
    }

    /// The supervisor's clock: time since the driver first ran, on the monotonic clock
    /// async-io's timers use. The first call starts it.
    fn now(&mut self) -> ws_core::Instant {
        let origin = *self.origin.get_or_insert_with(Instant::now);
        ws_core::Instant::from_duration(origin.elapsed())
    }

    /// Carries out the supervisor's work and hands its events on; `true` once the client has
    /// stopped for good.
    fn drain(&mut self) -> bool {
        self.carry_out_work();
        // Status first: an application that sees an event finds `state()` up to date.
        self.publish_status();
        self.forward_events();
        self.session.is_closed() && (self.backlog.is_empty() || self.events_closed)
    }

    /// Lets the handles see that the driver is gone: sends fail (the command channel is
    /// normally closed already, at `Closed`), the event stream ends once read.
    fn finish(&mut self) {
        self.transport = Transport::None;
        self.commands.close();
        self.events.close_channel();
        tracing::debug!("driver stopped");
    }

    fn carry_out_work(&mut self) {
        while let Some(work) = self.session.poll_work() {
            match work {
                Work::Connect {
                    connection,
                    attempt,
                } => {
                    self.drop_transport();
                    let attempt = Box::pin(connect(self.options.clone(), attempt));
                    self.transport = Transport::Connecting {
                        connection,
                        attempt,
                    };
                }
                Work::Write(message) => self.write(message),
                Work::Abort => self.drop_transport(),
                other => tracing::warn!(work = ?other, "unknown work ignored"),
            }
        }
    }

    fn write(&mut self, message: WireMessage) {
        let Transport::Open {
            connection, socket, ..
        } = &mut self.transport
        else {
            return;
        };
        let connection = *connection;
        match Pin::new(socket.as_mut()).start_send(message) {
            Ok(()) => self.writes = self.writes.max_unflushed(),
            Err(error) => self.fail(connection, error, Stage::Write),
        }
    }

    /// The open connection broke: drop it and tell the supervisor why.
    fn fail(&mut self, connection: ConnectionId, error: WireError, stage: Stage) {
        let transport = std::mem::replace(&mut self.transport, Transport::None);
        self.drop_transport();
        if let Transport::Open { server, label, .. } = transport {
            let error = Error::transport(error, &label, &server, stage);
            let now = self.now();
            self.session.failed(connection, error, now);
        }
    }

    fn drop_transport(&mut self) {
        self.transport = Transport::None;
        self.writes = Writes::Flushed;
    }

    fn forward_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            if matches!(event, Event::Closed) {
                self.refuse_late_sends();
                // Their rejections go out first: `Closed` stays the last event.
                while let Some(rejected) = self.session.poll_event() {
                    self.deliver(rejected);
                }
            }
            self.deliver(event);
        }
    }

    /// The client has just stopped for good. Closes the command channel, so that every later
    /// send fails with `Error::Stopped`, and hands back the sends it accepted but the driver
    /// never took, as `Event::Rejected`: an accepted send is never lost without a trace, even
    /// one that raced the close. Other commands are moot once closed.
    fn refuse_late_sends(&mut self) {
        self.commands.close();
        let now = self.now();
        while let Ok(command) = self.commands.try_recv() {
            if matches!(command, Command::Send(_) | Command::SendNow(_)) {
                self.session.command(command, now);
            }
        }
    }

    fn deliver(&mut self, event: Event) {
        if self.events_closed {
            return;
        }
        if !self.backlog.is_empty() {
            self.hold(event);
            return;
        }
        match self.events.try_send(event) {
            Ok(()) => {}
            Err(error) if error.is_full() => self.hold(error.into_inner()),
            Err(_) => self.events_closed = true,
        }
    }

    /// Keeps an event the channel has no room for. RTT samples are dropped instead: they are
    /// the only events that arrive without reading the socket or taking a command, so holding
    /// them would let the backlog grow with time; the latest one is in `stats().last_rtt`.
    fn hold(&mut self, event: Event) {
        if matches!(event, Event::Rtt(_)) {
            return;
        }
        self.backlog.push_back(event);
    }

    fn publish_status(&mut self) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = Status::of(&self.session);
    }

    fn arm_timer(&mut self) {
        let deadline = self
            .session
            .poll_timeout()
            .zip(self.origin)
            .and_then(|(at, origin)| origin.checked_add(at.since_origin()));
        if self.armed == deadline {
            return;
        }
        match deadline {
            Some(deadline) => self.timer.set_at(deadline),
            // Dropping the old timer takes its deadline out of the reactor.
            None => self.timer = Timer::never(),
        }
        self.armed = deadline;
    }

    /// Polls every source once; ready if any of them made progress.
    fn poll_sources(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut progress = self.poll_flush(cx);
        progress |= self.poll_attempt(cx);
        progress |= self.poll_inbound(cx);
        progress |= self.poll_commands(cx);
        progress |= self.poll_event_room(cx);
        if self.armed.is_some() && Pin::new(&mut self.timer).poll(cx).is_ready() {
            // A fired timer is disarmed: force a `set_at` on the next arm.
            self.armed = None;
            progress = true;
        }
        if progress {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> bool {
        if self.writes == Writes::Flushed {
            return false;
        }
        let Transport::Open {
            connection, socket, ..
        } = &mut self.transport
        else {
            return false;
        };
        let connection = *connection;
        match Pin::new(socket.as_mut()).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.writes = Writes::Flushed;
                false
            }
            Poll::Ready(Err(error)) => {
                self.fail(connection, error, Stage::Write);
                true
            }
            Poll::Pending => {
                self.writes = Writes::Blocked;
                false
            }
        }
    }

    fn poll_attempt(&mut self, cx: &mut Context<'_>) -> bool {
        let Transport::Connecting {
            connection,
            attempt,
        } = &mut self.transport
        else {
            return false;
        };
        let Poll::Ready(result) = attempt.as_mut().poll(cx) else {
            return false;
        };
        let connection = *connection;
        let now = self.now();
        match result {
            Ok(connected) => {
                self.transport = Transport::Open {
                    connection,
                    socket: Box::new(connected.socket),
                    server: connected.server,
                    label: connected.label,
                };
                self.session.opened(connection, &connected.response, now);
            }
            Err(error) => {
                self.transport = Transport::None;
                self.session.connect_failed(connection, error, now);
            }
        }
        true
    }

    fn poll_inbound(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.backlog.is_empty() && !self.events_closed {
            // The application is behind: leave frames in the socket so TCP pushes back.
            return false;
        }
        let mut progress = false;
        for _ in 0..BATCH {
            let Transport::Open {
                connection, socket, ..
            } = &mut self.transport
            else {
                break;
            };
            let connection = *connection;
            let Poll::Ready(item) = Pin::new(socket.as_mut()).poll_next(cx) else {
                break;
            };
            progress = true;
            let now = self.now();
            match item {
                Some(Ok(message)) => match self.session.received(connection, message, now) {
                    Received::Continue => {}
                    Received::Flush => self.writes = self.writes.max_unflushed(),
                    Received::Finished => {
                        // Best effort: send tungstenite's reply to the peer's Close, then let
                        // the socket go.
                        if let Transport::Open { socket, .. } = &mut self.transport {
                            let _ = Pin::new(socket.as_mut()).poll_flush(cx);
                        }
                        self.drop_transport();
                    }
                },
                Some(Err(error)) => self.fail(connection, error, Stage::Read),
                // async-tungstenite ends the stream on a clean EOF instead of an error.
                None => {
                    self.drop_transport();
                    self.session.ended(connection, now);
                }
            }
        }
        progress
    }

    fn poll_commands(&mut self, cx: &mut Context<'_>) -> bool {
        if self.commands_closed
            || self.writes == Writes::Blocked
            || self.backlog.len() >= self.options.event_capacity()
        {
            return false;
        }
        let mut progress = false;
        for _ in 0..BATCH {
            match self.commands.as_mut().poll_next(cx) {
                Poll::Ready(Some(command)) => {
                    progress = true;
                    let now = self.now();
                    self.session.command(command, now);
                }
                Poll::Ready(None) => {
                    self.commands_closed = true;
                    return true;
                }
                Poll::Pending => break,
            }
        }
        progress
    }

    fn poll_event_room(&mut self, cx: &mut Context<'_>) -> bool {
        if self.events_closed {
            return false;
        }
        if Pin::new(&mut self.events_dropped).poll(cx).is_ready() {
            self.close_events();
            return true;
        }
        if self.backlog.is_empty() {
            return false;
        }
        match self.events.poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                while let Some(event) = self.backlog.pop_front() {
                    match self.events.try_send(event) {
                        Ok(()) => {}
                        Err(error) if error.is_full() => {
                            self.backlog.push_front(error.into_inner());
                            break;
                        }
                        Err(_) => {
                            self.close_events();
                            break;
                        }
                    }
                }
                true
            }
            Poll::Ready(Err(_)) => {
                self.close_events();
                true
            }
            Poll::Pending => false,
        }
    }

    /// The application dropped its event stream: events are discarded from now on.
    fn close_events(&mut self) {
        self.events_closed = true;
        self.backlog.clear();
    }
}

impl Future for Driver {
    type Output = ();

    /// One pass is: carry out the supervisor's work, hand its events on, arm the timer, wait
    /// for any source; then take a fresh `now` and tick. A `poll` re-enters at the top, which
    /// finds nothing to do and goes straight back to waiting.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let span = this.span.clone();
        let _entered = span.enter();
        if this.origin.is_none() {
            let now = this.now();
            this.session.start(now);
        }
        for _ in 0..LOOPS_PER_POLL {
            if this.drain() {
                this.finish();
                return Poll::Ready(());
            }
            this.arm_timer();
            if this.poll_sources(cx).is_pending() {
                return Poll::Pending;
            }
            let now = this.now();
            if this.commands_closed && this.events_closed {
                this.session.abandon(now);
            }
            this.session.tick(now);
        }
        // Still busy: let the executor run other tasks, and come back at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("url", &self.options.label())
            .field("state", &self.session.state())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ws_core::{CloseCode, SendErrorKind, Text};
    use ws_transport::TrySendError;

    /// A send accepted by the channel just as the client stopped would otherwise vanish with
    /// the channel: it must come back, before `Closed`, and later sends must fail.
    #[test]
    fn a_send_racing_the_final_close_comes_back_before_closed() {
        let options = ClientOptions::builder("ws://127.0.0.1:9/")
            .seed(1)
            .build()
            .unwrap();
        let (mut driver, client, mut events) = Driver::new(options);
        let now = driver.now();
        driver.session.start(now);
        let _connect = driver.session.poll_work();
        let close = Command::Close {
            code: CloseCode::NORMAL,
            reason: Text::new(),
        };
        driver.session.command(close, now);
        client.try_send("late").unwrap();
        driver.forward_events();

        let mut seen = Vec::new();
        while let Ok(event) = events.receiver_mut().try_recv() {
            seen.push(event);
        }
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
        assert!(matches!(
            client.try_send("later"),
            Err(TrySendError::Stopped(_))
        ));
    }
}
