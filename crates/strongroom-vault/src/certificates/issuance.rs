//! Turning a checked policy and a key into what the issuer gives back: a certificate from the
//! `Self` issuer (self-signed) or from the deployment's own CA, or, for the `Unknown` issuer,
//! the CSR the caller takes to a CA of their choice and brings back through merge.
//!
//! Issuance is synchronous and takes milliseconds (the key already exists), so the operations
//! built on it can finish before they answer; what remains pending is only the `Unknown`
//! issuer's merge.

use super::policy::CertificatePolicy;
use crate::VaultError;
use crate::error::corrupt;
use strongroom_crypto::LocalCa;
use strongroom_crypto::certs::{
    CertError, CertificateRequestSpec, build_csr, issue_self_signed, issue_with_ca,
};
use strongroom_crypto::keys::PrivateKey;
use strongroom_model::UnixTime;

/// The issuer name under which the deployment's certificate CA (`certificate-ca.pem`) signs
/// certificates. It is not the TLS trust root (`ca.pem`, name-constrained to the names the
/// server serves): clients trust it for their own services by choice.
pub const DEPLOYMENT_CA_ISSUER: &str = "Strongroom";

/// What an issuer produced for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issued {
    /// A signed certificate (DER).
    Certificate(Vec<u8>),
    /// A PKCS#10 request (DER) waiting for a certificate to be merged.
    SigningRequest(Vec<u8>),
}

/// Issues for `key` under `policy`, valid from `now`. `ca` is the deployment CA, if this
/// process has it. `configured_provider` is the provider of the vault's issuer of the
/// policy's issuer name, if the vault has one: the `Strongroom` provider is the deployment
/// CA under a name of the vault's choosing; other providers (DigiCert, GlobalSign) are out
/// of reach of a self-hosted deployment and refused, as is an issuer name the vault does not
/// have.
pub fn issue(
    policy: &CertificatePolicy,
    key: &PrivateKey,
    now: UnixTime,
    ca: Option<&LocalCa>,
    configured_provider: Option<&str>,
) -> Result<Issued, VaultError> {
    let x509 = &policy.x509;
    let spec = CertificateRequestSpec {
        subject: x509.subject.clone(),
        dns_names: x509.dns_names.clone(),
        emails: x509.emails.clone(),
        upns: x509.upns.clone(),
        key_usage: x509.key_usage.clone(),
        ekus: x509.ekus.clone(),
        validity_months: x509.validity_months,
        not_before: now,
    };
    let issuer = &policy.issuer;
    let issued = if issuer.is_self() {
        issue_self_signed(key, &spec).map(Issued::Certificate)
    } else if issuer.is_unknown() {
        build_csr(key, &spec).map(Issued::SigningRequest)
    } else if issuer.name.eq_ignore_ascii_case(DEPLOYMENT_CA_ISSUER)
        || configured_provider.is_some_and(|p| p.eq_ignore_ascii_case(DEPLOYMENT_CA_ISSUER))
    {
        let ca = ca.ok_or_else(|| {
            VaultError::NotSupported(
                "This Strongroom process has no deployment CA to issue certificates with."
                    .to_owned(),
            )
        })?;
        issue_with_ca(key, &spec, ca).map(Issued::Certificate)
    } else if let Some(provider) = configured_provider {
        return Err(VaultError::InvalidParameter(format!(
            "The issuer '{}' uses the provider '{provider}', which this deployment cannot reach. Only the {DEPLOYMENT_CA_ISSUER} provider (the deployment CA) issues certificates here.",
            issuer.name
        )));
    } else {
        return Err(VaultError::InvalidParameter(format!(
            "The issuer '{}' is not configured in this vault. Use Self, Unknown or {DEPLOYMENT_CA_ISSUER}.",
            issuer.name
        )));
    };
    issued.map_err(|err| match err {
        CertError::BadSubject(message) => {
            VaultError::InvalidParameter(format!("The policy's subject is invalid: {message}"))
        }
        CertError::BadRequest(message) => VaultError::InvalidParameter(format!(
            "The certificate policy cannot be issued: {message}"
        )),
        CertError::Unsupported(what) => VaultError::InvalidParameter(format!(
            "The certificate policy cannot be issued: {what} is not supported."
        )),
        // Checked input that still fails is our fault, not the caller's.
        other => corrupt(&format!("certificate issuance failed: {other}")),
    })
}

#[cfg(test)]
mod tests;
