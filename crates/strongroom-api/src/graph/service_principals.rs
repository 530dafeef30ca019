//! Microsoft Graph's `servicePrincipals`: create, list, show, delete; `addPassword`,
//! `addCertificate`, `removePassword` and `removeKey`. Every change evicts the principal's
//! revocation snapshot, so tokens bought with a removed credential stop at once.

use crate::arm::arm_error;
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use strongroom_store::PrincipalRow;

pub(super) fn principal_json(principal: &PrincipalRow) -> Value {
    json!({
        "id": principal.object_id,
        "appId": principal.app_id,
        "servicePrincipalNames": [principal.app_id],
        "displayName": principal.display_name,
        "appOwnerOrganizationId": principal.tenant_id,
        "servicePrincipalType": if principal.kind == "ManagedIdentity" { "ManagedIdentity" } else { "Application" },
        // Graph lists secrets and certificates apart.
        "passwordCredentials": principal.credentials.iter().filter(|c| c.certificate.is_none()).map(|c| json!({
            "keyId": c.key_id, "hint": c.hint,
            "startDateTime": c.created.seconds(), "endDateTime": c.expires.map(|e| e.seconds()),
        })).collect::<Vec<_>>(),
        "keyCredentials": principal.credentials.iter().filter(|c| c.certificate.is_some()).map(|c| json!({
            "keyId": c.key_id, "type": "AsymmetricX509Cert", "usage": "Verify",
            "startDateTime": c.created.seconds(), "endDateTime": c.expires.map(|e| e.seconds()),
        })).collect::<Vec<_>>(),
    })
}

/// `{objectId}` or `servicePrincipals(appId='{appId}')`.
pub(super) async fn find_principal(
    state: &AppState,
    selector: &str,
) -> Result<PrincipalRow, ApiError> {
    let by_app_id = selector
        .strip_prefix("servicePrincipals(appId='")
        .and_then(|s| s.strip_suffix("')"))
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        });
    let found = match by_app_id {
        Some(app_id) => {
            state
                .store
                .get_principal_by_app_id(&app_id.to_ascii_lowercase())
                .await
        }
        None => {
            state
                .store
                .get_principal_by_object_id(&selector.to_ascii_lowercase())
                .await
        }
    }
    .map_err(ApiError::internal)?;
    found.ok_or_else(|| {
        arm_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{selector}' does not exist or one of its queried reference-property objects are not present."),
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePrincipalBody {
    display_name: String,
}

pub(super) async fn create_service_principal(
    state: &AppState,
    body: &[u8],
) -> Result<Response, ApiError> {
    let create: CreatePrincipalBody = parse_json(body)?;
    let now = state.vaults.now();
    let principal = strongroom_identity::create_service_principal(
        state.store.as_ref(),
        &state.config.tenant_id,
        &create.display_name,
        false,
        now,
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &principal_json(&principal),
    ))
}

pub(super) async fn add_password(state: &AppState, id: &str) -> Result<Response, ApiError> {
    let principal = find_principal(state, id).await?;
    let now = state.vaults.now();
    let (credential, secret) =
        strongroom_identity::add_client_secret(state.store.as_ref(), &principal.object_id, now)
            .await
            .map_err(ApiError::internal)?;
    // Tokens bought with the new secret must pass revocation at once.
    state.principals.forget(&principal.object_id);
    // The one response that carries the secret; Graph shows it only here too.
    let body = json!({
        "keyId": credential.key_id,
        "secretText": secret.expose(),
        "hint": credential.hint,
        "displayName": "strongroom",
        "startDateTime": credential.created.seconds(),
        "endDateTime": credential.expires.map(|e| e.seconds()),
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
    id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let remove: RemoveCredentialBody = parse_json(body)?;
    let principal = find_principal(state, id).await?;
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
                "No credential with keyId '{}' was found on '{id}'.",
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

/// Registers a public certificate as a credential: client assertions signed with its key
/// authenticate the principal until the certificate expires.
pub(super) async fn add_certificate(
    state: &AppState,
    id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let add: AddCertificateBody = parse_json(body)?;
    let principal = find_principal(state, id).await?;
    let now = state.vaults.now();
    let (credential, info) = match strongroom_identity::add_client_certificate(
        state.store.as_ref(),
        &principal.object_id,
        &add.certificate,
        now,
    )
    .await
    {
        Ok(added) => added,
        Err(strongroom_identity::IdentityError::InvalidCertificate) => {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "The certificate is not a valid, unexpired RSA X.509 certificate (PEM or \
                 base64 DER)."
                    .to_owned(),
            ));
        }
        Err(err) => return Err(ApiError::internal(err)),
    };
    state.principals.forget(&principal.object_id);
    let body = json!({
        "keyId": credential.key_id,
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "thumbprint": strongroom_identity::certificate_thumbprint(&info),
        "startDateTime": info.not_before.seconds(),
        "endDateTime": info.not_after.seconds(),
    });
    Ok(json_response(StatusCode::OK, &body))
}
