//! The smol baseline: async-tungstenite over smol's `TcpStream`, one task per connection on a
//! `LocalExecutor` driven by `smol::block_on` on the benchmark's thread.

use std::future::Future;
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use futures_util::StreamExt;
use smol::net::TcpStream;
use tungstenite::Message;

use super::{Buffers, Run, Sample, Target, check_wire, wire_messages};
use crate::error::{Error, Result};
use crate::workload::Conversation;

type Socket = WebSocketStream<TcpStream>;

/// `future`, or an error once `limit` has passed.
pub(crate) async fn timeout<T>(limit: Duration, future: impl Future<Output = T>) -> Result<T> {
    smol::future::or(async { Ok(future.await) }, async {
        smol::Timer::after(limit).await;
        Err(Error::new(format!("no progress within {limit:?}")))
    })
    .await
}

/// Opens one connection with `buffers`.
pub(crate) async fn open(target: &Target, buffers: Buffers) -> Result<Socket> {
    let tcp = TcpStream::connect(target.addr).await?;
    tcp.set_nodelay(true)?;
    let (socket, _) = async_tungstenite::client_async_with_config(
        target.url.as_str(),
        tcp,
        Some(buffers.config()),
    )
    .await?;
    Ok(socket)
}

pub(super) fn run(run: &Run<'_>, buffers: Buffers) -> Result<Sample> {
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let mut tasks = Vec::with_capacity(run.case.connections);
        let mut starts = Vec::with_capacity(run.case.connections);
        for conversation in Conversation::all(run.case) {
            let socket = open(run.target, buffers).await?;
            let messages = wire_messages(&conversation)?;
            let (start, started) = smol::channel::bounded(1);
            starts.push(start);
            tasks.push(executor.spawn(converse(socket, conversation, messages, started)));
        }
        let mark = run.meter.mark();
        let deadline = mark.at + run.window;
        for start in starts {
            let _ = start.try_send(deadline);
        }
        let mut finished = Vec::with_capacity(tasks.len());
        for task in tasks {
            finished.push(timeout(run.patience(), task).await??);
        }
        let usage = run.meter.since(&mark);
        let sample = Sample::collect(usage, finished.iter().map(|(_, c)| c));
        for (mut socket, _) in finished {
            let _ = socket.close(None).await;
        }
        Ok(sample)
    }))
}

async fn converse(
    mut socket: Socket,
    mut conversation: Conversation,
    messages: Vec<Message>,
    started: smol::channel::Receiver<Instant>,
) -> Result<(Socket, Conversation)> {
    let deadline = started
        .recv()
        .await
        .map_err(|_| Error::new("never started"))?;
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
