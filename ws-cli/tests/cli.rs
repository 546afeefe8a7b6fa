//! The built `ws-cli` binary against the local test server: JSON events, exit statuses,
//! stdin queueing across a restart, end-of-input behaviour, usage errors.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;
use ws_testkit::{Behavior, HandshakeMode, TestServer};

const WAIT: Duration = Duration::from_secs(10);

/// A running `ws-cli connect --json`, its stdout read line by line on a thread.
struct Cli {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<Value>,
}

impl Cli {
    fn connect(url: &str, extra: &[&str]) -> Cli {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ws-cli"))
            .arg("connect")
            .arg(url)
            .arg("--json")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ws-cli starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Cli {
            child: Some(child),
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    fn type_line(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{text}").expect("write to ws-cli");
        stdin.flush().expect("flush");
    }

    fn end_input(&mut self) {
        self.stdin = None;
    }

    /// Reads events until one named `name` (matching `check`) arrives.
    fn wait_for(&mut self, name: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let event: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line}"));
                    assert!(event["t_ms"].is_u64(), "every event has t_ms: {line}");
                    self.seen.push(event.clone());
                    if event["event"] == name && check(&event) {
                        return event;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("no `{name}` event; saw {:#?}", self.seen)
                }
            }
        }
    }

    fn exit_code(mut self) -> i32 {
        self.stdin = None;
        self.exit_code_with_stdin_open()
    }

    fn exit_code_with_stdin_open(mut self) -> i32 {
        let mut child = self.child.take().expect("running");
        let (tx, exited) = channel();
        std::thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send(status);
            child
        });
        match exited.recv_timeout(WAIT) {
            Ok(status) => status.expect("wait").code().expect("exited normally"),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                panic!("ws-cli did not exit; saw {:#?}", self.seen)
            }
        }
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn run_usage(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ws-cli"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ws-cli runs");
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stderr).expect("utf-8 stderr"),
    )
}

#[test]
fn lines_are_sent_echoes_arrive_and_eof_closes_cleanly() {
    let server = TestServer::start();
    let mut cli = Cli::connect(&server.url(), &[]);
    let connecting = cli.wait_for("connecting", |_| true);
    assert_eq!(connecting["attempt"], 0);
    cli.wait_for("open", |_| true);
    cli.type_line("hello");
    cli.wait_for("message", |e| e["text"] == "hello");
    cli.end_input();
    let disconnected = cli.wait_for("disconnected", |_| true);
    assert_eq!(disconnected["code"], 1000);
    assert_eq!(disconnected["will_reconnect"], false);
    let closed = cli.wait_for("closed", |_| true);
    assert_eq!(closed["code"], 1000);
    assert_eq!(cli.exit_code(), 0);
    assert_eq!(server.received_texts(), ["hello"]);
    assert!(server.wait_for_client_closes(1, WAIT));
    assert_eq!(server.client_close_codes(), [Some(1000)]);
}

#[test]
fn rtt_events_report_heartbeat_round_trips() {
    let server = TestServer::start();
    let mut cli = Cli::connect(&server.url(), &["--ping-interval", "100ms"]);
    let rtt = cli.wait_for("rtt", |_| true);
    assert!(rtt["ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{rtt}");
}

#[test]
fn lines_typed_during_an_outage_are_delivered_once_after_the_restart() {
    let server = TestServer::start();
    let mut cli = Cli::connect(
        &server.url(),
        &["--reconnect-initial", "100ms", "--reconnect-max", "200ms"],
    );
    cli.wait_for("open", |_| true);
    cli.type_line("before");
    cli.wait_for("message", |e| e["text"] == "before");
    server.stop();
    let disconnected = cli.wait_for("disconnected", |_| true);
    assert_eq!(disconnected["will_reconnect"], true);
    let reconnecting = cli.wait_for("reconnecting", |_| true);
    assert_eq!(reconnecting["attempt"], 1);
    assert!(
        reconnecting["delay_ms"]
            .as_u64()
            .is_some_and(|ms| ms <= 100)
    );
    cli.type_line("during 1");
    cli.type_line("during 2");
    cli.wait_for("reconnecting", |e| e["attempt"] == 2);
    server.restart();
    cli.wait_for("open", |_| true);
    cli.wait_for("message", |e| e["text"] == "during 2");
    cli.end_input();
    cli.wait_for("closed", |_| true);
    assert_eq!(cli.exit_code(), 0);
    assert_eq!(server.received_texts(), ["before", "during 1", "during 2"]);
}

#[test]
fn eof_during_an_outage_waits_for_the_queue_to_flush() {
    let server = TestServer::start();
    let mut cli = Cli::connect(
        &server.url(),
        &["--reconnect-initial", "100ms", "--reconnect-max", "200ms"],
    );
    cli.wait_for("open", |_| true);
    server.stop();
    cli.wait_for("reconnecting", |_| true);
    cli.type_line("queued then closed");
    cli.end_input();
    cli.wait_for("reconnecting", |e| e["attempt"] == 2);
    server.restart();
    cli.wait_for("closed", |_| true);
    assert_eq!(cli.exit_code(), 0);
    assert_eq!(server.received_texts(), ["queued then closed"]);
}

#[test]
fn giving_up_hands_back_the_queue_and_exits_1() {
    let server = TestServer::start();
    let url = server.url();
    server.stop();
    let mut cli = Cli::connect(
        &url,
        &[
            "--max-attempts",
            "2",
            "--reconnect-initial",
            "50ms",
            "--reconnect-max",
            "50ms",
        ],
    );
    cli.type_line("never sent");
    let gave_up = cli.wait_for("gave_up", |_| true);
    assert_eq!(gave_up["undelivered"], 1);
    let undelivered = cli.wait_for("undelivered", |_| true);
    assert_eq!(undelivered["text"], "never sent");
    cli.wait_for("closed", |_| true);
    assert_eq!(cli.exit_code(), 1);
}

#[test]
fn http_401_is_a_permanent_failure_with_exit_1() {
    let server = TestServer::start_with(Behavior {
        handshake: HandshakeMode::Refuse {
            status: 401,
            retry_after: None,
        },
        ..Behavior::default()
    });
    let mut cli = Cli::connect(&server.url(), &[]);
    let refused = cli.wait_for("connect_failed", |_| true);
    assert_eq!(refused["will_reconnect"], false);
    assert!(
        refused["error"].as_str().is_some_and(|e| e.contains("401")),
        "{refused}"
    );
    cli.wait_for("closed", |_| true);
    assert_eq!(cli.exit_code(), 1);
    assert_eq!(server.handshake_attempts(), 1);
}

#[test]
fn policy_violation_close_is_permanent() {
    let server = TestServer::start();
    let mut cli = Cli::connect(&server.url(), &[]);
    cli.wait_for("open", |_| true);
    server.close_all(1008, "go away");
    let disconnected = cli.wait_for("disconnected", |_| true);
    assert_eq!(disconnected["code"], 1008);
    assert_eq!(disconnected["reason"], "go away");
    assert_eq!(disconnected["will_reconnect"], false);
    assert_eq!(cli.exit_code(), 1);
}

#[test]
fn a_normal_close_by_the_server_without_reconnect_is_a_clean_end() {
    let server = TestServer::start();
    let mut cli = Cli::connect(&server.url(), &["--no-reconnect"]);
    cli.wait_for("open", |_| true);
    server.close_all(1000, "bye");
    let gave_up = cli.wait_for("gave_up", |_| true);
    assert_eq!(gave_up["attempts"], 0);
    cli.wait_for("closed", |_| true);
    // stdin is still open: the client must exit on its own all the same.
    assert_eq!(cli.exit_code_with_stdin_open(), 0);
}

#[test]
fn a_normal_close_with_messages_left_undelivered_exits_1() {
    let server = TestServer::start();
    let url = server.url();
    let mut cli = Cli::connect(&url, &["--no-reconnect"]);
    cli.wait_for("open", |_| true);
    server.stop();
    cli.wait_for("closed", |_| true);
    assert_eq!(cli.exit_code(), 1);
}

#[test]
fn echo_sends_every_received_message_back() {
    let server = TestServer::start_with(Behavior {
        echo: false,
        ..Behavior::default()
    });
    let mut cli = Cli::connect(&server.url(), &["--echo"]);
    cli.wait_for("open", |_| true);
    server.send_text("ping me back");
    server.send_binary(&[1, 2, 3]);
    cli.wait_for("message", |e| e["binary_base64"] == "AQID");
    assert!(server.wait_for_received(2, WAIT));
    assert_eq!(server.received_texts(), ["ping me back"]);
}

#[test]
fn bad_usage_exits_2_with_one_line() {
    for (args, expected) in [
        (vec!["connect", "http://example.com/"], "ws"),
        (
            vec!["connect", "ws://127.0.0.1:9/", "--ping-interval", "soon"],
            "soon",
        ),
        (
            vec![
                "connect",
                "ws://127.0.0.1:9/",
                "--reconnect-initial",
                "1m",
                "--reconnect-max",
                "1s",
            ],
            "initial_delay",
        ),
        (
            vec!["connect", "ws://127.0.0.1:9/", "--heartbeat", "json:[1]"],
            "JSON object",
        ),
        (vec!["frobnicate"], "frobnicate"),
    ] {
        let (code, stderr) = run_usage(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: one line, got {stderr:?}"
        );
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn demo_tells_the_story_and_exits_0() {
    let output = Command::new(env!("CARGO_BIN_EXE_ws-cli"))
        .args(["demo", "--json"])
        .output()
        .expect("demo runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<Value> = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for name in [
        "open",
        "rtt",
        "disconnected",
        "connect_failed",
        "reconnecting",
        "message",
        "closed",
    ] {
        assert!(names.contains(&name), "demo shows `{name}`: {names:?}");
    }
    let echoed_after_outage = events
        .iter()
        .any(|e| e["event"] == "message" && e["text"] == "typed during the outage");
    assert!(echoed_after_outage);
    assert_eq!(names.last(), Some(&"note"));
}
