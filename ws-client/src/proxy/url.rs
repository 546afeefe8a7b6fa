//! One proxy URL, checked once, its credentials kept out of every printout.

use std::fmt;

use percent_encoding::percent_decode_str;
use tungstenite::http::Uri;

use crate::error::Error;

/// The protocol spoken to a proxy.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ProxyKind {
    /// `http://`: an HTTP proxy, asked for a tunnel with `CONNECT`.
    Http,
    /// `https://`: an HTTP proxy reached over TLS (the tunnel is TLS to the proxy, with the
    /// server's own TLS inside it for `wss://`).
    Https,
    /// `socks5://`: SOCKS5, the client resolves the target's name itself.
    Socks5,
    /// `socks5h://`: SOCKS5, the proxy resolves the target's name (the client never looks it up).
    Socks5h,
}

impl ProxyKind {
    /// The URL scheme.
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Https => "https",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }

    /// The port used when the URL names none: 443 for `https`, else 1080 (curl's default).
    pub fn default_port(self) -> u16 {
        match self {
            ProxyKind::Https => 443,
            ProxyKind::Http | ProxyKind::Socks5 | ProxyKind::Socks5h => 1080,
        }
    }
}

/// A proxy: its kind, address and optional credentials (`user:password@` in the URL).
///
/// `Debug`, `Display` and every error show it as `scheme://***@host:port`: the credentials
/// are never printed. [`parse`](Self::parse) accepts what curl accepts in a proxy variable,
/// including a bare `host:port` (taken as `http://`).
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// Parses a proxy URL: `http://`, `https://`, `socks5://` or `socks5h://` (`socks://` is
    /// not accepted: it is ambiguous), with optional percent-encoded `user:password@` and an
    /// optional port (see [`ProxyKind::default_port`]). A path other than `/` is refused.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let url = url.trim();
        let with_scheme;
        let text = if url.contains("://") {
            url
        } else {
            with_scheme = format!("http://{url}");
            &with_scheme
        };
        let invalid = |reason: String| Error::InvalidProxy {
            proxy: redact_proxy(text),
            reason,
        };
        let uri: Uri = text.parse().map_err(|e| invalid(format!("{e}")))?;
        let kind = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => ProxyKind::Http,
            Some("https") => ProxyKind::Https,
            Some("socks5") => ProxyKind::Socks5,
            Some("socks5h") => ProxyKind::Socks5h,
            other => {
                return Err(invalid(format!(
                    "scheme `{}` is not supported: use http, https, socks5 or socks5h",
                    other.unwrap_or("")
                )));
            }
        };
        let Some(authority) = uri.authority() else {
            return Err(invalid("no host".to_owned()));
        };
        if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
            return Err(invalid("a proxy URL has no path or query".to_owned()));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(invalid("no host".to_owned()));
        }
        let credentials = match authority.as_str().rsplit_once('@') {
            None => None,
            Some((userinfo, _)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |part: &str| {
                    percent_decode_str(part)
                        .decode_utf8()
                        .map(std::borrow::Cow::into_owned)
                        .map_err(|_| invalid("the credentials are not UTF-8".to_owned()))
                };
                Some((decode(user)?, decode(password)?))
            }
        };
        Ok(Proxy {
            kind,
            port: uri.port_u16().unwrap_or(kind.default_port()),
            host,
            credentials,
        })
    }

    /// The protocol spoken to the proxy.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host name or IP address, without the brackets of an IPv6 literal.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name and password, secrets included. Do not log them.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }

    /// `host:port` (IPv6 literals in brackets), for the TLS server name and error messages.
    pub fn address(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// `scheme://***@host:port` (or without `***@` when there are no credentials): what logs
    /// and errors show.
    pub fn redacted(&self) -> String {
        let secret = if self.credentials.is_some() {
            "***@"
        } else {
            ""
        };
        format!("{}://{secret}{}", self.kind.scheme(), self.address())
    }
}

/// `host:port`, with an IPv6 literal in brackets.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A proxy URL that did not parse, with anything between `://` and `@` hidden.
pub(crate) fn redact_proxy(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({})", self.redacted())
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::str::FromStr for Proxy {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self, Error> {
        Proxy::parse(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_parses_with_its_default_port() {
        let cases = [
            ("http://proxy.test", ProxyKind::Http, 1080),
            ("https://proxy.test", ProxyKind::Https, 443),
            ("socks5://proxy.test:9050", ProxyKind::Socks5, 9050),
            ("SOCKS5H://proxy.test", ProxyKind::Socks5h, 1080),
            ("proxy.test:3128", ProxyKind::Http, 3128),
        ];
        for (url, kind, port) in cases {
            let proxy = Proxy::parse(url).unwrap();
            assert_eq!(
                (proxy.kind(), proxy.host(), proxy.port()),
                (kind, "proxy.test", port)
            );
        }
        let v6 = Proxy::parse("http://[::1]:3128/").unwrap();
        assert_eq!((v6.host(), v6.address()), ("::1", "[::1]:3128".to_owned()));
    }

    #[test]
    fn credentials_are_decoded_and_never_printed() {
        let proxy = Proxy::parse("http://al%40ice:s3cr%3At@proxy.test:8080").unwrap();
        assert_eq!(proxy.credentials(), Some(("al@ice", "s3cr:t")));
        for shown in [format!("{proxy:?}"), proxy.to_string()] {
            assert!(!shown.contains("s3cr") && !shown.contains("ice"), "{shown}");
        }
        assert_eq!(proxy.to_string(), "http://***@proxy.test:8080");
        let user_only = Proxy::parse("socks5h://bob@proxy.test").unwrap();
        assert_eq!(user_only.credentials(), Some(("bob", "")));
    }

    #[test]
    fn bad_urls_are_refused_with_the_credentials_hidden() {
        let error = Proxy::parse("ftp://u:s3cret@proxy.test").unwrap_err();
        let shown = error.to_string();
        assert!(
            shown.contains("ftp://***@proxy.test") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(shown.contains("scheme `ftp`"), "{shown}");
        assert!(Proxy::parse("http://proxy.test/path").is_err());
        assert!(Proxy::parse("http://").is_err());
        assert!(Proxy::parse("socks://proxy.test").is_err());
    }
}
