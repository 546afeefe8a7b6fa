//! WebSocket URLs: validated once, and never printed with their secrets.
//!
//! Services put access tokens in the query string (`wss://host/feed?token=…`) because browsers
//! cannot set headers on a WebSocket. Such a URL ends up in `Debug` output, error messages and
//! traces unless every place that prints it redacts it; [`WsUrl`] does so by construction: its
//! `Debug` and `Display` show `token=***`, and only [`WsUrl::as_str`] gives the real thing.

use std::fmt;
use std::str::FromStr;

use tungstenite::http::Uri;

use crate::error::Error;

/// A `ws://` or `wss://` URL with a host, checked at construction.
///
/// `Debug` and `Display` redact every query value and any password; use
/// [`as_str`](Self::as_str) or [`uri`](Self::uri) for the URL to connect to.
#[derive(Clone, PartialEq, Eq)]
pub struct WsUrl {
    uri: Uri,
    text: String,
    tls: bool,
    host: String,
    port: u16,
}

impl WsUrl {
    /// Parses and checks `url`: the scheme must be `ws` or `wss`, and there must be a host.
    ///
    /// A URL without a path gets `/`. The error names the URL (redacted) and the problem.
    pub fn parse(url: &str) -> Result<Self, Error> {
        if !url.contains("://") {
            return Err(Error::invalid_url(
                url,
                "no scheme: the URL must start with ws:// or wss://".to_owned(),
            ));
        }
        let uri: Uri = url
            .parse()
            .map_err(|e: tungstenite::http::uri::InvalidUri| {
                Error::invalid_url(url, e.to_string())
            })?;
        Self::from_uri(uri).map_err(|error| match error {
            Error::InvalidUrl { reason, .. } => Error::invalid_url(url, reason),
            other => other,
        })
    }

    /// Checks an already parsed [`Uri`] (same rules as [`parse`](Self::parse)).
    pub fn from_uri(uri: Uri) -> Result<Self, Error> {
        let text = uri.to_string();
        let tls = match uri.scheme_str() {
            Some(scheme) if scheme.eq_ignore_ascii_case("wss") => true,
            Some(scheme) if scheme.eq_ignore_ascii_case("ws") => false,
            Some(other) => {
                return Err(Error::invalid_url(
                    &text,
                    format!("scheme `{other}` is not supported: use ws:// or wss://"),
                ));
            }
            None => {
                return Err(Error::invalid_url(
                    &text,
                    "no scheme: the URL must start with ws:// or wss://".to_owned(),
                ));
            }
        };
        let Some(host) = uri.host().filter(|host| !host.is_empty()) else {
            return Err(Error::invalid_url(&text, "no host".to_owned()));
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let uri = if uri.path_and_query().is_none() {
            let mut parts = uri.into_parts();
            parts.path_and_query = Some(tungstenite::http::uri::PathAndQuery::from_static("/"));
            Uri::from_parts(parts).map_err(|e| Error::invalid_url(&text, e.to_string()))?
        } else {
            uri
        };
        Ok(WsUrl {
            text: uri.to_string(),
            uri,
            tls,
            host,
            port,
        })
    }

    /// The URL, secrets included. Do not log it; log `self` (redacted) instead.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed URL, secrets included.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Whether this is `wss://` (TLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host name or IP address, without the brackets of an IPv6 literal.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: explicit, or 80 for `ws` and 443 for `wss`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL with its secrets replaced by `***`, for logs and errors.
    pub fn redacted(&self) -> String {
        redact(&self.text)
    }
}

impl fmt::Debug for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WsUrl({})", self.redacted())
    }
}

impl fmt::Display for WsUrl {
    /// Redacted, like `Debug`: a URL is printed far more often than it is meant to be shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for WsUrl {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self, Error> {
        WsUrl::parse(url)
    }
}

impl TryFrom<&str> for WsUrl {
    type Error = Error;

    fn try_from(url: &str) -> Result<Self, Error> {
        WsUrl::parse(url)
    }
}

impl TryFrom<String> for WsUrl {
    type Error = Error;

    fn try_from(url: String) -> Result<Self, Error> {
        WsUrl::parse(&url)
    }
}

impl TryFrom<Uri> for WsUrl {
    type Error = Error;

    fn try_from(uri: Uri) -> Result<Self, Error> {
        WsUrl::from_uri(uri)
    }
}

/// Replaces every query value and the password of `url` with `***`, and drops any fragment.
///
/// Every value is redacted, not only well-known names such as `token`: a list of names always
/// misses one (`?t=`, `?sig=`, `?X-Amz-Credential=`), and a leaked credential costs more than a
/// less informative log line. Parameter names stay, so a log still shows what was sent. Works on
/// any string, valid URL or not, so errors about a malformed URL can quote it safely.
/// `wss://bob:hunter2@example.com/feed?token=abc&room=7#x` is shown as
/// `wss://bob:***@example.com/feed?token=***&room=***`.
pub(crate) fn redact(url: &str) -> String {
    let url = url.split('#').next().unwrap_or_default();
    let (before_query, query) = match url.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(&redact_userinfo(before_query));
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, value)) if !value.is_empty() => {
                    out.push_str(name);
                    out.push_str("=***");
                }
                Some((name, _)) => {
                    out.push_str(name);
                    out.push('=');
                }
                None => out.push_str(pair),
            }
        }
    }
    out
}

/// `scheme://user:secret@host/…` becomes `scheme://user:***@host/…`.
fn redact_userinfo(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!(
                "{}{masked}{}",
                &url[..authority_start],
                &url[authority_start + at..]
            )
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ws_and_wss_with_default_ports_and_path() {
        let url = WsUrl::parse("ws://example.com").unwrap();
        assert_eq!(
            (url.is_tls(), url.host(), url.port(), url.as_str()),
            (false, "example.com", 80, "ws://example.com/")
        );
        let url = WsUrl::parse("WSS://[::1]:9443/a?b=c").unwrap();
        assert_eq!((url.is_tls(), url.host(), url.port()), (true, "::1", 9443));
    }

    #[test]
    fn rejects_other_schemes_and_missing_hosts_with_a_clear_reason() {
        let err = WsUrl::parse("https://example.com/x?token=s3cret").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid URL `https://example.com/x?token=***`: scheme `https` is not supported: \
             use ws:// or wss://"
        );
        let err = WsUrl::parse("example.com/feed").unwrap_err();
        assert!(err.to_string().contains("no scheme"), "{err}");
        assert!(WsUrl::parse("ws:///path").is_err());
        assert!(WsUrl::parse("not a url").is_err());
    }

    #[test]
    fn debug_and_display_never_show_query_values_or_passwords() {
        let url = WsUrl::parse("wss://me:pw@host:1/feed?token=s3cret&room=lobby").unwrap();
        let shown = format!("{url} {url:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("pw@"),
            "{shown}"
        );
        assert_eq!(
            url.to_string(),
            "wss://me:***@host:1/feed?token=***&room=***"
        );
        assert!(url.as_str().contains("token=s3cret"));
    }

    #[test]
    fn redaction_handles_odd_queries() {
        assert_eq!(redact("ws://h/?flag&x=&y=1"), "ws://h/?flag&x=&y=***");
        assert_eq!(redact("ws://h/p"), "ws://h/p");
        assert_eq!(redact("ws://user@h/p?a=b"), "ws://user@h/p?a=***");
        assert_eq!(redact("garbage?key=v"), "garbage?key=***");
        assert_eq!(
            redact("wss://bob:hunter2@example.com/feed?token=abc&room=7#x"),
            "wss://bob:***@example.com/feed?token=***&room=***"
        );
    }
}
