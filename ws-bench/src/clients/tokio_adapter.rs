//! `ws-tokio`: one client per connection, its driver task spawned by `ws_tokio::connect`, and
//! one application task per connection that sends and reads events.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::oneshot;
use ws_core::{CloseCode, Message};
use ws_tokio::{Client, ClientOptions, Event, Events};

use super::tokio_raw::runtime;
use super::{Run, Sample, core_kind, core_messages};
use crate::error::{Error, Result};
use crate::workload::Conversation;

/// How long opening one connection may take.
const OPEN_PATIENCE: Duration = Duration::from_secs(10);

/// Starts a client (on the current runtime) with `options`.
pub(crate) fn open(options: ClientOptions) -> (Client, Events) {
    ws_tokio::connect(options)
}

/// Waits for the client's first `Open`.
pub(crate) async fn wait_open(events: &mut Events) -> Result<()> {
    tokio::time::timeout(OPEN_PATIENCE, async {
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
    .await
    .map_err(|_| Error::new("did not open in time"))?
}

pub(super) fn run(run: &Run<'_>) -> Result<Sample> {
    let options = ClientOptions::builder(&run.target.url).seed(1).build()?;
    runtime()?.block_on(async {
        let mut tasks = Vec::with_capacity(run.case.connections);
        let mut starts = Vec::with_capacity(run.case.connections);
        for conversation in Conversation::all(run.case) {
            let (client, mut events) = open(options.clone());
            wait_open(&mut events).await?;
            let messages = core_messages(&conversation)?;
            let (start, started) = oneshot::channel();
            starts.push(start);
            tasks.push(tokio::spawn(converse(
                client,
                events,
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
        let sample = Sample::collect(usage, finished.iter().map(|(_, _, c)| c));
        for (client, mut events, _) in finished {
            close(&client, &mut events).await?;
        }
        Ok(sample)
    })
}

/// Closes gracefully and waits for the last event.
async fn close(client: &Client, events: &mut Events) -> Result<()> {
    client.close(CloseCode::NORMAL, "done").await?;
    tokio::time::timeout(OPEN_PATIENCE, async {
        while let Some(event) = events.next().await {
            if matches!(event, Event::Closed) {
                break;
            }
        }
    })
    .await
    .map_err(|_| Error::new("did not close in time"))
}

async fn converse(
    client: Client,
    mut events: Events,
    mut conversation: Conversation,
    messages: Vec<Message>,
    started: oneshot::Receiver<Instant>,
) -> Result<(Client, Events, Conversation)> {
    let deadline = started.await.map_err(|_| Error::new("never started"))?;
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
