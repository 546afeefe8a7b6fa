//! `ws-blocking`: one client per connection (its own I/O thread), driven by one
//! application thread per connection, like the tungstenite baseline.

use std::time::{Duration, Instant};

use ws_blocking::{Client, ClientOptions, Event, Events};
use ws_core::{CloseCode, Message};

use super::threads::{Body, run_threads};
use super::{Run, Sample, core_kind, core_messages, send_allowed};
use crate::error::{Error, Result};
use crate::workload::Conversation;

/// How long opening or closing one connection may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// Waits for the client's first `Open`.
pub(crate) fn wait_open(events: &mut Events) -> Result<()> {
    loop {
        match events.recv_timeout(PATIENCE) {
            Ok(Event::Open { .. }) => return Ok(()),
            Ok(Event::ConnectFailed { error, .. }) => {
                return Err(Error::new(format!("did not open: {error:?}")));
            }
            Ok(_) => {}
            Err(error) => return Err(Error::new(format!("did not open: {error}"))),
        }
    }
}

/// Starts a client and waits until it is open.
fn open(options: ClientOptions) -> Result<(Client, Events)> {
    let (client, mut events) = ws_blocking::connect(options);
    wait_open(&mut events)?;
    Ok((client, events))
}

pub(super) fn run(run: &Run<'_>) -> Result<Sample> {
    let options = ClientOptions::builder(&run.target.url).seed(1).build()?;
    let patience = run.patience();
    run_threads(
        run,
        |conversation: &Conversation| -> Result<Box<dyn Body>> {
            let (client, events) = open(options.clone())?;
            let messages = core_messages(conversation)?;
            Ok(Box::new(Connection {
                client,
                events,
                messages,
                patience,
            }))
        },
    )
}

struct Connection {
    client: Client,
    events: Events,
    messages: Vec<Message>,
    patience: Duration,
}

impl Body for Connection {
    fn converse(&mut self, conversation: &mut Conversation) -> Result<()> {
        let Connection {
            client,
            events,
            messages,
            patience,
        } = self;
        let mut now = Instant::now();
        send_allowed(conversation, now, |index| {
            client.send(messages[index].clone())
        })?;
        while !conversation.finished(now) {
            match events.recv_timeout(*patience) {
                Ok(Event::Message(message)) => {
                    now = Instant::now();
                    conversation.check(core_kind(&message)?, message.as_bytes(), now)?;
                    send_allowed(conversation, now, |index| {
                        client.send(messages[index].clone())
                    })?;
                }
                Ok(Event::Rtt(_)) => {}
                Ok(other) => {
                    return Err(Error::new(format!(
                        "unexpected {other:?} ({})",
                        conversation.progress()
                    )));
                }
                Err(error) => {
                    return Err(Error::new(format!("{error} ({})", conversation.progress())));
                }
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.client.close(CloseCode::NORMAL, "done")?;
        loop {
            match self.events.recv_timeout(PATIENCE) {
                Ok(Event::Closed) => return Ok(()),
                Ok(_) => {}
                Err(error) => return Err(Error::new(format!("did not close: {error}"))),
            }
        }
    }
}
