//! The TLS server configuration: rustls on aws-lc-rs, HTTP/2 and HTTP/1.1 by ALPN.

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

pub(crate) fn server_config(
    leaf_pem: &str,
    ca_pem: &str,
    key_pem: &str,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let mut chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(leaf_pem.as_bytes())
            .collect::<Result<_, _>>()
            .context("server certificate PEM")?;
    chain.extend(
        CertificateDer::pem_slice_iter(ca_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .context("CA certificate PEM")?,
    );
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).context("server key PEM")?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("server certificate and key")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
