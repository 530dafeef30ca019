//! Vault soft delete as Resource Manager shows it, and the Key Vault provider's
//! subscription-level operations: `deletedVaults` (list; show and purge under
//! `locations/{location}`), `checkNameAvailability`, and the empty managed-HSM lists `az
//! keyvault list` and `list-deleted` read beside the vaults (Strongroom has no managed HSMs).
//! Recovery is a vault PUT with `createMode: recover` (`vaults.rs`).

use super::vaults::{Placement, placement};
use super::{ArmRequest, arm_error};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use strongroom_model::VaultName;
use strongroom_vault::vaults::{self, DeletedVault};

/// `…/providers/Microsoft.KeyVault/{kind}/…` at subscription level, for every `kind` but
/// `vaults`.
pub(super) async fn route(request: &ArmRequest<'_>, kind: &str) -> Result<Response, ApiError> {
    let method = request.method;
    match (kind, request.tail) {
        ("deletedvaults", []) => match *method {
            Method::GET => list(request).await,
            _ => Err(request.method_not_allowed()),
        },
        ("locations", [location, deleted, name])
            if deleted.eq_ignore_ascii_case("deletedVaults") =>
        {
            match *method {
                Method::GET => {
                    let (deleted, placement) = find(request.state, location, name).await?;
                    let body = deleted_vault_json(request.state, &deleted, &placement);
                    Ok(json_response(StatusCode::OK, &body))
                }
                _ => Err(request.method_not_allowed()),
            }
        }
        ("locations", [location, deleted, name, purge])
            if deleted.eq_ignore_ascii_case("deletedVaults")
                && purge.eq_ignore_ascii_case("purge") =>
        {
            match *method {
                Method::POST => {
                    let (deleted, _) = find(request.state, location, name).await?;
                    vaults::purge(&request.state.vaults, &deleted.vault.name).await?;
                    // Done before the answer: no operation to poll.
                    Ok(StatusCode::OK.into_response())
                }
                _ => Err(request.method_not_allowed()),
            }
        }
        ("checknameavailability", []) => match *method {
            Method::POST => check_name_availability(request).await,
            _ => Err(request.method_not_allowed()),
        },
        ("managedhsms" | "deletedmanagedhsms", []) => match *method {
            Method::GET => Ok(json_response(StatusCode::OK, &json!({ "value": [] }))),
            _ => Err(request.method_not_allowed()),
        },
        _ => Err(request.not_served()),
    }
}

async fn list(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let mut value = Vec::new();
    for deleted in vaults::list_deleted(&request.state.vaults).await? {
        let placement = placement(request.state, &deleted.vault).await?;
        value.push(deleted_vault_json(request.state, &deleted, &placement));
    }
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

/// The deleted vault `name` in `location`, with its placement; ARM's 404 otherwise.
async fn find(
    state: &AppState,
    location: &str,
    name: &str,
) -> Result<(DeletedVault, Placement), ApiError> {
    let not_found = || {
        arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.KeyVault/deletedVaults/{name}' under location \
                 '{location}' was not found."
            ),
        )
    };
    let vault_name = VaultName::parse(name).map_err(|_| not_found())?;
    let deleted = vaults::get_deleted(&state.vaults, &vault_name)
        .await?
        .ok_or_else(not_found)?;
    let placement = placement(state, &deleted.vault).await?;
    if !same_location(&placement.location, location) {
        return Err(not_found());
    }
    Ok((deleted, placement))
}

/// ARM compares locations by their short names: `West Europe` is `westeurope`.
fn same_location(a: &str, b: &str) -> bool {
    let short = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    short(a) == short(b)
}

fn deleted_vault_json(state: &AppState, deleted: &DeletedVault, placement: &Placement) -> Value {
    let subscription = &state.config.subscription_id;
    let name = deleted.vault.name.as_str();
    json!({
        "id": format!(
            "/subscriptions/{subscription}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{name}",
            placement.location
        ),
        "name": name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": format!(
                "/subscriptions/{subscription}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{name}",
                placement.resource_group
            ),
            "location": placement.location,
            "deletionDate": deleted.deleted.rfc3339(),
            "scheduledPurgeDate": deleted.scheduled_purge().rfc3339(),
            "tags": placement.tags,
            "purgeProtectionEnabled": false,
        },
    })
}

#[derive(Debug, Deserialize)]
struct NameAvailabilityBody {
    name: String,
    #[serde(rename = "type")]
    resource_type: String,
}

/// `POST …/providers/Microsoft.KeyVault/checkNameAvailability`: whether `name` could be a new
/// vault. A soft-deleted vault's name is taken until it is purged.
async fn check_name_availability(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let check: NameAvailabilityBody = parse_json(request.body)?;
    if !check
        .resource_type
        .eq_ignore_ascii_case("Microsoft.KeyVault/vaults")
    {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceType",
            format!(
                "The resource type '{}' is not valid; 'Microsoft.KeyVault/vaults' is.",
                check.resource_type
            ),
        ));
    }
    let name = &check.name;
    let body = match VaultName::parse(name) {
        Err(_) => json!({
            "nameAvailable": false,
            "reason": "AccountNameInvalid",
            "message": format!(
                "The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens."
            ),
        }),
        Ok(vault_name) => {
            let state = request.state;
            let taken = vaults::get(&state.vaults, &vault_name).await?.is_some()
                || vaults::get_deleted(&state.vaults, &vault_name)
                    .await?
                    .is_some();
            if taken {
                json!({
                    "nameAvailable": false,
                    "reason": "AlreadyExists",
                    "message": format!(
                        "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state. If the vault is in a recoverable state then the vault will need to be purged before reusing the name. For more information on VaultAlreadyExists, soft delete and purging a vault follow this link https://go.microsoft.com/fwlink/?linkid=2147740."
                    ),
                })
            } else {
                json!({ "nameAvailable": true })
            }
        }
    };
    Ok(json_response(StatusCode::OK, &body))
}
