//! async-io, as the one driver needs it: the system's monotonic clock (the one its timers
//! use), its reactor's timer, and sockets registered with its reactor. No executor: the
//! driver runs on any. The loop itself is ws-client's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use ws_client::runtime::{BoxFuture, Connected, Runtime, Timer};
use ws_client::{Attempt, ClientOptions, Error};

use crate::connect::{Socket, connect};

/// async-io's reactor, on whatever executor polls the driver.
pub(crate) struct AsyncIo;

impl Runtime for AsyncIo {
    type Socket = Socket;
    type Timer = Deadline;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn timer(&self) -> Deadline {
        Deadline(async_io::Timer::never())
    }

    fn connect(
        &self,
        options: Arc<ClientOptions>,
        attempt: Attempt,
    ) -> BoxFuture<Result<Connected<Socket>, Error>> {
        Box::pin(connect(options, attempt))
    }

    fn poll_read_ready(socket: &Socket, cx: &mut Context<'_>) -> Poll<()> {
        match socket.get_ref().get_ref() {
            async_tungstenite::stream::Stream::Plain(tcp) => tcp.poll_readable(cx).map(|_| ()),
            async_tungstenite::stream::Stream::Tls(_) => Poll::Ready(()),
        }
    }
}

/// async-io's timer, moved with `set_at`; it disarms itself once it fires.
pub(crate) struct Deadline(async_io::Timer);

impl Timer for Deadline {
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
