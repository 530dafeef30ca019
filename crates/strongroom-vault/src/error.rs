//! What can go wrong in a Key Vault operation, in domain words (never an HTTP status).

use strongroom_crypto::CryptoError;
use strongroom_model::{ObjectKind, ObjectName, Version};
use strongroom_store::StoreError;

/// A failed vault operation. The API layer maps each variant to Azure's status and code.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The live object, or the requested version of it, does not exist.
    #[error("{kind} {name}{} was not found", version_suffix(.version.as_ref()))]
    NotFound {
        kind: ObjectKind,
        name: ObjectName,
        version: Option<Version>,
    },
    /// No soft-deleted object has that name.
    #[error("deleted {kind} {name} was not found")]
    DeletedNotFound { kind: ObjectKind, name: ObjectName },
    /// The object (version) is disabled; reading its value is refused.
    #[error("{kind} {name} is disabled")]
    Disabled { kind: ObjectKind, name: ObjectName },
    /// The name is soft-deleted: it must be recovered or purged before it can be set again.
    #[error("{kind} {name} is deleted but recoverable")]
    DeletedButRecoverable { kind: ObjectKind, name: ObjectName },
    /// A direct change to a key or secret that backs a certificate; only the certificate's
    /// operations change those.
    #[error("operation {operation} is not allowed on a managed {kind}")]
    Managed {
        kind: ObjectKind,
        operation: &'static str,
    },
    /// The name is taken by an object of another kind that a certificate would have to own
    /// (a secret or key of the same name that no certificate manages).
    #[error("the name {name} is in use by a {kind} that is not managed by a certificate")]
    NameInUse { kind: ObjectKind, name: ObjectName },
    /// A certificate's pending operation is in a state that does not allow the request (a
    /// create while one is in progress, a merge with none to merge into, ...); the text says
    /// which.
    #[error("{0}")]
    OperationConflict(String),
    /// The pending operation forbids the request (a merge into an issuer's operation).
    #[error("{0}")]
    OperationForbidden(String),
    /// The vault has no certificate contacts.
    #[error("certificate contacts were not found")]
    ContactsNotFound,
    /// The vault has no certificate issuer of that name.
    #[error("certificate issuer {name} was not found")]
    IssuerNotFound { name: ObjectName },
    /// No pending operation exists for the certificate.
    #[error("pending certificate {name} was not found")]
    PendingNotFound { name: ObjectName },
    /// A restore would overwrite a name in use (live or deleted).
    #[error("{kind} {name} (backup version {version}) cannot be restored: the name is in use")]
    RestoreConflict {
        kind: ObjectKind,
        name: ObjectName,
        version: Version,
    },
    /// The backup blob is corrupt, truncated, of another kind, or from another deployment.
    #[error("backup blob is malformed")]
    MalformedBackup,
    /// A request parameter breaks a Key Vault limit; the text says which.
    #[error("{0}")]
    InvalidParameter(String),
    #[error("vault not found")]
    VaultNotFound,
    #[error("a vault with that name already exists")]
    VaultExists,
    /// `kty` names a type this vault cannot hold (soft `oct` on a standard vault, an unknown
    /// type).
    #[error("key type {kty} is not supported here")]
    KeyTypeNotSupported { kty: String },
    /// An HSM-protected key type on a standard vault.
    #[error("HSM-protected keys need a premium vault")]
    HsmNotAllowed,
    /// A cryptographic operation on a disabled key version.
    #[error("operation {operation} is not allowed on a disabled key")]
    KeyDisabled { operation: &'static str },
    /// The key's `key_ops` do not include the operation.
    #[error("operation {operation} is not permitted on this key")]
    KeyOperationForbidden { operation: &'static str },
    /// A date-controlled operation before the key's `nbf`.
    #[error("operation {operation} is not allowed before the key's not-before date")]
    KeyNotYetValid { operation: &'static str },
    /// A date-controlled operation after the key's `exp`.
    #[error("operation {operation} is not allowed on an expired key")]
    KeyExpired { operation: &'static str },
    /// What this deployment does not do (an operation only a Managed HSM offers).
    #[error("{0}")]
    NotSupported(String),
    /// The cryptographic library refused the input (wrong digest length, algorithm for
    /// another key type, failed decryption, ...).
    #[error(transparent)]
    Key(#[from] strongroom_crypto::keys::KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn version_suffix(version: Option<&Version>) -> String {
    version.map_or_else(String::new, |version| format!(" version {version}"))
}

/// Stored data the vault layer cannot interpret (bad metadata, a payload that is not UTF-8).
pub(crate) fn corrupt(what: &str) -> VaultError {
    VaultError::Store(StoreError::Corrupt(what.to_owned()))
}
