//! tokio, as the one driver needs it: its clock (so that a paused test clock drives the
//! supervisor too), one `Sleep` reset in place, its sockets. The loop, the write batching, the
//! event backlog and the yield budget are ws-client's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::time::Sleep;
use ws_client::runtime::{BoxFuture, Connected, Runtime, Timer};
use ws_client::{Attempt, ClientOptions, Error};

use crate::connect::{Socket, Stream, connect};

/// The tokio runtime the client runs on.
#[derive(Debug)]
pub(crate) struct Tokio;

impl Runtime for Tokio {
    type Socket = Socket;
    type Timer = Deadline;

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn timer(&self) -> Deadline {
        Deadline(None)
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
            Stream::Plain(conn) => conn.poll_read_ready(cx).map(|_| ()),
            Stream::Tls(_) => Poll::Ready(()),
        }
    }
}

/// The `Sleep` is created on the first deadline (inside the runtime, which creating the driver
/// need not be), then reset in place: resetting costs a fraction of creating one.
pub(crate) struct Deadline(Option<Pin<Box<Sleep>>>);

impl Timer for Deadline {
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
