//! Microsoft Graph's `applications`: the registration behind each service principal that is
//! not a managed identity. Strongroom keeps one row per app (its service principal, credentials
//! included), so an application is a second view of that row under its own object id
//! ([`strongroom_identity::application_object_id`]): creating one creates the service
//! principal too, deleting one deletes it (as deleting an application does in Azure), and the
//! two share their credentials.

use super::credentials::{
    KeyCredentialUpdate, bad_request, key_credentials_json, password_credentials_json,
    replace_key_credentials,
};
use super::filter::PrincipalFilter;
use crate::arm::arm_error;
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use strongroom_identity::{MANAGED_IDENTITY_KIND, USER_KIND, application_object_id};
use strongroom_store::PrincipalRow;

/// Longest display name Graph takes for an application.
const MAX_DISPLAY_NAME_CHARS: usize = 256;

pub(super) fn application_json(principal: &PrincipalRow) -> Value {
    json!({
        "id": application_object_id(&principal.app_id),
        "appId": principal.app_id,
        "createdDateTime": principal.created.rfc3339(),
        "deletedDateTime": null,
        "displayName": principal.display_name,
        "identifierUris": [],
        "publisherDomain": null,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "requiredResourceAccess": [],
        "passwordCredentials": password_credentials_json(principal),
        "keyCredentials": key_credentials_json(principal),
    })
}

/// Managed identities and users have no application.
pub(super) fn is_application(principal: &PrincipalRow) -> bool {
    principal.kind != MANAGED_IDENTITY_KIND && principal.kind != USER_KIND
}

/// `GET /applications[?$filter=…]`, in creation order.
pub(super) async fn list_applications(
    state: &AppState,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let filter = crate::odata::filter(query)
        .map(|filter| PrincipalFilter::parse(&filter))
        .transpose()?;
    let principals = state
        .store
        .list_principals()
        .await
        .map_err(ApiError::internal)?;
    let value: Vec<Value> = principals
        .iter()
        .filter(|principal| is_application(principal))
        .filter(|principal| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(principal, &application_object_id(&principal.app_id)))
        })
        .map(application_json)
        .collect();
    Ok(super::collection("applications", value))
}

/// `{id}` or `applications(appId='{appId}')`.
pub(super) async fn find_application(
    state: &AppState,
    selector: &str,
) -> Result<PrincipalRow, ApiError> {
    let by_app_id = selector
        .strip_prefix("applications(appId='")
        .and_then(|s| s.strip_suffix("')"))
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .to_ascii_lowercase()
        });
    let found = match by_app_id {
        Some(app_id) => state
            .store
            .get_principal_by_app_id(&app_id)
            .await
            .map_err(ApiError::internal)?,
        None => {
            // The id is derived from the app id, so the lookup is a scan; this API serves
            // deployment administrators, not the data plane.
            let id = selector.to_ascii_lowercase();
            state
                .store
                .list_principals()
                .await
                .map_err(ApiError::internal)?
                .into_iter()
                .find(|principal| application_object_id(&principal.app_id) == id)
        }
    };
    found.filter(is_application).ok_or_else(|| {
        arm_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{selector}' does not exist or one of its queried reference-property \
                 objects are not present."
            ),
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApplicationBody {
    display_name: String,
    #[serde(default)]
    key_credentials: Vec<KeyCredentialUpdate>,
    /// Everything else Graph has (web, api, identifierUris, …) is accepted and not kept.
    #[serde(flatten)]
    #[allow(dead_code, reason = "accepted for Graph's shape")]
    other: serde_json::Map<String, Value>,
}

/// `POST /applications`: a new app (and its service principal), with the certificates the
/// body's `keyCredentials` carry (`az ad sp create-for-rbac --cert`). 201.
pub(super) async fn create_application(
    state: &AppState,
    body: &[u8],
) -> Result<Response, ApiError> {
    let create: CreateApplicationBody = parse_json(body)?;
    let display_name = create.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(bad_request(
            "Invalid value specified for property 'displayName' of resource 'Application'."
                .to_owned(),
        ));
    }
    let now = state.vaults.now();
    let principal = strongroom_identity::create_service_principal(
        state.store.as_ref(),
        &state.config.tenant_id,
        display_name,
        false,
        now,
    )
    .await
    .map_err(ApiError::internal)?;
    if !create.key_credentials.is_empty() {
        // A bad certificate must not leave a half-made app behind.
        if let Err(err) = replace_key_credentials(state, &principal, create.key_credentials).await {
            state
                .store
                .delete_principal(&principal.object_id)
                .await
                .map_err(ApiError::internal)?;
            return Err(err);
        }
    }
    let created = reread(state, &principal).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &application_json(&created),
    ))
}

async fn reread(state: &AppState, principal: &PrincipalRow) -> Result<PrincipalRow, ApiError> {
    state
        .store
        .get_principal_by_object_id(&principal.object_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal(strongroom_store::StoreError::NotFound))
}
