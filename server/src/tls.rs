//! HTTPS for use beyond localhost (browsers grant cameras only in a secure context): a rustls
//! config from PEM files or from a certificate made at start. Uses the `ring` provider only.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read certificate chain {path}: {source}")]
    Cert {
        path: String,
        source: rustls::pki_types::pem::Error,
    },
    #[error("cannot read private key {path}: {source}")]
    Key {
        path: String,
        source: rustls::pki_types::pem::Error,
    },
    #[error("certificate file {0} holds no certificate")]
    NoCert(String),
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("rustls refused the certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A ready server config plus the SHA-256 fingerprint of its leaf certificate.
pub struct TlsSetup {
    pub server_config: Arc<rustls::ServerConfig>,
    /// Uppercase hex pairs joined by `:`, as browsers and `openssl x509 -fingerprint -sha256` show it.
    pub fingerprint: String,
    /// The leaf certificate, so a client (or test) can trust exactly it.
    pub cert_der: CertificateDer<'static>,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl TlsSetup {
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .and_then(|it| it.collect::<Result<_, _>>())
            .map_err(|source| TlsError::Cert {
                path: cert.display().to_string(),
                source,
            })?;
        if chain.is_empty() {
            return Err(TlsError::NoCert(cert.display().to_string()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
            path: key.display().to_string(),
            source,
        })?;
        Self::new(chain, key)
    }

    /// A fresh self-signed certificate for `names` (DNS names or IP addresses).
    pub fn self_signed(names: Vec<String>) -> Result<Self, TlsError> {
        let rcgen::CertifiedKey { cert, key_pair } = rcgen::generate_simple_self_signed(names)?;
        let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
        Self::new(vec![cert.der().clone()], key)
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let leaf = chain[0].clone();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        // HTTP/1.1 only: browsers then open WebSockets with a plain Upgrade.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            server_config: Arc::new(config),
            fingerprint: fingerprint(&leaf),
            cert_der: leaf,
        })
    }
}

/// SHA-256 of a DER certificate as `AB:CD:...`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
