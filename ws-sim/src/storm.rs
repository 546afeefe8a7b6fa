//! The reconnect storm: many clients lose the same server at the same moment.
//!
//! Each client is a real [`Supervisor`] on one shared virtual clock. The server is down for a
//! while, then comes back with a limited handshake capacity per window (a real server's accept
//! queue and TLS budget); beyond it, handshakes are refused with HTTP 503. Without jitter,
//! every client retries at the same instants, so each wave overwhelms the server again; jitter
//! spreads the waves out. [`run`] measures that.

use core::fmt::Write;
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ws_core::{Action, Config, ConnectFailure, Input, Instant, Jitter, Supervisor, TransportError};

/// What the study varies and what it holds fixed.
#[derive(Clone, Debug)]
pub struct StormSetup {
    /// How many clients lose the server together.
    pub clients: usize,
    /// How long the server stays down.
    pub outage: Duration,
    /// Handshakes the server completes per window once it is back; the rest get 503.
    pub capacity_per_window: usize,
    /// The histogram's and the capacity's window.
    pub window: Duration,
    /// The jitter mode under study.
    pub jitter: Jitter,
}

/// What happened.
#[derive(Clone, Debug)]
pub struct StormResult {
    /// The jitter mode.
    pub jitter: Jitter,
    /// Connect attempts in each window, from the moment of the loss.
    pub attempts_per_window: Vec<usize>,
    /// The most attempts in any one window.
    pub peak_attempts: usize,
    /// From the loss until the last client was open again.
    pub all_reconnected_after: Duration,
    /// Attempts made by all clients together.
    pub total_attempts: usize,
}

/// The backoff every client uses: the library's defaults (1 s doubling to 30 s).
fn config(jitter: Jitter) -> Config {
    Config::builder()
        .jitter(jitter)
        .build()
        .expect("the defaults are valid")
}

/// Runs one storm to the end (every client open again).
pub fn run(setup: &StormSetup) -> StormResult {
    let start = Instant::from_millis(1_000);
    let back_at = start + setup.outage;
    let mut clients: Vec<Supervisor> = (0..setup.clients)
        .map(|i| Supervisor::new(config(setup.jitter), i as u64 ^ 0x5eed_0000))
        .collect();
    // Everyone connects and opens before the outage.
    for client in &mut clients {
        client.connect(Instant::ZERO);
        let connection = client.connection().expect("connecting");
        client.handle_input(Input::Opened { connection }, Instant::ZERO);
        drain(client);
    }
    // The server dies: every transport breaks at once.
    let mut wakeups = BinaryHeap::new();
    for (index, client) in clients.iter_mut().enumerate() {
        let connection = client.connection().expect("open");
        client.handle_input(
            Input::Error {
                connection,
                error: TransportError::Eof,
            },
            start,
        );
        drain(client);
        if let Some(at) = client.poll_timeout() {
            wakeups.push(Reverse((at, index)));
        }
    }
    let window_nanos = setup.window.as_nanos().max(1);
    let window_of =
        |at: Instant| usize::try_from((at - start).as_nanos() / window_nanos).unwrap_or(usize::MAX);
    let mut attempts_per_window: Vec<usize> = Vec::new();
    let mut accepted_per_window: Vec<usize> = Vec::new();
    let mut open = 0;
    let mut last_open = start;
    let mut total_attempts = 0;
    while let Some(Reverse((at, index))) = wakeups.pop() {
        let client = &mut clients[index];
        if client.poll_timeout() != Some(at) {
            continue; // a stale wake-up: the client's deadline moved
        }
        client.handle_timeout(at);
        while let Some(action) = client.poll_action() {
            let Action::Connect { connection, .. } = action else {
                continue;
            };
            total_attempts += 1;
            let window = window_of(at);
            for counts in [&mut attempts_per_window, &mut accepted_per_window] {
                if counts.len() <= window {
                    counts.resize(window + 1, 0);
                }
            }
            attempts_per_window[window] += 1;
            let input = if at < back_at {
                Input::ConnectFailed {
                    connection,
                    failure: ConnectFailure::Io,
                }
            } else if accepted_per_window[window] < setup.capacity_per_window {
                accepted_per_window[window] += 1;
                open += 1;
                last_open = at;
                Input::Opened { connection }
            } else {
                Input::ConnectFailed {
                    connection,
                    failure: ConnectFailure::Http {
                        status: 503,
                        retry_after: None,
                    },
                }
            };
            client.handle_input(input, at);
        }
        while client.poll_event().is_some() {}
        if client.state() != ws_core::State::Open
            && let Some(next) = client.poll_timeout()
        {
            wakeups.push(Reverse((next, index)));
        }
    }
    assert_eq!(open, setup.clients, "every client is open again at the end");
    StormResult {
        jitter: setup.jitter,
        peak_attempts: attempts_per_window.iter().copied().max().unwrap_or(0),
        attempts_per_window,
        all_reconnected_after: last_open - start,
        total_attempts,
    }
}

fn drain(client: &mut Supervisor) {
    while client.poll_action().is_some() {}
    while client.poll_event().is_some() {}
}

/// A line chart of attempts per window over the first `span`, one line per jitter mode, as a
/// standalone SVG.
pub fn chart(results: &[StormResult], setup: &StormSetup, span: Duration) -> String {
    const WIDTH: f64 = 860.0;
    const HEIGHT: f64 = 420.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 50.0;
    const BOTTOM: f64 = 60.0;
    let colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];
    let span_windows =
        usize::try_from(span.as_nanos() / setup.window.as_nanos().max(1)).unwrap_or(usize::MAX);
    let windows = results
        .iter()
        .map(|r| r.attempts_per_window.len())
        .max()
        .unwrap_or(1)
        .clamp(1, span_windows.max(1));
    let peak = results
        .iter()
        .map(|r| r.peak_attempts)
        .max()
        .unwrap_or(1)
        .max(1);
    let x = |w: usize| LEFT + (WIDTH - LEFT - RIGHT) * w as f64 / windows as f64;
    let y = |n: usize| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - n as f64 / peak as f64);
    let window_s = setup.window.as_secs_f64();
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{} clients lose their server at t = 0: connect attempts per {} ms</text>
<text x="{LEFT}" y="40" fill="#555">server back after {} s, then {} handshakes per window (503 beyond); default backoff 1 s doubling to 30 s; first {} s shown</text>"##,
        setup.clients,
        setup.window.as_millis(),
        setup.outage.as_secs_f64(),
        setup.capacity_per_window,
        span.as_secs(),
    );
    // Axes, ticks every 10 s and at quarter heights.
    let axis_y = HEIGHT - BOTTOM;
    let _ = writeln!(
        svg,
        r#"<line x1="{LEFT}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="black"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{axis_y}" stroke="black"/>"#,
        WIDTH - RIGHT
    );
    let seconds = windows as f64 * window_s;
    let step = if seconds > 120.0 { 20.0 } else { 10.0 };
    let mut t = 0.0;
    while t <= seconds {
        let px = LEFT + (WIDTH - LEFT - RIGHT) * t / seconds;
        let _ = writeln!(
            svg,
            r#"<line x1="{px:.1}" y1="{axis_y}" x2="{px:.1}" y2="{}" stroke="black"/><text x="{px:.1}" y="{}" text-anchor="middle">{t:.0} s</text>"#,
            axis_y + 5.0,
            axis_y + 18.0
        );
        t += step;
    }
    for quarter in 0..=4 {
        let n = peak * quarter / 4;
        let py = y(n);
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{py:.1}" x2="{LEFT}" y2="{py:.1}" stroke="black"/><text x="{}" y="{:.1}" text-anchor="end">{n}</text><line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#eee"/>"##,
            LEFT - 5.0,
            LEFT - 8.0,
            py + 4.0,
            WIDTH - RIGHT
        );
    }
    for (result, colour) in results.iter().zip(colours) {
        let points: Vec<String> = result
            .attempts_per_window
            .iter()
            .take(windows + 1)
            .enumerate()
            .map(|(w, &n)| format!("{:.1},{:.1}", x(w), y(n)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{}"/>"#,
            points.join(" ")
        );
    }
    legend(&mut svg, results, &colours, WIDTH - RIGHT - 380.0, TOP);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">time since the server was lost</text>
</svg>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 15.0
    );
    svg
}

/// One line per jitter mode: its colour, its peak and its recovery time.
fn legend(svg: &mut String, results: &[StormResult], colours: &[&str], lx: f64, top: f64) {
    for (i, (result, colour)) in results.iter().zip(colours.iter()).enumerate() {
        let ly = top + 18.0 * i as f64 + 10.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{lx}" y="{:.1}" width="14" height="4" fill="{colour}"/><text x="{}" y="{ly:.1}">{:?}: peak {} / window, all back after {:.1} s</text>"#,
            ly - 5.0,
            lx + 20.0,
            result.jitter,
            result.peak_attempts,
            result.all_reconnected_after.as_secs_f64()
        );
    }
}
