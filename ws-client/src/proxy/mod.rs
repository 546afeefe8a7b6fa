//! Proxies: where a connection is tunnelled through, and the tunnel's opening handshake.
//!
//! - [`Proxy`]: one proxy URL (`http://`, `https://`, `socks5://`, `socks5h://`), checked once;
//!   its credentials never appear in `Debug`, `Display` or errors.
//! - [`ProxyEnv`]: the proxy settings of the environment, read by curl's conventions as a pure
//!   function of a variable lookup.
//! - [`ProxyHandshake`]: the HTTP `CONNECT` and SOCKS5 handshakes, written once and IO-free
//!   (bytes out, bytes in). Every adapter drives it over its own stream type.

mod env;
mod handshake;
mod http_connect;
mod socks5;
mod url;

pub use env::{NoProxy, ProxyEnv};
pub use handshake::{ProxyFailure, ProxyHandshake, ProxyTarget, Step};
pub use url::{Proxy, ProxyKind};

/// How a client picks its proxy (see
/// [`ClientOptionsBuilder::proxy`](crate::ClientOptionsBuilder::proxy)).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// The proxy the environment names for each target, by curl's conventions (the default).
    #[default]
    FromEnvironment,
    /// These environment settings, captured once (tests, or an application that reads its
    /// own configuration).
    Env(ProxyEnv),
    /// This proxy for every target.
    Fixed(Proxy),
    /// Connect directly, whatever the environment says.
    None,
}
