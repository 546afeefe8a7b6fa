//! The rustls client configuration for `wss://`, built once per client and shared.
//!
//! tokio-tungstenite builds a fresh configuration for every connection when it is given none
//! (and, with native roots, reads the OS certificate store each time). A reconnecting client
//! connects many times, so the configuration is built once, lazily (a `ws://` client never
//! pays for it), and handed to every attempt as an `Arc`.
//!
//! Certificate verification is never disabled by this crate. To trust a private CA, pass its
//! certificate in a [`RootCertStore`] ([`Tls::with_root_certificates`]) or bring a complete
//! [`ClientConfig`] ([`Tls::from_config`]).

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};

use crate::error::Error;

/// Which certificates a `wss://` connection trusts. Cheap to clone; the configuration is built
/// on first use and shared by every clone.
///
/// The default trusts the bundled Mozilla roots (`webpki-roots` feature), or the operating
/// system's roots when the `native-roots` feature is enabled.
#[derive(Clone)]
pub struct Tls {
    roots: Roots,
    built: Arc<OnceLock<Result<Arc<ClientConfig>, Error>>>,
}

#[derive(Clone)]
enum Roots {
    #[cfg(feature = "webpki-roots")]
    Webpki,
    #[cfg(feature = "native-roots")]
    Native,
    Store(Arc<RootCertStore>),
    Config(Arc<ClientConfig>),
}

impl Tls {
    fn new(roots: Roots) -> Self {
        Tls {
            roots,
            built: Arc::new(OnceLock::new()),
        }
    }

    /// Trust the Mozilla root certificates bundled with the `webpki-roots` crate: the same set
    /// everywhere, no dependency on the host's certificate store.
    #[cfg(feature = "webpki-roots")]
    pub fn webpki_roots() -> Self {
        Tls::new(Roots::Webpki)
    }

    /// Trust the operating system's root certificates (read once, on first use).
    #[cfg(feature = "native-roots")]
    pub fn native_roots() -> Self {
        Tls::new(Roots::Native)
    }

    /// Trust exactly these roots (a private CA, a test CA).
    pub fn with_root_certificates(roots: RootCertStore) -> Self {
        Tls::new(Roots::Store(Arc::new(roots)))
    }

    /// Use this configuration as is (client certificates, pinned keys, ALPN, a custom
    /// verifier…). What it verifies is the caller's decision.
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        Tls::new(Roots::Config(config))
    }

    /// The configuration, built on the first call and shared afterwards.
    ///
    /// Fails when no root certificates could be loaded, or when no rustls crypto provider is
    /// available (enable the `ring` or `aws-lc-rs` feature, or install a process default).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, Error> {
        self.built.get_or_init(|| self.build()).clone()
    }

    fn build(&self) -> Result<Arc<ClientConfig>, Error> {
        let roots = match &self.roots {
            Roots::Config(config) => return Ok(config.clone()),
            Roots::Store(store) => store.as_ref().clone(),
            #[cfg(feature = "webpki-roots")]
            Roots::Webpki => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
            #[cfg(feature = "native-roots")]
            Roots::Native => native_roots()?,
        };
        let config = ClientConfig::builder_with_provider(crypto_provider()?)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_setup(&e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

impl Default for Tls {
    fn default() -> Self {
        #[cfg(feature = "native-roots")]
        {
            Tls::native_roots()
        }
        #[cfg(all(feature = "webpki-roots", not(feature = "native-roots")))]
        {
            Tls::webpki_roots()
        }
        #[cfg(not(any(feature = "webpki-roots", feature = "native-roots")))]
        {
            Tls::with_root_certificates(RootCertStore::empty())
        }
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roots = match &self.roots {
            #[cfg(feature = "webpki-roots")]
            Roots::Webpki => "webpki roots",
            #[cfg(feature = "native-roots")]
            Roots::Native => "native roots",
            Roots::Store(_) => "custom roots",
            Roots::Config(_) => "custom ClientConfig",
        };
        f.debug_tuple("Tls").field(&roots).finish()
    }
}

/// The process default provider if the application installed one, else the one this crate
/// was built with. Naming it explicitly avoids rustls's panic when both providers are
/// compiled in and none is installed.
#[cfg_attr(
    any(feature = "ring", feature = "aws-lc-rs"),
    allow(clippy::unnecessary_wraps)
)]
fn crypto_provider() -> Result<Arc<CryptoProvider>, Error> {
    if let Some(provider) = CryptoProvider::get_default() {
        return Ok(provider.clone());
    }
    #[cfg(feature = "ring")]
    {
        Ok(Arc::new(rustls::crypto::ring::default_provider()))
    }
    #[cfg(all(feature = "aws-lc-rs", not(feature = "ring")))]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    {
        Err(tls_setup(
            "no rustls crypto provider: enable the `ring` or `aws-lc-rs` feature, or install \
             a process default with CryptoProvider::install_default",
        ))
    }
}

#[cfg(feature = "native-roots")]
fn native_roots() -> Result<RootCertStore, Error> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        return Err(tls_setup(&format!(
            "no usable root certificate in the operating system's store ({} errors: {:?})",
            loaded.errors.len(),
            loaded.errors.first().map(ToString::to_string)
        )));
    }
    Ok(roots)
}

fn tls_setup(reason: &str) -> Error {
    Error::Tls {
        server: "(setup)".to_owned(),
        reason: reason.to_owned(),
        source: None,
    }
}

#[cfg(all(test, any(feature = "ring", feature = "aws-lc-rs")))]
mod tests {
    use super::*;

    #[cfg(feature = "webpki-roots")]
    #[test]
    fn webpki_config_is_built_once_and_shared() {
        let tls = Tls::webpki_roots();
        let copy = tls.clone();
        let first = tls.client_config().unwrap();
        assert!(Arc::ptr_eq(&first, &copy.client_config().unwrap()));
    }

    #[test]
    fn a_supplied_config_is_used_as_is() {
        let config = Arc::new(
            ClientConfig::builder_with_provider(crypto_provider().unwrap())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth(),
        );
        let tls = Tls::from_config(config.clone());
        assert!(Arc::ptr_eq(&tls.client_config().unwrap(), &config));
        assert_eq!(format!("{tls:?}"), "Tls(\"custom ClientConfig\")");
    }
}
