//! The proxy settings of the environment, by curl's conventions.
//!
//! - `wss://` uses `https_proxy`, else `HTTPS_PROXY`; `ws://` uses `http_proxy` only, in
//!   lower case (as curl does: a CGI program receives a request's `Proxy:` header as
//!   `HTTP_PROXY`, so the upper-case name cannot be trusted).
//! - Either falls back to `all_proxy`, else `ALL_PROXY`.
//! - `no_proxy`, else `NO_PROXY`, lists the hosts reached directly ([`NoProxy`]).
//! - An empty variable counts as unset.
//! - Loopback targets (`localhost`, `127.0.0.1`, `::1`) get no special treatment: like curl,
//!   they go through the proxy unless `no_proxy` names them.
//!
//! Reading is a pure function of a lookup ([`ProxyEnv::from_lookup`]), so tests never touch
//! the process environment.

use std::net::IpAddr;

use super::url::Proxy;
use crate::error::Error;
use crate::url::WsUrl;

/// The proxies the environment names, and the hosts it exempts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    http: Option<Proxy>,
    https: Option<Proxy>,
    all: Option<Proxy>,
    no_proxy: NoProxy,
}

impl ProxyEnv {
    /// Reads this process's environment (the variables are listed under [`ClientOptionsBuilder::proxy`](crate::ClientOptionsBuilder::proxy)).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (a variable name in, its value out). A variable
    /// holding an invalid proxy URL is an [`Error::InvalidProxy`] that names the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|name| {
                lookup(name)
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (*name, value))
            })
        };
        let proxy = |names: &[&'static str]| -> Result<Option<Proxy>, Error> {
            first(names)
                .map(|(name, value)| {
                    Proxy::parse(&value).map_err(|error| match error {
                        Error::InvalidProxy { proxy, reason } => Error::InvalidProxy {
                            proxy,
                            reason: format!("{reason} (from the environment variable `{name}`)"),
                        },
                        other => other,
                    })
                })
                .transpose()
        };
        Ok(ProxyEnv {
            http: proxy(&["http_proxy"])?,
            https: proxy(&["https_proxy", "HTTPS_PROXY"])?,
            all: proxy(&["all_proxy", "ALL_PROXY"])?,
            no_proxy: first(&["no_proxy", "NO_PROXY"])
                .map(|(_, list)| NoProxy::parse(&list))
                .unwrap_or_default(),
        })
    }

    /// The proxy for `url`, or `None` to connect directly.
    pub fn proxy_for(&self, url: &WsUrl) -> Option<&Proxy> {
        let scheme = if url.is_tls() {
            &self.https
        } else {
            &self.http
        };
        let proxy = scheme.as_ref().or(self.all.as_ref())?;
        (!self.no_proxy.matches(url.host(), url.port())).then_some(proxy)
    }

    /// Whether the environment names no proxy at all.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none() && self.all.is_none()
    }
}

/// A `no_proxy` list: hosts, domains, IP addresses and CIDR ranges reached without a proxy.
///
/// Entries are separated by commas or spaces:
/// - `*` alone matches every host;
/// - `example.com` and `.example.com` both match `example.com` and every subdomain
///   (`www.example.com`), never `notexample.com`; a leading `*.` is read as `.`;
/// - an IP address matches that address; `10.0.0.0/8` or `fd00::/8` a range;
/// - `:port` after any of those (`example.com:8443`, `[::1]:9000`) restricts it to one port.
///
/// Names compare without regard to case and to a trailing dot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    everything: bool,
    entries: Vec<(Pattern, Option<u16>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Domain(String),
    Ip(IpAddr),
    Range(IpAddr, u8),
}

impl NoProxy {
    /// Parses a `no_proxy` list; entries that mean nothing (an empty one, a bad range) are
    /// skipped, as curl skips them.
    pub fn parse(list: &str) -> Self {
        let mut no_proxy = NoProxy::default();
        for entry in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            if entry == "*" {
                no_proxy.everything = true;
                continue;
            }
            if let Some(parsed) = parse_entry(entry) {
                no_proxy.entries.push(parsed);
            }
        }
        no_proxy
    }

    /// Whether `host` (a name or an IP address, IPv6 with or without brackets) on `port` is
    /// to be reached directly.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|(pattern, only_port)| {
            only_port.is_none_or(|p| p == port)
                && match pattern {
                    Pattern::Domain(domain) => {
                        host == *domain
                            || host
                                .strip_suffix(domain.as_str())
                                .is_some_and(|head| head.ends_with('.'))
                    }
                    Pattern::Ip(addr) => ip == Some(*addr),
                    Pattern::Range(network, bits) => {
                        ip.is_some_and(|ip| in_range(ip, *network, *bits))
                    }
                }
        })
    }
}

fn parse_entry(entry: &str) -> Option<(Pattern, Option<u16>)> {
    let entry = entry.to_ascii_lowercase();
    // `[v6]`, `[v6]:port`
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((ip_or_range(inside)?, port));
    }
    // A bare IPv6 address or range has colons of its own: no port then.
    if entry.matches(':').count() > 1 {
        return Some((ip_or_range(&entry)?, None));
    }
    let (name, port) = match entry.rsplit_once(':') {
        Some((name, port)) => (name, Some(port.parse().ok()?)),
        None => (entry.as_str(), None),
    };
    if let Some(pattern) = ip_or_range(name) {
        return Some((pattern, port));
    }
    let domain = name
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.');
    (!domain.is_empty()).then(|| (Pattern::Domain(domain.to_owned()), port))
}

fn ip_or_range(text: &str) -> Option<Pattern> {
    match text.split_once('/') {
        None => text.parse().ok().map(Pattern::Ip),
        Some((network, bits)) => {
            let network: IpAddr = network.parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let width = if network.is_ipv4() { 32 } else { 128 };
            (bits <= width).then_some(Pattern::Range(network, bits))
        }
    }
}

fn in_range(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    fn prefix_equal(a: u128, b: u128, bits: u8, width: u8) -> bool {
        let shift = u32::from(width - bits);
        // A shift by the full width is a /0: everything matches.
        a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
    }
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => prefix_equal(
            u128::from(u32::from(ip)),
            u128::from(u32::from(network)),
            bits,
            32,
        ),
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            prefix_equal(u128::from(ip), u128::from(network), bits, 128)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyEnv::from_lookup(|name| vars.get(name).cloned()).unwrap()
    }

    fn url(text: &str) -> WsUrl {
        WsUrl::parse(text).unwrap()
    }

    fn chosen(env: &ProxyEnv, target: &str) -> Option<String> {
        env.proxy_for(&url(target)).map(Proxy::address)
    }

    #[test]
    fn wss_uses_https_proxy_and_ws_uses_lowercase_http_proxy_only() {
        let vars = env(&[
            ("HTTPS_PROXY", "http://upper-s:1"),
            ("HTTP_PROXY", "http://upper:2"),
        ]);
        assert_eq!(chosen(&vars, "wss://h/").as_deref(), Some("upper-s:1"));
        assert_eq!(chosen(&vars, "ws://h/"), None, "HTTP_PROXY is never read");
        let vars = env(&[
            ("https_proxy", "http://lower-s:1"),
            ("HTTPS_PROXY", "http://upper-s:1"),
            ("http_proxy", "lower:2"),
        ]);
        assert_eq!(chosen(&vars, "wss://h/").as_deref(), Some("lower-s:1"));
        assert_eq!(chosen(&vars, "ws://h/").as_deref(), Some("lower:2"));
    }

    #[test]
    fn all_proxy_is_the_fallback_and_empty_means_unset() {
        let vars = env(&[("https_proxy", ""), ("ALL_PROXY", "socks5h://all:1080")]);
        assert_eq!(chosen(&vars, "wss://h/").as_deref(), Some("all:1080"));
        assert_eq!(chosen(&vars, "ws://h/").as_deref(), Some("all:1080"));
        assert!(env(&[]).is_empty());
        assert_eq!(chosen(&env(&[]), "ws://h/"), None);
    }

    #[test]
    fn loopback_is_proxied_unless_no_proxy_names_it() {
        let vars = env(&[("http_proxy", "http://p:1")]);
        for target in ["ws://127.0.0.1:9/", "ws://localhost/", "ws://[::1]/"] {
            assert_eq!(chosen(&vars, target).as_deref(), Some("p:1"), "{target}");
        }
        let vars = env(&[
            ("http_proxy", "http://p:1"),
            ("NO_PROXY", "localhost, 127.0.0.1 ::1"),
        ]);
        for target in ["ws://127.0.0.1:9/", "ws://localhost/", "ws://[::1]/"] {
            assert_eq!(chosen(&vars, target), None, "{target}");
        }
    }

    #[test]
    fn no_proxy_matches_domains_and_their_subdomains_only() {
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            let no_proxy = NoProxy::parse(list);
            assert!(no_proxy.matches("example.com", 80), "{list}");
            assert!(no_proxy.matches("www.Example.com.", 80), "{list}");
            assert!(no_proxy.matches("a.b.example.com", 80), "{list}");
            assert!(!no_proxy.matches("notexample.com", 80), "{list}");
            assert!(!no_proxy.matches("example.com.evil", 80), "{list}");
        }
    }

    #[test]
    fn no_proxy_matches_addresses_ranges_ports_and_star() {
        let no_proxy = NoProxy::parse("10.0.0.0/8,192.168.1.7,fd00::/8,[::1]:9000,h.test:443");
        assert!(no_proxy.matches("10.200.3.4", 1));
        assert!(!no_proxy.matches("11.0.0.1", 1));
        assert!(no_proxy.matches("192.168.1.7", 1));
        assert!(!no_proxy.matches("192.168.1.8", 1));
        assert!(no_proxy.matches("fd12::1", 1));
        assert!(!no_proxy.matches("fe80::1", 1));
        assert!(no_proxy.matches("[::1]", 9000));
        assert!(!no_proxy.matches("::1", 9001));
        assert!(no_proxy.matches("h.test", 443));
        assert!(!no_proxy.matches("h.test", 80));
        assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8", 1));
        assert!(NoProxy::parse("::/0").matches("::1", 1));
        assert!(NoProxy::parse("a, *").matches("anything", 1));
        assert!(!NoProxy::parse("").matches("h", 1));
        // Nonsense is skipped, not fatal.
        let odd = NoProxy::parse("10.0.0.0/99,[::1,h:notaport,,h2");
        assert!(odd.matches("h2", 1) && !odd.matches("10.0.0.1", 1));
    }

    #[test]
    fn a_bad_proxy_variable_is_an_error_naming_it_without_the_secret() {
        let error = ProxyEnv::from_lookup(|name| {
            (name == "HTTPS_PROXY").then(|| "gopher://u:s3cret@p".to_owned())
        })
        .unwrap_err();
        let shown = error.to_string();
        assert!(
            shown.contains("HTTPS_PROXY") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
