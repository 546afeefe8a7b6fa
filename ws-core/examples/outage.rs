//! A scripted outage, played in virtual time: `cargo run -p ws-core --example outage`.
//!
//! A server answers heartbeats for a while, then goes silent (a half-open TCP connection),
//! refuses connections for a few seconds, and comes back. The timeline shows what the
//! supervisor does about it: pings with their round trip, the dead-peer verdict, backoff
//! attempts, the subscription replayed on every new connection, a message queued during the
//! outage and flushed on recovery behind it, a clean close.
//! No sockets, no sleeping: a minute of connection life runs in microseconds.

use std::time::Duration;

use ws_core::{
    Action, CloseCode, Config, ConfigError, ConnectFailure, Event, Frame, Input, Instant, Jitter,
    Message, Supervisor, Text,
};

/// What the pretend server does at a given time.
fn server_is_up(at: Instant) -> bool {
    let t = at.since_origin();
    !(Duration::from_secs(21)..Duration::from_secs(33)).contains(&t)
}

/// From 17 s the link is half-open: the socket stays up but nothing comes back, until the
/// server restarts at 33 s.
fn server_answers_pings(at: Instant) -> bool {
    let t = at.since_origin();
    !(Duration::from_secs(17)..Duration::from_secs(33)).contains(&t)
}

/// What the application does, and when.
enum AppStep {
    Send(&'static str),
    Close,
}

const RTT: Duration = Duration::from_millis(23);
const HANDSHAKE: Duration = Duration::from_millis(40);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut supervisor = Supervisor::new(config()?, 42);
    // Things the driver will report later: (when, what).
    let mut pending: Vec<(Instant, Input)> = Vec::new();
    let mut app_script = vec![
        (
            Instant::from_millis(26_000),
            AppStep::Send("hello, are you there?"),
        ),
        (Instant::from_millis(50_000), AppStep::Close),
    ];

    supervisor.connect(Instant::ZERO);
    let mut now = Instant::ZERO;
    loop {
        while let Some(event) = supervisor.poll_event() {
            print_line(now, &format!("app       {}", describe_event(&event)));
            if event == Event::Closed {
                return Ok(());
            }
        }

        // Carry out every action (after telling the application the news), scheduling what the pretend network will answer.
        while let Some(action) = supervisor.poll_action() {
            print_line(now, &format!("driver    {}", describe_action(&action)));
            match action {
                Action::Connect { connection, .. } => {
                    let input = if server_is_up(now) {
                        Input::Opened { connection }
                    } else {
                        Input::ConnectFailed {
                            connection,
                            failure: ConnectFailure::Io,
                        }
                    };
                    pending.push((now + HANDSHAKE, input));
                }
                Action::Ping(ping) if server_answers_pings(now) => {
                    let connection = supervisor.connection().expect("open");
                    let payload = ws_core::Bytes::copy_from_slice(ping.as_bytes());
                    let frame = Frame::Pong(payload);
                    pending.push((now + RTT, Input::Frame { connection, frame }));
                }
                Action::Send(message) => {
                    let connection = supervisor.connection().expect("open");
                    let frame = Frame::from(message);
                    pending.push((now + RTT, Input::Frame { connection, frame }));
                }
                Action::Close { code, reason } => {
                    let connection = supervisor.connection().expect("closing");
                    pending.push((
                        now + RTT,
                        Input::Closed {
                            connection,
                            code,
                            reason,
                        },
                    ));
                }
                _ => {}
            }
        }
        // Advance the virtual clock to whatever happens next.
        pending.sort_by_key(|(at, _)| *at);
        let next_input = pending.first().map(|(at, _)| *at);
        let next_step = app_script.first().map(|(at, _)| *at);
        let next_deadline = supervisor.poll_timeout();
        let Some(next) = [next_input, next_step, next_deadline]
            .into_iter()
            .flatten()
            .min()
        else {
            return Ok(());
        };
        now = next;
        if next_input == Some(now) {
            let (_, input) = pending.remove(0);
            supervisor.handle_input(input, now);
        } else if next_step == Some(now) {
            match app_script.remove(0).1 {
                AppStep::Send(text) => {
                    supervisor.send(Message::from(text), now)?;
                    let stats = supervisor.stats();
                    print_line(
                        now,
                        &format!(
                            "app       send {text:?}: queued ({} message, {} bytes waiting)",
                            stats.queued_messages, stats.queued_bytes
                        ),
                    );
                }
                AppStep::Close => supervisor.close(CloseCode::NORMAL, Text::from("done"), now)?,
            }
        }
        if supervisor.poll_timeout().is_some_and(|at| at <= now) {
            supervisor.handle_timeout(now);
        }
    }
}

/// Heartbeat every 5 s, dead after 3 s without a pong; backoff from 1 s to 8 s.
fn config() -> Result<Config, ConfigError> {
    Config::builder()
        .ping_interval(Duration::from_secs(5))
        .pong_timeout(Duration::from_secs(3))
        .initial_delay(Duration::from_secs(1))
        .max_delay(Duration::from_secs(8))
        .jitter(Jitter::Equal)
        // The server forgets subscriptions with the connection: say them again on every one.
        .replay_on_open(|connection| {
            vec![Message::from(format!("subscribe ticker ({connection})"))]
        })
        .build()
}

fn print_line(at: Instant, text: &str) {
    println!("{:>9.3}s  {text}", at.since_origin().as_secs_f64());
}

fn describe_action(action: &Action) -> String {
    match action {
        Action::Connect {
            connection,
            attempt,
        } => format!("connect {connection} (attempt {attempt})"),
        Action::Send(message) => format!("send {message:?}"),
        Action::Ping(ping) => format!("ping #{}", ping.sequence()),
        Action::Close { code, reason } => format!("close {code} {reason:?}"),
        Action::Abort => "abort the transport".to_owned(),
        other => format!("{other:?}"),
    }
}

fn describe_event(event: &Event) -> String {
    match event {
        Event::Open { connection } => format!("open {connection}"),
        Event::Rtt(rtt) => format!("pong: round trip {rtt:?}"),
        Event::Disconnected {
            code,
            cause,
            will_reconnect,
            ..
        } => format!("disconnected ({code}): {cause}; will reconnect: {will_reconnect}"),
        Event::Reconnecting { attempt, delay } => {
            format!("reconnecting: attempt {attempt} in {delay:?}")
        }
        other => format!("{other:?}"),
    }
}
