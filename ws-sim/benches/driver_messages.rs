//! The driver's per-message cost with no sockets (`ws_sim::driver::bench`):
//!
//! ```sh
//! cargo bench -p ws-sim --bench driver_messages                 # time per message
//! cargo bench -p ws-sim --bench driver_messages -- --mode send --kind text --size 1024
//! scripts/driver-instructions.sh                                # instructions per message
//! ```
//!
//! Without valgrind it prints the time per message (the median of `--reps` runs of
//! `--messages` each). Under callgrind, run it at two message counts and subtract
//! (`scripts/driver-instructions.sh` does): the set-up and warm-up cancel out.

use std::process::ExitCode;
use std::time::Instant;

use ws_sim::driver::bench::{Kind, MessageBench};

/// What one invocation runs.
struct Args {
    mode: Mode,
    kind: Kind,
    size: usize,
    messages: usize,
    reps: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Round trips: a send and its echo (ws-bench's one-in-flight conversation).
    Echo,
    /// Sends only.
    Send,
    /// Received frames only.
    Receive,
}

const USAGE: &str = "usage: driver_messages [--mode echo|send|receive] [--kind binary|text] \
[--size BYTES] [--messages N] [--reps R]";

fn parse() -> Result<Args, String> {
    let mut args = Args {
        mode: Mode::Echo,
        kind: Kind::Binary,
        size: 20,
        messages: 100_000,
        reps: 7,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        // `cargo bench` passes `--bench` to every bench target.
        if flag == "--bench" {
            continue;
        }
        let value = given
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--mode" => {
                args.mode = match value.as_str() {
                    "echo" => Mode::Echo,
                    "send" => Mode::Send,
                    "receive" => Mode::Receive,
                    _ => return Err(format!("unknown mode {value}")),
                };
            }
            "--kind" => {
                args.kind = match value.as_str() {
                    "binary" => Kind::Binary,
                    "text" => Kind::Text,
                    _ => return Err(format!("unknown kind {value}")),
                };
            }
            "--size" => args.size = number()?,
            "--messages" => args.messages = number()?,
            "--reps" => args.reps = number()?.max(1),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(args)
}

fn run(bench: &mut MessageBench, mode: Mode, messages: usize) {
    match mode {
        Mode::Echo => bench.echo(messages),
        Mode::Send => bench.send(messages),
        Mode::Receive => bench.receive(messages),
    }
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("{error}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let mut bench = MessageBench::new(args.kind, args.size);
    let mut per_message = Vec::with_capacity(args.reps);
    let first = bench.counters();
    for _ in 0..args.reps {
        let before = bench.counters();
        let start = Instant::now();
        run(&mut bench, args.mode, args.messages);
        let elapsed = start.elapsed();
        let after = bench.counters();
        let moved = (after.fed - before.fed).max(after.delivered - before.delivered);
        assert_eq!(moved, args.messages as u64, "every message went through");
        per_message.push(elapsed.as_nanos() as f64 / args.messages as f64);
    }
    per_message.sort_by(f64::total_cmp);
    let median = per_message[per_message.len() / 2];
    let last = bench.counters();
    let messages = (args.messages * args.reps) as f64;
    println!(
        "driver {:?} {:?} {} B: {:.0} ns/message (median of {}, {}–{}; {} messages each); \
         {:.2} driver polls, {:.3} timer sets per message",
        args.mode,
        args.kind,
        args.size,
        median,
        args.reps,
        per_message[0].round(),
        per_message[per_message.len() - 1].round(),
        args.messages,
        (last.polls - first.polls) as f64 / messages,
        (last.timer_sets - first.timer_sets) as f64 / messages,
    );
    ExitCode::SUCCESS
}
