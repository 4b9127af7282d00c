//! TLS: the rustls configuration (ring, TLS 1.2 and 1.3, h2 and http/1.1) built from PEM
//! files, and its hot reload.
//!
//! Kubernetes updates a Secret volume by writing the new files into a fresh directory and
//! swapping the `..data` symlink, so the paths stay the same while what they resolve to
//! changes; modification times of the new files can even equal the old ones. The watcher
//! therefore compares the files' *content* every interval, and only a change that loads
//! cleanly replaces the configuration. New handshakes use the new certificate; established
//! connections keep theirs.

use crate::TlsFiles;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use std::sync::Arc;

/// The files' contents, compared to notice changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Contents {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

impl Contents {
    /// Reads the files.
    pub(crate) fn read(files: &TlsFiles) -> Result<Self, String> {
        let read =
            |path: &std::path::Path| std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
        Ok(Self {
            cert: read(&files.cert)?,
            key: read(&files.key)?,
            client_ca: files.client_ca.as_deref().map(read).transpose()?,
        })
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the server configuration.
pub(crate) fn server_config(files: &TlsFiles, contents: &Contents) -> Result<Arc<ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&contents.cert)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: invalid PEM certificate: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate found", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_slice(&contents.key)
        .map_err(|e| format!("{}: no usable private key: {e}", files.key.display()))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS versions: {e}"))?;
    let builder = match (&files.client_ca, &contents.client_ca) {
        (Some(path), Some(pem)) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("{}: invalid PEM certificate: {e}", path.display()))?;
                roots.add(cert).map_err(|e| format!("{}: unusable CA certificate: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("{}: no CA certificate found", path.display()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!("{} and {} do not make a usable certificate: {e}", files.cert.display(), files.key.display())
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
