//! `ws-cli demo`: the whole story of an outage, on 127.0.0.1, in about ten seconds.
//!
//! A local echo server, a client with short heartbeat and backoff settings, then: pings with
//! their round trip, the server stops, the client notices, backs off and retries, a message
//! typed during the outage waits in the queue, the server comes back, the queue is flushed and
//! the message echoed, and the client closes cleanly.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::Instant;
use ws_testkit::TestServer;
use ws_tokio::{ClientOptions, CloseCode, Config, Event, Events, Jitter, Message};

use crate::connect::{EXIT_CLEAN, EXIT_FAILED};
use crate::options::DemoArgs;
use crate::output::{Printer, fail};

/// The whole demo must finish well within this; a stuck step is a failure, not a hang.
const STEP_LIMIT: Duration = Duration::from_secs(8);

pub(crate) async fn run(args: DemoArgs) -> ExitCode {
    let color = !args.json
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none();
    let mut printer = Printer::new(args.json, color);
    match script(&mut printer).await {
        Ok(()) => ExitCode::from(EXIT_CLEAN),
        Err(problem) => {
            fail(&format!("demo failed: {problem}"));
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn script(printer: &mut Printer) -> Result<(), String> {
    let server = Arc::new(blocking(TestServer::start).await?);
    printer.note(&format!("local echo server listening on {}", server.url()));

    let config = Config::builder()
        .ping_interval(Duration::from_millis(400))
        .pong_timeout(Duration::from_millis(400))
        .initial_delay(Duration::from_millis(300))
        .max_delay(Duration::from_millis(1200))
        .multiplier(2.0)
        .jitter(Jitter::Equal)
        .connect_timeout(Duration::from_secs(1))
        .stable_after(Duration::from_secs(1))
        .build()
        .map_err(|err| err.to_string())?;
    printer.note("connecting: ping every 400 ms, dead after 400 ms without a pong, backoff 300 ms doubling to 1.2 s");
    let options = ClientOptions::builder(server.url())
        .config(config)
        .build()
        .map_err(|err| err.to_string())?;
    let (client, mut events) = ws_tokio::connect(options);

    let mut pongs = 0;
    until(&mut events, printer, |e| {
        pongs += usize::from(matches!(e, Event::Rtt(_)));
        pongs == 3
    })
    .await?;

    printer.note("sending \"hello\": the server echoes it");
    client
        .send_text("hello")
        .await
        .map_err(|err| err.to_string())?;
    until(&mut events, printer, |e| is_text(e, "hello")).await?;

    printer.note("stopping the server: the connection drops");
    let stopping = Arc::clone(&server);
    blocking(move || stopping.stop()).await?;
    until(&mut events, printer, |e| {
        matches!(e, Event::Reconnecting { .. })
    })
    .await?;

    printer
        .note("typing \"typed during the outage\" while the server is down: it waits in the queue");
    client
        .send_text("typed during the outage")
        .await
        .map_err(|err| err.to_string())?;
    until(&mut events, printer, |e| {
        matches!(e, Event::Reconnecting { attempt: 2, .. })
    })
    .await?;
    let waiting = client.stats().queued_messages;
    printer.note(&format!(
        "{waiting} message waiting in the queue ({} bytes)",
        client.stats().queued_bytes
    ));
    until(&mut events, printer, |e| {
        matches!(e, Event::Reconnecting { attempt: 3, .. })
    })
    .await?;

    printer.note("restarting the server on the same port");
    let restarting = Arc::clone(&server);
    blocking(move || restarting.restart()).await?;
    until(&mut events, printer, |e| matches!(e, Event::Open { .. })).await?;
    until(&mut events, printer, |e| {
        is_text(e, "typed during the outage")
    })
    .await?;
    printer.note("the queued message was delivered and echoed back");
    let mut pongs = 0;
    until(&mut events, printer, |e| {
        pongs += usize::from(matches!(e, Event::Rtt(_)));
        pongs == 2
    })
    .await?;

    printer.note("closing with 1000");
    client
        .close(CloseCode::NORMAL, "demo over")
        .await
        .map_err(|err| err.to_string())?;
    until(&mut events, printer, |e| matches!(e, Event::Closed)).await?;
    let codes = server.client_close_codes();
    printer.note(&format!(
        "the server saw close code {}",
        codes
            .last()
            .copied()
            .flatten()
            .map_or_else(|| "none".to_owned(), |c| c.to_string())
    ));
    Ok(())
}

/// Prints events until one matches, failing if none does within [`STEP_LIMIT`].
async fn until(
    events: &mut Events,
    printer: &mut Printer,
    mut wanted: impl FnMut(&Event) -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .map_err(|_| format!("nothing expected happened within {STEP_LIMIT:?}"))?
            .ok_or("the client stopped unexpectedly")?;
        printer.event(&event);
        if wanted(&event) {
            return Ok(());
        }
    }
}

fn is_text(event: &Event, text: &str) -> bool {
    matches!(event, Event::Message(Message::Text(t)) if t.as_str() == text)
}

/// The test server's API blocks (it is runtime-neutral): keep it off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| format!("local server task failed: {err}"))
}
