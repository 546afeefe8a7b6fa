//! The driver: one I/O thread per client, owning the socket, the supervisor and the wait.
//!
//! Each pass of its loop:
//!
//! 1. carries out the supervisor's work (writes are fed to tungstenite, then flushed once;
//!    a socket without room keeps the rest in tungstenite until the poller reports room),
//! 2. publishes the status and hands events to the application,
//! 3. sleeps in the poller until someone rings, the socket has news, or the supervisor's
//!    `poll_timeout()` (not at all when work is known to be waiting),
//! 4. looks at every source without blocking: the connect attempt, inbound frames (unless
//!    the application is behind on events, or the socket is known to have nothing new),
//!    commands (unless the socket does not take writes or the backlog is full), room in the
//!    event channel,
//! 5. ticks the supervisor with a fresh `now`; it compares `now` with its deadline itself.
//!
//! All policy (heartbeat, backoff, queue) is in ws-core.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use tungstenite::{Error as WireError, Message as WireMessage, WebSocket};
use ws_client::channel::{self, Receiver, Sender};
use ws_client::{
    ClientOptions, Command, Error, Event, Outbox, Received, Session, Stage, Status, Work,
};
use ws_core::ConnectionId;

use crate::client::{Client, Events};
use crate::connect::Attempt;
use crate::link::Stream;
use crate::poller::Poller;
use crate::shared::{Published, Shared};

/// Frames or commands taken per source per pass, so one busy source cannot starve the others
/// (or the timer).
const BATCH: usize = 64;

/// Where the writes fed to the socket are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Writes {
    /// Everything fed has been flushed.
    Flushed,
    /// Fed (or a Pong queued by tungstenite), not flushed yet.
    Unflushed,
    /// The last write could not finish: the socket does not take writes.
    Blocked,
}

enum Transport {
    None,
    Connecting(Attempt),
    Open {
        connection: ConnectionId,
        socket: Box<WebSocket<Stream>>,
        server: String,
        label: String,
    },
}

/// The loop behind a [`Client`]: run it with [`run`](Self::run) on a thread of your own (or
/// let [`connect`](crate::connect) start one). It returns once the client is closed for good
/// and the last event is handed over, or once every handle is gone and the connection is
/// closed.
#[must_use = "nothing happens until the driver runs"]
pub struct Driver {
    options: Arc<ClientOptions>,
    session: Session,
    shared: Arc<Shared>,
    poller: Poller,
    origin: Instant,
    transport: Transport,
    writes: Writes,
    /// A source may have more for us: do not sleep before the next look.
    busy: bool,
    commands: Receiver<Command>,
    /// Every command was taken and every client is gone.
    commands_closed: bool,
    /// The event channel and the backlog of events it had no room for: while anything is held
    /// the socket is not read, while it holds `event_capacity` events commands are not taken
    /// either. Closed once the application drops its events.
    outbox: Outbox<Sender<Event>>,
    /// Every client is gone (commands may still wait in the channel).
    clients_gone: bool,
    /// Connect threads let go of, joined before the driver returns.
    helpers: Vec<JoinHandle<()>>,
}

impl Driver {
    /// A driver for `options` and the handles to talk to it. Nothing happens until
    /// [`run`](Self::run) is called.
    ///
    /// # Errors
    ///
    /// When the operating system cannot create the poller the I/O thread waits in (out of
    /// file descriptors, for instance).
    pub fn new(options: ClientOptions) -> io::Result<(Driver, Client, Events)> {
        let (poller, waker) = Poller::new()?;
        let session = Session::new(&options);
        let (command_sender, commands) = channel::bounded(options.command_capacity());
        let (events, event_receiver) = channel::bounded(options.event_capacity());
        let outbox = Outbox::new(events, options.event_capacity());
        let shared = Arc::new(Shared::new(
            Published {
                status: Status::of(&session),
                stopped: false,
            },
            waker,
        ));
        let label: Arc<str> = options.label().into();
        let driver = Driver {
            options: Arc::new(options),
            session,
            shared: Arc::clone(&shared),
            poller,
            origin: Instant::now(),
            transport: Transport::None,
            writes: Writes::Flushed,
            busy: false,
            commands,
            commands_closed: false,
            outbox,
            clients_gone: false,
            helpers: Vec::new(),
        };
        let (client, events) =
            crate::client::handles(command_sender, event_receiver, shared, label);
        Ok((driver, client, events))
    }

    /// Runs the client until it is closed for good. Logs go to a `ws_client` span that names
    /// the (redacted) URL.
    pub fn run(mut self) {
        let span = tracing::info_span!("ws_client", url = %self.options.label());
        let _entered = span.enter();
        self.origin = Instant::now();
        self.session.start(self.now());
        loop {
            self.carry_out_work();
            self.flush();
            // Status first: an application that sees an event finds `state()` up to date.
            self.publish_status(false);
            self.forward_events();
            if self.session.is_closed() && self.outbox.is_empty() {
                break;
            }
            self.sleep();
            self.poll_attempt();
            self.poll_inbound();
            self.poll_commands();
            let now = self.now();
            let nothing_to_take = self.commands_closed || self.writes == Writes::Blocked;
            if self.clients_gone && nothing_to_take && self.outbox.is_closed() {
                self.session.abandon(now);
            }
            self.session.tick(now);
            for helper in self.helpers.extract_if(.., |helper| helper.is_finished()) {
                let _ = helper.join();
            }
        }
        self.drop_transport();
        for helper in self.helpers.drain(..) {
            let _ = helper.join();
        }
        tracing::debug!("driver stopped");
        self.publish_status(true);
    }

    /// The supervisor's clock: time since `run` started.
    fn now(&self) -> ws_core::Instant {
        ws_core::Instant::from_duration(self.origin.elapsed())
    }

    fn carry_out_work(&mut self) {
        while let Some(work) = self.session.poll_work() {
            match work {
                Work::Connect {
                    connection,
                    attempt,
                } => {
                    self.drop_transport();
                    let options = Arc::clone(&self.options);
                    let shared = Arc::clone(&self.shared);
                    match Attempt::start(options, connection, attempt, shared) {
                        Ok(attempt) => self.transport = Transport::Connecting(attempt),
                        Err(e) => {
                            let error = Error::transport(e.into(), "", "", Stage::Connect);
                            self.session.connect_failed(connection, error, self.now());
                        }
                    }
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
        // tungstenite keeps the frame even when writing it out would block.
        match socket.write(message) {
            Ok(()) if self.writes == Writes::Blocked => {}
            Ok(()) => self.writes = Writes::Unflushed,
            Err(error) if would_block(&error) => self.writes = Writes::Blocked,
            Err(error) => self.fail(connection, error, Stage::Write),
        }
    }

    /// Flushes what was fed, once per pass.
    fn flush(&mut self) {
        if self.writes == Writes::Flushed {
            return;
        }
        let Transport::Open {
            connection, socket, ..
        } = &mut self.transport
        else {
            return;
        };
        if self.writes == Writes::Blocked && !socket.get_mut().link_mut().writable() {
            // No room since the last try: the poller will say when there is.
            return;
        }
        let connection = *connection;
        match socket.flush() {
            Ok(()) => {
                // Commands were left waiting while blocked: take them without sleeping.
                self.busy |= self.writes == Writes::Blocked;
                self.writes = Writes::Flushed;
            }
            Err(error) if would_block(&error) => self.writes = Writes::Blocked,
            Err(error) => self.fail(connection, error, Stage::Write),
        }
    }

    /// Reading from (`Stage::Read`) or writing to the open connection failed: drop it and
    /// tell the supervisor why.
    fn fail(&mut self, connection: ConnectionId, error: WireError, stage: Stage) {
        let transport = std::mem::replace(&mut self.transport, Transport::None);
        self.drop_transport();
        if let Transport::Open { server, label, .. } = transport {
            let now = self.now();
            if stage == Stage::Read {
                self.session
                    .read_failed(connection, error, &label, &server, now);
            } else {
                self.session
                    .write_failed(connection, error, &label, &server, now);
            }
        }
        // The supervisor has work and events now: deliver them before sleeping.
        self.busy = true;
    }

    fn drop_transport(&mut self) {
        match std::mem::replace(&mut self.transport, Transport::None) {
            Transport::Connecting(attempt) => self.helpers.push(attempt.abandon()),
            Transport::Open { mut socket, .. } => {
                self.poller.forget(socket.get_mut().link_mut());
            }
            Transport::None => {}
        }
        self.writes = Writes::Flushed;
    }

    fn forward_events(&mut self) {
        let was_closed = self.outbox.is_closed();
        // Frames and commands may have waited for this room: look without sleeping.
        self.busy |= self.outbox.flush();
        while let Some(event) = self.session.poll_event() {
            self.outbox.push(event);
        }
        if !self.outbox.is_empty() {
            // Ask for a ring when the application takes an event, then look once more: an
            // event taken before the request did not ring.
            self.shared.want_room();
            self.busy |= self.outbox.flush();
        }
        self.busy |= self.outbox.is_closed() != was_closed;
    }

    fn publish_status(&self, stopped: bool) {
        self.shared.publish(Published {
            status: Status::of(&self.session),
            stopped,
        });
    }

    /// Waits for a ring, news from the socket, or the supervisor's next deadline.
    fn sleep(&mut self) {
        let deadline = self
            .session
            .poll_timeout()
            .and_then(|at| self.origin.checked_add(at.since_origin()));
        let woken = self.poller.wait(&self.shared, deadline, self.busy);
        self.busy = false;
        if let Transport::Open { socket, .. } = &mut self.transport {
            let link = socket.get_mut().link_mut();
            if woken.readable {
                link.mark_readable();
            }
            if woken.writable {
                link.mark_writable();
            }
        }
        let gone = woken.gone;
        if gone.events && !self.outbox.is_closed() {
            self.outbox.close();
            self.busy = true;
        }
        self.clients_gone |= gone.clients;
    }

    fn poll_attempt(&mut self) {
        let Transport::Connecting(attempt) = &self.transport else {
            return;
        };
        let Some(outcome) = attempt.outcome() else {
            return;
        };
        let Transport::Connecting(attempt) =
            std::mem::replace(&mut self.transport, Transport::None)
        else {
            unreachable!("checked above");
        };
        let connection = attempt.connection;
        self.helpers.push(attempt.abandon());
        let now = self.now();
        match outcome.and_then(|mut connected| {
            let link = connected.socket.get_mut().link_mut();
            match self.poller.watch(link) {
                Ok(()) => Ok(connected),
                Err(e) => Err(Error::transport(
                    e.into(),
                    &connected.label,
                    &connected.server,
                    Stage::Connect,
                )),
            }
        }) {
            Ok(connected) => {
                self.transport = Transport::Open {
                    connection,
                    socket: Box::new(connected.socket),
                    server: connected.server,
                    label: connected.label,
                };
                self.session.opened(connection, &connected.response, now);
                // Frames that came with the handshake response are already in tungstenite's
                // buffer: no ring will announce them.
                self.busy = true;
            }
            Err(error) => self.session.connect_failed(connection, error, now),
        }
    }

    fn poll_inbound(&mut self) {
        if !self.outbox.may_read() {
            // The application is behind: leave frames in the socket so TCP pushes back.
            return;
        }
        for _ in 0..BATCH {
            let now = self.now();
            let Transport::Open {
                connection, socket, ..
            } = &mut self.transport
            else {
                return;
            };
            let connection = *connection;
            if !socket.get_ref().may_have_input() {
                return;
            }
            match socket.read() {
                Ok(message) => match self.session.received(connection, message, now) {
                    Received::Continue => {}
                    Received::Flush => {
                        if self.writes == Writes::Flushed {
                            self.writes = Writes::Unflushed;
                        }
                    }
                    Received::Finished => {
                        // Best effort: send tungstenite's reply to the peer's Close, then let
                        // the socket go.
                        let _ = socket.flush();
                        self.drop_transport();
                        return;
                    }
                },
                Err(error) if would_block(&error) => return,
                Err(error) => {
                    self.fail(connection, error, Stage::Read);
                    return;
                }
            }
        }
        self.busy = true;
    }

    fn poll_commands(&mut self) {
        if self.commands_closed
            || self.writes == Writes::Blocked
            || !self.outbox.may_take_commands()
        {
            return;
        }
        for _ in 0..BATCH {
            let Some(command) = self.commands.try_recv() else {
                self.commands_closed = self.commands.is_terminated();
                return;
            };
            let now = self.now();
            self.session.command(command, now);
        }
        self.busy = true;
    }
}

fn would_block(error: &WireError) -> bool {
    matches!(error, WireError::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}
