//! `Microsoft.Compute/virtualMachines`: a workload host's system-assigned identity, given with
//! `PATCH {"identity":{"type":"SystemAssigned"}}` (as `az vm identity assign` does) and taken
//! away with `"None"`.

use super::identities::{delete_identity, ensure_identity, find_identity};
use super::{ArmRequest, DEFAULT_RESOURCE_GROUP, arm_error, resource_not_found};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use strongroom_store::PrincipalRow;

/// `…/providers/Microsoft.Compute/virtualMachines/{host}`: Strongroom knows a host only by
/// its system-assigned identity.
pub(super) async fn route(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    match (request.tail, request.method.clone()) {
        ([host], Method::PATCH) => patch_host(state, host, request.body).await,
        ([host], Method::GET) => {
            let identity = match find_identity(state, request.resource_group, host).await {
                Ok(identity) => identity,
                Err(ApiError::Custom {
                    status: StatusCode::NOT_FOUND,
                    ..
                }) => {
                    return Err(resource_not_found(
                        "Microsoft.Compute/virtualMachines",
                        request.resource_group,
                        host,
                    ));
                }
                Err(other) => return Err(other),
            };
            Ok(json_response(
                StatusCode::OK,
                &host_resource(state, host, Some(&identity)),
            ))
        }
        ([_], _) => Err(request.method_not_allowed()),
        _ => Err(request.not_served()),
    }
}

fn host_resource(state: &AppState, host: &str, identity: Option<&PrincipalRow>) -> Value {
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
            "/subscriptions/{}/resourceGroups/{DEFAULT_RESOURCE_GROUP}/providers/Microsoft.Compute/virtualMachines/{host}",
            state.config.subscription_id
        ),
        "name": host,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "local",
        "identity": identity,
    })
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
/// `{"identity":{"type":"None"}}` deletes it.
async fn patch_host(state: &AppState, host: &str, body: &[u8]) -> Result<Response, ApiError> {
    let patch: HostPatchBody = parse_json(body)?;
    let kinds: Vec<&str> = patch.identity.kind.split(',').map(str::trim).collect();
    if kinds
        .iter()
        .any(|k| k.eq_ignore_ascii_case("SystemAssigned"))
    {
        let (identity, _) = ensure_identity(state, host).await?;
        return Ok(json_response(
            StatusCode::OK,
            &host_resource(state, host, Some(&identity)),
        ));
    }
    if kinds == ["None"] {
        delete_identity(state, host).await?;
        return Ok(json_response(
            StatusCode::OK,
            &host_resource(state, host, None),
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
