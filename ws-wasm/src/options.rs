//! Where to connect and how, validated once by a builder, with what a browser cannot do
//! refused up front.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use ws_core::{Config, Heartbeat};

use crate::error::Error;

/// A future returned by a URL provider (not `Send`: a browser has one thread).
pub type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

type Provider = Rc<dyn Fn(u32) -> LocalBoxFuture<Result<String, Error>>>;

/// Where each attempt connects: a fixed URL, or a provider called before every attempt (so a
/// fresh token can go into the URL: a browser's WebSocket takes no headers).
#[derive(Clone)]
pub enum Endpoint {
    /// Always this URL (checked by the builder).
    Url(String),
    /// Called with the attempt number (0 for the first connect) before every attempt; may
    /// fetch a token first. Its time counts against `connect_timeout`; an error counts as a
    /// failed attempt.
    Provider(Provider),
}

impl Endpoint {
    /// A provider from an async function of the attempt number.
    pub fn provider<F, Fut>(provider: F) -> Self
    where
        F: Fn(u32) -> Fut + 'static,
        Fut: Future<Output = Result<String, Error>> + 'static,
    {
        Endpoint::Provider(Rc::new(move |attempt| Box::pin(provider(attempt))))
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Url(url) => f.debug_tuple("Url").field(&redact(url)).finish(),
            Endpoint::Provider(_) => f.write_str("Provider(fn)"),
        }
    }
}

/// A client's configuration: the endpoint, the supervisor's [`Config`], the subprotocols to
/// offer and the jitter seed. Build it with [`ClientOptions::builder`]; cheap to clone.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    endpoint: Endpoint,
    config: Config,
    subprotocols: Rc<[String]>,
    seed: Option<u64>,
}

impl ClientOptions {
    /// A builder for a client of `url` (checked by [`build`](ClientOptionsBuilder::build)).
    pub fn builder(url: &str) -> ClientOptionsBuilder {
        ClientOptionsBuilder::new(Endpoint::Url(url.to_owned()))
    }

    /// A builder for a client whose URL comes from `endpoint` (e.g. [`Endpoint::provider`]).
    pub fn builder_with(endpoint: Endpoint) -> ClientOptionsBuilder {
        ClientOptionsBuilder::new(endpoint)
    }

    /// Where to connect.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The supervisor's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The subprotocols offered, in order of preference.
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// The fixed jitter seed, if one was set (otherwise the client draws one from
    /// `crypto.getRandomValues`).
    pub fn fixed_seed(&self) -> Option<u64> {
        self.seed
    }

    /// A short, redacted name for logs: the fixed URL with its query values hidden, or
    /// `(provider)`.
    pub fn label(&self) -> String {
        match &self.endpoint {
            Endpoint::Url(url) => redact(url),
            Endpoint::Provider(_) => "(provider)".to_owned(),
        }
    }
}

/// Builds [`ClientOptions`]; [`build`](Self::build) checks everything once.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ClientOptionsBuilder {
    endpoint: Endpoint,
    config: Option<Config>,
    subprotocols: Vec<String>,
    seed: Option<u64>,
}

impl ClientOptionsBuilder {
    fn new(endpoint: Endpoint) -> Self {
        ClientOptionsBuilder {
            endpoint,
            config: None,
            subprotocols: Vec::new(),
            seed: None,
        }
    }

    /// The supervisor's configuration. Its heartbeat must be [`Heartbeat::Application`],
    /// [`Heartbeat::ServerDriven`] or [`Heartbeat::Disabled`]: a page cannot send protocol
    /// Ping frames. Without this call the defaults of [`Config`] apply with the heartbeat
    /// disabled, and a dead peer is then noticed only when the browser notices, which on a
    /// half-open connection can take many minutes: set an application heartbeat your server
    /// answers.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Offers a subprotocol (repeatable, in order of preference); the server's choice is in
    /// [`Event::Open`](crate::Event::Open).
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Fixes the jitter seed (for a reproducible backoff schedule); by default each client
    /// draws one from `crypto.getRandomValues`, so a fleet of tabs spreads out.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks the URL (when fixed), the heartbeat and the subprotocols.
    pub fn build(self) -> Result<ClientOptions, Error> {
        if let Endpoint::Url(url) = &self.endpoint {
            check_url(url)?;
        }
        let config = match self.config {
            Some(config) => config,
            None => Config::builder().heartbeat(Heartbeat::Disabled).build()?,
        };
        check_heartbeat(config.heartbeat())?;
        check_subprotocols(&self.subprotocols)?;
        Ok(ClientOptions {
            endpoint: self.endpoint,
            config,
            subprotocols: self.subprotocols.into(),
            seed: self.seed,
        })
    }
}

/// A protocol heartbeat is a configuration error in a browser: the WebSocket API has no way to
/// send a Ping frame (browsers answer the server's pings by themselves, invisibly).
pub(crate) fn check_heartbeat(heartbeat: &Heartbeat) -> Result<(), Error> {
    match heartbeat {
        Heartbeat::Protocol => Err(Error::InvalidOption {
            option: "heartbeat",
            problem: "a browser cannot send protocol Ping frames (the WebSocket API has no \
                      ping()); use Heartbeat::Application with a message the server answers, \
                      Heartbeat::ServerDriven, or Heartbeat::Disabled"
                .to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Checks what `new WebSocket(url)` would throw a `SyntaxError` for: a scheme other than
/// `ws`/`wss`, no host, a fragment, or whitespace.
pub(crate) fn check_url(url: &str) -> Result<(), Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    let rest = strip_prefix_ignore_case(url, "ws://")
        .or_else(|| strip_prefix_ignore_case(url, "wss://"))
        .ok_or_else(|| invalid("the scheme must be ws:// or wss://"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid("there is no host"));
    }
    if url.contains('#') {
        return Err(invalid("a WebSocket URL may not have a fragment (#...)"));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(invalid("a URL may not contain whitespace"));
    }
    Ok(())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The browser throws a `SyntaxError` on an empty, duplicated or non-token subprotocol.
fn check_subprotocols(protocols: &[String]) -> Result<(), Error> {
    for (index, protocol) in protocols.iter().enumerate() {
        let is_token = !protocol.is_empty()
            && protocol
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        let problem = if !is_token {
            format!("{protocol:?} is not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)")
        } else if protocols[..index].contains(protocol) {
            format!("{protocol:?} is offered twice")
        } else {
            continue;
        };
        return Err(Error::InvalidOption {
            option: "subprotocol",
            problem,
        });
    }
    Ok(())
}

/// The URL with every query value replaced by `***` (tokens travel there in a browser).
pub fn redact(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let mut out = format!("{base}?");
    for (index, pair) in query.split('&').enumerate() {
        if index > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) => {
                out.push_str(name);
                out.push_str("=***");
            }
            None => out.push_str(pair),
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ws_core::{Matcher, Message, Text};

    fn app_heartbeat() -> Config {
        Config::builder()
            .heartbeat(Heartbeat::Application {
                ping: Message::from("ping"),
                pong: Matcher::Exact(Text::from("pong")),
            })
            .build()
            .unwrap()
    }

    #[test]
    fn a_protocol_heartbeat_is_a_clear_configuration_error() {
        let error = ClientOptions::builder("ws://127.0.0.1:1/")
            .config(Config::default())
            .build()
            .unwrap_err();
        assert!(matches!(
            error,
            Error::InvalidOption {
                option: "heartbeat",
                ..
            }
        ));
        assert!(
            error
                .to_string()
                .starts_with("invalid `heartbeat`: a browser cannot send protocol Ping frames"),
            "{error}"
        );
    }

    #[test]
    fn application_and_server_driven_heartbeats_are_accepted() {
        let options = ClientOptions::builder("wss://example.com/feed?token=s3cret")
            .config(app_heartbeat())
            .subprotocol("chat.v2")
            .seed(7)
            .build()
            .unwrap();
        assert_eq!(options.label(), "wss://example.com/feed?token=***");
        assert_eq!(options.subprotocols(), ["chat.v2"]);
        assert_eq!(options.fixed_seed(), Some(7));
        let server_driven = Config::builder()
            .heartbeat(Heartbeat::ServerDriven)
            .build()
            .unwrap();
        assert!(
            ClientOptions::builder("ws://h/")
                .config(server_driven)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn the_default_config_has_no_heartbeat_rather_than_an_impossible_one() {
        let options = ClientOptions::builder("ws://h/").build().unwrap();
        assert!(matches!(options.config().heartbeat(), Heartbeat::Disabled));
    }

    #[test]
    fn urls_the_browser_would_throw_on_are_refused() {
        for (url, reason) in [
            ("http://h/", "the scheme must be ws:// or wss://"),
            ("h:80", "the scheme must be ws:// or wss://"),
            ("ws:///path", "there is no host"),
            ("ws://:80/", "there is no host"),
            (
                "ws://h/#top",
                "a WebSocket URL may not have a fragment (#...)",
            ),
            ("ws://h/a b", "a URL may not contain whitespace"),
        ] {
            match check_url(url) {
                Err(Error::InvalidUrl { reason: got, .. }) => assert_eq!(got, reason, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        for url in [
            "ws://127.0.0.1:8080/",
            "WSS://example.com",
            "ws://u@h/x?y=1",
        ] {
            assert!(check_url(url).is_ok(), "{url}");
        }
        let error = check_url("ftp://h/?token=abc").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid URL ftp://h/?token=***: the scheme must be ws:// or wss://"
        );
    }

    #[test]
    fn subprotocols_must_be_distinct_tokens() {
        let twice = ClientOptions::builder("ws://h/")
            .subprotocol("a")
            .subprotocol("a")
            .build()
            .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "invalid `subprotocol`: \"a\" is offered twice"
        );
        let spaced = ClientOptions::builder("ws://h/")
            .subprotocol("a b")
            .build()
            .unwrap_err();
        assert!(matches!(
            spaced,
            Error::InvalidOption {
                option: "subprotocol",
                ..
            }
        ));
    }

    #[test]
    fn redaction_hides_every_query_value() {
        assert_eq!(redact("ws://h/p"), "ws://h/p");
        assert_eq!(redact("ws://h/?a=1&b&c=3"), "ws://h/?a=***&b&c=***");
    }
}
