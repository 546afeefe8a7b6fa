//! Where to connect, decided afresh before every attempt.
//!
//! A token in the URL or an `Authorization` header usually expires; a client that reconnects
//! with the token it started with is locked out after the first outage that outlives it. An
//! [`Endpoint`] is therefore either a fixed [`Target`] or a function (plain or async) that the
//! driver calls before each attempt, so every attempt carries a fresh token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Request;
use tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tungstenite::http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::error::Error;
use crate::url::WsUrl;

/// A boxed, sendable future: what an async provider returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One attempt's destination: a URL and the headers to add to its handshake.
#[derive(Clone, Debug)]
pub struct Target {
    url: WsUrl,
    headers: HeaderMap,
}

impl Target {
    /// A target without extra headers.
    pub fn new(url: WsUrl) -> Self {
        Target {
            url,
            headers: HeaderMap::new(),
        }
    }

    /// Parses `url` (see [`WsUrl::parse`]).
    pub fn parse(url: impl AsRef<str>) -> Result<Self, Error> {
        WsUrl::parse(url.as_ref()).map(Target::new)
    }

    /// Adds a header to this attempt's handshake (e.g. `Authorization: Bearer …`). It replaces
    /// a header of the same name set in the client options.
    pub fn with_header(
        mut self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<Self, Error> {
        let (name, value) = header(name.as_ref(), value.as_ref())?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Takes the URL and headers of a complete `http::Request` (method `GET`). The standard
    /// WebSocket headers (`Host`, `Upgrade`, `Sec-WebSocket-Key`…) are filled in if missing.
    /// `Sec-WebSocket-Extensions` and `Sec-WebSocket-Accept` are refused: no extension is
    /// supported, and the accept is the server's to send.
    pub fn from_request(request: Request) -> Result<Self, Error> {
        for name in request.headers().keys() {
            check_not_reserved(name, &RESERVED[2..])?;
        }
        if request.method() != Method::GET {
            return Err(Error::InvalidHeader {
                name: ":method".to_owned(),
                reason: format!("a WebSocket handshake is a GET, not {}", request.method()),
            });
        }
        let (parts, ()) = request.into_parts();
        Ok(Target {
            url: WsUrl::from_uri(parts.uri)?,
            headers: parts.headers,
        })
    }

    /// The URL (redacted when printed).
    pub fn url(&self) -> &WsUrl {
        &self.url
    }

    /// This attempt's extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl From<WsUrl> for Target {
    fn from(url: WsUrl) -> Self {
        Target::new(url)
    }
}

impl TryFrom<Request> for Target {
    type Error = Error;

    fn try_from(request: Request) -> Result<Self, Error> {
        Target::from_request(request)
    }
}

/// Headers the WebSocket handshake sets and checks itself: a user value would break it (a
/// key whose accept the client cannot check, an extension it cannot speak).
const RESERVED: [&str; 4] = [
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
];

/// Refuses `name` if the handshake owns it (see `RESERVED`).
fn check_not_reserved(name: &HeaderName, reserved: &[&str]) -> Result<(), Error> {
    if reserved.contains(&name.as_str()) {
        return Err(Error::InvalidHeader {
            name: name.to_string(),
            reason: "set by the WebSocket handshake itself; a user value would break it".to_owned(),
        });
    }
    Ok(())
}

/// Parses a header for the handshake, naming it in the error. The handshake's own headers
/// (`Sec-WebSocket-Key`, `-Version`, `-Extensions`, `-Accept`) are refused.
pub(crate) fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let invalid = |reason: String| Error::InvalidHeader {
        name: name.to_owned(),
        reason,
    };
    let parsed_name =
        HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
    check_not_reserved(&parsed_name, &RESERVED)?;
    let parsed_value = HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?;
    Ok((parsed_name, parsed_value))
}

type SyncProvider = dyn Fn(Attempt) -> Result<Target, Error> + Send + Sync;
type AsyncProvider = dyn Fn(Attempt) -> BoxFuture<Result<Target, Error>> + Send + Sync;

/// What a URL function knows about the attempt it prepares.
///
/// With credentials in the URL or a header, `previous_failure` says why the last attempt
/// failed: an HTTP 401 or 403 there means the server refused the credentials it was given
/// (they expired while the handshake stalled, or were revoked), so fetch fresh ones. A client
/// whose URL comes from a function retries such a refusal `auth_retries` times in a row
/// before it treats it as permanent.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Attempt {
    /// 0 for the first connect, then 1, 2, … for the reconnects since the last connection that
    /// stayed open for `stable_after` (the count `max_attempts` limits).
    pub number: u32,
    /// Why the previous attempt failed to connect; `None` for the first attempt and after a
    /// connection that opened.
    pub previous_failure: Option<Error>,
}

impl Attempt {
    /// Attempt `number`, after `previous_failure`.
    pub(crate) fn new(number: u32, previous_failure: Option<Error>) -> Self {
        Attempt {
            number,
            previous_failure,
        }
    }

    /// The HTTP status the server refused the previous attempt with, if it did.
    pub fn previous_status(&self) -> Option<u16> {
        match &self.previous_failure {
            Some(Error::Http { status, .. }) => Some(*status),
            _ => None,
        }
    }
}

/// Where to connect: a fixed target, or a function called before every attempt with its
/// [`Attempt`] (the attempt number and why the previous one failed).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws_client::{Attempt, Endpoint, Target};
///
/// let issued = AtomicU32::new(0);
/// let endpoint = Endpoint::from_fn(move |_attempt: Attempt| {
///     let token = issued.fetch_add(1, Ordering::Relaxed); // a fresh token per attempt
///     Target::parse(&format!("wss://example.com/feed?token={token}"))
/// });
/// # let _ = endpoint;
/// ```
#[derive(Clone)]
pub struct Endpoint(Provider);

#[derive(Clone)]
enum Provider {
    Fixed(Arc<Target>),
    Sync(Arc<SyncProvider>),
    Async(Arc<AsyncProvider>),
}

impl Endpoint {
    /// Always the same URL.
    pub fn url(url: impl AsRef<str>) -> Result<Self, Error> {
        Target::parse(url).map(Endpoint::fixed)
    }

    /// Always the same target.
    pub fn fixed(target: impl Into<Target>) -> Self {
        Endpoint(Provider::Fixed(Arc::new(target.into())))
    }

    /// Calls `provider` before every attempt. An `Err` fails that attempt (as a network-class
    /// failure, so the reconnect policy retries it) and is reported to the application.
    pub fn from_fn<F>(provider: F) -> Self
    where
        F: Fn(Attempt) -> Result<Target, Error> + Send + Sync + 'static,
    {
        Endpoint(Provider::Sync(Arc::new(provider)))
    }

    /// Calls and awaits `provider` before every attempt, e.g. to fetch a token over HTTP. The
    /// wait counts against `connect_timeout`, and closing the client cancels it.
    pub fn from_async_fn<F, Fut>(provider: F) -> Self
    where
        F: Fn(Attempt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Target, Error>> + Send + 'static,
    {
        Endpoint(Provider::Async(Arc::new(move |attempt| {
            Box::pin(provider(attempt)) as BoxFuture<_>
        })))
    }

    /// The target for `attempt`.
    pub(crate) async fn resolve(&self, attempt: Attempt) -> Result<Target, Error> {
        match &self.0 {
            Provider::Fixed(target) => Ok(Target::clone(target)),
            Provider::Sync(provider) => provider(attempt),
            Provider::Async(provider) => provider(attempt).await,
        }
    }

    /// The fixed URL, if this endpoint has one.
    pub fn fixed_url(&self) -> Option<&WsUrl> {
        match &self.0 {
            Provider::Fixed(target) => Some(target.url()),
            Provider::Sync(_) | Provider::Async(_) => None,
        }
    }
}

impl From<WsUrl> for Endpoint {
    fn from(url: WsUrl) -> Self {
        Endpoint::fixed(url)
    }
}

impl From<Target> for Endpoint {
    fn from(target: Target) -> Self {
        Endpoint::fixed(target)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Provider::Fixed(target) => write!(f, "Endpoint({})", target.url()),
            Provider::Sync(_) => f.write_str("Endpoint(fn)"),
            Provider::Async(_) => f.write_str("Endpoint(async fn)"),
        }
    }
}

/// The handshake request for `target`: the standard WebSocket headers, then the options'
/// `headers`, then the target's own (each replacing same-named ones before it), then the
/// `Sec-WebSocket-Protocol` offer unless a header already set it.
pub(crate) fn handshake_request(
    target: &Target,
    headers: &HeaderMap,
    subprotocols: &[String],
) -> Result<Request, Error> {
    let mut request = target
        .url()
        .uri()
        .into_client_request()
        .map_err(|e| Error::InvalidUrl {
            url: target.url().redacted(),
            reason: e.to_string(),
        })?;
    let merged = request.headers_mut();
    for layer in [headers, target.headers()] {
        for name in layer.keys() {
            merged.remove(name);
        }
        for (name, value) in layer {
            merged.append(name, value.clone());
        }
    }
    if !subprotocols.is_empty() && !merged.contains_key(SEC_WEBSOCKET_PROTOCOL) {
        let offer = subprotocols.join(", ");
        let value = HeaderValue::from_str(&offer).map_err(|e| Error::InvalidHeader {
            name: SEC_WEBSOCKET_PROTOCOL.to_string(),
            reason: e.to_string(),
        })?;
        merged.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        // The providers under test never wait, so one poll finishes them.
        let mut future = std::pin::pin!(future);
        let waker = std::task::Waker::noop();
        match future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker))
        {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("provider did not finish"),
        }
    }

    #[test]
    fn providers_are_called_before_every_attempt() {
        let endpoint = Endpoint::from_fn(|attempt: Attempt| {
            let status = attempt.previous_status().unwrap_or(0);
            Target::parse(format!("ws://h/?token=t{}-{status}", attempt.number))
        });
        let refused = Error::Http {
            url: "ws://h/".into(),
            status: 401,
            retry_after: None,
            body: None,
        };
        let urls: Vec<String> = [None, Some(refused), None]
            .into_iter()
            .enumerate()
            .map(|(n, failure)| {
                block_on(endpoint.resolve(Attempt::new(n as u32, failure)))
                    .unwrap()
                    .url()
                    .as_str()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            urls,
            [
                "ws://h/?token=t0-0",
                "ws://h/?token=t1-401",
                "ws://h/?token=t2-0"
            ]
        );

        let endpoint = Endpoint::from_async_fn(|attempt: Attempt| async move {
            Target::parse("ws://h/")?
                .with_header("authorization", format!("Bearer {}", attempt.number))
        });
        let target = block_on(endpoint.resolve(Attempt::new(4, None))).unwrap();
        assert_eq!(target.headers()["authorization"], "Bearer 4");
        assert_eq!(format!("{endpoint:?}"), "Endpoint(async fn)");
    }

    #[test]
    fn handshake_request_layers_headers_and_offers_subprotocols() {
        let mut options = HeaderMap::new();
        options.insert("x-client", HeaderValue::from_static("a"));
        options.insert("authorization", HeaderValue::from_static("Bearer old"));
        let target = Target::parse("wss://example.com:8443/feed?token=x")
            .unwrap()
            .with_header("authorization", "Bearer new")
            .unwrap();
        let request =
            handshake_request(&target, &options, &["chat.v2".into(), "chat.v1".into()]).unwrap();
        let headers = request.headers();
        assert_eq!(headers["host"], "example.com:8443");
        assert_eq!(headers["upgrade"], "websocket");
        assert_eq!(headers["x-client"], "a");
        assert_eq!(headers.get_all("authorization").iter().count(), 1);
        assert_eq!(headers["authorization"], "Bearer new");
        assert_eq!(headers["sec-websocket-protocol"], "chat.v2, chat.v1");
        assert_eq!(request.uri(), "wss://example.com:8443/feed?token=x");
    }

    #[test]
    fn a_request_must_be_a_get_to_a_ws_url() {
        let post = Request::builder()
            .method("POST")
            .uri("ws://h/")
            .body(())
            .unwrap();
        assert!(Target::from_request(post).is_err());
        let http = Request::builder().uri("http://h/").body(()).unwrap();
        assert!(
            Target::from_request(http)
                .unwrap_err()
                .to_string()
                .contains("ws://")
        );
        for reserved in [
            "Sec-WebSocket-Key",
            "sec-websocket-version",
            "Sec-WebSocket-Extensions",
            "Sec-WebSocket-Accept",
        ] {
            let error = Target::parse("ws://h/")
                .unwrap()
                .with_header(reserved, "x")
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid handshake header `{}`: set by the WebSocket handshake itself; a \
                     user value would break it",
                    reserved.to_ascii_lowercase()
                )
            );
        }
        let with_extension = Request::builder()
            .uri("ws://h/")
            .header("Sec-WebSocket-Extensions", "permessage-deflate")
            .body(())
            .unwrap();
        assert!(Target::from_request(with_extension).is_err());
        let bad = Target::parse("ws://h/")
            .unwrap()
            .with_header("bad header", "v");
        assert!(
            bad.unwrap_err()
                .to_string()
                .starts_with("invalid handshake header `bad header`")
        );
    }
}
