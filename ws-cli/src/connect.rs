//! `ws-cli connect URL`: an interactive client that survives outages.
//!
//! stdin lines become text messages (queued by the supervisor while disconnected); end of
//! input closes with 1000 once nothing is left in the queue. The exit status tells a script how
//! it ended: 0 after a clean close (a 1000 close handshake, from either side, with nothing left
//! undelivered), 1 after giving up, a permanent failure or a lost message.

use std::io::IsTerminal;
use std::process::ExitCode;

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use ws_tokio::{ClientOptions, CloseCode, Disconnect, Event, State, Tls};

use crate::options::ConnectArgs;
use crate::output::{Printer, fail};

/// Exit statuses: the contract scripts rely on.
pub(crate) const EXIT_CLEAN: u8 = 0;
pub(crate) const EXIT_FAILED: u8 = 1;
pub(crate) const EXIT_USAGE: u8 = 2;

pub(crate) async fn run(args: ConnectArgs) -> ExitCode {
    let options = match options(&args) {
        Ok(options) => options,
        Err(message) => {
            fail(&message);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let color =
        !args.json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut printer = Printer::new(args.json, color);
    let (client, mut events) = ws_tokio::connect(options);
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut close_requested = false;
    let mut ended_cleanly = false;
    let mut lost_messages = false;

    loop {
        tokio::select! {
            line = stdin.next_line(), if stdin_open => match line {
                Ok(Some(line)) => {
                    // A refusal (queue full, closed) comes back as an event.
                    let _ = client.send_text(line).await;
                }
                Ok(None) | Err(_) => stdin_open = false,
            },
            event = events.next() => {
                let Some(event) = event else { break };
                printer.event(&event);
                match &event {
                    Event::Message(message) if args.echo => {
                        let _ = client.send(message.clone()).await;
                    }
                    Event::Open { .. } if !stdin_open && !close_requested => {
                        // The supervisor flushed the queue before announcing the open, so
                        // the Close goes out after everything typed during the outage.
                        close_requested = true;
                        let _ = client.close(CloseCode::NORMAL, "").await;
                    }
                    Event::Disconnected { code, cause, .. } => {
                        ended_cleanly = *code == CloseCode::NORMAL
                            && matches!(cause, Disconnect::Application | Disconnect::PeerClosed { .. });
                    }
                    Event::ConnectFailed { .. } => ended_cleanly = false,
                    Event::Undelivered { .. } | Event::Rejected { .. } => lost_messages = true,
                    Event::Closed => break,
                    _ => {}
                }
            },
            _ = tokio::signal::ctrl_c(), if !close_requested => {
                stdin_open = false;
            },
        }
        // End of input on an open connection: close now. Anything typed is ahead of the Close
        // in the command channel. While disconnected, the close waits for the next `Open`.
        if !stdin_open && !close_requested && client.state() == State::Open {
            close_requested = true;
            let _ = client.close(CloseCode::NORMAL, "").await;
        }
    }
    if ended_cleanly && !lost_messages {
        ExitCode::from(EXIT_CLEAN)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

fn options(args: &ConnectArgs) -> Result<ClientOptions, String> {
    let config = args.config().map_err(|err| err.to_string())?;
    let mut builder = ClientOptions::builder(&args.url).config(config);
    for (name, value) in &args.headers {
        builder = builder.header(name, value);
    }
    for protocol in &args.subprotocols {
        builder = builder.subprotocol(protocol);
    }
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    if let Some(proxy) = &args.proxy {
        builder = builder.proxy(proxy);
    } else if args.no_proxy {
        builder = builder.no_proxy();
    }
    if !args.ca.is_empty() {
        let mut tls = Tls::default();
        for path in &args.ca {
            tls = tls.add_root_pem_file(path).map_err(|err| err.to_string())?;
        }
        builder = builder.tls(tls);
    }
    builder.build().map_err(|err| err.to_string())
}
