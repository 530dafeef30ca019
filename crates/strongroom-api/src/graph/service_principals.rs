//! Microsoft Graph's `servicePrincipals`: create (for an app, or with a new app), list, show,
//! update (`displayName`, `keyCredentials`), delete; the credential actions are
//! `credentials.rs`'s.

use super::credentials::{
    KeyCredentialUpdate, bad_request, key_credentials_json, password_credentials_json,
    replace_key_credentials,
};
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
    let managed = principal.kind == strongroom_identity::MANAGED_IDENTITY_KIND;
    json!({
        "id": principal.object_id,
        "accountEnabled": true,
        "appId": principal.app_id,
        "appDisplayName": if managed { Value::Null } else { principal.display_name.clone().into() },
        "appOwnerOrganizationId": principal.tenant_id,
        "createdDateTime": principal.created.rfc3339(),
        "deletedDateTime": null,
        "displayName": principal.display_name,
        "servicePrincipalNames": [principal.app_id],
        "servicePrincipalType": if managed { "ManagedIdentity" } else { "Application" },
        "signInAudience": if managed { Value::Null } else { "AzureADMyOrg".into() },
        "tags": [],
        "passwordCredentials": password_credentials_json(principal),
        "keyCredentials": key_credentials_json(principal),
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
    // A user is not a service principal (its app id column holds its user principal name).
    found
        .filter(|principal| principal.kind != strongroom_identity::USER_KIND)
        .ok_or_else(|| {
            arm_error(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!(
                    "Resource '{selector}' does not exist or one of its queried \
                     reference-property objects are not present."
                ),
            )
        })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePrincipalBody {
    /// Graph's form: the service principal of an existing application.
    #[serde(default)]
    app_id: Option<String>,
    /// Strongroom's shortcut: a new app and its service principal at once.
    #[serde(default)]
    display_name: Option<String>,
}

/// `POST /servicePrincipals`. With `appId` (what `az ad sp create` and `create-for-rbac`
/// send): the application's service principal, which in Strongroom exists with the app, so it
/// is returned; Graph's 409 is not reproduced because `az` would then fail. With
/// `displayName` only: a new app and its principal.
pub(super) async fn create_service_principal(
    state: &AppState,
    body: &[u8],
) -> Result<Response, ApiError> {
    let create: CreatePrincipalBody = parse_json(body)?;
    let principal = match (create.app_id, create.display_name) {
        (Some(app_id), _) => {
            let found = state
                .store
                .get_principal_by_app_id(&app_id.to_ascii_lowercase())
                .await
                .map_err(ApiError::internal)?
                .filter(|principal| principal.kind != strongroom_identity::USER_KIND);
            found.ok_or_else(|| {
                bad_request(format!(
                    "The appId '{app_id}' of the service principal does not reference a valid \
                     application object."
                ))
            })?
        }
        (None, Some(display_name)) => {
            let now = state.vaults.now();
            strongroom_identity::create_service_principal(
                state.store.as_ref(),
                &state.config.tenant_id,
                &display_name,
                false,
                now,
            )
            .await
            .map_err(ApiError::internal)?
        }
        (None, None) => {
            return Err(bad_request(
                "A service principal needs the appId of its application.".to_owned(),
            ));
        }
    };
    Ok(json_response(
        StatusCode::CREATED,
        &principal_json(&principal),
    ))
}

/// The properties of a directory object that an update (PATCH) may change.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DirectoryObjectUpdate {
    #[serde(default)]
    pub(super) display_name: Option<String>,
    #[serde(default)]
    pub(super) key_credentials: Option<Vec<KeyCredentialUpdate>>,
    /// Everything else Graph has (web, api, tags, …) is accepted and not kept.
    #[serde(flatten)]
    #[allow(dead_code, reason = "accepted for Graph's shape")]
    pub(super) other: serde_json::Map<String, Value>,
}

/// PATCH of an application or a service principal: 204.
pub(super) async fn update_directory_object(
    state: &AppState,
    principal: &PrincipalRow,
    body: &[u8],
) -> Result<Response, ApiError> {
    let update: DirectoryObjectUpdate = parse_json(body)?;
    if let Some(display_name) = update.display_name {
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.len() > 256 {
            return Err(bad_request(
                "Invalid value specified for property 'displayName'.".to_owned(),
            ));
        }
        state
            .store
            .rename_principal(&principal.object_id, display_name)
            .await
            .map_err(ApiError::internal)?;
    }
    if let Some(key_credentials) = update.key_credentials {
        replace_key_credentials(state, principal, key_credentials).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete_service_principal(
    state: &AppState,
    principal: &PrincipalRow,
) -> Result<Response, ApiError> {
    state
        .store
        .delete_principal(&principal.object_id)
        .await
        .map_err(ApiError::internal)?;
    // Its tokens stop working now, not when they expire.
    state.principals.forget(&principal.object_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
