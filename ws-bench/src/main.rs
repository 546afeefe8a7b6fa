//! `cargo run --release -p ws-bench [-- OPTIONS]`: runs the benchmark, prints the tables, and
//! (full mode) writes `docs/benchmarks.json`, `docs/benchmarks.md` and `docs/benchmarks.svg`.
//!
//! Options:
//!
//! - `--smoke` (or `WS_BENCH_SMOKE=1`): every case, briefly (seconds), nothing written unless
//!   `--out` is given. For CI.
//! - `--out DIR`: where to write the files (default `docs`, full mode only).
//! - `--case TEXT`, `--client TEXT`: only cases whose id / clients whose name contain TEXT
//!   (for profiling one combination, e.g. under `valgrind --tool=callgrind`).
//! - `--no-fleet`, `--no-recovery`: skip those parts.
//! - `--window-ms N`, `--warmups N`, `--reps N`: the echo cases' window and rounds (e.g. a long
//!   single window under callgrind, where setup would otherwise dominate).
//! - `--fleet-connections N`: fleet size; `--channel-capacity N`: the adapters' command and
//!   event channel capacity in the fleet (to measure what the default capacity costs).
//!
//! Exit status: 0 after a complete run (goals met or not: they are reported), 1 if anything
//! failed (a wrong echo, a connection that would not open), 2 for bad usage.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use ws_bench::fleet::MEMBER_FLAG;
use ws_bench::server::process::{SERVE_FLAG, serve_until_stdin_closes};
use ws_bench::{Mode, Plan, Report, chart};

const USAGE: &str = "usage: ws-bench [--smoke] [--out DIR] [--case TEXT] [--client TEXT] \
                     [--no-fleet] [--no-recovery] [--window-ms N] [--warmups N] [--reps N] \
                     [--fleet-connections N] [--channel-capacity N]";

/// What the command line asks for.
enum Command {
    /// Measure and report.
    Run {
        plan: Box<Plan>,
        out: Option<PathBuf>,
    },
    /// Be the fleets' echo server (a child of a run).
    Serve,
    /// Measure one fleet (a child of a run).
    Member(String),
    /// Print the usage.
    Help,
}

fn parse(args: Vec<String>) -> Result<Command, String> {
    // The mode first, wherever `--smoke` stands, so the filters apply to the right plan.
    let smoke_env = std::env::var("WS_BENCH_SMOKE").is_ok_and(|v| !v.is_empty() && v != "0");
    let smoke = smoke_env || args.iter().any(|arg| arg == "--smoke");
    let mut plan = if smoke { Plan::smoke() } else { Plan::full() };
    let mut args = args.into_iter();
    let mut out: Option<PathBuf> = None;
    let (mut fleet, mut recovery) = (true, true);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            SERVE_FLAG => return Ok(Command::Serve),
            MEMBER_FLAG => return Ok(Command::Member(value()?)),
            "-h" | "--help" => return Ok(Command::Help),
            "--smoke" => {}
            "--out" => out = Some(value()?.into()),
            "--case" => plan.only_cases(&value()?),
            "--client" => plan.only_clients(&value()?),
            "--no-fleet" => fleet = false,
            "--no-recovery" => recovery = false,
            "--window-ms"
            | "--warmups"
            | "--reps"
            | "--fleet-connections"
            | "--channel-capacity" => {
                let number: usize = value()?
                    .parse()
                    .map_err(|_| format!("{arg} needs a number"))?;
                set_number(&mut plan, &arg, number);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !fleet {
        plan.fleet = None;
    }
    if !recovery {
        plan.recovery = None;
    }
    if out.is_none() && plan.mode == Mode::Full {
        out = Some("docs".into());
    }
    Ok(Command::Run {
        plan: Box::new(plan),
        out,
    })
}

fn set_number(plan: &mut Plan, option: &str, number: usize) {
    match option {
        "--window-ms" => plan.throughput.window = Duration::from_millis(number as u64),
        "--warmups" => plan.throughput.warmups = number,
        "--reps" => plan.throughput.repetitions = number.max(1),
        "--fleet-connections" => {
            if let Some(fleet) = &mut plan.fleet {
                fleet.connections = number;
            }
        }
        _ => {
            if let Some(fleet) = &mut plan.fleet {
                fleet.channel_capacity = Some(number);
            }
        }
    }
}

/// Writes the JSON, Markdown and SVG files into `dir`.
fn write_files(report: &Report, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("benchmarks.json"), json)?;
    std::fs::write(dir.join("benchmarks.md"), report.markdown())?;
    std::fs::write(dir.join("benchmarks.svg"), chart::svg(&report.cases))
}

fn run(plan: &Plan, out: Option<&Path>) -> ExitCode {
    let executable = std::env::current_exe().ok();
    let report = match ws_bench::run(plan, executable.as_deref(), &mut |line| eprintln!("{line}")) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("ws-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", report.text());
    println!(
        "wall time {:.1} s; load average before {} / after {}",
        report.wall.as_secs_f64(),
        report.machine.load_before,
        report.machine.load_after
    );
    if let Some(dir) = out {
        if let Err(error) = write_files(&report, dir) {
            eprintln!("ws-bench: cannot write to {}: {error}", dir.display());
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {0}/benchmarks.json, .md and .svg", dir.display());
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1).collect()) {
        Ok(Command::Run { plan, out }) => run(&plan, out.as_deref()),
        Ok(Command::Serve) => match serve_until_stdin_closes() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("ws-bench echo server: {error}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Member(spec)) => match ws_bench::fleet::member_main(&spec) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("ws-bench fleet: {error}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Help) => {
            println!(
                "ws-bench: the resilient-ws adapters against raw tungstenite (see BENCHMARKS.md)\n{USAGE}"
            );
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("ws-bench: {problem}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
