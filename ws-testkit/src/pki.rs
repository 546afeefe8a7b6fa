//! A certificate authority made at test time, for `wss://` tests on every adapter.
//!
//! Each adapter's TLS tests need the same three things: a CA the client can be told to trust,
//! a server certificate that CA signed for the loopback names, and a rustls server config
//! holding it. Made fresh per test with rcgen, so nothing secret is committed.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use ws_client::Tls;
use ws_client::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_client::rustls::{self, RootCertStore};

/// A test CA and a server certificate it signed for `127.0.0.1`, `::1` and `localhost`.
pub struct TestPki {
    /// The CA's certificate: what a client must trust.
    pub ca: CertificateDer<'static>,
    /// The server's certificate chain.
    pub chain: Vec<CertificateDer<'static>>,
    /// The server's private key.
    pub key: PrivateKeyDer<'static>,
}

impl TestPki {
    /// A new CA named `ca_name`, and a server certificate it signed.
    ///
    /// # Panics
    ///
    /// If rcgen cannot generate a key or sign (never expected).
    pub fn new(ca_name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, ca_name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
            .expect("self-signed CA");
        let key = KeyPair::generate().expect("server key");
        let names = vec![
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
            "localhost".to_owned(),
        ];
        let cert = CertificateParams::new(names)
            .expect("server params")
            .signed_by(&key, &*ca)
            .expect("signed server certificate");
        TestPki {
            ca: ca.der().clone(),
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// Client TLS settings that trust this CA and nothing else.
    ///
    /// # Panics
    ///
    /// If rustls refuses the CA certificate (never expected).
    pub fn trusting(&self) -> Tls {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).expect("a valid CA certificate");
        Tls::with_root_certificates(roots)
    }

    /// A rustls server config presenting the server certificate (ring provider).
    ///
    /// # Panics
    ///
    /// If rustls refuses the certificate or key (never expected).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("default protocol versions")
        .with_no_client_auth()
        .with_single_cert(self.chain.clone(), self.key.clone_key())
        .expect("a valid certificate and key");
        Arc::new(config)
    }
}
