//! The one driver every adapter runs: one future per client, owning the socket, the
//! supervisor and one timer, generic over a small [`Runtime`] trait (a clock, the timer,
//! connect attempts). ws-tokio, ws-async-std and ws-blocking are a `Runtime` each (the
//! blocking one polls this future on its I/O thread); the loop below is written once.
//!
//! It is a hand-written [`Future`] rather than an `async` block so that it is a named type an
//! application can spawn on any executor, and so that it yields to that executor by itself
//! after a bounded amount of work (smol and async-std have no cooperative budget like
//! tokio's).
//!
//! Every wake-up polls every source once, in one function (no `select!`, so each source can be
//! enabled or paused by a plain condition, and the socket can be read and flushed from the same
//! place without two borrows):
//!
//! 1. flush what was fed to the socket (after a batch of writes, or after reading a Ping),
//!    and the reply to the peer's Close on the socket it ended,
//! 2. the connect attempt, which therefore runs concurrently with everything else,
//! 3. inbound frames, unless the application is behind on events (or the peer broke the
//!    protocol),
//! 4. application commands, unless the socket does not take writes or the backlog is full,
//! 5. a pending protocol failure, once the application has acted on what came before it,
//! 6. room in the event channel for the backlog,
//! 7. the timer, reset in place to the supervisor's `poll_timeout()` (or to the end of the
//!    close reply's flush, if that comes first).
//!
//! Then: tick the supervisor with a fresh `now`, carry out its work (feed the writes, flushed
//! once on the next pass), hand its events on. All policy (heartbeat, backoff, queue) is in
//! ws-core; the backlog policy is the [`Outbox`]'s.

#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use futures_sink::Sink;
use tungstenite::{Error as WireError, Message as WireMessage};
use ws_core::ConnectionId;

use crate::client::Client;
use crate::command::{Command, CommandReceiver, command_channel};
use crate::convert;
use crate::endpoint::BoxFuture;
use crate::error::{Error, Stage};
use crate::event::Event;
use crate::events::{EventSender, Events};
use crate::inbox::Inbox;
use crate::options::ClientOptions;
use crate::outbox::Outbox;
use crate::runtime::{Connected, Runtime, Timer};
use crate::session::{Received, Session, Work};
use crate::status::{SharedStatus, Status, StatusPublisher};

/// Frames or commands taken per source per wake-up, so one busy source cannot starve the
/// others (or the timer).
const BATCH: usize = 64;

/// Loops per `poll` before the driver hands the thread back to the executor: a connection
/// that always has work must not monopolise a worker.
const LOOPS_PER_POLL: usize = 16;

/// The sources found pending in this `poll`, their waker registered: any change to them
/// wakes the driver, so the passes after the first skip them until `poll` returns. A
/// message costs two wake-ups and four passes; each source is asked once per wake-up,
/// not once per pass.
#[derive(Clone, Copy, Default, Debug)]
#[allow(clippy::struct_excessive_bools)] // one flag per source, all reset together
struct Registered {
    commands: bool,
    /// The open socket (a read came up empty, or the runtime says nothing arrived).
    read: bool,
    /// The application's event stream, for being dropped.
    dropped: bool,
    /// The timer, at the deadline `armed`.
    timer: bool,
}

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

enum Transport<S> {
    None,
    Connecting {
        connection: ConnectionId,
        attempt: BoxFuture<Result<Connected<S>, Error>>,
    },
    Open {
        connection: ConnectionId,
        /// Boxed: keeps the transport small while connecting or disconnected.
        socket: Box<S>,
        server: String,
        label: String,
    },
}

/// A socket the peer closed, kept until tungstenite's reply to the peer's Close is flushed.
/// The supervisor is done with it; it is dropped once the reply is out, at `until` (the
/// close timeout), or when the next connect attempt starts, whichever comes first: a new
/// attempt never waits for it, and never runs beside it.
struct Closing<S> {
    socket: Box<S>,
    until: Option<Instant>,
}

/// The peer broke the protocol on the open connection, after frames the application has not
/// finished with. A sequential client (read, reply, read again) would have sent its replies to
/// those frames before it read the bad one; so does the driver: it stops reading, keeps
/// taking the application's commands, and fails the connection (with the Close code that says
/// why) once the application has read every event and asked for the next, or at `until`
/// (`close_timeout`), whichever comes first.
struct PeerFault {
    error: Error,
    until: Option<Instant>,
}

/// The future behind a client: spawn it on the runtime `R` belongs to (or let the adapter do
/// it). It completes once the client is closed for good and the last event is handed over, or
/// once every handle is gone and the connection is closed. Dropping it stops the client at
/// once, without a closing handshake. Logs go to a `ws_client` span that names the (redacted)
/// URL.
#[must_use = "the client does nothing until its driver is polled"]
pub struct Driver<R: Runtime> {
    span: tracing::Span,
    inner: Inner<R>,
}

struct Inner<R: Runtime> {
    runtime: R,
    options: Arc<ClientOptions>,
    session: Session,
    /// The origin of the supervisor's clock, set on the first poll: a driver spawned late
    /// does not start with its connect timeout already spent.
    origin: Option<Instant>,
    /// The clock as read in this pass of the loop, shared by its inputs and its tick.
    pass_now: Option<ws_core::Instant>,
    timer: R::Timer,
    /// The deadline the timer is set to; `None` once it fired (or while there is none).
    armed: Option<Instant>,
    transport: Transport<R::Socket>,
    writes: Writes,
    /// The last read found no complete frame: ask the runtime before reading again.
    inbound_idle: bool,
    /// Where small received payloads are copied, so that tungstenite can reuse its buffer.
    inbox: Inbox,
    /// A message went in or out since the last heartbeat: the queues are in use.
    busy: bool,
    registered: Registered,
    closing: Option<Closing<R::Socket>>,
    peer_fault: Option<PeerFault>,
    commands: CommandReceiver,
    commands_closed: bool,
    outbox: Outbox<EventSender>,
    status: StatusPublisher,
}

impl<R: Runtime> Driver<R> {
    /// A driver for `options` on `runtime`, and the application's handles on it. Nothing
    /// happens until the driver is polled.
    pub fn new(options: ClientOptions, runtime: R) -> (Driver<R>, Client, Events) {
        let session = Session::new(&options);
        let (command_sender, commands) = command_channel(options.command_capacity());
        let (events, sender) = Events::channel(options.event_capacity());
        // The driver starts connecting the first time it runs: until then the handles say so,
        // not `Closed`, which would read as "stopped for good".
        let status = SharedStatus::new(Status {
            state: ws_core::State::Connecting,
            ..Status::of(&session)
        });
        let client = Client::new(command_sender, status.clone(), options.label().into());
        let inner = Inner {
            inbox: Inbox::new(options.limits().read_buffer_size),
            busy: false,
            timer: runtime.timer(),
            runtime,
            outbox: Outbox::new(sender, options.event_capacity()),
            options: Arc::new(options),
            session,
            origin: None,
            pass_now: None,
            armed: None,
            transport: Transport::None,
            writes: Writes::Flushed,
            inbound_idle: false,
            registered: Registered::default(),
            closing: None,
            peer_fault: None,
            commands,
            commands_closed: false,
            status: StatusPublisher::new(status.clone()),
        };
        let driver = Driver {
            span: tracing::info_span!("ws_client", url = %inner.options.label()),
            inner,
        };
        (driver, client, events)
    }
}

impl<R: Runtime> Future for Driver<R> {
    type Output = ();

    /// One pass is: carry out the supervisor's work, hand its events on, arm the timer, wait
    /// for any source; then take a fresh `now` and tick. A `poll` re-enters at the top, which
    /// finds nothing to do and goes straight back to waiting.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Driver { span, inner } = self.get_mut();
        let _entered = span.enter();
        inner.poll(cx)
    }
}

/// A driver dropped before it finished (its task cancelled, its thread gone) still ends the
/// state watches, like a driver that finished: the state will not change any more.
impl<R: Runtime> Drop for Driver<R> {
    fn drop(&mut self) {
        self.inner.status.finish();
    }
}

impl<R: Runtime> fmt::Debug for Driver<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("url", &self.inner.options.label())
            .field("state", &self.inner.session.state())
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Inner<R> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.origin.is_none() {
            let now = self.now();
            self.session.start(now);
        }
        // A new `poll` may come with a new waker, and is asked to look at everything.
        self.registered = Registered::default();
        for _ in 0..LOOPS_PER_POLL {
            self.pass_now = None;
            if self.drain() {
                self.finish();
                return Poll::Ready(());
            }
            self.arm_timer();
            if self.poll_sources(cx).is_pending() {
                return Poll::Pending;
            }
            let now = self.now();
            if self.commands_closed && self.outbox.is_closed() {
                self.session.abandon(now);
            }
            self.session.tick(now);
        }
        // Still busy: let the executor run other tasks, and come back at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// The supervisor's clock: time since the driver first ran, on the runtime's clock. The
    /// first call starts it. Read once per pass (a pass takes microseconds, and reading the
    /// clock is a good part of a message's work): what a pass takes in and its tick share the
    /// reading, except after the timer fired, whose tick reads it afresh.
    fn now(&mut self) -> ws_core::Instant {
        if let Some(now) = self.pass_now {
            return now;
        }
        let now = self.runtime.now();
        let origin = *self.origin.get_or_insert(now);
        let now = ws_core::Instant::from_duration(now.saturating_duration_since(origin));
        self.pass_now = Some(now);
        now
    }

    /// Carries out the supervisor's work and hands its events on; `true` once the client has
    /// stopped for good and every event is handed over.
    fn drain(&mut self) -> bool {
        self.carry_out_work();
        // Status first: an application that sees an event finds `state()` up to date.
        self.status.publish(&self.session);
        self.forward_events();
        self.session.is_closed() && self.outbox.is_empty() && self.closing.is_none()
    }

    /// Lets the handles see that the driver is gone: sends fail (the command channel is
    /// normally closed already, at `Closed`), the event stream ends once read.
    fn finish(&mut self) {
        self.transport = Transport::None;
        self.closing = None;
        self.commands.close();
        self.outbox.sink_mut().close();
        self.status.finish();
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
                    self.closing = None;
                    let attempt = self.runtime.connect(Arc::clone(&self.options), attempt);
                    self.transport = Transport::Connecting {
                        connection,
                        attempt,
                    };
                }
                Work::Write(message) => self.write(message),
                Work::Abort => self.drop_transport(),
            }
        }
    }

    /// Feeds `message` to the socket; the flush comes once the batch is fed.
    fn write(&mut self, message: WireMessage) {
        let Transport::Open { socket, .. } = &mut self.transport else {
            return;
        };
        match Pin::new(socket.as_mut()).start_send(message) {
            Ok(()) => self.writes = self.writes.max_unflushed(),
            Err(error) => self.fail(error, Stage::Write),
        }
    }

    /// Reading from (`Stage::Read`) or writing to the open connection failed: drop it and
    /// tell the supervisor why.
    ///
    /// When the peer broke the protocol (invalid UTF-8, a bad frame, a message over the
    /// limit), the peer is told why before the socket goes (RFC 6455 §7.1.7): a Close with
    /// 1007, 1002 or 1009 is written and flushed, for at most `close_timeout`, on the socket
    /// the supervisor has already let go of.
    fn fail(&mut self, error: WireError, stage: Stage) {
        let Transport::Open { server, label, .. } = &self.transport else {
            return;
        };
        let error = Error::transport(error, label, server, stage);
        self.fail_with(error, stage);
    }

    /// [`fail`](Self::fail), with the error classified.
    fn fail_with(&mut self, error: Error, stage: Stage) {
        let transport = std::mem::replace(&mut self.transport, Transport::None);
        self.drop_transport();
        let Transport::Open {
            connection,
            mut socket,
            ..
        } = transport
        else {
            return;
        };
        let now = self.now();
        if stage == Stage::Read
            && let Some(code) = error.close_code()
        {
            let close = convert::close(code, ws_core::Text::new());
            if Pin::new(socket.as_mut()).start_send(close).is_ok() {
                self.let_close_out(socket);
            }
        }
        self.session.failed(connection, error, now);
    }

    /// Keeps `socket`, whose last frame is a Close, until that Close is flushed or
    /// `close_timeout` passes.
    fn let_close_out(&mut self, socket: Box<R::Socket>) {
        let until = self
            .runtime
            .now()
            .checked_add(self.options.config().close_timeout());
        self.closing = Some(Closing { socket, until });
    }

    fn drop_transport(&mut self) {
        self.transport = Transport::None;
        self.writes = Writes::Flushed;
        self.inbound_idle = false;
        self.peer_fault = None;
    }

    /// Reading found the peer at fault. A protocol violation waits for the application to
    /// act on the frames before it ([`PeerFault`]); anything else fails the connection now.
    fn read_failed(&mut self, error: WireError) {
        let Transport::Open { server, label, .. } = &self.transport else {
            return;
        };
        let error = Error::transport(error, label, server, Stage::Read);
        if error.close_code().is_none() || self.session.state() != ws_core::State::Open {
            self.fail_with(error, Stage::Read);
            return;
        }
        let until = self
            .runtime
            .now()
            .checked_add(self.options.config().close_timeout());
        self.peer_fault = Some(PeerFault { error, until });
    }

    fn forward_events(&mut self) {
        let mut heartbeat = false;
        while let Some(event) = self.session.poll_event() {
            heartbeat |= matches!(event, Event::Rtt(_));
            self.busy |= matches!(event, Event::Message(_));
            if matches!(event, Event::Closed) {
                self.refuse_late_sends();
                // Their rejections go out first: `Closed` stays the last event.
                while let Some(rejected) = self.session.poll_event() {
                    self.outbox.push(rejected);
                }
            }
            self.outbox.push(event);
        }
        if heartbeat && !std::mem::replace(&mut self.busy, false) {
            self.release_idle_memory();
        }
    }

    /// At a heartbeat with no message in or out since the previous one, lets go of the
    /// storage the event queues grew to: each keeps its capacity otherwise, so that traffic
    /// allocates nothing per message (nor per ping), and an idle connection would hold what
    /// its busiest moment (or an unread backlog) needed. An idle connection pays for it with
    /// a few small allocations per `ping_interval`.
    fn release_idle_memory(&mut self) {
        self.session.release_idle_memory();
        self.outbox.sink_mut().release_when_drained();
    }

    /// The client has just stopped for good. Closes the command channel, so that every later
    /// send fails with `Error::Closed`, and hands back the sends it accepted but the driver
    /// never took, as `Event::Rejected`: an accepted send is never lost without a trace, even
    /// one that raced the close. Other commands are moot once closed.
    fn refuse_late_sends(&mut self) {
        self.commands.close();
        let now = self.now();
        while let Some(command) = self.commands.try_recv() {
            if let Some(message) = command.into_message() {
                self.session.command(Command::Send(message), now);
            }
        }
    }

    /// Sets the timer to the next deadline (the supervisor's, the end of a close reply's
    /// flush, or the end of a protocol failure's wait), unless it is set to it already.
    fn arm_timer(&mut self) {
        let supervisor = self
            .session
            .poll_timeout()
            .zip(self.origin)
            .and_then(|(at, origin)| origin.checked_add(at.since_origin()));
        let closing = self.closing.as_ref().and_then(|closing| closing.until);
        let fault = self.peer_fault.as_ref().and_then(|fault| fault.until);
        let deadline = [supervisor, closing, fault].into_iter().flatten().min();
        if self.armed == deadline {
            return;
        }
        // A deadline that moved later (the heartbeat, pushed back by every frame read) is
        // left where it was: the timer fires early, the tick finds nothing due, and the timer
        // is set to the new deadline then. One early wake-up per heartbeat interval instead of
        // a timer reset per message (several times the rest of a message's work on tokio).
        if let (Some(armed), Some(later)) = (self.armed, deadline)
            && later > armed
        {
            return;
        }
        self.timer.set(deadline);
        self.armed = deadline;
        self.registered.timer = false;
    }

    /// Polls every source once; ready if any of them made progress.
    fn poll_sources(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut progress = self.poll_flush(cx);
        progress |= self.poll_closing(cx);
        progress |= self.poll_attempt(cx);
        // Before commands are taken: a command taken in this pass is carried out on the next,
        // so failing the connection after taking it would leave its write without a socket.
        // (Failing first, the supervisor knows, and queues what comes next for the next
        // connection.)
        progress |= self.poll_peer_fault(cx);
        progress |= self.poll_inbound(cx);
        progress |= self.poll_commands(cx);
        progress |= self.poll_event_room(cx);
        if self.armed.is_some() && !self.registered.timer {
            if self.timer.poll_expired(cx).is_ready() {
                // A fired timer needs setting again, even to the same deadline.
                self.armed = None;
                self.pass_now = None;
                progress = true;
            } else {
                self.registered.timer = true;
            }
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
        let Transport::Open { socket, .. } = &mut self.transport else {
            return false;
        };
        match Pin::new(socket.as_mut()).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.writes = Writes::Flushed;
                false
            }
            Poll::Ready(Err(error)) => {
                self.fail(error, Stage::Write);
                true
            }
            Poll::Pending => {
                self.writes = Writes::Blocked;
                false
            }
        }
    }

    /// The peer's Close arrived on the open socket: tungstenite queued the reply. The socket
    /// leaves the transport (the supervisor has moved on), and is flushed until the reply is
    /// out or `close_timeout` passes.
    fn close_by_peer(&mut self, cx: &mut Context<'_>) {
        let Transport::Open { socket, .. } =
            std::mem::replace(&mut self.transport, Transport::None)
        else {
            return;
        };
        self.writes = Writes::Flushed;
        self.let_close_out(socket);
        self.poll_closing(cx);
    }

    /// Flushes the close reply; `true` once the socket is let go (the driver may be done).
    fn poll_closing(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(closing) = &mut self.closing else {
            return false;
        };
        let expired = closing
            .until
            .is_some_and(|until| self.runtime.now() >= until);
        if !expired
            && Pin::new(closing.socket.as_mut())
                .poll_flush(cx)
                .is_pending()
        {
            return false;
        }
        if expired {
            tracing::debug!("the reply to the peer's close could not be sent in time");
        }
        self.closing = None;
        true
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
        if !self.outbox.may_read() || self.peer_fault.is_some() {
            // The application is behind: leave frames in the socket so TCP pushes back. (Or
            // the peer broke the protocol: nothing after that is read.)
            return false;
        }
        // Idle only on the socket that registered: a new one starts out not idle.
        if self.inbound_idle && self.registered.read {
            return false;
        }
        if self.inbound_idle
            && let Transport::Open { socket, .. } = &self.transport
            && R::poll_read_ready(socket, cx).is_pending()
        {
            self.registered.read = true;
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
            if self.peer_fault.is_some() {
                break;
            }
            let connection = *connection;
            let Poll::Ready(item) = Pin::new(socket.as_mut()).poll_next(cx) else {
                self.inbound_idle = true;
                self.registered.read = true;
                break;
            };
            self.inbound_idle = false;
            progress = true;
            let now = self.now();
            let item = item.map(|read| read.map(|message| self.inbox.adopt(message)));
            match item {
                Some(Ok(message)) => match self.session.received(connection, message, now) {
                    Received::Continue => {}
                    Received::Flush => self.writes = self.writes.max_unflushed(),
                    Received::Finished => self.close_by_peer(cx),
                },
                Some(Err(error)) => self.read_failed(error),
                // The stream ends on a clean EOF instead of an error: the same end without a
                // Close frame, named with this connection's URL.
                None => self.fail(WireError::ConnectionClosed, Stage::Read),
            }
        }
        progress
    }

    /// Takes the application's commands, except while the socket does not take writes, while
    /// the event backlog is full, and while our Close waits for the peer's: a command then can
    /// only be refused, and refusals that keep the application busy could keep the backlog from
    /// draining, so the socket would not be read and the peer's Close never seen. They wait in
    /// the channel instead, and come back once the client has closed (`refuse_late_sends`).
    fn poll_commands(&mut self, cx: &mut Context<'_>) -> bool {
        if self.commands_closed
            || self.registered.commands
            || self.writes == Writes::Blocked
            || !self.outbox.may_take_commands()
            || self.session.state() == ws_core::State::Closing
        {
            return false;
        }
        let mut progress = false;
        for _ in 0..BATCH {
            match self.commands.poll_recv(cx) {
                Poll::Ready(Some(command)) => {
                    progress = true;
                    self.busy = true;
                    let now = self.now();
                    self.session.command(command, now);
                }
                Poll::Ready(None) => {
                    self.commands_closed = true;
                    return true;
                }
                Poll::Pending => {
                    self.registered.commands = true;
                    break;
                }
            }
        }
        progress
    }

    /// Fails the connection for the peer's protocol violation once the application has read
    /// every event before it, asked for the next, and every command it sent meanwhile has
    /// been taken and fed to the socket ahead of the Close; or once the wait is over.
    fn poll_peer_fault(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(fault) = &self.peer_fault else {
            return false;
        };
        let expired = fault.until.is_some_and(|until| self.runtime.now() >= until);
        // The application asked for more after sending what it sent in response: once the
        // ask is seen, an empty command channel means every such command was taken (and, a
        // pass ago, fed to the socket). The order of the two looks matters.
        let asked = self.outbox.is_closed()
            || (self.outbox.is_empty() && self.outbox.sink_mut().poll_drained(cx).is_ready());
        let acted_on = asked && (self.commands_closed || self.commands.is_empty());
        if !expired && !acted_on && self.session.state() == ws_core::State::Open {
            return false;
        }
        if let Some(fault) = self.peer_fault.take() {
            self.fail_with(fault.error, Stage::Read);
        }
        true
    }

    fn poll_event_room(&mut self, cx: &mut Context<'_>) -> bool {
        if self.outbox.is_closed() {
            return false;
        }
        if !self.registered.dropped {
            if self.outbox.sink_mut().poll_dropped(cx).is_ready() {
                // The application dropped its event stream: events are discarded from now on.
                self.outbox.close();
                return true;
            }
            self.registered.dropped = true;
        }
        if self.outbox.is_empty() {
            return false;
        }
        match self.outbox.sink_mut().poll_room(cx) {
            Poll::Ready(Ok(())) => {
                self.outbox.flush();
                true
            }
            Poll::Ready(Err(())) => {
                self.outbox.close();
                true
            }
            Poll::Pending => false,
        }
    }
}
