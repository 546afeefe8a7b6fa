//! `ws-async-std` on smol: each client's driver spawned on the same `LocalExecutor` as the
//! application tasks, all on the benchmark's thread (like the async-tungstenite baseline).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ws_async_std::{Client, ClientOptions, Driver, Event, Events};
use ws_core::{CloseCode, Message};

use super::smol_raw::timeout;
use super::{Run, Sample, core_kind, core_messages};
use crate::error::{Error, Result};
use crate::workload::Conversation;

/// How long opening one connection may take.
const OPEN_PATIENCE: Duration = Duration::from_secs(10);

/// Creates a client; the caller spawns the driver.
pub(crate) fn open(options: ClientOptions) -> (Client, Events, Driver) {
    ws_async_std::connect_with_driver(options)
}

/// Waits for the client's first `Open`.
pub(crate) async fn wait_open(events: &mut Events) -> Result<()> {
    timeout(OPEN_PATIENCE, async {
        loop {
            match events.next().await {
                Some(Event::Open { .. }) => return Ok(()),
                Some(Event::ConnectFailed { error, .. }) => {
                    return Err(Error::new(format!("did not open: {error:?}")));
                }
                Some(_) => {}
                None => return Err(Error::new("stopped before opening")),
            }
        }
    })
    .await?
}

pub(super) fn run(run: &Run<'_>) -> Result<Sample> {
    let options = ClientOptions::builder(&run.target.url).seed(1).build()?;
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let mut tasks = Vec::with_capacity(run.case.connections);
        let mut starts = Vec::with_capacity(run.case.connections);
        for conversation in Conversation::all(run.case) {
            let (client, mut events, driver) = open(options.clone());
            executor.spawn(driver).detach();
            wait_open(&mut events).await?;
            let messages = core_messages(&conversation)?;
            let (start, started) = smol::channel::bounded(1);
            starts.push(start);
            tasks.push(executor.spawn(converse(client, events, conversation, messages, started)));
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
        let sample = Sample::collect(usage, finished.iter().map(|(_, _, c)| c));
        for (client, mut events, _) in finished {
            close(&client, &mut events).await?;
        }
        Ok(sample)
    }))
}

/// Closes gracefully and waits for the last event.
async fn close(client: &Client, events: &mut Events) -> Result<()> {
    client.close(CloseCode::NORMAL, "done").await?;
    timeout(OPEN_PATIENCE, async {
        while let Some(event) = events.next().await {
            if matches!(event, Event::Closed) {
                break;
            }
        }
    })
    .await
}

async fn converse(
    client: Client,
    mut events: Events,
    mut conversation: Conversation,
    messages: Vec<Message>,
    started: smol::channel::Receiver<Instant>,
) -> Result<(Client, Events, Conversation)> {
    let deadline = started
        .recv()
        .await
        .map_err(|_| Error::new("never started"))?;
    conversation.start(deadline);
    let mut now = Instant::now();
    while let Some(index) = conversation.next_send(now) {
        client.send(messages[index].clone()).await?;
    }
    while !conversation.finished(now) {
        match events.next().await {
            Some(Event::Message(message)) => {
                now = Instant::now();
                conversation.check(core_kind(&message)?, message.as_bytes(), now)?;
                while let Some(index) = conversation.next_send(now) {
                    client.send(messages[index].clone()).await?;
                }
            }
            Some(Event::Rtt(_)) => {}
            Some(other) => {
                return Err(Error::new(format!(
                    "unexpected {other:?} ({})",
                    conversation.progress()
                )));
            }
            None => {
                return Err(Error::new(format!(
                    "events ended early ({})",
                    conversation.progress()
                )));
            }
        }
    }
    Ok((client, events, conversation))
}
