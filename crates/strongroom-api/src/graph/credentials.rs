//! A directory object's credentials in Graph's shapes, shared by applications and service
//! principals (Strongroom keeps one credential list per app; Graph shows it on both objects):
//! `passwordCredentials` and `keyCredentials` as JSON, `addPassword`, `removePassword` /
//! `removeKey`, `addCertificate`, and a `keyCredentials` update (how `az` adds and removes
//! certificates). Every change evicts the principal's revocation snapshot, so tokens bought
//! with a removed credential stop at once and tokens bought with a new one pass at once.

use crate::arm::arm_error;
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use strongroom_identity::{IdentityError, NewSecret};
use strongroom_model::UnixTime;
use strongroom_store::{CredentialRow, PrincipalRow};

/// Graph's `passwordCredentials`: the secrets, by hint (the value is never shown again).
pub(super) fn password_credentials_json(principal: &PrincipalRow) -> Vec<Value> {
    principal
        .credentials
        .iter()
        .filter(|c| c.certificate.is_none())
        .map(|c| {
            json!({
                "customKeyIdentifier": null,
                "displayName": display_name(c),
                "endDateTime": c.expires.map(UnixTime::rfc3339),
                "hint": c.hint,
                "keyId": c.key_id,
                "secretText": null,
                "startDateTime": c.created.rfc3339(),
            })
        })
        .collect()
}

/// Graph's `keyCredentials`: the certificates, by thumbprint (`customKeyIdentifier`); `key`
/// is null as Graph leaves it unless selected.
pub(super) fn key_credentials_json(principal: &PrincipalRow) -> Vec<Value> {
    principal
        .credentials
        .iter()
        .filter_map(|c| Some((c, c.certificate.as_deref()?)))
        .map(|(c, der)| {
            json!({
                "customKeyIdentifier": strongroom_identity::certificate_der_thumbprint(der),
                "displayName": display_name(c),
                "endDateTime": c.expires.map(UnixTime::rfc3339),
                "key": null,
                "keyId": c.key_id,
                "startDateTime": c.created.rfc3339(),
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
            })
        })
        .collect()
}

fn display_name(credential: &CredentialRow) -> Option<&str> {
    (!credential.display_name.is_empty()).then_some(credential.display_name.as_str())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddPasswordBody {
    #[serde(default)]
    password_credential: Option<PasswordCredentialRequest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordCredentialRequest {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    end_date_time: Option<String>,
}

/// `addPassword`: a new secret, shown in this response only (`secretText`). The body is
/// optional; `passwordCredential.displayName` and `.endDateTime` are honoured.
pub(super) async fn add_password(
    state: &AppState,
    principal: &PrincipalRow,
    body: &[u8],
) -> Result<Response, ApiError> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        AddPasswordBody::default()
    } else {
        parse_json::<AddPasswordBody>(body)?
    };
    let request = request.password_credential.unwrap_or_default();
    let expires = request
        .end_date_time
        .as_deref()
        .map(|text| graph_time(text, "endDateTime"))
        .transpose()?;
    let new = NewSecret {
        display_name: request.display_name.unwrap_or_default(),
        expires,
    };
    let now = state.vaults.now();
    let added = strongroom_identity::add_named_client_secret(
        state.store.as_ref(),
        &principal.object_id,
        new,
        now,
    )
    .await;
    let (credential, secret) = match added {
        Ok(added) => added,
        Err(IdentityError::InvalidCredentialLifetime) => {
            return Err(bad_request(
                "Invalid value specified for property 'endDateTime' of resource \
                 'PasswordCredential'."
                    .to_owned(),
            ));
        }
        Err(err) => return Err(ApiError::internal(err)),
    };
    state.principals.forget(&principal.object_id);
    // The one response that carries the secret; Graph shows it only here too.
    let body = json!({
        "customKeyIdentifier": null,
        "displayName": display_name(&credential),
        "endDateTime": credential.expires.map(UnixTime::rfc3339),
        "hint": credential.hint,
        "keyId": credential.key_id,
        "secretText": secret.expose(),
        "startDateTime": credential.created.rfc3339(),
    });
    Ok(json_response(StatusCode::OK, &body))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveCredentialBody {
    key_id: String,
    /// Graph's `removeKey` wants a proof-of-possession JWT; the management API is for
    /// deployment administrators only, so it is accepted and not needed.
    #[serde(default)]
    #[allow(dead_code, reason = "accepted for Graph's shape")]
    proof: Option<String>,
}

/// Graph's `removePassword` / `removeKey`: the credential is gone, and so is every token
/// obtained with it (revocation). 204; 404 when the principal has no such credential.
pub(super) async fn remove_credential(
    state: &AppState,
    principal: &PrincipalRow,
    shown_id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let remove: RemoveCredentialBody = parse_json(body)?;
    let key_id = remove.key_id.to_ascii_lowercase();
    let removed = state
        .store
        .remove_principal_credential(&principal.object_id, &key_id)
        .await
        .map_err(ApiError::internal)?;
    state.principals.forget(&principal.object_id);
    if !removed {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "No credential with keyId '{}' was found on '{shown_id}'.",
                remove.key_id
            ),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct AddCertificateBody {
    /// PEM, or base64 of the DER; only the public certificate (a private key is ignored).
    certificate: String,
}

/// Strongroom's `addCertificate`: registers a public certificate as a credential; client
/// assertions signed with its key authenticate the principal until the certificate expires.
pub(super) async fn add_certificate(
    state: &AppState,
    principal: &PrincipalRow,
    body: &[u8],
) -> Result<Response, ApiError> {
    let add: AddCertificateBody = parse_json(body)?;
    let now = state.vaults.now();
    let (credential, info) = strongroom_identity::add_client_certificate(
        state.store.as_ref(),
        &principal.object_id,
        &add.certificate,
        now,
    )
    .await
    .map_err(certificate_error)?;
    state.principals.forget(&principal.object_id);
    let body = json!({
        "keyId": credential.key_id,
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "thumbprint": strongroom_identity::certificate_thumbprint(&info),
        "startDateTime": info.not_before.rfc3339(),
        "endDateTime": info.not_after.rfc3339(),
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// One entry of a `keyCredentials` update: a new certificate carries `key` (base64 DER); an
/// existing one is named by `keyId` alone (Graph never returns `key`, so clients send back
/// what they read without it).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct KeyCredentialUpdate {
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default, rename = "type")]
    key_type: Option<String>,
    #[serde(default)]
    usage: Option<String>,
}

/// Replaces the principal's certificates with `update` (its secrets stay): entries with `key`
/// are added, entries naming an existing certificate by `keyId` are kept, and every other
/// certificate is removed. Graph's PATCH of `keyCredentials`; `az ad sp credential reset
/// --cert` and `credential delete --cert` work this way. One store transaction, so a secret
/// added meanwhile survives and a certificate removed meanwhile stays removed.
pub(super) async fn replace_key_credentials(
    state: &AppState,
    principal: &PrincipalRow,
    update: Vec<KeyCredentialUpdate>,
) -> Result<(), ApiError> {
    let now = state.vaults.now();
    let mut keep: Vec<String> = Vec::new();
    let mut add: Vec<CredentialRow> = Vec::new();
    for entry in update {
        if entry
            .key_type
            .as_deref()
            .is_some_and(|t| t != "AsymmetricX509Cert")
            || entry.usage.as_deref().is_some_and(|u| u != "Verify")
        {
            return Err(bad_request(
                "Only keyCredentials of type 'AsymmetricX509Cert' with usage 'Verify' are \
                 supported."
                    .to_owned(),
            ));
        }
        let key_id = entry
            .key_id
            .as_deref()
            .map(|key_id| {
                uuid::Uuid::parse_str(key_id)
                    .map(|id| id.to_string())
                    .map_err(|_| bad_request(format!("Invalid keyId '{key_id}'.")))
            })
            .transpose()?;
        if key_id
            .as_ref()
            .is_some_and(|id| keep.contains(id) || add.iter().any(|c| c.key_id == *id))
        {
            return Err(bad_request(format!(
                "keyCredentials hold the keyId '{}' twice.",
                key_id.unwrap_or_default()
            )));
        }
        match (entry.key, key_id) {
            (Some(key), key_id) => add.push(
                strongroom_identity::certificate_credential(
                    &key,
                    key_id.as_deref(),
                    entry.display_name.unwrap_or_default(),
                    now,
                )
                .map_err(certificate_error)?
                .0,
            ),
            (None, Some(key_id)) => {
                let known = principal
                    .credentials
                    .iter()
                    .any(|c| c.certificate.is_some() && c.key_id == key_id);
                if !known {
                    return Err(bad_request(format!(
                        "keyCredentials name the keyId '{key_id}', which is not a certificate \
                         of this object, without its key."
                    )));
                }
                keep.push(key_id);
            }
            (None, None) => {
                return Err(bad_request(
                    "A keyCredential needs its key or the keyId of an existing one.".to_owned(),
                ));
            }
        }
    }
    let replaced = state
        .store
        .replace_certificate_credentials(&principal.object_id, keep, add)
        .await;
    state.principals.forget(&principal.object_id);
    match replaced {
        Ok(()) => Ok(()),
        Err(strongroom_store::StoreError::AlreadyExists) => Err(bad_request(
            "A keyCredential's keyId is already used by another credential of this object."
                .to_owned(),
        )),
        Err(err) => Err(ApiError::internal(err)),
    }
}

fn certificate_error(err: IdentityError) -> ApiError {
    match err {
        IdentityError::InvalidCertificate => bad_request(
            "The certificate is not a valid, unexpired RSA X.509 certificate (PEM or base64 \
             DER)."
                .to_owned(),
        ),
        err => ApiError::internal(err),
    }
}

/// A Graph `DateTimeOffset` property, or Graph's 400 naming it.
fn graph_time(text: &str, property: &str) -> Result<UnixTime, ApiError> {
    UnixTime::parse_rfc3339(text).ok_or_else(|| {
        bad_request(format!(
            "Invalid value specified for property '{property}': '{text}'."
        ))
    })
}

pub(super) fn bad_request(message: String) -> ApiError {
    arm_error(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
}
