//! `Microsoft.KeyVault/vaults/{name}/accessPolicies/{add|replace|remove}`: changes a vault's
//! access policies as `az keyvault set-policy` and `delete-policy` do.

use super::arm_error;
use super::vaults::{AccessPolicyEntry, find_vault, policy_json, to_policy};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use strongroom_authz::AccessPolicy;
use strongroom_vault::vaults;

#[derive(Debug, Deserialize)]
struct PolicyUpdateBody {
    properties: PolicyUpdateProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyUpdateProperties {
    access_policies: Vec<AccessPolicyEntry>,
}

pub(super) async fn update(
    state: &AppState,
    rg: &str,
    name: &str,
    kind: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let vault = find_vault(state, rg, name).await?;
    let update: PolicyUpdateBody = parse_json(body)?;
    let changes = update
        .properties
        .access_policies
        .iter()
        .map(to_policy)
        .collect::<Result<Vec<_>, _>>()?;
    let mut policies = vault.policies.clone();
    let same = |a: &AccessPolicy, b: &AccessPolicy| {
        a.tenant_id == b.tenant_id && a.object_id == b.object_id
    };
    match kind {
        "add" => {
            for change in changes {
                if let Some(existing) = policies.iter_mut().find(|p| same(p, &change)) {
                    existing.permissions.merge(change.permissions);
                } else {
                    policies.push(change);
                }
            }
        }
        "replace" => policies = changes,
        "remove" => policies.retain(|p| !changes.iter().any(|c| same(p, c))),
        other => {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!(
                    "The access policy operation '{other}' is not one of add, replace, remove."
                ),
            ));
        }
    }
    let vault = vaults::set_policies(&state.vaults, &vault, policies).await?;
    let list: Vec<Value> = vault.policies.iter().map(policy_json).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "id": format!(
                "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{}/accessPolicies/{kind}",
                state.config.subscription_id, vault.name
            ),
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "properties": {"accessPolicies": list},
        }),
    ))
}
