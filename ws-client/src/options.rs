//! Everything a client needs besides a runtime, validated once by a builder.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tungstenite::handshake::client::{Request, Response};
use tungstenite::http::HeaderMap;
use tungstenite::protocol::WebSocketConfig;
use ws_core::Config;

use crate::attempt::Offer;
use crate::endpoint::{Attempt, Endpoint, handshake_request, header};
use crate::error::{Error, Stage};
use crate::happy_eyeballs::{RaceError, interleave};
use crate::limits::WebSocketLimits;
use crate::proxy::{Proxy, ProxyConfig, ProxyEnv, ProxyFailure, ProxyKind, ProxyTarget};
use crate::runtime::Connected;
use crate::tls::Tls;
use crate::url::WsUrl;

/// Default capacity of the event channel (events the application has not read yet).
pub(crate) const DEFAULT_EVENT_CAPACITY: usize = 256;
/// Default capacity of the command channel (sends the driver has not taken yet).
pub(crate) const DEFAULT_COMMAND_CAPACITY: usize = 256;
const MAX_CHANNEL_CAPACITY: usize = 1 << 20;

/// A client's configuration: where to connect, the supervisor's [`Config`], handshake headers
/// and subprotocols, TLS, the jitter seed, size limits and channel capacities.
///
/// Build it with [`ClientOptions::builder`]; cheap to clone.
///
/// Clones share one copy: an application starts every client of a fleet with a clone of the
/// same options, and each client keeps its options for as long as it runs, so a copy per
/// client (~1 KiB) would be most of an idle connection's own memory.
#[derive(Clone)]
pub struct ClientOptions(Arc<Options>);

/// What [`ClientOptions`] shares between its clones.
struct Options {
    endpoint: Endpoint,
    /// Shared with every client's supervisor, too.
    config: Arc<Config>,
    headers: HeaderMap,
    subprotocols: Arc<[String]>,
    tls: Tls,
    seed: Option<u64>,
    limits: WebSocketLimits,
    event_capacity: usize,
    command_capacity: usize,
    /// Never [`ProxyConfig::FromEnvironment`]: the environment is read by `build`.
    proxy: ProxyConfig,
    resolve: Arc<[(String, Vec<SocketAddr>)]>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Options {
            endpoint,
            config,
            headers,
            subprotocols,
            tls,
            seed,
            limits,
            event_capacity,
            command_capacity,
            proxy,
            resolve,
        } = &*self.0;
        f.debug_struct("ClientOptions")
            .field("endpoint", endpoint)
            .field("config", config)
            .field("headers", headers)
            .field("subprotocols", subprotocols)
            .field("tls", tls)
            .field("seed", seed)
            .field("limits", limits)
            .field("event_capacity", event_capacity)
            .field("command_capacity", command_capacity)
            .field("proxy", proxy)
            .field("resolve", resolve)
            .finish()
    }
}

impl ClientOptions {
    /// A builder for a client of `url` (checked in [`build`](ClientOptionsBuilder::build)).
    pub fn builder(url: impl AsRef<str>) -> ClientOptionsBuilder {
        ClientOptionsBuilder::new(Endpoint::url(url.as_ref()))
    }

    /// A builder for a client whose target comes from `endpoint` (e.g. a provider that puts a
    /// fresh token in every attempt's URL).
    pub fn builder_with(endpoint: Endpoint) -> ClientOptionsBuilder {
        ClientOptionsBuilder::new(Ok(endpoint))
    }

    /// The defaults for `url`.
    pub fn new(url: impl AsRef<str>) -> Result<Self, Error> {
        Self::builder(url).build()
    }

    /// Where to connect.
    pub fn endpoint(&self) -> &Endpoint {
        &self.0.endpoint
    }

    /// The supervisor's configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The supervisor's configuration, for a supervisor to share.
    pub(crate) fn shared_config(&self) -> Arc<Config> {
        Arc::clone(&self.0.config)
    }

    /// Headers added to every handshake.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// Subprotocols offered in every handshake, in order of preference.
    pub fn subprotocols(&self) -> &[String] {
        &self.0.subprotocols
    }

    /// The TLS settings for `wss://`.
    pub fn tls(&self) -> &Tls {
        &self.0.tls
    }

    /// Size limits and buffer sizes.
    pub fn limits(&self) -> &WebSocketLimits {
        &self.0.limits
    }

    /// Capacity of the event channel.
    pub fn event_capacity(&self) -> usize {
        self.0.event_capacity
    }

    /// Capacity of the command channel.
    pub fn command_capacity(&self) -> usize {
        self.0.command_capacity
    }

    /// The seed for the supervisor's jitter: the fixed one if set, else a fresh random value
    /// from the OS-seeded hasher keys of the standard library, so a fleet of clients that lost
    /// the same server spreads out.
    pub fn seed(&self) -> u64 {
        self.0
            .seed
            .unwrap_or_else(|| RandomState::new().hash_one(std::time::SystemTime::now()))
    }

    /// How the proxy is chosen; the environment was read when the options were built.
    pub fn proxy_config(&self) -> &ProxyConfig {
        &self.0.proxy
    }

    /// The proxy a connection to `url` goes through, or `None` to connect directly.
    pub fn proxy_for(&self, url: &WsUrl) -> Option<&Proxy> {
        match &self.0.proxy {
            ProxyConfig::Fixed(proxy) => Some(proxy),
            ProxyConfig::Env(env) => env.proxy_for(url),
            ProxyConfig::None | ProxyConfig::FromEnvironment => None,
        }
    }

    /// The addresses [`ClientOptionsBuilder::resolve`] pinned for `host`, if any.
    pub fn resolved(&self, host: &str) -> Option<&[SocketAddr]> {
        self.0
            .resolve
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(host))
            .map(|(_, addrs)| addrs.as_slice())
    }

    /// A short, redacted name for logs: the fixed URL, or `(URL from a function)`.
    pub fn label(&self) -> String {
        self.0
            .endpoint
            .fixed_url()
            .map_or_else(|| "(URL from a function)".to_owned(), ToString::to_string)
    }
}

/// One attempt, ready for the adapter to resolve `host`, open a TCP connection to `port`, and
/// run the TLS (if `tls` is set) and WebSocket handshakes.
#[derive(Debug)]
#[non_exhaustive]
pub struct Prepared {
    /// The handshake request (secrets included: do not log it).
    pub request: Request,
    /// The host to resolve, without IPv6 brackets.
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// `host:port`, for error messages.
    pub server: String,
    /// The redacted URL, for logs and error messages.
    pub label: String,
    /// The TLS configuration for `wss://`; `None` for `ws://`.
    pub tls: Option<Arc<ClientConfig>>,
    /// The tungstenite configuration.
    pub websocket: WebSocketConfig,
    /// The proxy to tunnel through, if any.
    pub proxy: Option<Proxy>,
    /// The TLS configuration for an `https://` proxy (TLS to the proxy, then the server's
    /// own TLS inside the tunnel for `wss://`).
    pub tls_to_proxy: Option<Arc<ClientConfig>>,
    /// The addresses pinned for the host to dial ([`ClientOptionsBuilder::resolve`]): no DNS.
    pub pinned: Option<Vec<SocketAddr>>,
    /// What the request offered: the server's response is checked against it
    /// ([`Offer::check`]).
    pub offer: Offer,
}

impl Prepared {
    /// Everything `attempt` needs before it opens a socket: resolves the endpoint (calling the
    /// URL function), builds the handshake request and picks the TLS configuration.
    pub async fn new(options: &ClientOptions, attempt: Attempt) -> Result<Prepared, Error> {
        let target = options.0.endpoint.resolve(attempt).await?;
        let request = handshake_request(&target, &options.0.headers, &options.0.subprotocols)?;
        let url = target.url();
        let proxy = options.proxy_for(url).cloned();
        let tls = if url.is_tls() || proxy.as_ref().is_some_and(|p| p.kind() == ProxyKind::Https) {
            Some(options.0.tls.client_config()?)
        } else {
            None
        };
        let (dial_host, dial_port) = match &proxy {
            Some(proxy) => (proxy.host(), proxy.port()),
            None => (url.host(), url.port()),
        };
        let pinned = options.resolved(dial_host).map(|addrs| {
            addrs
                .iter()
                .map(|addr| match addr.port() {
                    0 => SocketAddr::new(addr.ip(), dial_port),
                    _ => *addr,
                })
                .collect()
        });
        let tls_to_proxy = proxy
            .as_ref()
            .filter(|p| p.kind() == ProxyKind::Https)
            .and(tls.clone());
        let tls = if url.is_tls() { tls } else { None };
        Ok(Prepared {
            offer: Offer::of(&request),
            pinned,
            proxy,
            tls_to_proxy,
            label: url.redacted(),
            server: format!("{}:{}", url.host(), url.port()),
            host: url.host().to_owned(),
            port: url.port(),
            request,
            tls,
            websocket: options.0.limits.websocket_config(),
        })
    }

    /// The open connection, named with this attempt's server and URL.
    pub fn into_connected<S>(self, socket: S, response: Response) -> Connected<S> {
        Connected {
            socket,
            response,
            server: self.server,
            label: self.label,
        }
    }

    /// The error for a socket operation that failed while connecting (setting options,
    /// registering with a poller…).
    pub fn socket_error(&self, error: io::Error) -> Error {
        Error::transport(error.into(), &self.label, &self.server, Stage::Connect)
    }

    /// The error for a failed TLS or WebSocket handshake, typed (HTTP status with
    /// `Retry-After`, TLS, protocol, I/O).
    pub fn handshake_error(&self, error: tungstenite::Error) -> Error {
        Error::handshake(error, &self.label, &self.server)
    }

    /// The error for a handshake (TLS or WebSocket) with `server`, `host:port` of the server
    /// or of an `https://` proxy.
    pub fn handshake_error_at(&self, server: &str, error: tungstenite::Error) -> Error {
        Error::handshake(error, &self.label, server)
    }

    /// The error for a failed lookup of `host` (the server's or the proxy's).
    pub fn dns_error(&self, host: &str, error: io::Error) -> Error {
        Error::dns(host, error)
    }

    /// The error for a proxy that did not open a tunnel to `target`.
    pub fn proxy_error(&self, target: &str, failure: ProxyFailure) -> Error {
        match &self.proxy {
            Some(proxy) => Error::proxy(proxy, target, failure),
            None => Error::Io {
                url: self.label.clone(),
                stage: Stage::Connect,
                source: Arc::new(io::Error::other(failure.to_string())),
            },
        }
    }

    /// The host and port to open a TCP connection to: the proxy's, or the server's.
    pub fn dial(&self) -> (&str, u16) {
        match &self.proxy {
            Some(proxy) => (proxy.host(), proxy.port()),
            None => (self.host.as_str(), self.port),
        }
    }

    /// Where the proxy's tunnel must lead: the server's name, or for `socks5://` (local
    /// resolution) the first of `resolved`, the server's addresses looked up by the client.
    pub fn proxy_target(&self, resolved: Option<SocketAddr>) -> ProxyTarget {
        match resolved {
            Some(addr) => ProxyTarget::Addr(addr),
            None => ProxyTarget::name(&self.host, self.port),
        }
    }

    /// Whether the client must resolve the server's name itself before the proxy handshake
    /// (`socks5://`; `socks5h://` and HTTP proxies resolve it themselves). IP literals need
    /// no lookup.
    pub fn resolves_target_locally(&self) -> bool {
        self.proxy
            .as_ref()
            .is_some_and(|p| p.kind() == ProxyKind::Socks5)
            && self.host.parse::<std::net::IpAddr>().is_err()
    }

    /// The TLS server name of the proxy (for an `https://` proxy).
    pub fn proxy_server_name(&self) -> Result<ServerName<'static>, Error> {
        let proxy = self.proxy.as_ref().map_or(self.host.as_str(), Proxy::host);
        ServerName::try_from(proxy.to_owned()).map_err(|e| Error::Tls {
            server: proxy.to_owned(),
            reason: format!("`{proxy}` is not a valid server name: {e}"),
            source: None,
        })
    }

    /// The addresses to race, in Happy Eyeballs order: the pinned ones, or `resolved` (the
    /// lookup of [`dial`](Self::dial)). A failed or empty lookup is an [`Error::Dns`].
    pub fn addresses<A>(&self, resolved: io::Result<A>) -> Result<Vec<SocketAddr>, Error>
    where
        A: IntoIterator<Item = SocketAddr>,
    {
        let host = self.dial().0;
        let addrs = match &self.pinned {
            Some(pinned) => pinned.clone(),
            None => resolved
                .map_err(|e| Error::dns(host, e))?
                .into_iter()
                .collect(),
        };
        if addrs.is_empty() {
            return Err(Error::dns(
                host,
                io::Error::new(io::ErrorKind::NotFound, "no address found"),
            ));
        }
        Ok(interleave(addrs))
    }

    /// The error for a lost [`race`](crate::runtime::race): the last failure, a refused port staying
    /// [`Error::Refused`].
    pub fn race_failed(&self, error: RaceError) -> Error {
        match error {
            RaceError::Failed { addr, error, .. } => Error::tcp_connect(&self.label, addr, error),
            _ => Error::dns(
                self.dial().0,
                io::Error::new(io::ErrorKind::NotFound, "no address found"),
            ),
        }
    }

    /// The name rustls checks the server's certificate against, for an adapter that runs the
    /// TLS handshake itself: the host without the brackets of an IPv6 literal (`::1`, not
    /// `[::1]`, which rustls would refuse). A host that is no valid DNS name or IP address is
    /// an [`Error::Tls`], the same in every adapter.
    pub fn server_name(&self) -> Result<ServerName<'static>, Error> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(host.to_owned()).map_err(|e| Error::Tls {
            server: self.server.clone(),
            reason: format!("`{host}` is not a valid server name: {e}"),
            source: None,
        })
    }
}

/// Builds [`ClientOptions`]; errors (bad URL, bad header, out-of-range value) surface in
/// [`build`](Self::build), which names the offending option.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ClientOptionsBuilder {
    endpoint: Result<Endpoint, Error>,
    config: Config,
    headers: HeaderMap,
    subprotocols: Vec<String>,
    tls: Tls,
    seed: Option<u64>,
    limits: WebSocketLimits,
    event_capacity: usize,
    command_capacity: usize,
    proxy: ProxyConfig,
    resolve: Vec<(String, Vec<SocketAddr>)>,
    error: Option<Error>,
}

impl ClientOptionsBuilder {
    fn new(endpoint: Result<Endpoint, Error>) -> Self {
        ClientOptionsBuilder {
            endpoint,
            config: Config::default(),
            headers: HeaderMap::new(),
            subprotocols: Vec::new(),
            tls: Tls::default(),
            seed: None,
            limits: WebSocketLimits::default(),
            event_capacity: DEFAULT_EVENT_CAPACITY,
            command_capacity: DEFAULT_COMMAND_CAPACITY,
            proxy: ProxyConfig::FromEnvironment,
            resolve: Vec::new(),
            error: None,
        }
    }

    /// Tunnels every connection through the proxy at `url`: `http://`, `https://` (TLS to
    /// the proxy), `socks5://` (the client resolves the server's name) or `socks5h://` (the
    /// proxy does), with optional `user:password@` (sent as `Proxy-Authorization: Basic`, or
    /// by RFC 1929 for SOCKS5, and never printed). A bad URL is an
    /// [`Error::InvalidProxy`] from [`build`](Self::build).
    ///
    /// Without this call (or [`no_proxy`](Self::no_proxy)), the proxy comes from the
    /// environment, by curl's conventions: `https_proxy`/`HTTPS_PROXY` for `wss://`,
    /// `http_proxy` (lower case only) for `ws://`, `all_proxy`/`ALL_PROXY` otherwise, except
    /// for the hosts `no_proxy`/`NO_PROXY` lists (see [`ProxyEnv`] and
    /// [`NoProxy`](crate::NoProxy)). As with curl, loopback hosts are proxied too unless
    /// `no_proxy` names them. The environment is read once, by `build`.
    pub fn proxy(mut self, url: &str) -> Self {
        match Proxy::parse(url) {
            Ok(proxy) => self.proxy = ProxyConfig::Fixed(proxy),
            Err(error) => {
                self.error.get_or_insert(error);
            }
        }
        self
    }

    /// Connects directly, whatever the environment's proxy variables say.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyConfig::None;
        self
    }

    /// Takes the proxy settings from `env` instead of the process environment (e.g.
    /// [`ProxyEnv::from_lookup`] over the application's own configuration).
    pub fn proxy_env(mut self, env: ProxyEnv) -> Self {
        self.proxy = ProxyConfig::Env(env);
        self
    }

    /// Sets how the proxy is chosen ([`ProxyConfig::FromEnvironment`] is the default).
    pub fn proxy_config(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Connects to `addrs` for `host` instead of looking it up (like curl's `--resolve`),
    /// in Happy Eyeballs order. An address with port 0 takes the URL's (or proxy's) port.
    /// Applies to the host dialled: the server's, or the proxy's when there is one.
    pub fn resolve(mut self, host: &str, addrs: &[SocketAddr]) -> Self {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        self.resolve
            .retain(|(name, _)| !name.eq_ignore_ascii_case(&host));
        self.resolve.push((host, addrs.to_vec()));
        self
    }

    /// The supervisor's configuration: heartbeat, timeouts, reconnect, queue, close policy,
    /// replay on open (default [`Config::default`]). With a URL function
    /// ([`builder_with`](ClientOptions::builder_with)), `credentials_refreshed` is turned on:
    /// an HTTP 401 or 403 is then retried `auth_retries` times in a row with fresh credentials
    /// before it counts as permanent.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Adds a header to every handshake (e.g. `Origin`, `User-Agent`, `Authorization`).
    /// Repeating a name adds another value.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        match header(name.as_ref(), value.as_ref()) {
            Ok((name, value)) => {
                self.headers.append(name, value);
            }
            Err(error) => {
                self.error.get_or_insert(error);
            }
        }
        self
    }

    /// Offers a subprotocol; call once per protocol, most preferred first. The server's choice
    /// is reported in [`Event::Open`](crate::Event::Open).
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// TLS settings for `wss://` (default [`Tls::default`]).
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = tls;
        self
    }

    /// Fixes the jitter seed, for reproducible reconnect schedules (default: random).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// All size limits at once.
    pub fn limits(mut self, limits: WebSocketLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Largest message accepted from the peer (default 64 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.limits.max_message_size = bytes;
        self
    }

    /// Largest frame accepted from the peer (default 16 MiB).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.limits.max_frame_size = bytes;
        self
    }

    /// Bytes read from the socket at a time: 256 B..=16 MiB (default 4 KiB).
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.limits.read_buffer_size = bytes;
        self
    }

    /// Events the application may leave unread before the driver stops reading the socket:
    /// 1..=2^20 (default 256). See the adapter's documentation for the backpressure policy.
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity;
        self
    }

    /// Commands (sends, close…) the driver may leave untaken before `send` waits:
    /// 1..=2^20 (default 256).
    pub fn command_capacity(mut self, capacity: usize) -> Self {
        self.command_capacity = capacity;
        self
    }

    /// Checks everything and returns the options, or the first problem found.
    pub fn build(self) -> Result<ClientOptions, Error> {
        let endpoint = self.endpoint?;
        if let Some(error) = self.error {
            return Err(error);
        }
        self.limits.validate()?;
        for (option, value) in [
            ("event_capacity", self.event_capacity),
            ("command_capacity", self.command_capacity),
        ] {
            if !(1..=MAX_CHANNEL_CAPACITY).contains(&value) {
                return Err(Error::InvalidOption {
                    option,
                    problem: format!("{value} is outside 1..={MAX_CHANNEL_CAPACITY}"),
                });
            }
        }
        if let Some(bad) = self
            .subprotocols
            .iter()
            .find(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_graphic() && b != b','))
        {
            return Err(Error::InvalidOption {
                option: "subprotocol",
                problem: format!("{bad:?} is not a token (printable ASCII, no comma)"),
            });
        }
        let proxy = match self.proxy {
            ProxyConfig::FromEnvironment => {
                let env = ProxyEnv::from_env()?;
                if env.is_empty() {
                    ProxyConfig::None
                } else {
                    ProxyConfig::Env(env)
                }
            }
            other => other,
        };
        if let Some((host, _)) = self.resolve.iter().find(|(_, addrs)| addrs.is_empty()) {
            return Err(Error::InvalidOption {
                option: "resolve",
                problem: format!("no address given for `{host}`"),
            });
        }
        // Credentials from a function are fresh on every attempt: an HTTP 401 or 403 may mean
        // they expired on the way, so the core retries it `auth_retries` times in a row.
        let config = if endpoint.fixed_url().is_none() && !self.config.credentials_refreshed() {
            self.config
                .into_builder()
                .credentials_refreshed(true)
                .build()
                .map_err(Error::Config)?
        } else {
            self.config
        };
        Ok(ClientOptions(Arc::new(Options {
            proxy,
            resolve: self.resolve.into(),
            endpoint,
            config: Arc::new(config),
            headers: self.headers,
            subprotocols: self.subprotocols.into(),
            tls: self.tls,
            seed: self.seed,
            limits: self.limits,
            event_capacity: self.event_capacity,
            command_capacity: self.command_capacity,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    use crate::endpoint::Target;

    #[test]
    fn build_reports_the_first_bad_option_by_name() {
        let err = ClientOptions::builder("ftp://h/").build().unwrap_err();
        assert!(
            err.to_string().starts_with("invalid URL `ftp://h/`"),
            "{err}"
        );
        let err = ClientOptions::builder("ws://h/")
            .header("x-ok", "1")
            .header("x-bad", "line\nbreak")
            .build()
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid handshake header `x-bad`"),
            "{err}"
        );
        let err = ClientOptions::builder("ws://h/")
            .header("Sec-WebSocket-Key", "x")
            .build()
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid handshake header `sec-websocket-key`: set by the"),
            "{err}"
        );
        let err = ClientOptions::builder("ws://h/")
            .proxy("ftp://u:pw@p")
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidProxy { proxy, .. } if proxy == "ftp://***@p"),
            "{err:?}"
        );
        let err = ClientOptions::builder("ws://h/")
            .event_capacity(0)
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid option `event_capacity`: 0 is outside 1..=1048576"
        );
        let err = ClientOptions::builder("ws://h/")
            .subprotocol("a,b")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("subprotocol"), "{err}");
    }

    #[test]
    fn a_url_function_turns_on_refreshed_credentials_and_a_fixed_url_does_not() {
        let fixed = ClientOptions::new("ws://h/").unwrap();
        assert!(!fixed.config().credentials_refreshed());
        let function = ClientOptions::builder_with(Endpoint::from_fn(|_| Target::parse("ws://h/")))
            .build()
            .unwrap();
        assert!(function.config().credentials_refreshed());
        assert_eq!(function.config().auth_retries(), 2);
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let options = ClientOptions::builder("wss://h/feed?token=s3cret")
            .seed(7)
            .build()
            .unwrap();
        let shown = format!("{options:?}");
        assert!(
            shown.contains("token=***") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert_eq!(options.seed(), 7);
        assert_eq!(options.label(), "wss://h/feed?token=***");
    }

    /// Polls `future` once: everything under test here is ready at once.
    fn now_or_never<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
        {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the future waited"),
        }
    }

    fn prepared(url: &str) -> Prepared {
        let options = ClientOptions::new(url).unwrap();
        now_or_never(Prepared::new(&options, Attempt::new(0, None))).unwrap()
    }

    #[test]
    fn every_address_is_tried_and_the_last_failure_is_kept() {
        let target = prepared("ws://example.test:9/?token=s3cret");
        let addrs: Vec<SocketAddr> =
            vec!["10.0.0.1:9".parse().unwrap(), "10.0.0.2:9".parse().unwrap()];
        let mut attempted = Vec::new();
        let mut tried = Vec::new();
        let result = now_or_never(crate::happy_eyeballs::race(
            addrs.clone(),
            |addr| {
                attempted.push(addr);
                let kind = if addr == addrs[0] {
                    io::ErrorKind::TimedOut
                } else {
                    io::ErrorKind::ConnectionRefused
                };
                std::future::ready(Err::<(), _>(io::Error::from(kind)))
            },
            |_| std::future::pending::<()>(),
            &mut tried,
        ));
        assert_eq!(attempted, addrs);
        let Err(Error::Refused { url, addr }) = result.map_err(|e| target.race_failed(e)) else {
            panic!("the last failure, a refused port, was not kept");
        };
        assert_eq!(
            (url.as_str(), addr),
            ("ws://example.test:9/?token=***", addrs[1])
        );

        let second = now_or_never(crate::happy_eyeballs::race(
            addrs.clone(),
            |addr| {
                std::future::ready(if addr == addrs[0] {
                    Err(io::ErrorKind::ConnectionRefused.into())
                } else {
                    Ok(addr)
                })
            },
            |_| std::future::pending::<()>(),
            &mut Vec::new(),
        ));
        assert_eq!(second.unwrap().0, addrs[1]);
    }

    #[test]
    fn a_failed_or_empty_lookup_is_a_dns_error() {
        let target = prepared("ws://example.test/");
        let failed = target.addresses::<Vec<SocketAddr>>(Err(io::ErrorKind::Other.into()));
        assert!(
            matches!(&failed, Err(Error::Dns { host, .. }) if host == "example.test"),
            "{failed:?}"
        );
        let empty = target.addresses(Ok(Vec::new()));
        assert!(
            matches!(&empty, Err(Error::Dns { host, .. }) if host == "example.test"),
            "{empty:?}"
        );
    }

    #[test]
    fn the_server_name_has_no_brackets_and_a_bad_one_is_a_tls_error() {
        let mut target = prepared("ws://[::1]:9/");
        assert_eq!(target.server_name().unwrap().to_str(), "::1");
        target.host = "bad host".to_owned();
        let error = target.server_name().unwrap_err();
        assert!(matches!(error, Error::Tls { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("TLS with ::1:9 failed: `bad host` is not a valid server name"),
            "{error}"
        );
    }

    #[test]
    fn prepare_builds_request_and_tls_only_for_wss() {
        let block_on = |options: ClientOptions| {
            now_or_never(Prepared::new(&options, Attempt::new(0, None))).unwrap()
        };
        let plain = block_on(ClientOptions::new("ws://127.0.0.1:9000/x").unwrap());
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.tls.is_none()),
            ("127.0.0.1", 9000, true)
        );
        #[cfg(all(feature = "webpki-roots", any(feature = "ring", feature = "aws-lc-rs")))]
        {
            let secure = block_on(ClientOptions::new("wss://[::1]/x?k=v").unwrap());
            assert_eq!((secure.host.as_str(), secure.port), ("::1", 443));
            assert_eq!(
                (secure.server.as_str(), secure.label.as_str()),
                ("::1:443", "wss://[::1]/x?k=***")
            );
            assert!(secure.tls.is_some());
        }
    }
}
