//! What can go wrong with certificate material, in crypto's words. The vault maps these to
//! Azure's codes. No variant carries key bytes, a password or a library's free text about a
//! private key.

use crate::keys::KeyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The input is not the PEM, PFX, certificate or CSR it claims to be; says which part.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The PFX's MAC or encryption does not open with the given password.
    #[error("the PFX password is wrong")]
    BadPassword,
    #[error("the certificate material has no private key")]
    MissingKey,
    #[error("the certificate material has more than one private key")]
    ExtraKey,
    #[error("the certificate material has no certificate")]
    NoCertificate,
    /// Certificates and a key were given, but no certificate certifies that key.
    #[error("no certificate matches the private key")]
    KeyMismatch,
    /// The private key itself: unsupported size or curve, inconsistent parts.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A subject that is not `CN=..., O=...` with attributes we know; says what is wrong.
    #[error("invalid subject: {0}")]
    BadSubject(String),
    /// A certificate request field we cannot put in a certificate (a name, an OID, a validity).
    #[error("invalid certificate request: {0}")]
    BadRequest(String),
    /// Well-formed input that Strongroom does not handle (a key type, a PFX algorithm).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// rcgen or the random source refused to build a certificate or CSR from checked input.
    #[error("certificate generation failed: {0}")]
    Issuance(String),
}
