//! The driver: ws-client's async driver (one task per client, owning the socket, the
//! supervisor and one timer) on tokio's clock, timer and sockets. The loop, the write
//! batching, the event backlog and the yield budget are [`ws_client::driver`]'s; this file
//! says what tokio is.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::time::Sleep;
use ws_client::driver::{self, CommandReceiver, Connected, Runtime, command_channel};
use ws_client::{BoxFuture, ClientOptions, Error};

use crate::Events;
use crate::client::Client;
use crate::connect::{Socket, connect};

/// The task behind a [`Client`]: run it with [`run`](Self::run) on a tokio runtime (or let
/// [`connect`](crate::connect) spawn it). It ends once the client is closed for good and the
/// last event is handed over, or once every handle is gone and the connection is closed.
#[must_use = "nothing happens until the driver runs"]
pub struct Driver(driver::Driver<Tokio>);

impl Driver {
    /// A driver for `options` and the handles to talk to it. Nothing happens until
    /// [`run`](Self::run) is polled.
    pub fn new(options: ClientOptions) -> (Driver, Client, Events) {
        let (command_sender, commands) = command_channel(options.command_capacity());
        let label: Arc<str> = options.label().into();
        let (driver, events, status) = driver::Driver::new(options, Tokio, commands);
        let client = Client::new(command_sender, status, label);
        (Driver(driver), client, events)
    }

    /// Runs the client until it is closed for good. Logs go to a `ws_client` span that names
    /// the (redacted) URL.
    pub async fn run(self) {
        self.0.await;
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// tokio: its clock (so that a paused test clock drives the supervisor too), one `Sleep`
/// reset in place, its sockets.
struct Tokio;

impl Runtime for Tokio {
    type Socket = Socket;
    type Timer = Deadline;
    type Commands = CommandReceiver;

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn timer(&self) -> Deadline {
        Deadline(None)
    }

    fn connect(
        &self,
        options: Arc<ClientOptions>,
        attempt: u32,
    ) -> BoxFuture<Result<Connected<Socket>, Error>> {
        Box::pin(connect(options, attempt))
    }

    fn poll_read_ready(socket: &Socket, cx: &mut Context<'_>) -> Poll<()> {
        match socket.get_ref() {
            tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp.poll_read_ready(cx).map(|_| ()),
            _ => Poll::Ready(()),
        }
    }
}

/// The `Sleep` is created on the first deadline (inside the runtime, which `Driver::new` need
/// not be), then reset in place: resetting costs a fraction of creating one.
struct Deadline(Option<Pin<Box<Sleep>>>);

impl driver::Timer for Deadline {
    fn set(&mut self, deadline: Option<Instant>) {
        // Without a deadline the sleep is simply not polled.
        let Some(deadline) = deadline.map(tokio::time::Instant::from_std) else {
            return;
        };
        match &mut self.0 {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.0 = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.0 {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}
