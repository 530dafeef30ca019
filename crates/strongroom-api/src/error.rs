//! The one place an error becomes a response. Every layer's error arrives here through a
//! `From` written on purpose; everything else is a plain 500. Codes and messages copy Azure's,
//! with a note on where each was observed (see `../shared/reference/AZURE-ERRORS.md`).

use crate::wire::{ErrorBody, InnerError, KeyVaultError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use strongroom_model::ObjectKind;
use strongroom_vault::VaultError;

/// Azure's not-found sentence (AZURE-ERRORS.md 4.1-4.3, 4.7).
pub(crate) fn not_found_message(kind: ObjectKind, name_or_id: &str) -> String {
    let noun = kind_noun(kind);
    format!(
        "A {noun} with (name/id) {name_or_id} was not found in this key vault. If you recently deleted this {noun} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
    )
}

pub(crate) fn kind_noun(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Secret => "secret",
        ObjectKind::Key => "key",
        ObjectKind::Certificate => "certificate",
    }
}

pub(crate) fn not_found_code(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Secret => "SecretNotFound",
        ObjectKind::Key => "KeyNotFound",
        ObjectKind::Certificate => "CertificateNotFound",
    }
}

/// An error on its way to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 with the Key Vault challenge; `challenge` is the `WWW-Authenticate` value.
    #[error("unauthorized: {message}")]
    Unauthorized { message: String, challenge: String },
    /// 403 `Forbidden` (access policy denial: innererror `AccessDenied`, AZURE-ERRORS.md 3.1;
    /// disabled secret: `SecretDisabled`, 3.4).
    #[error("forbidden")]
    Forbidden {
        message: String,
        inner: Option<&'static str>,
    },
    /// 404 with a kind-specific code.
    #[error("not found")]
    NotFound { code: &'static str, message: String },
    /// 409 `Conflict`.
    #[error("conflict")]
    Conflict {
        message: String,
        inner: Option<&'static str>,
    },
    /// 400 `BadParameter` (AZURE-ERRORS.md 6.x).
    #[error("bad parameter: {0}")]
    BadParameter(String),
    /// 400 `BadParameter` with an innererror code (`KeyTypeNotSupported`, AZURE-ERRORS.md 6.8).
    #[error("bad parameter: {message}")]
    BadParameterInner {
        message: String,
        inner: &'static str,
    },
    /// 405 `HTTP <VERB> not allowed` (AZURE-ERRORS.md 7.1).
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    /// 413: the body exceeds what any Key Vault request needs. Not captured from Azure.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 400 with the code "Malformed backup blob", spaces included (AZURE-ERRORS.md 6.13).
    #[error("malformed backup blob")]
    MalformedBackup,
    /// An error with an explicit status and code (management API, ARM shapes).
    #[error("{code}: {message}")]
    Custom {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// 503 `ServiceUnavailable` with `Retry-After`: the store cannot be reached (PostgreSQL
    /// restarting, a network partition). Not the client's fault, and worth retrying: the
    /// SDKs' retry policies honour `Retry-After` on 503.
    #[error("the store is unavailable")]
    Unavailable,
    /// Anything we did not expect. The source is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a 503 asks a client to wait before retrying, in seconds.
pub(crate) const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 2;

/// Whether `err`, or an error it wraps, is the store being unreachable. The layers wrap a
/// `StoreError` transparently (`VaultError::Store`, `IdentityError::Store`), which hides it
/// from `source()`, so each wrapper is looked into by type.
fn store_unavailable(err: &(dyn std::error::Error + 'static)) -> bool {
    use strongroom_identity::IdentityError;
    use strongroom_store::StoreError;
    let mut next = Some(err);
    while let Some(err) = next {
        let store = err
            .downcast_ref::<StoreError>()
            .or_else(|| match err.downcast_ref::<VaultError>() {
                Some(VaultError::Store(store)) => Some(store),
                _ => None,
            })
            .or_else(|| match err.downcast_ref::<IdentityError>() {
                Some(IdentityError::Store(store)) => Some(store),
                _ => None,
            });
        if matches!(store, Some(StoreError::Unavailable(_))) {
            return true;
        }
        next = err.source();
    }
    false
}

impl ApiError {
    /// An unexpected failure (500), or `Unavailable` (503) when it is the store's absence.
    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        if store_unavailable(&err) {
            tracing::warn!(error = %err, "the store is unavailable");
            return Self::Unavailable;
        }
        Self::Internal(Box::new(err))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::BadParameter(_) | Self::BadParameterInner { .. } | Self::MalformedBackup => {
                StatusCode::BAD_REQUEST
            }
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Custom { status, .. } => *status,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> KeyVaultError {
        let (code, message, inner): (&str, String, Option<&str>) = match self {
            Self::Unauthorized { message, .. } => ("Unauthorized", message.clone(), None),
            Self::Forbidden { message, inner } => ("Forbidden", message.clone(), *inner),
            Self::NotFound { code, message } => (code, message.clone(), None),
            Self::Conflict { message, inner } => ("Conflict", message.clone(), *inner),
            Self::BadParameter(message) => ("BadParameter", message.clone(), None),
            Self::BadParameterInner { message, inner } => {
                ("BadParameter", message.clone(), Some(*inner))
            }
            Self::MethodNotAllowed(method) => (
                "MethodNotAllowed",
                format!("HTTP {method} not allowed"),
                None,
            ),
            Self::PayloadTooLarge => (
                "RequestEntityTooLarge",
                "The request body is larger than the service accepts.".to_owned(),
                None,
            ),
            Self::MalformedBackup => (
                "Malformed backup blob",
                "Backup blob contains invalid or corrupt version.".to_owned(),
                None,
            ),
            Self::Custom { code, message, .. } => (code, message.clone(), None),
            Self::Unavailable => (
                "ServiceUnavailable",
                "The service is temporarily unavailable. Retry after the interval in the Retry-After header.".to_owned(),
                None,
            ),
            Self::Internal(_) => (
                "InternalServerError",
                "The server encountered an internal error.".to_owned(),
                None,
            ),
        };
        KeyVaultError {
            error: ErrorBody {
                code: code.to_owned(),
                message,
                innererror: inner.map(|code| InnerError {
                    code: code.to_owned(),
                }),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, source = ?std::error::Error::source(&self), "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), error = %self, "request refused");
        }
        let mut response = json_response(status, &self.body());
        if let Self::Unavailable = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECONDS),
            );
        }
        if let Self::Unauthorized { challenge, .. } = &self
            && let Ok(value) = HeaderValue::from_str(challenge)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The initial capacity of a JSON response body.
const JSON_BODY_CAPACITY: usize = 1024;
/// Content type plus what `pipeline::handle` adds to every response (cache-control, service
/// version, request id, client request id).
const RESPONSE_HEADERS: usize = 5;

/// A compact JSON response with Azure's content type.
pub(crate) fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    // Most bodies (a secret bundle, a key, a key operation result) fit in 1 KiB: starting
    // there spares the growth steps (and their copies) of `to_vec`'s 128-byte start.
    let mut bytes = Vec::with_capacity(JSON_BODY_CAPACITY);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => {
            // Built directly: `IntoResponse` for a `Vec` would first set (and we then replace)
            // an octet-stream content type, and the map would grow as the pipeline adds the
            // Key Vault headers; sized for all of them up front.
            let mut response = Response::new(axum::body::Body::from(bytes));
            *response.status_mut() = status;
            let headers = response.headers_mut();
            headers.reserve(RESPONSE_HEADERS);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

impl From<VaultError> for ApiError {
    fn from(err: VaultError) -> Self {
        match err {
            VaultError::NotFound {
                kind,
                name,
                version,
            } => {
                let name_or_id = match version {
                    Some(version) => format!("{name}/{version}"),
                    None => name.to_string(),
                };
                Self::NotFound {
                    code: not_found_code(kind),
                    message: not_found_message(kind, &name_or_id),
                }
            }
            // AZURE-ERRORS.md 4.4-4.6: the shorter template for deleted objects.
            VaultError::DeletedNotFound { kind, name } => Self::NotFound {
                code: not_found_code(kind),
                message: format!("Deleted {kind} not found: {name}"),
            },
            // AZURE-ERRORS.md 3.4, byte-identical in 2020 and 2022 recordings.
            VaultError::Disabled { kind, .. } => Self::Forbidden {
                message: format!(
                    "Operation get is not allowed on a disabled {}.",
                    kind_noun(kind)
                ),
                inner: Some(match kind {
                    ObjectKind::Secret => "SecretDisabled",
                    ObjectKind::Key => "KeyDisabled",
                    ObjectKind::Certificate => "CertificateDisabled",
                }),
            },
            // AZURE-ERRORS.md 5.1-5.3.
            VaultError::DeletedButRecoverable { kind, name } => Self::Conflict {
                message: format!(
                    "{kind} {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the {} can only be recovered or purged.",
                    kind_noun(kind)
                ),
                inner: Some("ObjectIsDeletedButRecoverable"),
            },
            VaultError::RestoreConflict { .. } => {
                // The message needs the vault URL; `secrets.rs` maps this case itself.
                Self::Conflict {
                    message: "There was a conflict restoring the object.".to_owned(),
                    inner: None,
                }
            }
            VaultError::MalformedBackup => Self::MalformedBackup,
            VaultError::InvalidParameter(message) => Self::BadParameter(message),
            VaultError::VaultNotFound => Self::NotFound {
                code: "VaultNotFound",
                message: "The vault was not found in this Strongroom deployment.".to_owned(),
            },
            VaultError::VaultExists => Self::Conflict {
                message: "A vault with this name already exists.".to_owned(),
                inner: None,
            },
            // AZURE-ERRORS.md 6.8.
            VaultError::KeyTypeNotSupported { kty } => Self::BadParameterInner {
                message: format!("Invalid kty value: {kty}"),
                inner: "KeyTypeNotSupported",
            },
            // AZURE-ERRORS.md 6.9: the message as reported; status and code inferred.
            VaultError::HsmNotAllowed => Self::BadParameter(
                "Hardware key operation not allowed on standard vault".to_owned(),
            ),
            // AZURE-ERRORS.md 3.4's wording with the operation named.
            VaultError::KeyDisabled { operation } => Self::Forbidden {
                message: format!("Operation {operation} is not allowed on a disabled key."),
                inner: Some("KeyDisabled"),
            },
            // AZURE-ERRORS.md 3.5, documented.
            VaultError::KeyOperationForbidden { operation } => Self::Forbidden {
                message: format!("Operation {operation} is not permitted on this key."),
                inner: Some("KeyOperationForbidden"),
            },
            // AZURE-ERRORS.md 6.18 (not captured): 403 Forbidden in the 3.5 style.
            VaultError::KeyNotYetValid { operation } => Self::Forbidden {
                message: format!(
                    "Operation {operation} is not allowed: the key is not yet valid (nbf)."
                ),
                inner: Some("KeyNotYetValid"),
            },
            VaultError::KeyExpired { operation } => Self::Forbidden {
                message: format!(
                    "Operation {operation} is not allowed: the key has expired (exp)."
                ),
                inner: Some("KeyExpired"),
            },
            VaultError::NotSupported(message) => Self::BadParameter(message),
            // Not captured from Azure: the 3.4 shape, naming the operation and the kind.
            VaultError::Managed { kind, operation } => Self::Forbidden {
                message: format!(
                    "Operation {operation} is not allowed on a managed {}: it belongs to the certificate of the same name.",
                    kind_noun(kind)
                ),
                inner: None,
            },
            VaultError::NameInUse { kind, name } => Self::Conflict {
                message: format!(
                    "A {} named {name} already exists and is not managed by a certificate; a certificate cannot take its name.",
                    kind_noun(kind)
                ),
                inner: None,
            },
            // AZURE-ERRORS.md 5.8: status 409 with the code "Forbidden".
            VaultError::OperationConflict(message) => Self::Custom {
                status: StatusCode::CONFLICT,
                code: "Forbidden",
                message,
            },
            // AZURE-ERRORS.md 3.8.
            VaultError::OperationForbidden(message) => Self::Forbidden {
                message,
                inner: None,
            },
            // Not captured from Azure: the 4.8 shape.
            VaultError::ContactsNotFound => Self::NotFound {
                code: "ContactsNotFound",
                message: "Contacts not found".to_owned(),
            },
            VaultError::IssuerNotFound { name } => Self::NotFound {
                code: "CertificateIssuerNotFound",
                message: format!("Issuer not found: {name}"),
            },
            // AZURE-ERRORS.md 4.8.
            VaultError::PendingNotFound { name } => Self::NotFound {
                code: "PendingCertificateNotFound",
                message: format!("Pending certificate not found: {name}"),
            },
            VaultError::Key(err) => key_error(&err),
            other => Self::internal(other),
        }
    }
}

/// The crypto library's refusals, in Azure's words where recorded (AZURE-ERRORS.md 6.10,
/// 6.11, 6.16) and in the same plain style otherwise. Never carries key material.
fn key_error(err: &strongroom_vault::keys::KeyError) -> ApiError {
    use strongroom_vault::keys::KeyError as E;
    let message = match err {
        E::UnsupportedKeySize { bits } => format!("The key size {bits} is not supported."),
        E::UnsupportedExponent => "The public exponent must be 65537.".to_owned(),
        E::InvalidKeyMaterial(what) => format!("The key material is not valid: {what}."),
        E::AlgorithmNotForKey { algorithm, family } => format!(
            "The algorithm '{algorithm}' cannot be used with a key of type {}.",
            family.as_str()
        ),
        E::CurveMismatch { algorithm, curve } => format!(
            "Key and signing algorithm are incompatible. The key uses curve '{}', and algorithm '{}' cannot be used with it.",
            curve.as_str(),
            algorithm.as_str()
        ),
        E::KeySizeMismatch { algorithm, bits } => format!(
            "The algorithm '{}' cannot be used with a {bits}-bit key.",
            algorithm.as_str()
        ),
        E::DigestLength {
            algorithm,
            expected,
            actual,
        } => format!(
            "Invalid length of the digest for algorithm '{}': expected {expected} bytes, got {actual}.",
            algorithm.as_str()
        ),
        E::InvalidInput(what) => format!("The request is not valid: {what}."),
        E::DecryptionFailed => "The parameter is incorrect.\r\n".to_owned(),
        E::Library => return ApiError::internal(err.clone()),
    };
    ApiError::BadParameter(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_compact_and_ordered() {
        let err = ApiError::Forbidden {
            message: "no".into(),
            inner: Some("AccessDenied"),
        };
        let json = serde_json::to_string(&err.body()).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"code":"Forbidden","message":"no","innererror":{"code":"AccessDenied"}}}"#
        );
        let json = serde_json::to_string(&ApiError::MethodNotAllowed("PUT".into()).body()).unwrap();
        assert_eq!(json.len(), 70, "AZURE-ERRORS.md 6.4 records 70 bytes");
    }

    #[test]
    fn not_found_matches_the_recording() {
        let message = not_found_message(
            ObjectKind::Secret,
            "CRUDSecretName-cangetasecretNonExisting-",
        );
        let body = ApiError::NotFound {
            code: "SecretNotFound",
            message,
        }
        .body();
        assert_eq!(serde_json::to_string(&body).unwrap().len(), 337);
    }

    #[test]
    fn an_unreachable_store_is_a_503_with_retry_after_however_it_is_wrapped() {
        use strongroom_store::StoreError;
        let down = || StoreError::Unavailable("connection refused".to_owned());
        for err in [
            ApiError::internal(down()),
            ApiError::from(VaultError::Store(down())),
            ApiError::internal(strongroom_identity::IdentityError::Store(down())),
        ] {
            let response = err.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                response.headers().get(header::RETRY_AFTER).unwrap(),
                &UNAVAILABLE_RETRY_AFTER_SECONDS.to_string()
            );
        }
        assert_eq!(
            ApiError::Unavailable.body().error.code,
            "ServiceUnavailable"
        );
        // Any other store failure stays a 500.
        let corrupt = ApiError::from(VaultError::Store(StoreError::Corrupt("x".to_owned())));
        assert_eq!(corrupt.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
