//! The supervisor with the bookkeeping every driver needs around it.
//!
//! A driver turns socket happenings into [`Input`]s and [`Action`]s into writes; between the
//! two sit the same few chores in every runtime: converting payloads, classifying errors for
//! the core while keeping the typed error for the application, remembering the negotiated
//! subprotocol, turning a refused send into an event. [`Session`] does those chores, so an
//! adapter is its I/O loop and nothing else. It does no I/O and reads no clock: every call
//! takes `now`, exactly like the [`Supervisor`] inside.

use std::collections::VecDeque;

use bytes::BytesMut;

use tungstenite::Message as WireMessage;
use tungstenite::handshake::client::Response;
use tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use ws_core::{
    Action, CloseCode, ConnectionId, Disconnect, Event as CoreEvent, Input, Instant, State, Stats,
    Supervisor, Text,
};

use crate::command::Command;
use crate::convert::{self, Inbound};
use crate::endpoint::Attempt;
use crate::error::{Error, Stage, Timeout};
use crate::event::Event;
use crate::options::ClientOptions;

/// Work for the driver, already in tungstenite's terms.
#[derive(Debug)]
#[must_use = "work left undone breaks the supervisor's view of the transport"]
pub(crate) enum Work {
    /// Open a new connection for `attempt` and report on it as `connection`. Any previous
    /// connection is already gone (the supervisor never runs two).
    Connect {
        /// The id every report about this connection must carry.
        connection: ConnectionId,
        /// The attempt's number and why the previous one failed.
        attempt: Attempt,
    },
    /// Feed this message to the socket; flush once the batch is fed.
    Write(WireMessage),
    /// Drop the connection (or the attempt) now, without a handshake.
    Abort,
}

/// What the driver must do after a read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[must_use]
pub(crate) enum Received {
    /// Nothing special.
    Continue,
    /// A Ping arrived: tungstenite queued the Pong but sends it only on the next write or
    /// flush, so flush now or a quiet client never answers.
    Flush,
    /// The peer's Close arrived: flush tungstenite's automatic reply, then drop the socket.
    Finished,
}

/// The supervisor plus the adapter-independent glue around it.
#[derive(Debug)]
pub(crate) struct Session {
    supervisor: Supervisor,
    label: String,
    events: VecDeque<Event>,
    /// The typed error behind the input being fed, attached to the `Disconnected` it causes.
    pending_error: Option<Error>,
    /// Why the last connect attempt failed, for the URL function of the next one; cleared
    /// when a connection opens.
    last_connect_failure: Option<Error>,
    subprotocol: Option<Text>,
    /// [`abandon`](Session::abandon) has closed the session.
    abandoned: bool,
    /// The latest `now` the session was given.
    last_now: Instant,
    /// Where heartbeat pings are written, reused from one ping to the next.
    ping_buffer: BytesMut,
    /// Bumped by every call into the supervisor that may have changed it.
    generation: u64,
}

impl Session {
    /// A session for `options`, in [`State::Closed`] until [`start`](Self::start).
    pub(crate) fn new(options: &ClientOptions) -> Self {
        Session {
            supervisor: Supervisor::new(options.shared_config(), options.seed()),
            label: options.label(),
            events: VecDeque::new(),
            pending_error: None,
            last_connect_failure: None,
            subprotocol: None,
            abandoned: false,
            last_now: Instant::ZERO,
            ping_buffer: BytesMut::new(),
            generation: 0,
        }
    }

    /// Starts connecting.
    pub(crate) fn start(&mut self, now: Instant) {
        self.last_now = now;
        self.supervisor.connect(now);
        self.collect();
    }

    /// Carries out an application command. A refused message comes back as
    /// [`Event::Rejected`]; a close with bad arguments is ignored (handles check them first
    /// with [`check_close`](crate::check_close)).
    pub(crate) fn command(&mut self, command: Command, now: Instant) {
        self.last_now = now;
        let refused = match command {
            Command::Send(message) => self.supervisor.send(message, now).err(),
            Command::SendWithin(message, within) => self
                .supervisor
                .send_with_deadline(message, now.saturating_add(within), now)
                .err(),
            Command::SendNow(connection, message) => {
                self.supervisor.send_now(connection, message, now).err()
            }
            Command::Ready(connection) => {
                self.supervisor.ready(connection, now);
                None
            }
            Command::Close { code, reason } => {
                if let Err(error) = self.supervisor.close(code, reason, now) {
                    tracing::warn!(%error, "close ignored");
                }
                None
            }
            Command::ReconnectNow => {
                self.supervisor.reconnect_now(now);
                None
            }
            Command::NetworkChanged => {
                self.supervisor.handle_input(Input::NetworkChanged, now);
                None
            }
        };
        self.collect();
        if let Some(error) = refused {
            tracing::debug!(%error, "send refused");
            let reason = error.kind();
            self.events.push_back(Event::Rejected {
                message: error.into_message(),
                reason,
            });
        }
    }

    /// Every handle of the application is gone: nobody can send or listen any more. Closes
    /// with 1001 (going away), like a browser tab that is closed, so the server sees a proper
    /// goodbye. Does nothing once the session is closed, or when called again.
    pub(crate) fn abandon(&mut self, now: Instant) {
        if self.abandoned || self.is_closed() {
            return;
        }
        self.abandoned = true;
        tracing::debug!("every handle is gone: closing with 1001");
        let close = Command::Close {
            code: CloseCode::GOING_AWAY,
            reason: Text::new(),
        };
        self.command(close, now);
    }

    /// The opening handshake of `connection` completed with `response`.
    pub(crate) fn opened(&mut self, connection: ConnectionId, response: &Response, now: Instant) {
        self.subprotocol = response
            .headers()
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|value| value.to_str().ok())
            .map(|value| Text::from(value.to_owned()));
        self.feed(Input::Opened { connection }, None, now);
        if self.supervisor.connection() == Some(connection) {
            self.last_connect_failure = None;
        }
    }

    /// The attempt `connection` failed before the handshake completed.
    pub(crate) fn connect_failed(&mut self, connection: ConnectionId, error: Error, now: Instant) {
        let failure = error.connect_failure();
        if self.supervisor.connection() == Some(connection) {
            self.last_connect_failure = Some(error.clone());
        }
        self.feed(
            Input::ConnectFailed {
                connection,
                failure,
            },
            Some(error),
            now,
        );
    }

    /// A message was read from `connection`.
    pub(crate) fn received(
        &mut self,
        connection: ConnectionId,
        message: WireMessage,
        now: Instant,
    ) -> Received {
        match convert::inbound(message) {
            Inbound::Frame(frame) => {
                let ping = matches!(frame, ws_core::Frame::Ping(_));
                self.feed(Input::Frame { connection, frame }, None, now);
                if ping {
                    Received::Flush
                } else {
                    Received::Continue
                }
            }
            Inbound::Close { code, reason } => {
                self.feed(
                    Input::Closed {
                        connection,
                        code,
                        reason,
                    },
                    None,
                    now,
                );
                Received::Finished
            }
            Inbound::Nothing => Received::Continue,
        }
    }

    /// Reading from or writing to `connection` failed (the error built with
    /// [`Error::transport`]); the connection is gone.
    pub(crate) fn failed(&mut self, connection: ConnectionId, error: Error, now: Instant) {
        let class = error.transport_error();
        self.feed(
            Input::Error {
                connection,
                error: class,
            },
            Some(error),
            now,
        );
    }

    /// Fires the deadlines that are due at `now`. Call it after every wake-up: it compares
    /// `now` with the deadline itself, so a timer that fired early or late does no harm.
    pub(crate) fn tick(&mut self, now: Instant) {
        self.last_now = now;
        if self.supervisor.poll_timeout().is_some_and(|at| at <= now) {
            self.supervisor.handle_timeout(now);
            self.collect();
        }
    }

    /// The next piece of work. Drain until `None` after every call.
    pub(crate) fn poll_work(&mut self) -> Option<Work> {
        let work = match self.supervisor.poll_action()? {
            Action::Connect {
                connection,
                attempt,
            } => {
                self.subprotocol = None;
                Work::Connect {
                    connection,
                    attempt: Attempt::new(attempt, self.last_connect_failure.clone()),
                }
            }
            Action::Send(message) | Action::Heartbeat(message) => {
                Work::Write(convert::outbound(message))
            }
            Action::Ping(payload) => Work::Write(convert::ping(payload, &mut self.ping_buffer)),
            Action::Close { code, reason } => Work::Write(convert::close(code, reason)),
            Action::Abort => Work::Abort,
            // A newer core asks for something this driver cannot do: the transport can no
            // longer be trusted to match the supervisor's view, so it is dropped and reported
            // as failed (the close policy decides what follows). Never ignored silently.
            unknown => {
                tracing::error!(action = ?unknown, "the supervisor asked for an unknown action");
                if let Some(connection) = self.supervisor.connection() {
                    let error = Error::Io {
                        url: self.label.clone(),
                        stage: Stage::Write,
                        source: std::sync::Arc::new(std::io::Error::other(format!(
                            "the driver cannot carry out {unknown:?}"
                        ))),
                    };
                    self.failed(connection, error, self.last_now);
                }
                Work::Abort
            }
        };
        Some(work)
    }

    /// The next event for the application. Drain until `None` after every call.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Gives back the memory of the drained event queues (its own and the supervisor's); see
    /// [`Supervisor::release_idle_memory`].
    pub(crate) fn release_idle_memory(&mut self) {
        if self.events.is_empty() {
            self.events = VecDeque::new();
            self.supervisor.release_idle_memory();
        }
    }

    /// The earliest deadline: wake up no later than this and [`tick`](Self::tick).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.supervisor.poll_timeout()
    }

    /// The lifecycle state.
    pub(crate) fn state(&self) -> State {
        self.supervisor.state()
    }

    /// The supervisor's counters.
    pub(crate) fn stats(&self) -> Stats {
        self.supervisor.stats()
    }

    /// Changes whenever the supervisor may have changed (its state, its counters): the
    /// driver publishes the status after every pass of its loop, and most passes change
    /// nothing, which this tells without building and comparing the counters.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the client has stopped for good (closed, gave up, or failed permanently).
    pub(crate) fn is_closed(&self) -> bool {
        self.supervisor.state() == State::Closed
    }

    fn feed(&mut self, input: Input, error: Option<Error>, now: Instant) {
        self.last_now = now;
        self.pending_error = error;
        self.supervisor.handle_input(input, now);
        self.collect();
    }

    /// Moves the supervisor's events into ours, translated, in order. Called after every
    /// call that may change the supervisor, so it also marks the change.
    fn collect(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        while let Some(event) = self.supervisor.poll_event() {
            let event = match event {
                CoreEvent::Connecting { attempt } => {
                    tracing::debug!(attempt, "connecting");
                    Event::Connecting { attempt }
                }
                CoreEvent::Open { connection } => {
                    tracing::info!(%connection, subprotocol = ?self.subprotocol, "open");
                    Event::Open {
                        connection,
                        subprotocol: self.subprotocol.clone(),
                    }
                }
                CoreEvent::Message(message) => Event::Message(message),
                CoreEvent::Rtt(rtt) => {
                    tracing::trace!(?rtt, "heartbeat round trip");
                    Event::Rtt(rtt)
                }
                CoreEvent::Disconnected {
                    code,
                    reason,
                    cause,
                    will_reconnect,
                } => {
                    let error = self
                        .pending_error
                        .take()
                        .or_else(|| self.describe(cause, code, &reason));
                    if let Disconnect::ConnectFailed(_) | Disconnect::ConnectTimeout = cause {
                        let error = error.unwrap_or_else(|| self.unexplained_connect_failure());
                        tracing::info!(%cause, will_reconnect, %error, "connect attempt failed");
                        self.events.push_back(Event::ConnectFailed {
                            error,
                            will_reconnect,
                        });
                        continue;
                    }
                    // A connection we failed because the peer broke the protocol ended with
                    // the code we sent, not with a lost link.
                    let code = error.as_ref().and_then(Error::close_code).unwrap_or(code);
                    if let Some(error) = &error {
                        tracing::info!(%code, %cause, will_reconnect, %error, "disconnected");
                    } else {
                        tracing::info!(%code, %cause, will_reconnect, "disconnected");
                    }
                    Event::Disconnected {
                        code,
                        reason,
                        cause,
                        will_reconnect,
                        error,
                    }
                }
                CoreEvent::Reconnecting { attempt, delay } => {
                    tracing::debug!(attempt, ?delay, "reconnecting");
                    Event::Reconnecting { attempt, delay }
                }
                CoreEvent::GaveUp {
                    attempts,
                    undelivered,
                } => {
                    tracing::warn!(attempts, undelivered, "gave up reconnecting");
                    Event::GaveUp {
                        attempts,
                        undelivered,
                    }
                }
                CoreEvent::Undelivered { message, reason } => {
                    Event::Undelivered { message, reason }
                }
                CoreEvent::Closed => {
                    tracing::debug!("closed");
                    Event::Closed
                }
                // A newer core's event this version does not translate: handed on untouched,
                // never dropped (it may carry a message).
                other => Event::Other(other),
            };
            self.events.push_back(event);
        }
        // An error whose input was stale (or changed nothing) describes nothing.
        self.pending_error = None;
    }

    /// The error for a failed connect that no typed error explains (none is expected: every
    /// failed attempt is reported with its error).
    fn unexplained_connect_failure(&self) -> Error {
        Error::Io {
            url: self.label.clone(),
            stage: Stage::Connect,
            source: std::sync::Arc::new(std::io::Error::other("the connect attempt failed")),
        }
    }

    /// The typed error for a disconnect that no I/O error explains.
    fn describe(&self, cause: Disconnect, code: CloseCode, reason: &Text) -> Option<Error> {
        let timeout = |what| Error::Timeout {
            url: self.label.clone(),
            what,
        };
        match cause {
            Disconnect::PeerClosed { .. } => Some(Error::ClosedByPeer {
                code,
                reason: reason.clone(),
            }),
            Disconnect::HeartbeatTimeout => Some(timeout(Timeout::Heartbeat)),
            Disconnect::IdleTimeout => Some(timeout(Timeout::Idle)),
            Disconnect::ConnectTimeout => Some(timeout(Timeout::Connect)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use std::time::Duration;
    use tungstenite::http::Response as HttpResponse;
    use ws_core::{Config, Message, SendErrorKind, TransportError};

    fn session(config: Config) -> Session {
        let options = ClientOptions::builder("ws://h/?token=s3cret")
            .config(config)
            .seed(1)
            .build()
            .unwrap();
        Session::new(&options)
    }

    fn connect(session: &mut Session) -> ConnectionId {
        match session.poll_work() {
            Some(Work::Connect { connection, .. }) => connection,
            other => panic!("expected a connect, got {other:?}"),
        }
    }

    fn drain(session: &mut Session) -> Vec<Event> {
        std::iter::from_fn(|| session.poll_event()).collect()
    }

    #[test]
    fn open_reports_the_subprotocol_and_pings_are_flushed() {
        let mut session = session(Config::default());
        session.start(Instant::ZERO);
        let connection = connect(&mut session);
        let response = HttpResponse::builder()
            .status(101)
            .header("sec-websocket-protocol", "chat.v2")
            .body(None)
            .unwrap();
        session.opened(connection, &response, Instant::from_millis(5));
        let events = drain(&mut session);
        assert!(
            matches!(&events[1], Event::Open { connection: c, subprotocol: Some(p) } if p == "chat.v2" && *c == connection)
        );
        let ping = WireMessage::Ping(bytes::Bytes::from_static(b"x"));
        assert_eq!(
            session.received(connection, ping, Instant::from_millis(6)),
            Received::Flush
        );
        let text = WireMessage::Text("hi".into());
        assert_eq!(
            session.received(connection, text, Instant::from_millis(7)),
            Received::Continue
        );
        assert!(
            matches!(drain(&mut session).as_slice(), [Event::Message(m)] if m.as_text() == Some("hi"))
        );
    }

    #[test]
    fn a_connect_failure_carries_its_typed_error() {
        let mut session = session(Config::builder().no_reconnect().build().unwrap());
        session.start(Instant::ZERO);
        let connection = connect(&mut session);
        let refused = Error::tcp_connect(
            "ws://h/?token=***",
            "127.0.0.1:1".parse().unwrap(),
            std::io::ErrorKind::ConnectionRefused.into(),
        );
        session.connect_failed(connection, refused, Instant::from_millis(1));
        let events = drain(&mut session);
        let Event::ConnectFailed {
            will_reconnect: false,
            error: Error::Refused { .. },
        } = &events[1]
        else {
            panic!("{events:?}");
        };
        assert!(matches!(events.last(), Some(Event::Closed)));
        assert!(session.is_closed());
    }

    #[test]
    fn timeouts_and_peer_closes_are_described() {
        let mut session = session(
            Config::builder()
                .connect_timeout(Duration::from_millis(100))
                .build()
                .unwrap(),
        );
        session.start(Instant::ZERO);
        let _ = connect(&mut session);
        session.tick(Instant::from_millis(99));
        assert_eq!(drain(&mut session).len(), 1, "not due yet");
        session.tick(Instant::from_millis(100));
        assert!(matches!(session.poll_work(), Some(Work::Abort)));
        let events = drain(&mut session);
        let Event::ConnectFailed { error, .. } = &events[0] else {
            panic!("{events:?}");
        };
        assert_eq!(
            error.to_string(),
            "connecting to ws://h/?token=*** timed out"
        );
    }

    #[test]
    fn a_refused_send_comes_back_as_an_event() {
        let mut session = session(Config::builder().queue_max_messages(0).build().unwrap());
        session.start(Instant::ZERO);
        let _ = drain(&mut session);
        session.command(Command::Send(Message::from("lost?")), Instant::ZERO);
        let events = drain(&mut session);
        assert!(matches!(
            events.as_slice(),
            [Event::Rejected { message, reason: SendErrorKind::TooLargeForQueue }] if message.as_text() == Some("lost?")
        ));
    }

    fn open(session: &mut Session) -> ConnectionId {
        session.start(Instant::ZERO);
        let connection = connect(session);
        let response = HttpResponse::builder().status(101).body(None).unwrap();
        session.opened(connection, &response, Instant::ZERO);
        let _ = drain(session);
        connection
    }

    #[test]
    fn abandoning_closes_with_going_away_once_and_never_a_closed_session() {
        let mut open_session = session(Config::default());
        let _ = open(&mut open_session);
        open_session.abandon(Instant::from_millis(1));
        let Some(Work::Write(WireMessage::Close(Some(frame)))) = open_session.poll_work() else {
            panic!("a close frame expected");
        };
        assert_eq!((u16::from(frame.code), frame.reason.as_str()), (1001, ""));
        open_session.abandon(Instant::from_millis(2));
        assert!(open_session.poll_work().is_none(), "closed twice");

        let mut stopped = session(Config::builder().no_reconnect().build().unwrap());
        stopped.start(Instant::ZERO);
        stopped.command(
            Command::Close {
                code: CloseCode::NORMAL,
                reason: Text::new(),
            },
            Instant::ZERO,
        );
        while stopped.poll_work().is_some() {}
        assert!(stopped.is_closed());
        let _ = drain(&mut stopped);
        stopped.abandon(Instant::from_millis(1));
        assert!(stopped.poll_work().is_none() && stopped.poll_event().is_none());
    }

    /// The driver publishes the status only when the generation moved: every change of the
    /// state or the counters must move it.
    #[test]
    fn every_change_of_state_or_counters_moves_the_generation() {
        let mut session = session(Config::default());
        let connection = open(&mut session);
        let mut seen = (session.generation(), Status::of(&session));
        let step = |session: &Session, seen: &mut (u64, Status), what: &str| {
            let now = (session.generation(), Status::of(session));
            assert_ne!(now.0, seen.0, "{what}: the generation did not move");
            assert_ne!(now.1, seen.1, "{what} changed nothing");
            *seen = now;
        };
        session.command(Command::Send(Message::from("out")), Instant::from_millis(1));
        step(&session, &mut seen, "send");
        while session.poll_work().is_some() {}
        let text = WireMessage::Text("in".into());
        let _ = session.received(connection, text, Instant::from_millis(2));
        step(&session, &mut seen, "receive");
        let _ = drain(&mut session);
        assert_eq!(session.generation(), seen.0, "draining changes nothing");
        session.tick(Instant::from_millis(60_000));
        step(&session, &mut seen, "tick");
        assert_eq!(session.state(), State::Open);
        session.command(
            Command::Close {
                code: CloseCode::NORMAL,
                reason: Text::new(),
            },
            Instant::from_millis(61_000),
        );
        step(&session, &mut seen, "close");
        assert_eq!(seen.1.state, State::Closing);
    }

    #[test]
    fn a_read_that_finds_the_stream_closed_is_an_end_without_close_frame() {
        let mut session = session(Config::default());
        let connection = open(&mut session);
        let error = Error::transport(
            tungstenite::Error::ConnectionClosed,
            "ws://h/?token=***",
            "h:80",
            Stage::Read,
        );
        session.failed(connection, error, Instant::from_millis(1));
        let events = drain(&mut session);
        let Event::Disconnected {
            cause: Disconnect::Transport(TransportError::Eof),
            error: Some(error),
            will_reconnect: true,
            ..
        } = &events[0]
        else {
            panic!("{events:?}");
        };
        assert_eq!(
            error.to_string(),
            "I/O error reading from ws://h/?token=***: the connection ended without a close frame"
        );
    }

    #[test]
    fn read_errors_reach_the_core_classified() {
        let mut session = session(Config::default());
        session.start(Instant::ZERO);
        let connection = connect(&mut session);
        let response = HttpResponse::builder().status(101).body(None).unwrap();
        session.opened(connection, &response, Instant::ZERO);
        let _ = drain(&mut session);
        let error = Error::MessageTooLarge { size: 10, max: 5 };
        assert_eq!(error.transport_error(), TransportError::MessageTooLarge);
        session.failed(connection, error, Instant::ZERO);
        let events = drain(&mut session);
        assert!(matches!(
            &events[0],
            Event::Disconnected {
                will_reconnect: false,
                error: Some(Error::MessageTooLarge { size: 10, max: 5 }),
                ..
            }
        ));
    }
}
