//! Echo client: connects to the URL given on the command line, sends every text and binary
//! message back exactly as it arrived, and exits when the connection closes. Reconnect is
//! off, so one run is one connection: the shape the Autobahn test suite's fuzzing server
//! expects (`echo 'ws://127.0.0.1:9001/runCase?case=1&agent=ws-async-std'`).
//!
//! Runs under smol, the recommended executor for this crate.
//!
//! ```text
//! cargo run -p ws-async-std --example echo_smol -- ws://127.0.0.1:9001/runCase?case=1&agent=x
//! ```

use std::process::ExitCode;

use futures_util::StreamExt;
use ws_async_std::{ClientOptions, Config, Error, Event};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(url), None) = (args.next(), args.next()) else {
        eprintln!("usage: echo URL");
        return ExitCode::from(2);
    };
    match smol::block_on(echo(&url)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("echo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn echo(url: &str) -> Result<(), Error> {
    let options = ClientOptions::builder(url)
        .config(Config::builder().no_reconnect().build()?)
        .build()?;
    let (client, mut events, driver) = ws_async_std::connect_with_driver(options);
    let driver = smol::spawn(driver);
    while let Some(event) = events.next().await {
        match event {
            // Unchanged: a text message stays text (already checked UTF-8), binary stays
            // binary, and the payload is the received buffer itself.
            Event::Message(message) => {
                let sent = client.send(message).await;
                if sent.is_err() {
                    break; // the client has stopped; the events before said why
                }
            }
            Event::Disconnected {
                code,
                error: Some(error),
                ..
            } => eprintln!("echo: disconnected ({code}): {error}"),
            _ => {}
        }
    }
    // The stream ended after `Closed`; the driver has finished the closing handshake.
    driver.await;
    Ok(())
}
