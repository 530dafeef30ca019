//! `Microsoft.ManagedIdentity/userAssignedIdentities`: managed identities by name (a host's
//! system-assigned identity is one too, named after the host).

use super::{ArmRequest, DEFAULT_RESOURCE_GROUP, arm_error, resource_not_found};
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use strongroom_store::PrincipalRow;

/// `…/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/{name}]`.
pub(super) async fn route(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    match (request.tail, request.method.clone()) {
        ([], Method::GET) => list_identities(state).await,
        ([name], Method::PUT) => put_identity(state, name).await,
        ([name], Method::GET) => {
            let identity = find_identity(state, request.resource_group, name).await?;
            Ok(json_response(
                StatusCode::OK,
                &identity_resource(state, &identity),
            ))
        }
        ([name], Method::DELETE) => delete_identity(state, name).await,
        ([] | [_], _) => Err(request.method_not_allowed()),
        _ => Err(request.not_served()),
    }
}

/// Whether `name` can name a user-assigned identity or a host: 1 to 128 ASCII letters, digits,
/// `-`, `_` or `.`, starting with a letter or digit.
fn valid_identity_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn invalid_identity_name(name: &str) -> ApiError {
    arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidResourceName",
        format!(
            "Resource name '{name}' is invalid. The name can be up to 128 characters long and can contain only letters, digits, '-', '_' and '.', starting with a letter or digit."
        ),
    )
}

fn identity_not_found(rg: &str, name: &str) -> ApiError {
    resource_not_found("Microsoft.ManagedIdentity/userAssignedIdentities", rg, name)
}

/// The managed identity named `name` (user-assigned, or a host's system-assigned one).
pub(super) async fn find_identity(
    state: &AppState,
    rg: &str,
    name: &str,
) -> Result<PrincipalRow, ApiError> {
    if !valid_identity_name(name) {
        return Err(identity_not_found(rg, name));
    }
    strongroom_identity::find_managed_identity(state.store.as_ref(), name)
        .await
        .map_err(ApiError::internal)?
        // Only by name: a client or principal id is not a resource name.
        .filter(|identity| identity.display_name.eq_ignore_ascii_case(name))
        .ok_or_else(|| identity_not_found(rg, name))
}

fn identity_resource(state: &AppState, identity: &PrincipalRow) -> Value {
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{DEFAULT_RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            state.config.subscription_id, identity.display_name
        ),
        "name": identity.display_name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": "local",
        "tags": {},
        "properties": {
            "tenantId": identity.tenant_id,
            "principalId": identity.object_id,
            "clientId": identity.app_id,
        },
    })
}

async fn list_identities(state: &AppState) -> Result<Response, ApiError> {
    let all = strongroom_identity::list_managed_identities(state.store.as_ref())
        .await
        .map_err(ApiError::internal)?;
    let value: Vec<Value> = all.iter().map(|i| identity_resource(state, i)).collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

/// The identity named `name`, created if absent; `true` when it was created.
pub(super) async fn ensure_identity(
    state: &AppState,
    name: &str,
) -> Result<(PrincipalRow, bool), ApiError> {
    if !valid_identity_name(name) {
        return Err(invalid_identity_name(name));
    }
    let store = state.store.as_ref();
    let existing = strongroom_identity::find_managed_identity(store, name)
        .await
        .map_err(ApiError::internal)?
        .filter(|identity| identity.display_name.eq_ignore_ascii_case(name));
    if let Some(identity) = existing {
        return Ok((identity, false));
    }
    let identity = strongroom_identity::create_managed_identity(
        store,
        &state.config.tenant_id,
        name,
        state.vaults.now(),
    )
    .await
    .map_err(ApiError::internal)?;
    Ok((identity, true))
}

/// `PUT …/userAssignedIdentities/{name}`: 201 when created, 200 when it existed (unchanged).
async fn put_identity(state: &AppState, name: &str) -> Result<Response, ApiError> {
    let (identity, created) = ensure_identity(state, name).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &identity_resource(state, &identity)))
}

/// `DELETE …/userAssignedIdentities/{name}`: deletes the principal and with it every
/// credential; 200 when something was deleted, 204 when there was nothing.
pub(super) async fn delete_identity(state: &AppState, name: &str) -> Result<Response, ApiError> {
    let found = if valid_identity_name(name) {
        strongroom_identity::find_managed_identity(state.store.as_ref(), name)
            .await
            .map_err(ApiError::internal)?
            .filter(|identity| identity.display_name.eq_ignore_ascii_case(name))
    } else {
        None
    };
    let Some(identity) = found else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    state
        .store
        .delete_principal(&identity.object_id)
        .await
        .map_err(ApiError::internal)?;
    state.principals.forget(&identity.object_id);
    Ok(StatusCode::OK.into_response())
}
