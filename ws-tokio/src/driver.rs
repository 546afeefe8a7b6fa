//! The driver: one task per client, owning the socket, the supervisor and one timer.
//!
//! Every wake-up polls every source once, in one function (no `select!` macro, so each source
//! can be enabled or paused by a plain condition, and the socket can be read and flushed from
//! the same place without two borrows):
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
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_channel::mpsc as event_channel;
use futures_util::{Sink, Stream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::{Error as WireError, Message as WireMessage};
use tracing::Instrument;
use ws_core::ConnectionId;
use ws_transport::{ClientOptions, Command, Error, Event, Received, Session, Stage, Status, Work};

use crate::client::{Client, Events};
use crate::connect::{Connected, Socket, connect};

/// Frames or commands taken per source per wake-up, so one busy source cannot starve the
/// others (or the timer).
const BATCH: usize = 64;

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

/// The task behind a [`Client`]: run it with [`run`](Self::run) on a tokio runtime (or let
/// [`connect`](crate::connect) spawn it). It ends once the client is closed for good and the
/// last event is handed over, or once every handle is gone and the connection is closed.
#[must_use = "nothing happens until the driver runs"]
pub struct Driver {
    options: Arc<ClientOptions>,
    session: Session,
    origin: tokio::time::Instant,
    /// Created on the first deadline, then reset in place.
    timer: Option<Pin<Box<Sleep>>>,
    armed: Option<tokio::time::Instant>,
    transport: Transport,
    writes: Writes,
    commands: mpsc::Receiver<Command>,
    commands_closed: bool,
    events: event_channel::Sender<Event>,
    events_dropped: oneshot::Receiver<()>,
    events_closed: bool,
    /// Events the channel had no room for, in order. While it is not empty the socket is not
    /// read; while it holds `event_capacity` events, commands are not taken either.
    backlog: VecDeque<Event>,
    status: watch::Sender<Status>,
}

impl Driver {
    /// A driver for `options` and the handles to talk to it. Nothing happens until
    /// [`run`](Self::run) is polled.
    pub fn new(options: ClientOptions) -> (Driver, Client, Events) {
        let session = Session::new(&options);
        let (command_sender, commands) = mpsc::channel(options.command_capacity());
        // The channel holds `capacity - 1` plus one slot for its single sender.
        let (events, event_receiver) = event_channel::channel(options.event_capacity() - 1);
        let (alive, events_dropped) = oneshot::channel();
        let (status, status_receiver) = watch::channel(Status::of(&session));
        let label: Arc<str> = options.label().into();
        let driver = Driver {
            options: Arc::new(options),
            session,
            origin: tokio::time::Instant::now(),
            timer: None,
            armed: None,
            transport: Transport::None,
            writes: Writes::Flushed,
            commands,
            commands_closed: false,
            events,
            events_dropped,
            events_closed: false,
            backlog: VecDeque::new(),
            status,
        };
        let client = Client::new(command_sender, status_receiver, label);
        (driver, client, Events::new(event_receiver, alive))
    }

    /// Runs the client until it is closed for good. Logs go to a `ws_client` span that names
    /// the (redacted) URL.
    pub async fn run(mut self) {
        let span = tracing::info_span!("ws_client", url = %self.options.label());
        async move {
            self.origin = tokio::time::Instant::now();
            self.session.start(self.now());
            loop {
                self.carry_out_work();
                // Status first: an application that sees an event finds `state()` up to date.
                self.publish_status();
                self.forward_events();
                if self.session.is_closed() && (self.backlog.is_empty() || self.events_closed) {
                    break;
                }
                self.arm_timer();
                poll_fn(|cx| self.poll_sources(cx)).await;
                let now = self.now();
                if self.commands_closed && self.events_closed {
                    self.session.abandon(now);
                }
                self.session.tick(now);
            }
            tracing::debug!("driver stopped");
        }
        .instrument(span)
        .await;
    }

    /// The supervisor's clock: time since `run` started, read from tokio's clock
    /// (so a paused test clock drives it too).
    fn now(&self) -> ws_core::Instant {
        ws_core::Instant::from_duration(tokio::time::Instant::now() - self.origin)
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
            self.session.failed(connection, error, self.now());
        }
    }

    fn drop_transport(&mut self) {
        self.transport = Transport::None;
        self.writes = Writes::Flushed;
    }

    fn forward_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            if self.events_closed {
                continue;
            }
            if !self.backlog.is_empty() {
                self.hold(event);
                continue;
            }
            match self.events.try_send(event) {
                Ok(()) => {}
                Err(error) if error.is_full() => self.hold(error.into_inner()),
                Err(_) => self.events_closed = true,
            }
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
        let status = Status::of(&self.session);
        self.status.send_if_modified(|current| {
            let changed = *current != status;
            *current = status;
            changed
        });
    }

    fn arm_timer(&mut self) {
        let Some(at) = self.session.poll_timeout() else {
            self.armed = None;
            return;
        };
        let deadline = self
            .origin
            .checked_add(at.since_origin())
            .unwrap_or_else(|| self.origin + Duration::from_secs(86_400 * 365));
        if self.armed == Some(deadline) {
            return;
        }
        match &mut self.timer {
            Some(timer) => timer.as_mut().reset(deadline),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        self.armed = Some(deadline);
    }

    /// Polls every source once; ready if any of them made progress.
    fn poll_sources(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut progress = self.poll_flush(cx);
        progress |= self.poll_attempt(cx);
        progress |= self.poll_inbound(cx);
        progress |= self.poll_commands(cx);
        progress |= self.poll_event_room(cx);
        let timer_fired = match (&self.armed, &mut self.timer) {
            (Some(_), Some(timer)) => timer.as_mut().poll(cx).is_ready(),
            _ => false,
        };
        if timer_fired {
            // An elapsed `Sleep` stays ready: force a reset on the next arm.
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
            match self.commands.poll_recv(cx) {
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
