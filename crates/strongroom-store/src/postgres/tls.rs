//! TLS to the PostgreSQL server: rustls on the aws-lc-rs provider (as everywhere in
//! Strongroom), trusting only the CA certificates of the URL's `sslrootcert` file.
//!
//! `sslmode` as libpq reads it when a root certificate is given: `verify-full` checks the
//! chain and that the certificate names the host of the URL; `verify-ca` and `require` check
//! the chain only (the server may be reached under a name its certificate does not carry).
//! Without `sslrootcert` a TLS mode is refused: libpq's `require` without a root file encrypts
//! to whoever answers, which protects against nothing an active attacker does, so this build
//! always verifies. A TLS mode never falls back to a plain connection.

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// What the server's certificate must prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verify {
    /// The chain to a trusted root, and the host name (`verify-full`).
    Full,
    /// The chain only (`verify-ca`, `require`).
    ChainOnly,
}

/// The connector for `tokio-postgres` that verifies as `verify` says against the CA
/// certificates in the PEM file `root_file`.
pub(super) fn connector(root_file: &Path, verify: Verify) -> Result<MakeRustlsConnect, StoreError> {
    let unusable = |why: String| {
        StoreError::Unavailable(format!(
            "the PostgreSQL URL's sslrootcert ({}) {why}",
            root_file.display()
        ))
    };
    let mut roots = RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(root_file)
        .map_err(|err| unusable(format!("cannot be read: {err}")))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|err| unusable(format!("is not PEM: {err}")))?;
        roots
            .add(certificate)
            .map_err(|err| unusable(format!("holds a certificate rustls refuses: {err}")))?;
    }
    if roots.is_empty() {
        return Err(unusable("holds no certificate".to_owned()));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| StoreError::Unavailable(format!("TLS to PostgreSQL: {err}")))?;
    let roots = Arc::new(roots);
    let config = match verify {
        Verify::Full => builder
            .with_root_certificates(Arc::clone(&roots))
            .with_no_client_auth(),
        Verify::ChainOnly => {
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|err| StoreError::Unavailable(format!("TLS to PostgreSQL: {err}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(webpki)))
                .with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// WebPKI's verification less the name check: `verify-ca`.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // The chain, dates and usage were checked before the name: only the name failed.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
