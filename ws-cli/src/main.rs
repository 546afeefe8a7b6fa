//! `ws-cli`: the command-line face of the resilient WebSocket client.
//!
//! `ws-cli connect URL [options]` is an interactive client that survives outages; `ws-cli demo`
//! tells the story of one on 127.0.0.1. Exit statuses: 0 after a clean close, 1 after giving up
//! or a permanent failure, 2 for bad usage — always with one line on stderr.

#![forbid(unsafe_code)]

mod connect;
mod demo;
mod options;
mod output;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::options::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // clap's first line names the problem; the usage block after it is noise here.
            let rendered = err.to_string();
            let first = rendered.lines().next().unwrap_or("invalid usage");
            eprintln!("ws-cli: {}", first.trim_start_matches("error: "));
            return ExitCode::from(connect::EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("ws-cli: cannot start the async runtime: {err}");
            return ExitCode::from(connect::EXIT_FAILED);
        }
    };
    let status = runtime.block_on(async move {
        match cli.command {
            Command::Connect(args) => connect::run(*args).await,
            Command::Demo(args) => demo::run(args).await,
        }
    });
    // tokio reads stdin on a blocking thread that a plain runtime drop would wait for, and
    // stdin may never end (a pipe held open): the work is done, so do not wait for it.
    runtime.shutdown_background();
    status
}
