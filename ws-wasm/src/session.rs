//! The supervisor with the browser adapter's bookkeeping around it, free of any browser API.
//!
//! Browser happenings go in (`opened`, `received`, `closed`, platform signals), work for the
//! socket comes out ([`Work`]), and the application's [`Event`]s are collected in order. It
//! reads no clock and touches no JavaScript, so every rule the browser imposes (no protocol
//! pings, which close codes a page may send, what a 1006 means) is tested on the host with a
//! virtual clock.

use std::collections::VecDeque;

use ws_core::{
    Action, CloseCode, ConnectFailure, ConnectionId, Disconnect, Event as CoreEvent, Heartbeat,
    Input, Instant, Message, SendError, SendErrorKind, State, Stats, Supervisor, Text,
};

use crate::close::{BrowserClose, check_browser_close, close_input};
use crate::error::Error;
use crate::event::Event;
use crate::options::{ClientOptions, check_heartbeat, redact};

/// Work for the browser binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// Open a WebSocket for attempt `attempt` and report on it as `connection`. The previous
    /// one is already gone.
    Connect {
        connection: ConnectionId,
        attempt: u32,
    },
    /// Send a message (an application message or an application heartbeat).
    Send(Message),
    /// `WebSocket.close(code, reason)`; the code is one a browser accepts.
    Close { code: CloseCode, reason: Text },
    /// Detach from the socket and let the browser drop it.
    Abort,
}

/// The supervisor plus the browser adapter's glue.
#[derive(Debug)]
pub(crate) struct Session {
    supervisor: Supervisor,
    /// Whether the heartbeat can probe: only an application heartbeat can send anything the
    /// peer answers.
    can_probe: bool,
    events: VecDeque<Event>,
    subprotocol: Option<Text>,
    /// The error behind the input being fed, attached to the `ConnectFailed` it causes.
    pending_error: Option<Error>,
    /// The options' redacted URL, or `(provider)`.
    label: String,
    /// The redacted URL of the current attempt, for the error of a failed one: the label
    /// until a URL provider has answered.
    url: String,
    /// Protocol pings the supervisor asked for and a browser cannot send.
    unsendable_pings: u64,
}

impl Session {
    pub(crate) fn new(options: &ClientOptions, seed: u64) -> Self {
        let config = options.config().clone();
        debug_assert!(check_heartbeat(config.heartbeat()).is_ok());
        let can_probe = matches!(config.heartbeat(), Heartbeat::Application { .. });
        let label = options.label();
        Session {
            supervisor: Supervisor::new(config, seed),
            can_probe,
            events: VecDeque::new(),
            subprotocol: None,
            pending_error: None,
            url: label.clone(),
            label,
            unsendable_pings: 0,
        }
    }

    pub(crate) fn start(&mut self, now: Instant) {
        self.supervisor.connect(now);
        self.collect();
    }

    // ----- application commands -------------------------------------------------------------

    /// Sends or queues `message`; a refusal comes back as [`Event::Rejected`]. Fails only once
    /// the client has stopped for good.
    pub(crate) fn send(&mut self, message: Message, now: Instant) -> Result<(), Error> {
        self.running()?;
        let sent = self.supervisor.send(message, now);
        self.after_send(sent);
        Ok(())
    }

    /// Sends ahead of the queue on the open connection; otherwise the message comes back as
    /// [`Event::Rejected`].
    pub(crate) fn send_now(&mut self, message: Message, now: Instant) -> Result<(), Error> {
        self.running()?;
        match self.supervisor.connection() {
            Some(connection) => {
                let sent = self.supervisor.send_now(connection, message, now);
                self.after_send(sent);
            }
            None => self.events.push_back(Event::Rejected {
                message,
                reason: SendErrorKind::NotOpen,
            }),
        }
        Ok(())
    }

    /// Collects what a send caused; a refused message comes back as [`Event::Rejected`].
    fn after_send(&mut self, sent: Result<(), SendError>) {
        self.collect();
        if let Err(error) = sent {
            let reason = error.kind();
            self.events.push_back(Event::Rejected {
                message: error.into_message(),
                reason,
            });
        }
    }

    /// Releases the queue held by `hold_queue_until_ready`.
    pub(crate) fn ready(&mut self, now: Instant) {
        if let Some(connection) = self.supervisor.connection() {
            self.supervisor.ready(connection, now);
            self.collect();
        }
    }

    /// Closes gracefully, after checking what the browser would throw on.
    pub(crate) fn close(
        &mut self,
        code: CloseCode,
        reason: Text,
        now: Instant,
    ) -> Result<(), Error> {
        check_browser_close(code, &reason)?;
        self.running()?;
        // Checked above with the browser's stricter rule, so the supervisor accepts it.
        let _ = self.supervisor.close(code, reason, now);
        self.collect();
        Ok(())
    }

    pub(crate) fn reconnect_now(&mut self, now: Instant) {
        self.supervisor.reconnect_now(now);
        self.collect();
    }

    /// The platform reports that the network may have changed (`online`, `offline`, the page
    /// becoming visible again after a sleep).
    ///
    /// Connecting or waiting to reconnect: the supervisor retries at once. Open: it probes
    /// with a heartbeat ping whose reply must come within `pong_timeout` (never extending a
    /// deadline already running), so a dead link is found within one `pong_timeout` and a live
    /// one is kept. Only an application heartbeat can probe: with a server-driven heartbeat or
    /// none, an open connection is left alone, since nothing would answer the probe and a live
    /// but quiet connection would be dropped.
    pub(crate) fn network_changed(&mut self, now: Instant) {
        let feed = match self.supervisor.state() {
            State::Open => self.can_probe,
            State::Connecting | State::WaitingToReconnect => true,
            _ => false,
        };
        if feed {
            self.supervisor.handle_input(Input::NetworkChanged, now);
            self.collect();
        }
    }

    // ----- browser happenings -----------------------------------------------------------------

    /// The browser is about to open `url` for the attempt `connection` (the URL provider's
    /// answer, or the fixed URL): a failed attempt names it, redacted.
    pub(crate) fn opening(&mut self, connection: ConnectionId, url: &str) {
        if self.supervisor.connection() == Some(connection) {
            self.url = redact(url);
        }
    }

    /// The `open` event of `connection`, with `WebSocket.protocol`.
    pub(crate) fn opened(&mut self, connection: ConnectionId, protocol: &str, now: Instant) {
        if self.supervisor.connection() == Some(connection) {
            self.subprotocol = (!protocol.is_empty()).then(|| Text::from(protocol.to_owned()));
        }
        self.feed(Input::Opened { connection }, None, now);
    }

    /// A `message` event of `connection`.
    pub(crate) fn received(&mut self, connection: ConnectionId, message: Message, now: Instant) {
        let frame = message.into();
        self.feed(Input::Frame { connection, frame }, None, now);
    }

    /// The `close` event of `connection`: the socket is gone.
    pub(crate) fn closed(&mut self, connection: ConnectionId, close: BrowserClose, now: Instant) {
        let opened = matches!(self.supervisor.state(), State::Open | State::Closing);
        self.feed(close_input(connection, opened, close), None, now);
    }

    /// The attempt `connection` failed before a socket existed: the provider failed, or the
    /// browser threw in `new WebSocket`.
    pub(crate) fn connect_failed(&mut self, connection: ConnectionId, error: Error, now: Instant) {
        let input = Input::ConnectFailed {
            connection,
            failure: ConnectFailure::Io,
        };
        self.feed(input, Some(error), now);
    }

    /// Fires the deadlines due at `now`; harmless when none is.
    pub(crate) fn tick(&mut self, now: Instant) {
        if self.supervisor.poll_timeout().is_some_and(|at| at <= now) {
            self.supervisor.handle_timeout(now);
            self.collect();
        }
    }

    // ----- outputs ----------------------------------------------------------------------------

    /// The next piece of work. Drain until `None` after every call.
    pub(crate) fn poll_work(&mut self) -> Option<Work> {
        loop {
            let work = match self.supervisor.poll_action()? {
                Action::Connect {
                    connection,
                    attempt,
                } => {
                    self.subprotocol = None;
                    self.url.clone_from(&self.label);
                    Work::Connect {
                        connection,
                        attempt,
                    }
                }
                Action::Send(message) | Action::Heartbeat(message) => Work::Send(message),
                Action::Close { code, reason } => Work::Close { code, reason },
                Action::Abort => Work::Abort,
                // Only a late-tick probe of a server-driven heartbeat asks for one: it then
                // waits `pong_timeout` for any frame, which is all a browser can do.
                Action::Ping(_) => {
                    self.unsendable_pings += 1;
                    continue;
                }
                _ => continue,
            };
            return Some(work);
        }
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.supervisor.poll_timeout()
    }

    pub(crate) fn state(&self) -> State {
        self.supervisor.state()
    }

    pub(crate) fn stats(&self) -> Stats {
        self.supervisor.stats()
    }

    /// The connection inputs must name right now, if any.
    pub(crate) fn connection(&self) -> Option<ConnectionId> {
        self.supervisor.connection()
    }

    /// Whether the client has stopped for good.
    pub(crate) fn is_closed(&self) -> bool {
        self.supervisor.state() == State::Closed
    }

    /// [`Error::Stopped`] once the client has stopped for good.
    pub(crate) fn running(&self) -> Result<(), Error> {
        if self.is_closed() {
            Err(Error::Stopped)
        } else {
            Ok(())
        }
    }

    #[cfg(test)]
    pub(crate) fn unsendable_pings(&self) -> u64 {
        self.unsendable_pings
    }

    fn feed(&mut self, input: Input, error: Option<Error>, now: Instant) {
        self.pending_error = error;
        self.supervisor.handle_input(input, now);
        self.collect();
    }

    /// Moves the supervisor's events into ours, translated, in order.
    fn collect(&mut self) {
        while let Some(event) = self.supervisor.poll_event() {
            if let CoreEvent::Open { connection } = event {
                self.events.push_back(Event::Open {
                    connection,
                    subprotocol: self.subprotocol.clone(),
                });
                continue;
            }
            let event = match event {
                CoreEvent::Connecting { attempt } => Event::Connecting { attempt },
                CoreEvent::Message(message) => Event::Message(message),
                CoreEvent::Rtt(rtt) => Event::Rtt(rtt),
                CoreEvent::Disconnected {
                    code,
                    reason,
                    cause,
                    will_reconnect,
                } => match cause {
                    // A failed attempt, as the native adapters report it. The browser hides
                    // why the socket did not open; the error says what is known.
                    Disconnect::ConnectFailed(_) | Disconnect::ConnectTimeout => {
                        let error = self.pending_error.take().unwrap_or_else(|| {
                            let url = self.url.clone();
                            if cause == Disconnect::ConnectTimeout {
                                Error::ConnectTimeout { url }
                            } else {
                                Error::NotOpened { url }
                            }
                        });
                        Event::ConnectFailed {
                            error,
                            will_reconnect,
                        }
                    }
                    _ => Event::Disconnected {
                        code,
                        reason,
                        cause,
                        will_reconnect,
                        error: None,
                    },
                },
                CoreEvent::Reconnecting { attempt, delay } => {
                    Event::Reconnecting { attempt, delay }
                }
                CoreEvent::GaveUp {
                    attempts,
                    undelivered,
                } => Event::GaveUp {
                    attempts,
                    undelivered,
                },
                CoreEvent::Undelivered { message, reason } => {
                    Event::Undelivered { message, reason }
                }
                CoreEvent::Closed => Event::Closed,
                // Never dropped: it may carry a message.
                other => Event::Other(other),
            };
            self.events.push_back(event);
        }
        self.pending_error = None;
    }
}
