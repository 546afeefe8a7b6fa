//! The application's handles: a cloneable [`Client`] and the [`Events`] stream.

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use serde::Serialize;
use ws_core::{CloseCode, Message, State, Stats, Text};

use super::{Driver, pump};
use crate::error::Error;
use crate::event::Event;
use crate::json::json_message;
use crate::session::Session;

/// Why [`Client::try_send`] handed a message back.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TrySendError {
    /// The client has stopped for good. (There is no "full" case in a browser: commands are
    /// carried out at once, with no channel in between.)
    Stopped(Message),
}

impl TrySendError {
    /// The message, untouched.
    pub fn into_message(self) -> Message {
        match self {
            TrySendError::Stopped(message) => message,
        }
    }
}

impl fmt::Display for TrySendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TrySendError::Stopped(message) = self;
        write!(
            f,
            "message of {} bytes not taken: the connection has stopped",
            message.len()
        )
    }
}

impl std::error::Error for TrySendError {}

/// Sends to, closes and inspects one resilient connection. Cheap to clone; every clone talks
/// to the same supervisor.
///
/// The methods are `async` to keep the shape of the native adapters' clients, so code moves
/// between them unchanged; here each one is carried out before it returns (a page has one
/// thread and no command channel): sent at once while open, queued by the supervisor while
/// (re)connecting. A message the supervisor refuses comes back as [`Event::Rejected`], one it
/// gives up on as [`Event::Undelivered`]. Nothing is lost silently.
#[derive(Clone)]
pub struct Client {
    driver: Rc<RefCell<Driver>>,
}

#[allow(
    clippy::unused_async,
    reason = "the same async API as the native adapters; in a browser each call completes at once"
)]
impl Client {
    pub(crate) fn new(driver: Rc<RefCell<Driver>>) -> Self {
        Client { driver }
    }

    fn run<R>(&self, f: impl FnOnce(&mut Session, ws_core::Instant) -> R) -> R {
        let result = self.driver.borrow_mut().with_now(f);
        pump(&self.driver);
        result
    }

    /// Sends a message (see the type's documentation for what "sent" means). Fails with
    /// [`Error::Stopped`] once the client has stopped.
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.run(|session, now| session.send(message.into(), now))
    }

    /// Sends without waiting (the same as [`send`](Self::send) in a browser): hands the
    /// message back once the client has stopped.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), TrySendError> {
        let message = message.into();
        if self.driver.borrow().session.is_closed() {
            return Err(TrySendError::Stopped(message));
        }
        // Cannot fail: the client is running (checked above).
        let _ = self.run(|session, now| session.send(message, now));
        Ok(())
    }

    /// Sends a text message.
    pub async fn send_text(&self, text: impl Into<Text>) -> Result<(), Error> {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a binary message (the browser copies it out of wasm memory once).
    pub async fn send_binary(&self, bytes: impl Into<Bytes>) -> Result<(), Error> {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Serialises `value` and sends it as a text message.
    pub async fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.send(json_message(value)?).await
    }

    /// Sends ahead of the queue, on an open connection only (otherwise the message comes back
    /// as [`Event::Rejected`]). For login or subscribe messages that must precede queued ones
    /// when `hold_queue_until_ready` is set; follow with [`ready`](Self::ready).
    pub async fn send_now(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.run(|session, now| session.send_now(message.into(), now))
    }

    /// Releases the queue held by `hold_queue_until_ready` on the current connection.
    pub async fn ready(&self) -> Result<(), Error> {
        self.run(Session::ready);
        Ok(())
    }

    /// Closes gracefully with `code` and `reason`. Never followed by a reconnect; queued
    /// messages come back as [`Event::Undelivered`], then [`Event::Closed`] ends the stream.
    /// A browser only sends 1000 and 3000–4999, with a reason of at most 123 bytes: anything
    /// else is refused here with [`Error::Close`] (instead of the browser's exception).
    pub async fn close(&self, code: CloseCode, reason: impl Into<Text>) -> Result<(), Error> {
        let reason = reason.into();
        self.run(|session, now| session.close(code, reason, now))
    }

    /// Replaces the connection now: the open or connecting one is dropped and a new attempt
    /// starts at once; a backoff wait is cut short.
    pub async fn reconnect_now(&self) -> Result<(), Error> {
        self.running()?;
        self.run(Session::reconnect_now);
        Ok(())
    }

    /// Reports a network change, as the browser's `online`/`offline` events do by themselves:
    /// an open connection is probed with an application heartbeat, a backoff wait is cut
    /// short.
    pub async fn network_changed(&self) -> Result<(), Error> {
        self.running()?;
        self.run(Session::network_changed);
        Ok(())
    }

    /// The lifecycle state.
    pub fn state(&self) -> State {
        self.driver.borrow().session.state()
    }

    /// The counters (attempts, queued messages and bytes, last RTT…).
    pub fn stats(&self) -> Stats {
        self.driver.borrow().session.stats()
    }

    fn running(&self) -> Result<(), Error> {
        self.driver.borrow().session.running()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let driver = self.driver.borrow();
        f.debug_struct("Client")
            .field("url", &driver.options.label())
            .field("state", &driver.session.state())
            .finish_non_exhaustive()
    }
}

/// The connection's events, in order: a [`Stream`] that ends after [`Event::Closed`].
///
/// A browser cannot pause a WebSocket's reading, so events wait here, unbounded, until the
/// application reads them; heartbeats and timers keep running meanwhile. Dropping the stream
/// discards events from then on; dropping it and every [`Client`] closes the connection.
pub struct Events {
    driver: Rc<RefCell<Driver>>,
    finished: bool,
}

impl Events {
    pub(crate) fn new(driver: Rc<RefCell<Driver>>) -> Self {
        Events {
            driver,
            finished: false,
        }
    }

    /// The next event, or `None` once the client has stopped and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &Context<'_>) -> Poll<Option<Event>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let mut driver = self.driver.borrow_mut();
        if let Some(event) = driver.session.poll_event() {
            self.finished = matches!(event, Event::Closed);
            return Poll::Ready(Some(event));
        }
        driver.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_event(cx)
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if let Ok(mut driver) = self.driver.try_borrow_mut() {
            driver.events_dropped = true;
            driver.waker = None;
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
