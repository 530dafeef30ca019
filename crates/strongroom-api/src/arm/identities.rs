//! `Microsoft.ManagedIdentity/userAssignedIdentities`: managed identities by name (a host's
//! system-assigned identity is one too, named after the host), each placed in a resource group
//! (a deployment document, [`IDENTITY_PLACEMENT`]): created only in a group that exists,
//! listed by group, deleted with its group. Identities made before placements existed are in
//! the default group.

use super::documents;
use super::{ArmRequest, DEFAULT_RESOURCE_GROUP, arm_error, resource_groups, resource_not_found};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use strongroom_store::PrincipalRow;

/// Deployment documents that place an identity: its resource group, location and tags.
const IDENTITY_PLACEMENT: &str = "identity-placement";

/// Where an identity is in ARM.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Placement {
    pub(super) resource_group: String,
    pub(super) location: String,
    #[serde(default)]
    pub(super) tags: Map<String, Value>,
}

impl Placement {
    fn default_group() -> Self {
        Self {
            resource_group: DEFAULT_RESOURCE_GROUP.to_owned(),
            location: "local".to_owned(),
            tags: Map::new(),
        }
    }

    fn in_group(&self, group: &str) -> bool {
        self.resource_group.eq_ignore_ascii_case(group)
    }
}

/// `…/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/{name}]`.
pub(super) async fn route(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    match (request.tail, request.method.clone()) {
        ([], Method::GET) => list_identities(request).await,
        ([name], Method::PUT) => put_identity(request, name).await,
        ([name], Method::GET) => {
            let (identity, placement) = find_placed(request, name).await?;
            Ok(json_response(
                StatusCode::OK,
                &identity_resource(state, &identity, &placement),
            ))
        }
        ([name], Method::DELETE) => {
            let deleted = match find_placed(request, name).await {
                Ok((identity, _)) => delete_identity(state, &identity).await?,
                Err(ApiError::Custom {
                    status: StatusCode::NOT_FOUND,
                    ..
                }) => false,
                Err(other) => return Err(other),
            };
            Ok(super::deleted_status(deleted))
        }
        ([] | [_], _) => Err(request.method_not_allowed()),
        _ => Err(request.not_served()),
    }
}

/// Whether `name` can name a user-assigned identity or a host: 1 to 128 ASCII letters, digits,
/// `-`, `_` or `.`, starting with a letter or digit.
pub(super) fn valid_identity_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub(super) fn invalid_identity_name(name: &str) -> ApiError {
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

/// The managed identity named `name` (user-assigned, or a host's system-assigned one), if any.
pub(super) async fn lookup(state: &AppState, name: &str) -> Result<Option<PrincipalRow>, ApiError> {
    if !valid_identity_name(name) {
        return Ok(None);
    }
    Ok(
        strongroom_identity::find_managed_identity(state.store.as_ref(), name)
            .await
            .map_err(ApiError::internal)?
            // Only by name: a client or principal id is not a resource name.
            .filter(|identity| identity.display_name.eq_ignore_ascii_case(name)),
    )
}

/// The identity's placement (the default group when it has none stored).
pub(super) async fn placement(state: &AppState, name: &str) -> Result<Placement, ApiError> {
    Ok(documents::get(state, IDENTITY_PLACEMENT, name)
        .await?
        .map_or_else(Placement::default_group, |(_, placement)| placement))
}

/// The identity `name` as the request's path addresses it: on a cloud's Resource Manager host
/// a path that names a group finds it only in that group, as ARM does; Strongroom's own CLI
/// names the group loosely.
async fn find_placed(
    request: &ArmRequest<'_>,
    name: &str,
) -> Result<(PrincipalRow, Placement), ApiError> {
    let not_found = || identity_not_found(request.resource_group, name);
    let identity = lookup(request.state, name).await?.ok_or_else(not_found)?;
    let placement = placement(request.state, &identity.display_name).await?;
    if request.cloud.is_some() && request.group_named && !placement.in_group(request.resource_group)
    {
        return Err(not_found());
    }
    Ok((identity, placement))
}

fn identity_resource(state: &AppState, identity: &PrincipalRow, placement: &Placement) -> Value {
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            state.config.subscription_id, placement.resource_group, identity.display_name
        ),
        "name": identity.display_name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": placement.location,
        "tags": placement.tags,
        "properties": {
            "tenantId": identity.tenant_id,
            "principalId": identity.object_id,
            "clientId": identity.app_id,
        },
    })
}

/// Every identity (in the named group only, when the path names one), by name.
async fn list_identities(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    let all = strongroom_identity::list_managed_identities(state.store.as_ref())
        .await
        .map_err(ApiError::internal)?;
    let mut value = Vec::new();
    for identity in &all {
        let placement = placement(state, &identity.display_name).await?;
        if !request.group_named || placement.in_group(request.resource_group) {
            value.push(identity_resource(state, identity, &placement));
        }
    }
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

/// The group a new resource goes into: on Resource Manager's host (what `az` reaches) it must
/// exist; Strongroom's own CLI names a group without creating it first.
pub(super) async fn target_group(request: &ArmRequest<'_>) -> Result<String, ApiError> {
    if request.cloud.is_some() {
        Ok(resource_groups::find(request.state, request.resource_group)
            .await?
            .ok_or_else(|| resource_groups::not_found(request.resource_group))?
            .0)
    } else {
        resource_groups::ensure(request.state, request.resource_group).await
    }
}

/// The identity named `name`, created in `placement` if absent; `true` when it was created.
/// An existing identity keeps its placement.
pub(super) async fn ensure_identity(
    state: &AppState,
    name: &str,
    placement: &Placement,
) -> Result<(PrincipalRow, bool), ApiError> {
    if !valid_identity_name(name) {
        return Err(invalid_identity_name(name));
    }
    if let Some(identity) = lookup(state, name).await? {
        return Ok((identity, false));
    }
    // Placed first: an identity never exists outside its group, even for a moment.
    documents::put(state, IDENTITY_PLACEMENT, name, placement).await?;
    let identity = strongroom_identity::create_managed_identity(
        state.store.as_ref(),
        &state.config.tenant_id,
        name,
        state.vaults.now(),
    )
    .await
    .map_err(ApiError::internal)?;
    Ok((identity, true))
}

#[derive(Debug, Default, Deserialize)]
struct IdentityPutBody {
    location: Option<String>,
    tags: Option<Map<String, Value>>,
}

/// `PUT …/userAssignedIdentities/{name}`: 201 when created, 200 when it existed (its tags
/// replaced when the body has them). Names are unique in the deployment: on Resource Manager's
/// host a PUT through another group's path is refused.
async fn put_identity(request: &ArmRequest<'_>, name: &str) -> Result<Response, ApiError> {
    let state = request.state;
    let put: IdentityPutBody = if request.body.is_empty() {
        IdentityPutBody::default()
    } else {
        parse_json(request.body)?
    };
    if let Some(identity) = lookup(state, name).await? {
        let mut placement = placement(state, &identity.display_name).await?;
        if request.cloud.is_some()
            && request.group_named
            && !placement.in_group(request.resource_group)
        {
            return Err(arm_error(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "A managed identity named '{name}' already exists in resource group '{}'; Strongroom's identity names are unique in the deployment.",
                    placement.resource_group
                ),
            ));
        }
        if let Some(tags) = put.tags {
            placement.tags = tags;
            documents::put(
                state,
                IDENTITY_PLACEMENT,
                &identity.display_name,
                &placement,
            )
            .await?;
        }
        return Ok(json_response(
            StatusCode::OK,
            &identity_resource(state, &identity, &placement),
        ));
    }
    let placement = Placement {
        resource_group: target_group(request).await?,
        location: put
            .location
            .map_or_else(|| "local".to_owned(), |l| l.to_ascii_lowercase()),
        tags: put.tags.unwrap_or_default(),
    };
    let (identity, _) = ensure_identity(state, name, &placement).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &identity_resource(state, &identity, &placement),
    ))
}

/// Deletes the identity's principal (and with it every credential, and every token at once)
/// and its placement; `false` if it was already gone.
pub(super) async fn delete_identity(
    state: &AppState,
    identity: &PrincipalRow,
) -> Result<bool, ApiError> {
    let deleted = state
        .store
        .delete_principal(&identity.object_id)
        .await
        .map_err(ApiError::internal)?;
    state.principals.forget(&identity.object_id);
    documents::delete(state, IDENTITY_PLACEMENT, &identity.display_name).await?;
    Ok(deleted)
}

/// Deletes every identity placed in `group` (the group's own deletion).
pub(super) async fn delete_in_group(state: &AppState, group: &str) -> Result<(), ApiError> {
    let all = strongroom_identity::list_managed_identities(state.store.as_ref())
        .await
        .map_err(ApiError::internal)?;
    for identity in &all {
        if placement(state, &identity.display_name)
            .await?
            .in_group(group)
        {
            delete_identity(state, identity).await?;
        }
    }
    Ok(())
}
