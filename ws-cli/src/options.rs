//! The command line: every supervisor option is a flag, checked once, turned into a
//! `ws_core::Config`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use ws_core::{Config, ConfigError, Heartbeat, Jitter, Liveness, Matcher, Message, Text};

/// A resilient WebSocket client: detects dead peers, reconnects with backoff, queues what you
/// type while the server is away.
#[derive(Debug, Parser)]
#[command(name = "ws-cli", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Connect to a WebSocket URL. Each stdin line is sent as a text message (queued while
    /// disconnected); end of input closes with 1000 once the queue is flushed.
    Connect(Box<ConnectArgs>),
    /// A self-contained tour on 127.0.0.1: heartbeats, a server outage, reconnects, a queued
    /// message delivered after recovery, a clean close.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// One JSON object per line per event instead of prose.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum JitterArg {
    None,
    Full,
    Equal,
    Decorrelated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LivenessArg {
    /// Only the heartbeat reply proves the peer alive.
    Reply,
    /// Any inbound frame does.
    Any,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct ConnectArgs {
    /// The server, `ws://` or `wss://`.
    pub(crate) url: String,

    /// Ping after this long without a sign of life (e.g. 500ms, 15s, 2m).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) ping_interval: Option<Duration>,
    /// Declare the peer dead when no reply comes within this long of a ping.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) pong_timeout: Option<Duration>,
    /// With `--heartbeat server`: declare the peer dead after this long without any frame.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) idle_timeout: Option<Duration>,
    /// protocol | text:PING:PONG | json:PING[|REPLY] | server | off. `json:` sends the PING
    /// object and accepts any reply containing REPLY's fields (default: PING's fields).
    #[arg(long, value_name = "MODE", value_parser = heartbeat, default_value = "protocol")]
    pub(crate) heartbeat: HeartbeatArg,
    /// What proves the peer alive.
    #[arg(long, value_enum, default_value_t = LivenessArg::Any)]
    pub(crate) liveness: LivenessArg,
    /// The opening handshake must finish within this long.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) connect_timeout: Option<Duration>,
    /// Abort if the server does not answer our Close within this long.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) close_timeout: Option<Duration>,
    /// First reconnect delay.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) reconnect_initial: Option<Duration>,
    /// Largest reconnect delay.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) reconnect_max: Option<Duration>,
    /// Growth of the delay per attempt (1 = fixed delay).
    #[arg(long, value_name = "FACTOR")]
    pub(crate) multiplier: Option<f64>,
    /// How the delay is randomised.
    #[arg(long, value_enum)]
    pub(crate) jitter: Option<JitterArg>,
    /// Reconnect attempts after a loss before giving up (default: forever).
    #[arg(long, value_name = "N")]
    pub(crate) max_attempts: Option<u32>,
    /// Never reconnect (the same as `--max-attempts 0`).
    #[arg(long, conflicts_with = "max_attempts")]
    pub(crate) no_reconnect: bool,
    /// Open this long before the attempt counter resets.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) stable_after: Option<Duration>,
    /// Most messages held while disconnected.
    #[arg(long, value_name = "N")]
    pub(crate) queue_limit: Option<usize>,
    /// Seed for the backoff jitter (default: from the OS), for reproducible schedules.
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Extra request header, repeatable.
    #[arg(long = "header", value_name = "K:V", value_parser = header)]
    pub(crate) headers: Vec<(String, String)>,
    /// Subprotocol to offer, repeatable.
    #[arg(long = "subprotocol", value_name = "P")]
    pub(crate) subprotocols: Vec<String>,
    /// Tunnel through this proxy: http://, https://, socks5:// or socks5h://, with optional
    /// user:password@ (never printed). Default: the proxy variables of the environment, read
    /// as curl reads them.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub(crate) proxy: Option<String>,
    /// Connect directly, ignoring the environment's proxy variables.
    #[arg(long)]
    pub(crate) no_proxy: bool,
    /// Also trust the CA certificates in this PEM file (repeatable); verification stays on.
    #[arg(long = "ca", value_name = "FILE")]
    pub(crate) ca: Vec<std::path::PathBuf>,
    /// Send every received message back.
    #[arg(long)]
    pub(crate) echo: bool,
    /// One JSON object per line per event on stdout (diagnostics stay on stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

/// The parsed `--heartbeat`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HeartbeatArg {
    Protocol,
    Text { ping: String, pong: String },
    Json { ping: Value, reply: Value },
    Server,
    Off,
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|err| format!("`{text}` is not a duration like 500ms, 15s or 2m ({err})"))
}

fn header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not a header; write it as Name:value"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("`{text}` has an empty header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

fn heartbeat(text: &str) -> Result<HeartbeatArg, String> {
    match text {
        "protocol" => return Ok(HeartbeatArg::Protocol),
        "server" => return Ok(HeartbeatArg::Server),
        "off" => return Ok(HeartbeatArg::Off),
        _ => {}
    }
    if let Some(rest) = text.strip_prefix("text:") {
        let (ping, pong) = rest
            .split_once(':')
            .filter(|(ping, pong)| !ping.is_empty() && !pong.is_empty())
            .ok_or_else(|| format!("`{text}`: write a text heartbeat as text:PING:PONG"))?;
        return Ok(HeartbeatArg::Text {
            ping: ping.to_owned(),
            pong: pong.to_owned(),
        });
    }
    if let Some(rest) = text.strip_prefix("json:") {
        let (ping, reply) = rest.split_once('|').unwrap_or((rest, rest));
        let parse = |part: &str| -> Result<Value, String> {
            let value: Value = serde_json::from_str(part)
                .map_err(|err| format!("`{part}` in --heartbeat is not JSON: {err}"))?;
            if value.is_object() {
                Ok(value)
            } else {
                Err(format!("`{part}` in --heartbeat must be a JSON object"))
            }
        };
        return Ok(HeartbeatArg::Json {
            ping: parse(ping)?,
            reply: parse(reply)?,
        });
    }
    Err(format!(
        "`{text}` is not a heartbeat mode: use protocol, text:PING:PONG, json:PING[|REPLY], server or off"
    ))
}

/// Whether `reply` is a JSON object holding every field of `expected` with the same value.
fn json_contains(reply: &Message, expected: &Value) -> bool {
    let Some(text) = reply.as_text() else {
        return false;
    };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let Value::Object(wanted) = expected else {
        return false;
    };
    wanted
        .iter()
        .all(|(key, value)| fields.get(key) == Some(value))
}

impl ConnectArgs {
    /// The supervisor configuration these flags describe; the core validates every value.
    pub(crate) fn config(&self) -> Result<Config, ConfigError> {
        let mut builder = Config::builder();
        macro_rules! apply {
            ($($flag:ident => $setter:ident),* $(,)?) => {
                $(if let Some(value) = self.$flag { builder = builder.$setter(value); })*
            };
        }
        apply! {
            ping_interval => ping_interval,
            pong_timeout => pong_timeout,
            idle_timeout => idle_timeout,
            connect_timeout => connect_timeout,
            close_timeout => close_timeout,
            reconnect_initial => initial_delay,
            reconnect_max => max_delay,
            multiplier => multiplier,
            stable_after => stable_after,
            queue_limit => queue_max_messages,
        }
        if let Some(jitter) = self.jitter {
            builder = builder.jitter(match jitter {
                JitterArg::None => Jitter::None,
                JitterArg::Full => Jitter::Full,
                JitterArg::Equal => Jitter::Equal,
                JitterArg::Decorrelated => Jitter::Decorrelated,
            });
        }
        if self.max_attempts.is_some() {
            builder = builder.max_attempts(self.max_attempts);
        }
        if self.no_reconnect {
            builder = builder.no_reconnect();
        }
        builder = builder.liveness(match self.liveness {
            LivenessArg::Reply => Liveness::ReplyOnly,
            LivenessArg::Any => Liveness::AnyFrame,
        });
        builder = builder.heartbeat(match &self.heartbeat {
            HeartbeatArg::Protocol => Heartbeat::Protocol,
            HeartbeatArg::Server => Heartbeat::ServerDriven,
            HeartbeatArg::Off => Heartbeat::Disabled,
            HeartbeatArg::Text { ping, pong } => Heartbeat::Application {
                ping: Message::from(ping.clone()),
                pong: Matcher::Exact(Text::from(pong.clone())),
            },
            HeartbeatArg::Json { ping, reply } => {
                let reply = reply.clone();
                Heartbeat::Application {
                    ping: Message::from(ping.to_string()),
                    pong: Matcher::custom(move |message| json_contains(message, &reply)),
                }
            }
        });
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(args: &[&str]) -> Result<ConnectArgs, clap::Error> {
        let mut argv = vec!["ws-cli", "connect", "ws://127.0.0.1:9/"];
        argv.extend_from_slice(args);
        let Command::Connect(args) = Cli::try_parse_from(argv)?.command else {
            unreachable!("connect was given")
        };
        Ok(*args)
    }

    #[test]
    fn durations_are_human() {
        let args = connect(&["--ping-interval", "500ms", "--pong-timeout", "2m"]).unwrap();
        let config = args.config().unwrap();
        assert_eq!(config.ping_interval(), Duration::from_millis(500));
        assert_eq!(config.pong_timeout(), Duration::from_secs(120));
        let err = connect(&["--ping-interval", "soon"]).unwrap_err();
        assert!(
            err.to_string().contains("`soon` is not a duration"),
            "{err}"
        );
    }

    #[test]
    fn the_core_rejects_inconsistent_values_with_the_field_name() {
        let args = connect(&["--reconnect-initial", "1m", "--reconnect-max", "10s"]).unwrap();
        let err = args.config().unwrap_err();
        assert_eq!(err.field(), "initial_delay");
    }

    #[test]
    fn no_reconnect_means_zero_attempts() {
        let config = connect(&["--no-reconnect"]).unwrap().config().unwrap();
        assert_eq!(config.max_attempts(), Some(0));
        assert!(connect(&["--no-reconnect", "--max-attempts", "3"]).is_err());
    }

    #[test]
    fn heartbeat_modes() {
        assert_eq!(
            heartbeat("text:ping:pong"),
            Ok(HeartbeatArg::Text {
                ping: "ping".into(),
                pong: "pong".into()
            })
        );
        assert!(heartbeat("text:ping").is_err());
        assert!(heartbeat("json:[1]").is_err());
        assert!(heartbeat("json:{nope").is_err());
        assert!(heartbeat("sometimes").is_err());
        let HeartbeatArg::Json { ping, reply } =
            heartbeat(r#"json:{"action":4}|{"action":4,"ok":true}"#).unwrap()
        else {
            panic!("json mode");
        };
        assert_eq!(ping["action"], 4);
        assert_eq!(reply["ok"], true);
    }

    #[test]
    fn json_reply_matcher_compares_fields_not_text() {
        let args = connect(&["--heartbeat", r#"json:{"action":4}"#]).unwrap();
        let config = args.config().unwrap();
        let Heartbeat::Application { ping, pong } = config.heartbeat() else {
            panic!("application heartbeat");
        };
        assert_eq!(ping.as_text(), Some(r#"{"action":4}"#));
        assert!(pong.matches(&Message::from(r#"{ "action": 4, "ts": 17 }"#)));
        assert!(!pong.matches(&Message::from(r#"{"action":5}"#)));
        assert!(!pong.matches(&Message::from("action 4")));
    }

    #[test]
    fn headers_need_a_colon() {
        let args = connect(&["--header", "Authorization: Bearer x", "--header", "X-A:b"]).unwrap();
        assert_eq!(
            args.headers,
            [
                ("Authorization".to_owned(), "Bearer x".to_owned()),
                ("X-A".to_owned(), "b".to_owned())
            ]
        );
        assert!(connect(&["--header", "nocolon"]).is_err());
    }

    #[test]
    fn proxy_flags_exclude_each_other_and_ca_repeats() {
        let args = connect(&[
            "--proxy",
            "socks5h://u:p@127.0.0.1:1080",
            "--ca",
            "a.pem",
            "--ca",
            "b.pem",
        ])
        .unwrap();
        assert_eq!(args.proxy.as_deref(), Some("socks5h://u:p@127.0.0.1:1080"));
        assert_eq!(args.ca.len(), 2);
        assert!(connect(&["--no-proxy"]).unwrap().no_proxy);
        assert!(connect(&["--proxy", "http://p:1", "--no-proxy"]).is_err());
    }
}
