//! How events are shown: one JSON object per line for scripts, one readable line for people.
//!
//! The JSON event names and fields are a contract scripts rely on: `connecting {attempt}`,
//! `open`, `message {text | binary_base64}`, `rtt {ms}`, `connect_failed {will_reconnect,
//! error}`, `disconnected {code, reason, will_reconnect, cause}`, `reconnecting {attempt,
//! delay_ms}`, `gave_up {undelivered}`, `undelivered {text | binary_base64, reason}`,
//! `closed {code}`, each with `t_ms` since start.

use std::io::Write;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Map, Value, json};
use ws_tokio::{CloseCode, Event, Message, SendErrorKind, UndeliveredReason};

/// Writes events to stdout in the chosen style.
pub(crate) struct Printer {
    json: bool,
    color: bool,
    started: Instant,
    /// The code of the latest disconnect, reported again by `closed`.
    last_code: Option<u16>,
}

impl Printer {
    pub(crate) fn new(json: bool, color: bool) -> Self {
        Printer {
            json,
            color,
            started: Instant::now(),
            last_code: None,
        }
    }

    /// Prints one event.
    pub(crate) fn event(&mut self, event: &Event) {
        let detail = match event {
            Event::Disconnected {
                error: Some(error), ..
            }
            | Event::ConnectFailed { error, .. } => Some(error.to_string()),
            _ => None,
        };
        let detail = detail.as_deref();
        match event {
            Event::Disconnected { code, .. } => self.last_code = Some(code.0),
            // Nothing was connected: the link is as good as lost.
            Event::ConnectFailed { .. } => self.last_code = Some(CloseCode::ABNORMAL.0),
            _ => {}
        }
        let line = if self.json {
            self.json_line(event, detail)
        } else {
            self.human_line(event, detail)
        };
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. piped into `head`) is not worth a panic.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// A line of the program's own narration (the demo's script), in the chosen style.
    pub(crate) fn note(&self, text: &str) {
        let line = if self.json {
            self.stamp("note", Map::from_iter([("text".to_owned(), json!(text))]))
        } else {
            format!(
                "{}  {}",
                self.clock(),
                self.paint("1", &format!("── {text}"))
            )
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn stamp(&self, name: &str, mut fields: Map<String, Value>) -> String {
        let mut object = Map::new();
        object.insert("event".to_owned(), json!(name));
        object.insert("t_ms".to_owned(), json!(self.elapsed_ms()));
        object.append(&mut fields);
        Value::Object(object).to_string()
    }

    fn json_line(&self, event: &Event, detail: Option<&str>) -> String {
        let fields = |pairs: &[(&str, Value)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<Map<_, _>>()
        };
        match event {
            Event::Connecting { attempt } => {
                self.stamp("connecting", fields(&[("attempt", json!(attempt))]))
            }
            Event::Open { subprotocol, .. } => self.stamp(
                "open",
                subprotocol
                    .iter()
                    .map(|p| ("subprotocol".to_owned(), json!(p.as_str())))
                    .collect(),
            ),
            Event::Message(message) => self.stamp("message", payload_fields(message)),
            Event::Rtt(rtt) => self.stamp("rtt", fields(&[("ms", json!(millis_f64(*rtt)))])),
            Event::ConnectFailed { will_reconnect, .. } => {
                let mut map = fields(&[("will_reconnect", json!(will_reconnect))]);
                if let Some(detail) = detail {
                    map.insert("error".to_owned(), json!(detail));
                }
                self.stamp("connect_failed", map)
            }
            Event::Disconnected {
                code,
                reason,
                cause,
                will_reconnect,
                ..
            } => {
                let mut map = fields(&[
                    ("code", json!(code.0)),
                    ("reason", json!(reason.as_str())),
                    ("will_reconnect", json!(will_reconnect)),
                    ("cause", json!(cause.to_string())),
                ]);
                if let Some(detail) = detail {
                    map.insert("error".to_owned(), json!(detail));
                }
                self.stamp("disconnected", map)
            }
            Event::Reconnecting { attempt, delay } => self.stamp(
                "reconnecting",
                fields(&[
                    ("attempt", json!(attempt)),
                    (
                        "delay_ms",
                        json!(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
                    ),
                ]),
            ),
            Event::GaveUp {
                attempts,
                undelivered,
            } => self.stamp(
                "gave_up",
                fields(&[
                    ("attempts", json!(attempts)),
                    ("undelivered", json!(undelivered)),
                ]),
            ),
            Event::Undelivered { message, reason } => {
                let mut map = payload_fields(message);
                map.insert("reason".to_owned(), json!(reason_name(*reason)));
                self.stamp("undelivered", map)
            }
            Event::Rejected { message, reason } => {
                let mut map = payload_fields(message);
                map.insert("reason".to_owned(), json!(rejection_name(*reason)));
                self.stamp("undelivered", map)
            }
            Event::Closed => self.stamp("closed", fields(&[("code", json!(self.last_code))])),
            other => self.stamp("other", fields(&[("debug", json!(format!("{other:?}")))])),
        }
    }

    fn human_line(&self, event: &Event, detail: Option<&str>) -> String {
        let text = match event {
            Event::Connecting { attempt: 0 } => self.paint("36", "connecting…"),
            Event::Connecting { attempt } => {
                self.paint("36", &format!("connecting (attempt {attempt})…"))
            }
            Event::Open {
                subprotocol: None, ..
            } => self.paint("32", "● open"),
            Event::Open {
                subprotocol: Some(protocol),
                ..
            } => self.paint("32", &format!("● open (subprotocol {protocol})")),
            Event::ConnectFailed { will_reconnect, .. } => {
                let mut line = format!("○ could not connect: {}", detail.unwrap_or("?"));
                if !will_reconnect {
                    line.push_str("; not retrying");
                }
                self.paint("31", &line)
            }
            Event::Message(Message::Text(text)) => format!("< {text}"),
            Event::Message(Message::Binary(bytes)) => format!("< [{} bytes binary]", bytes.len()),
            Event::Rtt(rtt) => self.paint(
                "2",
                &format!("♥ pong, round trip {:.1} ms", millis_f64(*rtt)),
            ),
            Event::Disconnected {
                code,
                reason,
                cause,
                will_reconnect,
                ..
            } => {
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" \"{reason}\"")
                };
                // The adapter's error says what and where; the cause is its summary.
                let why = detail.map_or_else(|| cause.to_string(), str::to_owned);
                let mut line = format!("○ disconnected ({code}{reason}): {why}");
                if !will_reconnect {
                    line.push_str("; not reconnecting");
                }
                self.paint("31", &line)
            }
            Event::Reconnecting { attempt, delay } => self.paint(
                "33",
                &format!(
                    "reconnecting: attempt {attempt} in {}",
                    humantime::format_duration(round_ms(*delay))
                ),
            ),
            Event::GaveUp {
                attempts,
                undelivered,
            } => self.paint(
                "31",
                &format!("gave up after {attempts} attempts; {undelivered} message(s) undelivered"),
            ),
            Event::Undelivered { message, reason } => self.paint(
                "31",
                &format!(
                    "✗ not sent ({}): {}",
                    reason_name(*reason),
                    describe(message)
                ),
            ),
            Event::Rejected { message, reason } => self.paint(
                "31",
                &format!(
                    "✗ not sent ({}): {}",
                    rejection_name(*reason),
                    describe(message)
                ),
            ),
            Event::Closed => self.paint("1", "closed"),
            other => format!("{other:?}"),
        };
        format!("{}  {text}", self.clock())
    }

    fn clock(&self) -> String {
        let ms = self.elapsed_ms();
        self.paint("2", &format!("{:>4}.{:03}s", ms / 1000, ms % 1000))
    }

    fn paint(&self, sgr: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn payload_fields(message: &Message) -> Map<String, Value> {
    let mut map = Map::new();
    match message {
        Message::Text(text) => map.insert("text".to_owned(), json!(text.as_str())),
        Message::Binary(bytes) => map.insert(
            "binary_base64".to_owned(),
            json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    };
    map
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("{text:?}"),
        Message::Binary(bytes) => format!("[{} bytes binary]", bytes.len()),
    }
}

fn reason_name(reason: UndeliveredReason) -> &'static str {
    match reason {
        UndeliveredReason::Dropped => "dropped",
        UndeliveredReason::Expired => "expired",
        UndeliveredReason::Closed => "closed",
        _ => "stopped",
    }
}

fn rejection_name(reason: SendErrorKind) -> &'static str {
    match reason {
        SendErrorKind::QueueFull => "queue_full",
        SendErrorKind::TooLargeForQueue => "too_large_for_queue",
        SendErrorKind::Closed => "closed",
        _ => "refused",
    }
}

/// One line on stderr for a failure the user must fix; the exit status says the rest.
pub(crate) fn fail(error: &dyn std::fmt::Display) {
    eprintln!("ws-cli: {error}");
}

fn millis_f64(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}
