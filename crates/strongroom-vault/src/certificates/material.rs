//! A certificate version's material: the secret value Key Vault hands out for it (a
//! password-less PFX in base64, or PEM), what an import's value holds, and the key
//! operations its key usage allows.

use super::policy::{CertificatePolicy, SecretContentType};
use crate::VaultError;
use crate::keys::{KeyFamily, KeyOperation};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use strongroom_crypto::certs::{CertBundle, CertError, KeyUsage, build_pem, build_pfx};
use strongroom_crypto::keys::PrivateKey;
use strongroom_model::SecretValue;
use zeroize::Zeroizing;

// AZURE-ERRORS.md 6.15 (import without a private key), and the texts Key Vault gives for
// content it cannot read (inferred wording, same shape).
pub(crate) const PEM_WITHOUT_KEY: &str = "Private key is not specified in the specified X.509 PEM certificate content. Please specify private key in the X.509 PEM certificate content.";
const PFX_UNREADABLE: &str = "The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format.";
const PEM_UNREADABLE: &str = "The specified PEM X.509 certificate content can not be read. Please check if certificate is in valid PEM format.";
/// Key Vault's answer when a merged certificate is not for the pending key.
pub(crate) const KEY_MISMATCH: &str =
    "Public key from x509 certificate and key of this instance doesn't match";

/// The value of the secret that backs a version: `key` (when the policy lets it be
/// exported), the leaf and the chain, in the policy's format.
pub(crate) fn secret_value(
    content_type: SecretContentType,
    key: Option<PrivateKey>,
    leaf: &[u8],
    chain: &[Vec<u8>],
) -> Result<SecretValue, VaultError> {
    let bundle = CertBundle {
        key,
        leaf: leaf.to_vec(),
        chain: chain.to_vec(),
    };
    Ok(match content_type {
        SecretContentType::Pem => {
            let mut pem = build_pem(&bundle);
            SecretValue::new(std::mem::take(&mut *pem))
        }
        SecretContentType::Pkcs12 => {
            let pfx = Zeroizing::new(build_pfx(&bundle).map_err(material_error)?);
            SecretValue::new(STANDARD.encode(&*pfx))
        }
    })
}

/// Parses an import's value and says which format it came in: PEM text, or base64 of PEM
/// text (what the SDKs send for a PEM import), or base64 of a PFX. CPU-bound (a PFX's key
/// derivation): run it off the request threads. The bundle must hold a private key.
pub(crate) fn parse_import(
    value: &SecretValue,
    password: Option<&SecretValue>,
) -> Result<(CertBundle, SecretContentType), VaultError> {
    let text = value.expose().trim_start();
    let bundle = if text.starts_with(PEM_START) {
        (parse_pem(text)?, SecretContentType::Pem)
    } else {
        let compact: Zeroizing<String> =
            Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
        let decoded = Zeroizing::new(
            STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| VaultError::InvalidParameter(PFX_UNREADABLE.to_owned()))?,
        );
        if decoded.trim_ascii_start().starts_with(PEM_START.as_bytes()) {
            let pem = std::str::from_utf8(&decoded)
                .map_err(|_| VaultError::InvalidParameter(PEM_UNREADABLE.to_owned()))?;
            (parse_pem(pem)?, SecretContentType::Pem)
        } else {
            let bundle =
                strongroom_crypto::certs::parse_pfx(&decoded, password.map(SecretValue::expose))
                    .map_err(|err| import_error(err, PFX_UNREADABLE))?;
            (bundle, SecretContentType::Pkcs12)
        }
    };
    if bundle.0.key.is_none() {
        return Err(VaultError::InvalidParameter(PEM_WITHOUT_KEY.to_owned()));
    }
    Ok(bundle)
}

const PEM_START: &str = "-----BEGIN";

fn parse_pem(text: &str) -> Result<CertBundle, VaultError> {
    strongroom_crypto::certs::parse_pem_bundle(text)
        .map_err(|err| import_error(err, PEM_UNREADABLE))
}

fn import_error(err: CertError, unreadable: &str) -> VaultError {
    match err {
        CertError::MissingKey => VaultError::InvalidParameter(PEM_WITHOUT_KEY.to_owned()),
        CertError::KeyMismatch => VaultError::InvalidParameter(KEY_MISMATCH.to_owned()),
        CertError::ExtraKey => VaultError::InvalidParameter(
            "The certificate content holds more than one private key.".to_owned(),
        ),
        CertError::Unsupported(what) => {
            VaultError::InvalidParameter(format!("{unreadable} ({what})"))
        }
        CertError::Key(err) => VaultError::Key(err),
        _ => VaultError::InvalidParameter(unreadable.to_owned()),
    }
}

fn material_error(err: CertError) -> VaultError {
    crate::error::corrupt(&format!("certificate material could not be written: {err}"))
}

/// The `key_ops` of a certificate's key: what its X.509 key usage allows, among the
/// operations its key family has (an EC key only signs).
pub(crate) fn key_ops(policy: &CertificatePolicy) -> Vec<KeyOperation> {
    use KeyOperation as O;
    let family = policy.key.key_type.family();
    let mut ops = Vec::new();
    let mut add = |op: KeyOperation| {
        if !ops.contains(&op) {
            ops.push(op);
        }
    };
    // No key usage in the certificate (an import's may have none): the key is not limited.
    if policy.x509.key_usage.is_empty() {
        return policy.key.key_type.default_ops();
    }
    for usage in &policy.x509.key_usage {
        match usage {
            KeyUsage::DigitalSignature
            | KeyUsage::NonRepudiation
            | KeyUsage::KeyCertSign
            | KeyUsage::CrlSign => {
                add(O::Sign);
                add(O::Verify);
            }
            KeyUsage::KeyEncipherment if family == KeyFamily::Rsa => {
                add(O::Encrypt);
                add(O::Decrypt);
                add(O::WrapKey);
                add(O::UnwrapKey);
            }
            KeyUsage::DataEncipherment if family == KeyFamily::Rsa => {
                add(O::Encrypt);
                add(O::Decrypt);
            }
            _ => {}
        }
    }
    ops
}
