//! `Microsoft.Compute/virtualMachines`: workload hosts registered with Strongroom
//! (`strongroom vm create`, a PUT on the deployment's own host: Strongroom runs no machines, so
//! the real `az vm create`, whose deployment it could not honour, is refused) and their
//! system-assigned identities, given with `PATCH {"identity":{"type":"SystemAssigned"}}` (as
//! `az vm identity assign` does) and taken away with `"None"`. A host is a deployment document
//! ([`HOST`]) placing it in a resource group; its identity is placed in the same group.
//! Hosts given an identity before registration existed are found by their identity alone.

use super::documents;
use super::identities::{self, delete_identity, ensure_identity, lookup, target_group};
use super::{ArmRequest, arm_error, resource_not_found};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strongroom_store::PrincipalRow;

/// Deployment documents that register a host: its resource group and location.
const HOST: &str = "virtual-machine";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Host {
    resource_group: String,
    location: String,
}

/// `…/providers/Microsoft.Compute/virtualMachines[/{host}]`.
pub(super) async fn route(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    match (request.tail, request.method.clone()) {
        ([], Method::GET) => list_hosts(request).await,
        ([host], Method::PUT) => put_host(request, host).await,
        ([host], Method::PATCH) => patch_host(request, host).await,
        ([host], Method::GET) => {
            let (name, host, identity) = find_host(request, host).await?;
            Ok(json_response(
                StatusCode::OK,
                &host_resource(state, &name, &host, identity.as_ref()),
            ))
        }
        ([host], Method::DELETE) => {
            let deleted = match find_host(request, host).await {
                Ok((name, _, identity)) => {
                    if let Some(identity) = identity {
                        delete_identity(state, &identity).await?;
                    }
                    documents::delete(state, HOST, &name).await?;
                    true
                }
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

fn host_not_found(rg: &str, name: &str) -> ApiError {
    resource_not_found("Microsoft.Compute/virtualMachines", rg, name)
}

/// The host `name` (its name as registered, its registration, its identity if it has one),
/// as the request's path addresses it (in the named group only, on Resource Manager's host).
async fn find_host(
    request: &ArmRequest<'_>,
    name: &str,
) -> Result<(String, Host, Option<PrincipalRow>), ApiError> {
    let state = request.state;
    let not_found = || host_not_found(request.resource_group, name);
    if !identities::valid_identity_name(name) {
        return Err(not_found());
    }
    let identity = lookup(state, name).await?;
    let (name, host) = match documents::get::<Host>(state, HOST, name).await? {
        Some(registered) => registered,
        // Registered by its identity alone (before hosts were documents): where it is placed.
        None => {
            let identity = identity.as_ref().ok_or_else(not_found)?;
            let placement = identities::placement(state, &identity.display_name).await?;
            (
                identity.display_name.clone(),
                Host {
                    resource_group: placement.resource_group,
                    location: placement.location,
                },
            )
        }
    };
    if request.cloud.is_some()
        && request.group_named
        && !host
            .resource_group
            .eq_ignore_ascii_case(request.resource_group)
    {
        return Err(not_found());
    }
    Ok((name, host, identity))
}

fn host_resource(
    state: &AppState,
    name: &str,
    host: &Host,
    identity: Option<&PrincipalRow>,
) -> Value {
    let identity = match identity {
        Some(identity) => json!({
            "type": "SystemAssigned",
            "principalId": identity.object_id,
            "tenantId": identity.tenant_id,
        }),
        None => json!({"type": "None"}),
    };
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{name}",
            state.config.subscription_id, host.resource_group
        ),
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": host.location,
        "identity": identity,
        "properties": {"provisioningState": "Succeeded"},
    })
}

async fn list_hosts(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    let mut value = Vec::new();
    for (name, host) in documents::list::<Host>(state, HOST).await? {
        if request.group_named
            && !host
                .resource_group
                .eq_ignore_ascii_case(request.resource_group)
        {
            continue;
        }
        let identity = lookup(state, &name).await?;
        value.push(host_resource(state, &name, &host, identity.as_ref()));
    }
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

#[derive(Debug, Default, Deserialize)]
struct HostPutBody {
    location: Option<String>,
}

/// `PUT …/virtualMachines/{host}` on the deployment's own host: registers the host (201), or
/// returns it as it is (200).
async fn put_host(request: &ArmRequest<'_>, name: &str) -> Result<Response, ApiError> {
    if request.cloud.is_some() {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "OperationNotAllowed",
            format!(
                "Strongroom runs no virtual machines. Register the workload host '{name}' with `strongroom vm create --name {name} --resource-group {}`, then `az vm identity assign` gives it its identity.",
                request.resource_group
            ),
        ));
    }
    if !identities::valid_identity_name(name) {
        return Err(identities::invalid_identity_name(name));
    }
    let state = request.state;
    if let Ok((name, host, identity)) = find_host(request, name).await {
        return Ok(json_response(
            StatusCode::OK,
            &host_resource(state, &name, &host, identity.as_ref()),
        ));
    }
    let put: HostPutBody = if request.body.is_empty() {
        HostPutBody::default()
    } else {
        parse_json(request.body)?
    };
    let host = Host {
        resource_group: target_group(request).await?,
        location: put
            .location
            .map_or_else(|| "local".to_owned(), |l| l.to_ascii_lowercase()),
    };
    documents::put(state, HOST, name, &host).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &host_resource(state, name, &host, None),
    ))
}

#[derive(Debug, Deserialize)]
struct HostPatchBody {
    identity: HostIdentity,
}

#[derive(Debug, Deserialize)]
struct HostIdentity {
    #[serde(rename = "type")]
    kind: String,
}

/// `PATCH …/virtualMachines/{host}` with `{"identity":{"type":"SystemAssigned"}}` gives the
/// host its system-assigned identity (created on the first call, the same one afterwards);
/// `{"identity":{"type":"None"}}` deletes it. On Resource Manager's host the host must be
/// registered; Strongroom's own CLI registers it on first use.
async fn patch_host(request: &ArmRequest<'_>, name: &str) -> Result<Response, ApiError> {
    let state = request.state;
    let patch: HostPatchBody = parse_json(request.body)?;
    let (name, host, identity) = match find_host(request, name).await {
        Ok(found) => found,
        Err(err) if request.cloud.is_some() => return Err(err),
        Err(_) => {
            if !identities::valid_identity_name(name) {
                return Err(identities::invalid_identity_name(name));
            }
            let host = Host {
                resource_group: target_group(request).await?,
                location: "local".to_owned(),
            };
            documents::put(state, HOST, name, &host).await?;
            (name.to_owned(), host, None)
        }
    };
    let kinds: Vec<&str> = patch.identity.kind.split(',').map(str::trim).collect();
    if kinds
        .iter()
        .any(|k| k.eq_ignore_ascii_case("SystemAssigned"))
    {
        let placement = identities::Placement {
            resource_group: host.resource_group.clone(),
            location: host.location.clone(),
            tags: serde_json::Map::new(),
        };
        let (identity, _) = ensure_identity(state, &name, &placement).await?;
        return Ok(json_response(
            StatusCode::OK,
            &host_resource(state, &name, &host, Some(&identity)),
        ));
    }
    if kinds == ["None"] {
        if let Some(identity) = identity {
            delete_identity(state, &identity).await?;
        }
        return Ok(json_response(
            StatusCode::OK,
            &host_resource(state, &name, &host, None),
        ));
    }
    Err(arm_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!(
            "The identity type '{}' is not supported; use SystemAssigned or None.",
            patch.identity.kind
        ),
    ))
}

/// Deletes every host registered in `group`, with its identity (the group's own deletion).
pub(super) async fn delete_in_group(state: &AppState, group: &str) -> Result<(), ApiError> {
    for (name, host) in documents::list::<Host>(state, HOST).await? {
        if host.resource_group.eq_ignore_ascii_case(group) {
            if let Some(identity) = lookup(state, &name).await? {
                delete_identity(state, &identity).await?;
            }
            documents::delete(state, HOST, &name).await?;
        }
    }
    Ok(())
}
