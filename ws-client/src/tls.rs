//! The rustls client configuration for `wss://`, built once per client and shared.
//!
//! tokio-tungstenite builds a fresh configuration for every connection when it is given none
//! (and, with native roots, reads the OS certificate store each time). A reconnecting client
//! connects many times, so the configuration is built once, lazily (a `ws://` client never
//! pays for it), and handed to every attempt as an `Arc`.
//!
//! Certificate verification is never disabled by this crate. To trust a private CA, pass its
//! certificate in a [`RootCertStore`] ([`Tls::with_root_certificates`]), add PEM roots to the
//! default ones ([`Tls::with_root_pem`], [`Tls::add_root_pem_file`]), or bring a complete
//! [`ClientConfig`] ([`Tls::from_config`]).
//!
//! Every configuration offers ALPN `http/1.1` and nothing else (a user's own `ClientConfig`
//! is cloned and set so): the WebSocket upgrade is an HTTP/1.1 request, and a server or proxy
//! that picked `h2` could not answer it.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
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
    /// Roots added on top of `roots` ([`Tls::with_root_pem`]).
    extra: Vec<CertificateDer<'static>>,
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
            extra: Vec::new(),
            built: Arc::new(OnceLock::new()),
        }
    }

    /// These settings plus the certificates in `pem` (one or more `BEGIN CERTIFICATE` blocks)
    /// as trusted roots, e.g. a private CA next to the public ones. A buffer without a
    /// certificate, or one rustls cannot read, is an [`Error::InvalidPem`]. Has no effect on
    /// a configuration from [`from_config`](Self::from_config), which the caller controls.
    pub fn with_root_pem(self, pem: &[u8]) -> Result<Self, Error> {
        self.add_roots(pem, "(buffer)")
    }

    /// [`with_root_pem`](Self::with_root_pem) with the contents of the file at `path`.
    pub fn add_root_pem_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let pem = std::fs::read(path).map_err(|e| Error::InvalidPem {
            origin: origin.clone(),
            reason: e.to_string(),
        })?;
        self.add_roots(&pem, &origin)
    }

    fn add_roots(mut self, pem: &[u8], origin: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidPem {
            origin: origin.to_owned(),
            reason,
        };
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        if certificates.is_empty() {
            return Err(invalid("no `BEGIN CERTIFICATE` block".to_owned()));
        }
        let mut check = RootCertStore::empty();
        for certificate in &certificates {
            check
                .add(certificate.clone())
                .map_err(|e| invalid(format!("not a usable root certificate: {e}")))?;
        }
        self.extra.extend(certificates);
        self.built = Arc::new(OnceLock::new());
        Ok(self)
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

    /// Use this configuration (client certificates, pinned keys, a custom verifier…). What it
    /// verifies is the caller's decision; its ALPN list is replaced by `http/1.1` (on a
    /// clone), which is what a WebSocket upgrade speaks.
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
        let mut roots = match &self.roots {
            Roots::Config(config) => {
                if config.alpn_protocols == [ALPN_HTTP_1_1] {
                    return Ok(config.clone());
                }
                let mut config = ClientConfig::clone(config);
                config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
                return Ok(Arc::new(config));
            }
            Roots::Store(store) => store.as_ref().clone(),
            #[cfg(feature = "webpki-roots")]
            Roots::Webpki => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
            #[cfg(feature = "native-roots")]
            Roots::Native => native_roots()?,
        };
        for certificate in &self.extra {
            roots
                .add(certificate.clone())
                .map_err(|e| tls_setup(&e.to_string()))?;
        }
        let mut config = ClientConfig::builder_with_provider(crypto_provider()?)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_setup(&e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
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
        if self.extra.is_empty() {
            f.debug_tuple("Tls").field(&roots).finish()
        } else {
            f.debug_tuple("Tls")
                .field(&roots)
                .field(&format_args!("+{} PEM roots", self.extra.len()))
                .finish()
        }
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

/// The one ALPN protocol a WebSocket client offers.
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

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

    fn bare_config() -> ClientConfig {
        ClientConfig::builder_with_provider(crypto_provider().unwrap())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth()
    }

    #[test]
    fn a_supplied_config_is_used_with_alpn_http_1_1() {
        let mut with_alpn = bare_config();
        with_alpn.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(with_alpn);
        let tls = Tls::from_config(config.clone());
        assert!(Arc::ptr_eq(&tls.client_config().unwrap(), &config));
        assert_eq!(format!("{tls:?}"), "Tls(\"custom ClientConfig\")");

        let mut h2 = bare_config();
        h2.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let original = Arc::new(h2);
        let used = Tls::from_config(original.clone()).client_config().unwrap();
        assert_eq!(used.alpn_protocols, [b"http/1.1".to_vec()]);
        assert_eq!(
            original.alpn_protocols.len(),
            2,
            "the caller's config is not changed"
        );
    }

    #[test]
    fn built_configs_offer_alpn_http_1_1() {
        let tls = Tls::with_root_certificates(RootCertStore::empty());
        assert_eq!(
            tls.client_config().unwrap().alpn_protocols,
            [b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn pem_roots_are_added_and_bad_pem_is_a_typed_error() {
        let ca = rcgen::generate_simple_self_signed(vec!["test-ca".to_owned()]).unwrap();
        let pem = ca.cert.pem();
        let tls = Tls::with_root_certificates(RootCertStore::empty())
            .with_root_pem(pem.as_bytes())
            .unwrap();
        assert_eq!(format!("{tls:?}"), "Tls(\"custom roots\", +1 PEM roots)");
        assert!(tls.client_config().is_ok());

        let none = Tls::default()
            .with_root_pem(b"not a certificate")
            .unwrap_err();
        assert_eq!(
            none.to_string(),
            "invalid PEM certificates in (buffer): no `BEGIN CERTIFICATE` block"
        );
        let broken = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            Tls::default().with_root_pem(broken.as_bytes()),
            Err(Error::InvalidPem { .. })
        ));
        let missing = Tls::default()
            .add_root_pem_file("/nonexistent/ca.pem")
            .unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("invalid PEM certificates in /nonexistent/ca.pem"),
            "{missing}"
        );
    }
}
