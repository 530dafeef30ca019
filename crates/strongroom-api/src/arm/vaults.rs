//! `Microsoft.KeyVault/vaults`: create (with the creator's access policy when none is given),
//! update (PUT on an existing vault, PATCH), recover (PUT with `createMode: recover`), show,
//! list (in the subscription or one resource group) and delete (a soft delete: see
//! `deleted_vaults.rs`) a vault; its certificate events (Strongroom's own).
//!
//! A vault's place in ARM (resource group, location, tags) is a vault document (`arm`), so it
//! goes with the vault; vaults made before it existed are in the default group.

use super::resource_groups;
use super::{ArmRequest, DEFAULT_RESOURCE_GROUP, access_policies, arm_error, resource_not_found};
use crate::body::parse_json;
use crate::error::{ApiError, json_response};
use crate::host::AzureCloud;
use crate::state::AppState;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use strongroom_authz::{AccessPolicy, parse_permission_set};
use strongroom_model::{
    CertificatePermission, KeyPermission, ObjectId, ObjectKind, PermissionSet, SecretPermission,
    TenantId, VaultName,
};
use strongroom_vault::{Vault, VaultSku, vaults};

/// `…/providers/Microsoft.KeyVault/vaults[/{name}[/…]]`.
pub(super) async fn route(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    let rg = request.resource_group;
    match (request.tail, request.method.clone()) {
        ([], Method::GET) => list_vaults(request).await,
        ([name], Method::PUT) => put_vault(request, name).await,
        ([name], Method::PATCH) => patch_vault(request, name).await,
        ([name], Method::GET) => {
            let vault = find_in_group(request, name).await?;
            let placement = placement(state, &vault).await?;
            Ok(json_response(
                StatusCode::OK,
                &vault_resource(state, &vault, &placement, request.cloud),
            ))
        }
        // Strongroom's own: the events certificates' EmailContacts actions recorded
        // (Azure e-mails the contacts instead).
        ([name, "certificateEvents"], Method::GET) => {
            let vault = find_in_group(request, name).await?;
            let events =
                strongroom_vault::certificates::lifetime::events(&state.vaults, &vault).await?;
            Ok(json_response(StatusCode::OK, &json!({ "value": events })))
        }
        ([name], Method::DELETE) => {
            // A vault in another group is not there, as far as this path goes.
            let deleted = match find_in_group(request, name).await {
                Ok(vault) => vaults::delete(&state.vaults, &vault.name).await?,
                Err(ApiError::Custom {
                    status: StatusCode::NOT_FOUND,
                    ..
                }) => false,
                Err(other) => return Err(other),
            };
            Ok(super::deleted_status(deleted))
        }
        ([name, "accessPolicies", kind], Method::PUT) => {
            find_in_group(request, name).await?;
            access_policies::update(state, rg, name, kind, request.body).await
        }
        ([] | [_] | [_, "accessPolicies", _], _) => Err(request.method_not_allowed()),
        _ => Err(request.not_served()),
    }
}

/// The vault `name` as the request's path addresses it. On a cloud's Resource Manager host a
/// path that names a resource group finds only a vault in that group, as ARM does; Strongroom's
/// own CLI names the group loosely (`--resource-group` is optional there), so its host does not
/// check.
async fn find_in_group(request: &ArmRequest<'_>, name: &str) -> Result<Vault, ApiError> {
    let vault = find_vault(request.state, request.resource_group, name).await?;
    if request.cloud.is_some() && request.group_named && !in_group(&vault, request.resource_group) {
        return Err(vault_not_found(request.resource_group, name));
    }
    Ok(vault)
}

fn in_group(vault: &Vault, group: &str) -> bool {
    vault
        .resource_group
        .as_deref()
        .unwrap_or(DEFAULT_RESOURCE_GROUP)
        .eq_ignore_ascii_case(group)
}

pub(super) fn vault_not_found(rg: &str, name: &str) -> ApiError {
    resource_not_found("Microsoft.KeyVault/vaults", rg, name)
}

pub(super) async fn find_vault(state: &AppState, rg: &str, name: &str) -> Result<Vault, ApiError> {
    let vault_name = VaultName::parse(name).map_err(|_| vault_not_found(rg, name))?;
    vaults::get(&state.vaults, &vault_name)
        .await?
        .ok_or_else(|| vault_not_found(rg, name))
}

/// ARM's access-policy entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccessPolicyEntry {
    tenant_id: String,
    object_id: String,
    #[serde(default)]
    permissions: Permissions,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Permissions {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    certificates: Vec<String>,
}

pub(super) fn to_policy(entry: &AccessPolicyEntry) -> Result<AccessPolicy, ApiError> {
    let invalid = |field: &str, bad: &str| {
        arm_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Invalid value found at accessPolicies[].permissions.{field}: '{bad}'."),
        )
    };
    let lists = &entry.permissions;
    let permissions = parse_permission_set(
        lists.secrets.iter().map(String::as_str),
        lists.keys.iter().map(String::as_str),
        lists.certificates.iter().map(String::as_str),
    )
    .map_err(|bad| invalid(bad.kind.collection(), &bad.name))?;
    Ok(AccessPolicy {
        tenant_id: TenantId(entry.tenant_id.to_ascii_lowercase()),
        object_id: ObjectId(entry.object_id.to_ascii_lowercase()),
        permissions,
    })
}

pub(super) fn policy_json(policy: &AccessPolicy) -> Value {
    let permissions = &policy.permissions;
    json!({
        "tenantId": policy.tenant_id.0,
        "objectId": policy.object_id.0,
        "permissions": {
            "keys": permissions.names(ObjectKind::Key),
            "secrets": permissions.names(ObjectKind::Secret),
            "certificates": permissions.names(ObjectKind::Certificate),
        },
    })
}

/// Where a vault is in ARM.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Placement {
    /// From the vault itself (the data plane's RBAC scope needs it on every request).
    #[serde(skip)]
    pub(super) resource_group: String,
    pub(super) location: String,
    #[serde(default)]
    pub(super) tags: Map<String, Value>,
}

/// The vault document that holds a vault's [`Placement`].
const PLACEMENT: (&str, &str) = ("arm", "placement");

pub(super) async fn placement(state: &AppState, vault: &Vault) -> Result<Placement, ApiError> {
    let stored = state
        .store
        .get_vault_document(vault.id, PLACEMENT.0, PLACEMENT.1)
        .await
        .map_err(ApiError::internal)?;
    let mut placement = match stored {
        Some(document) => serde_json::from_slice(&document).map_err(ApiError::internal)?,
        None => Placement {
            resource_group: String::new(),
            location: "local".to_owned(),
            tags: Map::new(),
        },
    };
    placement.resource_group = vault
        .resource_group
        .clone()
        .unwrap_or_else(|| DEFAULT_RESOURCE_GROUP.to_owned());
    Ok(placement)
}

/// The vault's ARM location, as Azure's 403 names it (`local` if it cannot be read).
pub(crate) async fn vault_location(state: &AppState, vault: &Vault) -> String {
    placement(state, vault)
        .await
        .map_or_else(|_| "local".to_owned(), |placement| placement.location)
}

async fn store_placement(
    state: &AppState,
    vault: &Vault,
    placement: &Placement,
) -> Result<(), ApiError> {
    let document = serde_json::to_vec(placement).map_err(ApiError::internal)?;
    state
        .store
        .put_vault_document(vault.id, PLACEMENT.0, PLACEMENT.1, document)
        .await
        .map_err(ApiError::internal)
}

fn vault_resource(
    state: &AppState,
    vault: &Vault,
    placement: &Placement,
    cloud: Option<&AzureCloud>,
) -> Value {
    let config = &state.config;
    let policies: Vec<Value> = vault.policies.iter().map(policy_json).collect();
    // On a cloud's Resource Manager host the vault is at that cloud's name (transparent mode
    // serves it); on the deployment's host, at the deployment's.
    let vault_uri = match cloud {
        Some(cloud) => format!("https://{}.{}/", vault.name, cloud.vault_suffix),
        None => config.vault_uri(vault.name.as_str()),
    };
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
            config.subscription_id, placement.resource_group, vault.name
        ),
        "name": vault.name.as_str(),
        "type": "Microsoft.KeyVault/vaults",
        "location": placement.location,
        "tags": placement.tags,
        "properties": {
            "tenantId": vault.tenant_id.0,
            "sku": {"family": "A", "name": vault.sku.as_str()},
            "accessPolicies": policies,
            "vaultUri": vault_uri,
            "enabledForDeployment": false,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": vault.retention_days,
            "enableRbacAuthorization": vault.rbac_authorization,
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        },
    })
}

/// Every vault with its placement, in the named resource group only when the path names one.
pub(super) async fn placed_vaults(
    state: &AppState,
    group: Option<&str>,
) -> Result<Vec<(Vault, Placement)>, ApiError> {
    let mut placed = Vec::new();
    for vault in vaults::list(&state.vaults).await? {
        let placement = placement(state, &vault).await?;
        if group.is_none_or(|group| placement.resource_group.eq_ignore_ascii_case(group)) {
            placed.push((vault, placement));
        }
    }
    Ok(placed)
}

/// Soft-deletes every vault of resource group `group` (the group's own deletion; Azure's
/// vaults outlive their group in the deleted state too).
pub(super) async fn delete_in_group(state: &AppState, group: &str) -> Result<(), ApiError> {
    for (vault, _) in placed_vaults(state, Some(group)).await? {
        vaults::delete(&state.vaults, &vault.name).await?;
    }
    Ok(())
}

async fn list_vaults(request: &ArmRequest<'_>) -> Result<Response, ApiError> {
    let state = request.state;
    let group = request.group_named.then_some(request.resource_group);
    let value: Vec<Value> = placed_vaults(state, group)
        .await?
        .iter()
        .map(|(vault, placement)| vault_resource(state, vault, placement, request.cloud))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VaultPutBody {
    location: Option<String>,
    tags: Option<Map<String, Value>>,
    #[serde(default)]
    properties: VaultPutProperties,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VaultPutProperties {
    tenant_id: Option<String>,
    access_policies: Option<Vec<AccessPolicyEntry>>,
    soft_delete_retention_in_days: Option<i64>,
    sku: Option<SkuBody>,
    /// Absent on create: [`rbac_by_default`]; absent on update: unchanged.
    enable_rbac_authorization: Option<bool>,
    /// `recover` brings back a soft-deleted vault (`az keyvault recover`); `default` creates.
    create_mode: Option<String>,
}

impl VaultPutProperties {
    /// The access policies the body sends, checked; `None` when it sends none.
    fn policies(&self) -> Result<Option<Vec<AccessPolicy>>, ApiError> {
        self.access_policies
            .as_ref()
            .map(|entries| entries.iter().map(to_policy).collect())
            .transpose()
    }
}

/// ARM's `properties.sku`: `{"family":"A","name":"standard"|"premium"}`.
#[derive(Debug, Default, Deserialize)]
struct SkuBody {
    name: Option<String>,
}

/// First api-version whose vault creation defaults to Azure RBAC (docs/reference/azure-rbac.md
/// section 5: "Prepare for Key Vault API version 2026-02-01").
const RBAC_DEFAULT_SINCE: &str = "2026-02-01";

/// Whether a vault created without `enableRbacAuthorization` uses Azure RBAC: from api-version
/// 2026-02-01 on (previews of that date or later included; dates compare as text); access
/// policies before it, and when no version is given.
fn rbac_by_default(api_version: Option<&str>) -> bool {
    api_version.is_some_and(|version| version >= RBAC_DEFAULT_SINCE)
}

/// Changes an existing vault as a PUT or PATCH body asks: access policies (replaced),
/// `enableRbacAuthorization`, tags. 200 with the vault.
async fn update_vault(
    request: &ArmRequest<'_>,
    existing: Vault,
    put: VaultPutBody,
    policies: Option<Vec<AccessPolicy>>,
) -> Result<Response, ApiError> {
    let state = request.state;
    let vault = match policies {
        Some(policies) => vaults::set_policies(&state.vaults, &existing, policies).await?,
        None => existing,
    };
    let vault = match put.properties.enable_rbac_authorization {
        Some(rbac) if rbac != vault.rbac_authorization => {
            vaults::set_rbac(&state.vaults, &vault, rbac).await?
        }
        _ => vault,
    };
    let mut placement = placement(state, &vault).await?;
    if let Some(tags) = put.tags {
        placement.tags = tags;
        store_placement(state, &vault, &placement).await?;
    }
    Ok(json_response(
        StatusCode::OK,
        &vault_resource(state, &vault, &placement, request.cloud),
    ))
}

/// `PATCH …/vaults/{name}` (the management SDKs' `vaults.update`): what the body names
/// changes, the rest stays.
async fn patch_vault(request: &ArmRequest<'_>, name: &str) -> Result<Response, ApiError> {
    let existing = find_in_group(request, name).await?;
    let patch: VaultPutBody = parse_json(request.body)?;
    let policies = patch.properties.policies()?;
    update_vault(request, existing, patch, policies).await
}

/// A PUT with `createMode: recover`: the soft-deleted vault back, with everything in it, in
/// the resource group it was deleted from.
async fn recover_vault(request: &ArmRequest<'_>, name: &VaultName) -> Result<Response, ApiError> {
    let state = request.state;
    let Some(deleted) = vaults::get_deleted(&state.vaults, name).await? else {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("There is no deleted vault named '{name}' to recover."),
        ));
    };
    if request.cloud.is_some() && request.group_named {
        if !in_group(&deleted.vault, request.resource_group) {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!(
                    "The vault '{name}' was deleted from resource group '{}'; it can be recovered only into that group.",
                    deleted
                        .vault
                        .resource_group
                        .as_deref()
                        .unwrap_or(DEFAULT_RESOURCE_GROUP)
                ),
            ));
        }
        resource_groups::find(state, request.resource_group)
            .await?
            .ok_or_else(|| resource_groups::not_found(request.resource_group))?;
    }
    let vault = vaults::recover(&state.vaults, name).await?;
    let placement = placement(state, &vault).await?;
    Ok(json_response(
        StatusCode::OK,
        &vault_resource(state, &vault, &placement, request.cloud),
    ))
}

async fn put_vault(request: &ArmRequest<'_>, name: &str) -> Result<Response, ApiError> {
    let (state, caller, body) = (request.state, request.caller, request.body);
    let vault_name = VaultName::parse(name).map_err(|err| {
        arm_error(
            StatusCode::BAD_REQUEST,
            "VaultNameNotValid",
            format!(
                "The vault name '{name}' is invalid ({err}). A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens."
            ),
        )
    })?;
    let put: VaultPutBody = if body.is_empty() {
        VaultPutBody::default()
    } else {
        parse_json(body)?
    };
    let policies = put.properties.policies()?;
    let create_mode = put.properties.create_mode.as_deref().unwrap_or("default");
    if create_mode.eq_ignore_ascii_case("recover") {
        return recover_vault(request, &vault_name).await;
    }
    if !create_mode.eq_ignore_ascii_case("default") {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "The value '{create_mode}' of property 'createMode' is not valid. Valid values are 'default' and 'recover'."
            ),
        ));
    }
    if let Some(existing) = vaults::get(&state.vaults, &vault_name).await? {
        // Vault names are unique across groups: on Resource Manager's host a PUT through
        // another group's path is a new vault whose name is taken.
        if request.cloud.is_some()
            && request.group_named
            && !in_group(&existing, request.resource_group)
        {
            return Err(arm_error(
                StatusCode::CONFLICT,
                "VaultAlreadyExists",
                format!(
                    "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state."
                ),
            ));
        }
        return update_vault(request, existing, put, policies).await;
    }
    if vaults::get_deleted(&state.vaults, &vault_name)
        .await?
        .is_some()
    {
        return Err(arm_error(
            StatusCode::CONFLICT,
            "ConflictError",
            "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.".to_owned(),
        ));
    }
    // Resource Manager (what `az` reaches) creates only in a group that exists; Strongroom's
    // own CLI names a group without creating it first.
    let resource_group = if request.cloud.is_some() {
        resource_groups::find(state, request.resource_group)
            .await?
            .ok_or_else(|| resource_groups::not_found(request.resource_group))?
            .0
    } else {
        resource_groups::ensure(state, request.resource_group).await?
    };
    let retention_days = put.properties.soft_delete_retention_in_days.unwrap_or(90);
    if !(7..=90).contains(&retention_days) {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The property \"softDeleteRetentionInDays\" has an invalid value. Its value must be between 7 and 90.".to_owned(),
        ));
    }
    let sku_name = put
        .properties
        .sku
        .as_ref()
        .and_then(|sku| sku.name.as_deref())
        .unwrap_or("standard");
    let sku = VaultSku::parse(sku_name).ok_or_else(|| {
        arm_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("The value '{sku_name}' of property 'sku.name' is not valid. Valid values are 'standard' and 'premium'."),
        )
    })?;
    let tenant_id = put.properties.tenant_id.map_or_else(
        || state.config.tenant_id.clone(),
        |t| t.to_ascii_lowercase(),
    );
    // Resource Manager stores only the policies it is sent (`az keyvault create` sends the
    // creator's itself). Strongroom's own CLI leaves them out to mean "the creator gets
    // everything", as `az keyvault create` would have sent.
    let policies = policies.unwrap_or_else(|| {
        if request.cloud.is_some() {
            return Vec::new();
        }
        vec![AccessPolicy {
            tenant_id: caller.tenant_id.clone(),
            object_id: caller.object_id.clone(),
            permissions: PermissionSet {
                secrets: SecretPermission::ALL.to_vec(),
                keys: KeyPermission::ALL.to_vec(),
                certificates: CertificatePermission::ALL.to_vec(),
            },
        }]
    });
    let vault = vaults::create_with(
        &state.vaults,
        vaults::NewVaultSpec {
            name: vault_name,
            tenant_id: TenantId(tenant_id),
            retention_days,
            sku,
            policies,
            rbac_authorization: put
                .properties
                .enable_rbac_authorization
                .unwrap_or_else(|| rbac_by_default(request.api_version())),
            resource_group: Some(resource_group.clone()),
        },
    )
    .await?;
    let placement = Placement {
        resource_group,
        location: put
            .location
            .map_or_else(|| "local".to_owned(), |l| l.to_ascii_lowercase()),
        tags: put.tags.unwrap_or_default(),
    };
    store_placement(state, &vault, &placement).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &vault_resource(state, &vault, &placement, request.cloud),
    ))
}

#[cfg(test)]
mod tests {
    use super::rbac_by_default;

    #[test]
    fn rbac_is_the_default_from_api_version_2026_02_01() {
        for (version, rbac) in [
            (None, false),
            (Some("2023-07-01"), false),
            (Some("2025-05-01"), false),
            (Some("2026-01-01-preview"), false),
            (Some("2026-02-01"), true),
            (Some("2026-02-01-preview"), true),
            (Some("2026-04-01"), true),
        ] {
            assert_eq!(rbac_by_default(version), rbac, "{version:?}");
        }
    }
}
