//! The browser binding: the supervisor driven from the browser's callbacks.
//!
//! There is no loop and no task. Every wake-up is a callback (a socket event, the timer, a
//! platform signal, an application call) that takes a fresh `now` from the [`Clock`], feeds
//! the [`Session`], ticks it if a deadline has passed, and then [`pump`]s: carries out the
//! work (open, send, close, abort a socket), sets the one timer to the next deadline, and
//! wakes the application's event stream. A page has one thread, so the driver is an
//! `Rc<RefCell<..>>` shared by the handles; the browser's callbacks hold only weak links to
//! it, and never run while it is borrowed (the browser queues events, it never dispatches
//! them from inside a call such as `send` or `close`).

mod client;
mod clock;
mod platform;
mod socket;

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::task::Waker;

use ws_core::{ConnectionId, Instant};

pub use client::{Client, Events, TrySendError};
use clock::{Clock, Timer, random_seed};
use platform::Listeners;
use socket::Socket;

use crate::close::BrowserClose;
use crate::error::Error;
use crate::options::{ClientOptions, Endpoint, check_url};
use crate::session::{Session, Work};

/// Starts a client and returns its handles. The first event is
/// [`Event::Connecting`](crate::Event::Connecting); sends made before the connection opens
/// are queued.
///
/// The client lives as long as a [`Client`] or the [`Events`] stream does; once every one is
/// dropped the socket is closed with 1000 (a page cannot send 1001, "going away") and the
/// listeners are removed.
pub fn connect(options: ClientOptions) -> (Client, Events) {
    let seed = options.fixed_seed().unwrap_or_else(random_seed);
    let driver = Rc::new_cyclic(|weak: &Weak<RefCell<Driver>>| {
        let link = Link(weak.clone());
        let on_timer = link.clone();
        RefCell::new(Driver {
            session: Session::new(&options, seed),
            options,
            clock: Clock::new(),
            timer: Timer::new(move || on_timer.timer_fired()),
            socket: None,
            listeners: Some(Listeners::register(&link)),
            link,
            waker: None,
            events_dropped: false,
        })
    });
    driver.borrow_mut().with_now(Session::start);
    pump(&driver);
    (Client::new(Rc::clone(&driver)), Events::new(driver))
}

/// Everything one client owns.
pub(crate) struct Driver {
    session: Session,
    options: ClientOptions,
    clock: Clock,
    timer: Timer,
    socket: Option<Socket>,
    /// `None` once removed (the client has stopped).
    listeners: Option<Listeners>,
    link: Link,
    /// The event stream's waker, while it waits.
    waker: Option<Waker>,
    /// The application dropped the event stream: events are discarded from then on.
    events_dropped: bool,
}

impl Driver {
    /// Runs `f` with a fresh `now`, then fires whatever deadline has passed.
    pub(crate) fn with_now<R>(&mut self, f: impl FnOnce(&mut Session, Instant) -> R) -> R {
        let now = self.clock.now();
        let result = f(&mut self.session, now);
        self.session.tick(now);
        result
    }

    /// Carries out the session's work, sets the timer, and says whom to wake.
    fn carry_out(&mut self) -> Option<Waker> {
        while let Some(work) = self.session.poll_work() {
            match work {
                Work::Connect {
                    connection,
                    attempt,
                } => self.start_attempt(connection, attempt),
                Work::Send(message) => {
                    if let Some(socket) = &self.socket {
                        socket.send(&message);
                    }
                }
                Work::Close { code, reason } => {
                    if let Some(socket) = &self.socket {
                        socket.close(code, &reason);
                    }
                }
                Work::Abort => {
                    if let Some(socket) = self.socket.take() {
                        socket.abort();
                    }
                }
            }
        }
        let now = self.clock.now();
        self.timer.arm(self.session.poll_timeout(), now);
        if self.session.is_closed() {
            // Stopped for good: the page's signals no longer concern this client.
            self.listeners = None;
        }
        if self.events_dropped {
            while self.session.poll_event().is_some() {}
            return None;
        }
        self.waker.take()
    }

    fn start_attempt(&mut self, connection: ConnectionId, attempt: u32) {
        if let Some(stale) = self.socket.take() {
            stale.abort();
        }
        match self.options.endpoint() {
            Endpoint::Url(url) => {
                let url = url.clone();
                self.open_socket(connection, &url);
            }
            Endpoint::Provider(provider) => {
                // Called from a task of its own: the provider is application code, and may
                // well look at the client.
                let (provider, link) = (Rc::clone(provider), self.link.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let url = provider(attempt).await;
                    link.provided(connection, url);
                });
            }
        }
    }

    fn open_socket(&mut self, connection: ConnectionId, url: &str) {
        self.session.opening(connection, url);
        match Socket::open(url, self.options.subprotocols(), &self.link, connection) {
            Ok(socket) => self.socket = Some(socket),
            Err(exception) => {
                let now = self.clock.now();
                self.session
                    .connect_failed(connection, Error::Browser(exception), now);
            }
        }
    }
}

impl Drop for Driver {
    /// The last handle is gone: close politely, with the one code a page may use for it.
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            if !self.session.is_closed() {
                socket.close(ws_core::CloseCode::NORMAL, &ws_core::Text::new());
            }
            socket.detach();
        }
    }
}

/// Carries out the driver's work and wakes the event stream, outside of any borrow.
fn pump(driver: &Rc<RefCell<Driver>>) {
    let waker = driver.borrow_mut().carry_out();
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The browser's way back to a driver: a weak link, so a callback that outlives its client
/// does nothing.
#[derive(Clone)]
pub(crate) struct Link(Weak<RefCell<Driver>>);

impl Link {
    /// Feeds the session with a fresh `now`, ticks, and pumps.
    pub(crate) fn with(&self, f: impl FnOnce(&mut Session, Instant)) {
        let Some(driver) = self.0.upgrade() else {
            return;
        };
        driver.borrow_mut().with_now(f);
        pump(&driver);
    }

    fn timer_fired(&self) {
        let Some(driver) = self.0.upgrade() else {
            return;
        };
        {
            let mut driver = driver.borrow_mut();
            driver.timer.fired();
            driver.with_now(|_, _| {});
        }
        pump(&driver);
    }

    /// The `close` event of `connection`: the socket is finished.
    pub(crate) fn socket_closed(&self, connection: ConnectionId, close: BrowserClose) {
        let Some(driver) = self.0.upgrade() else {
            return;
        };
        {
            let mut driver = driver.borrow_mut();
            let finished = driver
                .socket
                .take_if(|socket| socket.connection == connection);
            if let Some(socket) = finished {
                socket.detach();
            }
            driver.with_now(|session, now| session.closed(connection, close, now));
        }
        pump(&driver);
    }

    /// The provider answered for the attempt `connection`.
    fn provided(&self, connection: ConnectionId, url: Result<String, Error>) {
        let Some(driver) = self.0.upgrade() else {
            return;
        };
        {
            let mut driver = driver.borrow_mut();
            // Aborted (connect timeout, reconnect_now, close) while the provider ran.
            if driver.session.connection() != Some(connection) || driver.socket.is_some() {
                return;
            }
            match url.and_then(|url| check_url(&url).map(|()| url)) {
                Ok(url) => driver.open_socket(connection, &url),
                Err(error) => {
                    driver.with_now(|session, now| session.connect_failed(connection, error, now));
                }
            }
        }
        pump(&driver);
    }
}

/// Drops `value` in a later microtask: for event handlers that may be running right now.
pub(crate) fn defer_drop<T: 'static>(value: T) {
    wasm_bindgen_futures::spawn_local(async move { drop(value) });
}
