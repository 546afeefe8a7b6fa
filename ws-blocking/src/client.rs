//! The application's side: a cloneable sender and a receiver of events.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::Serialize;
use ws_client::channel::{Receiver, Refused, Sender};
use ws_client::{Command, Error, Event, TrySendError, check_close, json_message};
use ws_core::{Bytes, CloseCode, Message, State, Stats, Text};

use crate::shared::Shared;

/// Builds the handles of one driver.
pub(crate) fn handles(
    commands: Sender<Command>,
    events: Receiver<Event>,
    shared: Arc<Shared>,
    label: Arc<str>,
) -> (Client, Events) {
    let owner = Arc::new(Owner {
        shared,
        thread: OnceLock::new(),
    });
    let client = Client {
        commands,
        clients: Arc::new(Clients {
            owner: Arc::clone(&owner),
        }),
        label,
    };
    let events = Events {
        receiver: events,
        owner,
        single_reader: PhantomData,
    };
    (client, events)
}

/// Joins the I/O thread once every handle is gone.
struct Owner {
    shared: Arc<Shared>,
    thread: OnceLock<JoinHandle<()>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // Never join ourselves: a handle can end up owned by the driver (e.g. captured by
            // an endpoint provider).
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// Tells the driver when the last [`Client`] is gone. It is a client's last field, so every
/// command sender has been dropped by then.
struct Clients {
    owner: Arc<Owner>,
}

impl Drop for Clients {
    fn drop(&mut self) {
        self.owner.shared.let_go(false);
    }
}

/// Sends to, closes and inspects one resilient connection. Cheap to clone; every clone talks
/// to the same I/O thread.
///
/// Sends go through a bounded command channel ([`command_capacity`]) in the order they are
/// made and are carried out by the I/O thread: sent at once while open, queued by the
/// supervisor while (re)connecting. Each send wakes the I/O thread at once. `send` returns
/// once the channel has room for the command, not once the message is on the wire; a message
/// the supervisor refuses comes back as [`Event::Rejected`], one it gives up on as
/// [`Event::Undelivered`]. Nothing is lost silently.
///
/// [`command_capacity`]: ws_client::ClientOptionsBuilder::command_capacity
#[derive(Clone)]
pub struct Client {
    commands: Sender<Command>,
    clients: Arc<Clients>,
    label: Arc<str>,
}

impl Client {
    fn shared(&self) -> &Shared {
        &self.clients.owner.shared
    }

    fn command(&self, command: Command) -> Result<(), Error> {
        self.commands
            .send_blocking(command)
            .map_err(|_| Error::Stopped)?;
        self.shared().ring();
        Ok(())
    }

    /// Sends a message (see the type's documentation for what "sent" means). Blocks only
    /// while the command channel is full. Fails with [`Error::Stopped`] once the client has
    /// stopped.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.command(Command::Send(message.into()))
    }

    /// Sends without blocking: hands the message back if the command channel is full or the
    /// client has stopped.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), TrySendError> {
        match self.commands.try_send(Command::Send(message.into())) {
            Ok(()) => {
                self.shared().ring();
                Ok(())
            }
            Err(Refused::Full(command)) => Err(TrySendError::refused(command, true)),
            Err(Refused::Closed(command)) => Err(TrySendError::refused(command, false)),
        }
    }

    /// Sends a text message.
    pub fn send_text(&self, text: impl Into<Text>) -> Result<(), Error> {
        self.send(Message::Text(text.into()))
    }

    /// Sends a binary message.
    pub fn send_binary(&self, bytes: impl Into<Bytes>) -> Result<(), Error> {
        self.send(Message::Binary(bytes.into()))
    }

    /// Serialises `value` and sends it as a text message.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.send(json_message(value)?)
    }

    /// Sends ahead of the queue, on an open connection only (otherwise the message comes back
    /// as [`Event::Rejected`]). For login or subscribe messages that must precede queued ones
    /// when `hold_queue_until_ready` is set; follow with [`ready`](Self::ready).
    pub fn send_now(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.command(Command::SendNow(message.into()))
    }

    /// Releases the queue held by `hold_queue_until_ready` on the current connection.
    pub fn ready(&self) -> Result<(), Error> {
        self.command(Command::Ready)
    }

    /// Closes gracefully with `code` and `reason`, after the sends made before it. Never
    /// followed by a reconnect; queued messages come back as [`Event::Undelivered`], then
    /// [`Event::Closed`] ends the events. A code that may not be sent (1005, 1006…) or a
    /// reason over 123 bytes is refused here.
    pub fn close(&self, code: CloseCode, reason: impl Into<Text>) -> Result<(), Error> {
        let reason = reason.into();
        check_close(code, &reason)?;
        self.command(Command::Close { code, reason })
    }

    /// Replaces the connection now (the application knows the network changed): the open or
    /// connecting one is dropped and a new attempt starts at once; a backoff wait is cut short.
    pub fn reconnect_now(&self) -> Result<(), Error> {
        self.command(Command::ReconnectNow)
    }

    /// Reports a network change: an open connection is probed with a ping at once, a backoff
    /// wait is cut short.
    pub fn network_changed(&self) -> Result<(), Error> {
        self.command(Command::NetworkChanged)
    }

    /// The lifecycle state, as of the I/O thread's last pass.
    pub fn state(&self) -> State {
        self.shared().status().status.state
    }

    /// The counters (attempts, queued messages and bytes, last RTT…), as of the I/O thread's
    /// last pass.
    pub fn stats(&self) -> Stats {
        self.shared().status().status.stats
    }

    /// Blocks until the I/O thread has stopped (closed for good and every event handed over).
    pub fn stopped(&self) {
        self.shared().wait_stopped(None);
    }

    /// Like [`stopped`](Self::stopped), for at most `timeout`; returns whether it stopped.
    pub fn stopped_timeout(&self, timeout: Duration) -> bool {
        self.shared()
            .wait_stopped(Instant::now().checked_add(timeout))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.label)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// The connection's events, in order; the iterator ends after [`Event::Closed`].
///
/// Read them promptly. The channel behind this receiver is bounded ([`event_capacity`]); when
/// it is full the I/O thread keeps what it cannot deliver in a small backlog and stops reading
/// the socket, so the server is slowed down by TCP instead of the client buffering without
/// bound; once the backlog holds `event_capacity` events it stops taking commands too (sends
/// block). Heartbeat pings keep going out meanwhile, but replies queued behind unread messages
/// cannot be seen, so a stall longer than `ping_interval + pong_timeout` ends the connection
/// as dead (and it reconnects). RTT samples are dropped rather than kept (the latest is in
/// [`Client::stats`]); messages and handed-back messages are never dropped.
///
/// Dropping the receiver discards events from then on. Dropping it and every [`Client`]
/// closes the connection with 1001 (going away), waits for the server's reply (at most
/// `close_timeout`) and joins the I/O thread, which joins every thread it started: the last
/// handle's drop blocks that long. A connect thread stuck in a DNS lookup or in a TCP connect
/// to a host that does not answer cannot be interrupted (std has no way to); the drop then
/// also waits for that to give up (the resolver's timeout; `connect_timeout` for TCP).
///
/// [`event_capacity`]: ws_client::ClientOptionsBuilder::event_capacity
pub struct Events {
    receiver: Receiver<Event>,
    owner: Arc<Owner>,
    /// One thread reads at a time (`Send`, not `Sync`): the channel keeps one reader's waker.
    single_reader: PhantomData<Cell<()>>,
}

impl Events {
    /// The next event, blocking; `None` once the client has stopped and every event was read.
    pub fn recv(&self) -> Option<Event> {
        let event = self.receiver.recv_blocking()?;
        self.owner.shared.event_taken();
        Some(event)
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        let event = match Instant::now().checked_add(timeout) {
            Some(deadline) => self.receiver.recv_deadline(deadline)?,
            None => self
                .receiver
                .recv_blocking()
                .ok_or(RecvTimeoutError::Disconnected)?,
        };
        self.owner.shared.event_taken();
        Ok(event)
    }

    /// The next event if there is one, without blocking.
    pub fn try_recv(&self) -> Result<Event, TryRecvError> {
        let Some(event) = self.receiver.try_recv() else {
            return Err(if self.receiver.is_terminated() {
                TryRecvError::Disconnected
            } else {
                TryRecvError::Empty
            });
        };
        self.owner.shared.event_taken();
        Ok(event)
    }
}

impl Iterator for Events {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.recv()
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.owner.shared.let_go(true);
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

/// Hands the I/O thread to the handles, so the last one to go joins it.
pub(crate) fn adopt(events: &Events, thread: JoinHandle<()>) {
    let _ = events.owner.thread.set(thread);
}
