//! The tokio baseline: tokio-tungstenite driven directly, one task per connection.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;

use super::{Buffers, Run, Sample, Target, check_wire, wire_messages};
use crate::error::{Error, Result};
use crate::workload::Conversation;

type Socket = WebSocketStream<TcpStream>;

/// A current-thread runtime: the clients on one core, the server on the other.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Opens one connection with `buffers`.
pub(crate) async fn open(target: &Target, buffers: Buffers) -> Result<Socket> {
    let tcp = TcpStream::connect(target.addr).await?;
    tcp.set_nodelay(true)?;
    let (socket, _) = tokio_tungstenite::client_async_with_config(
        target.url.as_str(),
        tcp,
        Some(buffers.config()),
    )
    .await?;
    Ok(socket)
}

pub(super) fn run(run: &Run<'_>, buffers: Buffers) -> Result<Sample> {
    runtime()?.block_on(async {
        let mut tasks = Vec::with_capacity(run.case.connections);
        let mut starts = Vec::with_capacity(run.case.connections);
        for conversation in Conversation::all(run.case) {
            let socket = open(run.target, buffers).await?;
            let messages = wire_messages(&conversation)?;
            let (start, started) = oneshot::channel();
            starts.push(start);
            tasks.push(tokio::spawn(converse(
                socket,
                conversation,
                messages,
                started,
            )));
        }
        let mark = run.meter.mark();
        let deadline = mark.at + run.window;
        for start in starts {
            let _ = start.send(deadline);
        }
        let mut finished = Vec::with_capacity(tasks.len());
        for task in tasks {
            let outcome = tokio::time::timeout(run.patience(), task)
                .await
                .map_err(|_| Error::new("stuck: no progress within the grace period"))??;
            finished.push(outcome?);
        }
        let usage = run.meter.since(&mark);
        let sample = Sample::collect(usage, finished.iter().map(|(_, c)| c));
        for (mut socket, _) in finished {
            let _ = socket.close(None).await;
        }
        Ok(sample)
    })
}

async fn converse(
    mut socket: Socket,
    mut conversation: Conversation,
    messages: Vec<Message>,
    started: oneshot::Receiver<Instant>,
) -> Result<(Socket, Conversation)> {
    let deadline = started.await.map_err(|_| Error::new("never started"))?;
    conversation.start(deadline);
    let mut now = Instant::now();
    while let Some(index) = conversation.next_send(now) {
        socket.send(messages[index].clone()).await?;
    }
    while !conversation.finished(now) {
        let message = socket
            .next()
            .await
            .ok_or_else(|| Error::new(format!("closed early: {}", conversation.progress())))??;
        now = Instant::now();
        check_wire(&mut conversation, &message, now)?;
        while let Some(index) = conversation.next_send(now) {
            socket.send(messages[index].clone()).await?;
        }
    }
    Ok((socket, conversation))
}
