//! Echoes every message back, exactly (text as text, binary as binary), until the connection
//! closes; never reconnects. The client side of an Autobahn|Testsuite run:
//!
//! ```text
//! cargo build --release -p ws-blocking --example echo_blocking
//! target/release/examples/echo_blocking 'ws://127.0.0.1:9001/runCase?case=1&agent=ws-blocking'
//! ```
//!
//! Exits 0 after a normal close (1000), 1 after any other ending, 2 on bad usage.

use std::process::ExitCode;

use ws_blocking::{ClientOptions, CloseCode, Config, Event};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(url), None) = (args.next(), args.next()) else {
        eprintln!("usage: echo URL");
        return ExitCode::from(2);
    };
    let options = Config::builder()
        .no_reconnect()
        .build()
        .map_err(ws_blocking::Error::from)
        .and_then(|config| ClientOptions::builder(&url).config(config).build());
    let options = match options {
        Ok(options) => options,
        Err(error) => {
            eprintln!("echo: {error}");
            return ExitCode::from(2);
        }
    };
    let (client, events) = ws_blocking::connect(options);
    let mut normal = false;
    for event in events {
        match event {
            // Fails only once the client has stopped; `Closed` follows.
            Event::Message(message) => client
                .send(message)
                .unwrap_or_else(|error| eprintln!("echo: {error}")),
            Event::Disconnected { code, error, .. } => {
                normal = code == CloseCode::NORMAL;
                if let Some(error) = error.filter(|_| !normal) {
                    eprintln!("echo: {error}");
                }
            }
            Event::Closed => break,
            _ => {}
        }
    }
    if normal {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
