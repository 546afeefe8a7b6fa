//! `cargo run --release -p ws-bench [-- OPTIONS]`: runs the benchmark, prints the tables, and
//! (full mode) writes `docs/benchmarks.json`, `docs/benchmarks.md` and `docs/benchmarks.svg`.
//!
//! Options:
//!
//! - `--smoke` (or `WS_BENCH_SMOKE=1`): every case, briefly (seconds), nothing written unless
//!   `--out` is given. For CI.
//! - `--quick --case ID [--client NAME[,NAME…]]`: one case, measured as in the full run, for
//!   the chosen clients plus the raw baselines of the chosen adapters; no fleet, no recovery,
//!   nothing written unless `--out` is given. Under a minute, for judging a change. `--quick`
//!   overrides `WS_BENCH_SMOKE`; with `--smoke` it is an error.
//! - `--out DIR`: where to write the files (default `docs`, full mode only).
//! - `--case TEXT`, `--client TEXT[,TEXT…]`: only cases whose id / clients whose name contain
//!   TEXT (one of the TEXTs), e.g. for profiling one combination under
//!   `valgrind --tool=callgrind`. A TEXT that matches nothing is an error.
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

const USAGE: &str = "usage: ws-bench [--smoke | --quick] [--out DIR] [--case TEXT] \
                     [--client TEXT[,TEXT...]] [--no-fleet] [--no-recovery] [--window-ms N] \
                     [--warmups N] [--reps N] [--fleet-connections N] [--channel-capacity N]\n\
                     e.g.   ws-bench --quick --case 100x20B-binary --client ws-tokio,ws-async-std";

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

/// Reads the command line; `smoke_env` is whether `WS_BENCH_SMOKE` asks for the smoke run
/// (passed in so that tests do not depend on the environment).
fn parse(args: Vec<String>, smoke_env: bool) -> Result<Command, String> {
    // The mode first, wherever `--smoke` or `--quick` stands, so the filters and numbers apply
    // to the right plan.
    let flag = |name: &str| args.iter().any(|arg| arg == name);
    let mut plan = match (flag("--quick"), flag("--smoke")) {
        (true, true) => return Err("--quick and --smoke exclude each other".to_owned()),
        // Asked for on the command line, so it wins over a CI environment's variable.
        (true, false) => Plan::quick(),
        (false, true) => Plan::smoke(),
        (false, false) if smoke_env => Plan::smoke(),
        (false, false) => Plan::full(),
    };
    let mut args = args.into_iter();
    let mut out: Option<PathBuf> = None;
    let (mut fleet, mut recovery) = (true, true);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            SERVE_FLAG => return Ok(Command::Serve),
            MEMBER_FLAG => return Ok(Command::Member(value()?)),
            "-h" | "--help" => return Ok(Command::Help),
            "--smoke" | "--quick" => {}
            "--out" => out = Some(value()?.into()),
            "--case" => plan.only_cases(&value()?)?,
            "--client" => plan.only_clients(&value()?)?,
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
    if plan.mode == Mode::Quick {
        plan.complete_quick()?;
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
    let smoke_env = std::env::var("WS_BENCH_SMOKE").is_ok_and(|v| !v.is_empty() && v != "0");
    match parse(std::env::args().skip(1).collect(), smoke_env) {
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

#[cfg(test)]
mod tests {
    use ws_bench::cases::{Case, Kind};
    use ws_bench::clients::ClientKind::{self, *};

    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn run_plan(line: &str) -> (Plan, Option<PathBuf>) {
        match parse(args(line), false) {
            Ok(Command::Run { plan, out }) => (*plan, out),
            Ok(_) => panic!("`{line}` is not a run"),
            Err(problem) => panic!("`{line}`: {problem}"),
        }
    }

    fn error(line: &str) -> String {
        match parse(args(line), false) {
            Err(problem) => problem,
            Ok(_) => panic!("`{line}` was accepted"),
        }
    }

    fn clients(plan: &Plan) -> &[ClientKind] {
        &plan.throughput.clients
    }

    #[test]
    fn quick_measures_one_case_with_the_adapters_baselines() {
        let (plan, out) = run_plan("--quick --case 100x20B-binary --client ws-tokio");
        assert_eq!(plan.mode, Mode::Quick);
        assert_eq!(
            plan.throughput.cases,
            [Case {
                connections: 100,
                size: 20,
                in_flight: 1,
                kind: Kind::Binary
            }]
        );
        assert_eq!(
            clients(&plan),
            [WsTokio, TokioTungsteniteDefault, TokioTungsteniteTuned]
        );
        // The full run's rounds, so the ratios compare with a full run's.
        assert_eq!(plan.throughput.window, Duration::from_millis(250));
        assert_eq!(plan.throughput.warmups, 1);
        assert_eq!(plan.throughput.repetitions, 7);
        assert_eq!(plan.calibration_rounds, 200);
        assert!(plan.fleet.is_none() && plan.recovery.is_none());
        assert_eq!(out, None, "quick mode writes nothing unless asked");
    }

    #[test]
    fn quick_takes_a_list_of_clients_and_the_usual_options_in_any_order() {
        let (plan, out) = run_plan(
            "--client ws-blocking,ws-tokio --reps 3 --quick --out /tmp/q --case 10x1KiB-text",
        );
        assert_eq!(
            clients(&plan),
            [
                WsTokio,
                TokioTungsteniteDefault,
                TokioTungsteniteTuned,
                WsBlocking,
                TungsteniteDefault,
                TungsteniteTuned
            ]
        );
        assert_eq!(plan.throughput.cases[0].id(), "10x1KiB-text");
        assert_eq!(plan.throughput.repetitions, 3);
        assert_eq!(out, Some(PathBuf::from("/tmp/q")));
        // A raw client alone gets nothing added; no client at all means all of them.
        let (plan, _) = run_plan("--quick --case 1x20B-text --client async-tungstenite");
        assert_eq!(
            clients(&plan),
            [AsyncTungsteniteDefault, AsyncTungsteniteTuned]
        );
        let (plan, _) = run_plan("--quick --case 1x20B-text");
        assert_eq!(clients(&plan), ClientKind::ALL);
    }

    #[test]
    fn quick_wins_over_the_smoke_variable_but_not_over_the_flag() {
        match parse(args("--quick --case 1x20B-text"), true) {
            Ok(Command::Run { plan, .. }) => assert_eq!(plan.mode, Mode::Quick),
            _ => panic!("not a quick run"),
        }
        assert_eq!(
            error("--smoke --quick --case 1x20B-text"),
            "--quick and --smoke exclude each other"
        );
    }

    #[test]
    fn bad_quick_arguments_are_explained() {
        assert_eq!(
            error("--quick --case 100x20B"),
            "--quick measures one case; choose it with --case ID \
             (now 2: 100x20B-text, 100x20B-binary)"
        );
        assert!(error("--quick").starts_with(
            "--quick measures one case; choose it with --case ID (now 14: 1x20B-text, "
        ));
        assert!(
            error("--quick --case 7x20B")
                .starts_with("--case `7x20B` matches no case (cases: 1x20B-text, "),
        );
        assert!(
            error("--quick --case 1x20B-text --client ws-tokoi")
                .starts_with("--client `ws-tokoi` names no client (clients: ws-tokio, ")
        );
        assert_eq!(
            error("--quick --case 1x20B-text --client ,"),
            "--client needs a client name (clients: ws-tokio, tokio-tungstenite (default), \
             tokio-tungstenite (4 KiB), ws-async-std (smol), async-tungstenite (default), \
             async-tungstenite (4 KiB), ws-blocking, tungstenite (default), tungstenite (4 KiB))"
        );
        assert_eq!(
            error("--quick --case 1x20B-text --client ws-tokio --client ws-blocking"),
            "--client `ws-blocking`: no client left"
        );
        assert_eq!(error("--quick --case"), "--case needs a value");
        assert_eq!(error("--quick --reps x"), "--reps needs a number");
    }

    #[test]
    fn the_client_filter_still_narrows_a_full_run_without_adding_baselines() {
        let (plan, out) = run_plan("--client ws-tokio --case 100x20B-binary");
        assert_eq!(plan.mode, Mode::Full);
        assert_eq!(clients(&plan), [WsTokio]);
        assert_eq!(plan.fleet.map(|f| f.clients), Some(vec![WsTokio]));
        assert_eq!(plan.recovery.map(|r| r.clients), Some(vec![WsTokio]));
        assert_eq!(out, Some(PathBuf::from("docs")));
    }
}
