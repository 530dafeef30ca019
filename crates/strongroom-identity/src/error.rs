//! What can go wrong in identity, in identity's words. `aad_errors.rs` turns an
//! `IdentityError` into Entra's token-endpoint body; the API layer turns a `TokenError` into
//! Key Vault's 401. Neither carries a secret or a token.

use strongroom_crypto::CryptoError;
use strongroom_store::StoreError;

/// A failure issuing a token, authenticating a client or managing principals.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The tenant in the path is neither a known tenant id nor an alias of the default one.
    #[error("tenant {tenant} was not found")]
    UnknownTenant { tenant: String },
    /// No principal has this application (client) id.
    #[error("application {client_id} was not found in directory {tenant}")]
    UnknownClient { client_id: String, tenant: String },
    /// The principal exists, but in another tenant than the one asked.
    #[error("application {client_id} is not registered in directory {tenant}")]
    TenantMismatch { client_id: String, tenant: String },
    /// No live credential of the application matches the presented secret.
    #[error("invalid client secret for application {app_id}")]
    InvalidSecret { app_id: String },
    /// The presented secret matches only credentials that have expired.
    #[error("the client secret of application {app_id} has expired")]
    ExpiredSecret { app_id: String },
    /// A required form field is absent or empty.
    #[error("the request has no {name} parameter")]
    MissingParameter { name: String },
    #[error("unsupported grant type {grant_type:?}")]
    UnsupportedGrantType { grant_type: String },
    /// The scope is not one `<resource>/.default`, the only form client credentials accept.
    #[error("scope {scope:?} is not a single <resource>/.default")]
    InvalidScope { scope: String },
    /// A client assertion was refused; `code` is the AADSTS number, `message` Entra's text.
    #[error("client assertion refused (AADSTS{code})")]
    ClientAssertion { code: u32, message: String },
    /// A certificate offered as a credential is not an RSA X.509 certificate, or has expired.
    #[error("the certificate is not a valid, unexpired RSA X.509 certificate")]
    InvalidCertificate,
    /// A credential's requested end is not in the future.
    #[error("a credential must end after it starts")]
    InvalidCredentialLifetime,
    /// Not `alias@domain` as Entra requires of a user principal name.
    #[error("{upn:?} is not a valid user principal name")]
    InvalidUserPrincipalName { upn: String },
    /// A new password is shorter than 8 characters or mixes fewer than three classes.
    #[error("the password does not meet the complexity requirements")]
    WeakPassword,
    /// A principal already has this user principal name.
    #[error("a user named {upn} already exists")]
    UserExists { upn: String },
    /// A user grant (authorization code, refresh token, device code) refused: OAuth's
    /// `error`, the AADSTS number and Entra's text. Always status 400.
    #[error("{error} (AADSTS{code})")]
    Grant {
        error: &'static str,
        code: u32,
        message: String,
    },
    #[error("principal {object_id} was not found")]
    PrincipalNotFound { object_id: String },
    /// The stored token-signing key could not be opened or parsed (wrong master key?).
    #[error("the stored token-signing key is unusable")]
    SigningKey(#[source] CryptoError),
    #[error("token encoding failed")]
    Encoding(#[from] serde_json::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a bearer token was refused. Each variant is one of Key Vault's 401 messages; the API
/// layer picks the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token")]
    Missing,
    /// Not three base64url parts, not JSON, or a required claim absent or of the wrong type.
    #[error("the token is malformed")]
    Malformed,
    /// Not signed by our key (tampered, forged, another deployment's, or another algorithm).
    #[error("the token signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("invalid audience: expected {}, found {found}", expected.join(" or "))]
    WrongAudience {
        expected: Vec<String>,
        found: String,
    },
    #[error("invalid issuer: expected {expected}, found {found}")]
    WrongIssuer { expected: String, found: String },
    /// Valid when issued, but its principal was deleted or the credential it was obtained
    /// with was removed.
    #[error("the token has been revoked")]
    Revoked,
    /// The principal's state could not be read (store failure): not the caller's fault.
    #[error("the token's principal could not be checked")]
    Unavailable,
}
