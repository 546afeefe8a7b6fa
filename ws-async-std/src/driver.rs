//! The driver: ws-client's async driver (one future per client, owning the socket, the
//! supervisor and one timer) on async-io's clock, timer and sockets. The loop, the write
//! batching, the event backlog and the yield budget are
//! [`ws_client::driver`]'s; this file says what async-io is.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use ws_client::driver::{self, CommandReceiver, Connected, Runtime, command_channel};
use ws_client::{BoxFuture, ClientOptions, Error};

use crate::Events;
use crate::client::Client;
use crate::connect::{Socket, connect};

/// The future behind a [`Client`]: spawn it on the executor of your choice (see the crate
/// documentation). It completes once the client is closed for good and the last event is
/// handed over, or once every handle is gone and the connection is closed. Dropping it stops
/// the client at once, without a closing handshake.
#[must_use = "the client does nothing until its driver is spawned or awaited"]
pub struct Driver(driver::Driver<AsyncIo>);

impl Driver {
    /// A driver for `options` and the handles to talk to it. Nothing happens until the driver
    /// is polled.
    pub(crate) fn new(options: ClientOptions) -> (Driver, Client, Events) {
        let (command_sender, commands) = command_channel(options.command_capacity());
        let label: Arc<str> = options.label().into();
        let (driver, events, status) = driver::Driver::new(options, AsyncIo, commands);
        let client = Client::new(command_sender, status, label);
        (Driver(driver), client, events)
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// async-io: the system's monotonic clock (the one its timers use), its reactor's timer, and
/// sockets registered with its reactor. No executor: the driver runs on any.
struct AsyncIo;

impl Runtime for AsyncIo {
    type Socket = Socket;
    type Timer = Deadline;
    type Commands = CommandReceiver;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn timer(&self) -> Deadline {
        Deadline(async_io::Timer::never())
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
            async_tungstenite::stream::Stream::Plain(tcp) => tcp.poll_readable(cx).map(|_| ()),
            async_tungstenite::stream::Stream::Tls(_) => Poll::Ready(()),
        }
    }
}

/// async-io's timer, moved with `set_at`; it disarms itself once it fires.
struct Deadline(async_io::Timer);

impl driver::Timer for Deadline {
    fn set(&mut self, deadline: Option<Instant>) {
        match deadline {
            Some(deadline) => self.0.set_at(deadline),
            // Dropping the old timer takes its deadline out of the reactor.
            None => self.0 = async_io::Timer::never(),
        }
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}
