//! The management API, shaped like Azure Resource Manager's `Microsoft.KeyVault/vaults` (so
//! Azure's management SDK can use it later), `Microsoft.ManagedIdentity/userAssignedIdentities`
//! and the system-assigned identities of `Microsoft.Compute/virtualMachines`, and Microsoft
//! Graph's `servicePrincipals`. Only deployment administrators pass. Errors are ARM-shaped:
//! `{"error":{"code","message"}}`.

use crate::body::{parse_json, read_body};
use crate::error::{ApiError, json_response};
use crate::pipeline::authenticate;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strongroom_authz::{AccessPolicy, parse_permission_set};
use strongroom_model::{
    Caller, CertificatePermission, KeyPermission, ObjectId, ObjectKind, PermissionSet,
    SecretPermission, TenantId, VaultName,
};
use strongroom_store::PrincipalRow;
use strongroom_vault::{Vault, VaultSku, vaults};

const DEFAULT_RESOURCE_GROUP: &str = "strongroom";

pub(crate) async fn handle(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let caller = authenticate(state, &parts.headers, &state.derived.management_audiences)
        .await
        .map_err(|err| match err {
            ApiError::Unauthorized { .. } => ApiError::Custom {
                status: StatusCode::UNAUTHORIZED,
                code: "InvalidAuthenticationToken",
                message: "The access token is missing or invalid.".to_owned(),
            },
            other => other,
        })?;
    if !caller.is_admin {
        return Err(ApiError::Custom {
            status: StatusCode::FORBIDDEN,
            code: "AuthorizationFailed",
            message: format!(
                "The client '{}' with object id '{}' does not have authorization to perform this action.",
                caller.app_id, caller.object_id
            ),
        });
    }
    let path = parts.uri.path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let body = read_body(&parts.headers, body).await?;
    let m = &parts.method;
    if let Some((rg, rest)) = arm_resource_path(
        &segments,
        "Microsoft.ManagedIdentity",
        "userAssignedIdentities",
    ) {
        let rg = rg.unwrap_or(DEFAULT_RESOURCE_GROUP);
        return match (rest, m.clone()) {
            ([], Method::GET) => list_identities(state).await,
            ([name], Method::PUT) => put_identity(state, name).await,
            ([name], Method::GET) => {
                let identity = find_identity(state, rg, name).await?;
                Ok(json_response(
                    StatusCode::OK,
                    &identity_resource(state, &identity),
                ))
            }
            ([name], Method::DELETE) => delete_identity(state, name).await,
            ([] | [_], _) => Err(ApiError::MethodNotAllowed(m.to_string())),
            _ => Err(not_served(&path)),
        };
    }
    if let Some((rg, rest)) = arm_resource_path(&segments, "Microsoft.Compute", "virtualMachines") {
        let rg = rg.unwrap_or(DEFAULT_RESOURCE_GROUP);
        return match (rest, m.clone()) {
            ([host], Method::PATCH) => patch_host(state, host, &body).await,
            ([host], Method::GET) => {
                // Strongroom knows a host only by its identity.
                let identity = match find_identity(state, rg, host).await {
                    Ok(identity) => identity,
                    Err(ApiError::Custom {
                        status: StatusCode::NOT_FOUND,
                        ..
                    }) => {
                        return Err(arm_error(
                            StatusCode::NOT_FOUND,
                            "ResourceNotFound",
                            format!(
                                "The Resource 'Microsoft.Compute/virtualMachines/{host}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                            ),
                        ));
                    }
                    Err(other) => return Err(other),
                };
                Ok(json_response(
                    StatusCode::OK,
                    &host_resource(state, host, Some(&identity)),
                ))
            }
            ([_], _) => Err(ApiError::MethodNotAllowed(m.to_string())),
            _ => Err(not_served(&path)),
        };
    }
    if let Some((rg, rest)) = arm_resource_path(&segments, "Microsoft.KeyVault", "vaults") {
        let rg = rg.unwrap_or(DEFAULT_RESOURCE_GROUP);
        return match (rest, m.clone()) {
            ([], Method::GET) => list_vaults(state).await,
            ([name], Method::PUT) => put_vault(state, &caller, rg, name, &body).await,
            ([name], Method::GET) => {
                let vault = find_vault(state, rg, name).await?;
                Ok(json_response(
                    StatusCode::OK,
                    &vault_resource(state, &vault),
                ))
            }
            // Strongroom's own: the events certificates' EmailContacts actions recorded
            // (Azure e-mails the contacts instead).
            ([name, "certificateEvents"], Method::GET) => {
                let vault = find_vault(state, rg, name).await?;
                let events =
                    strongroom_vault::certificates::lifetime::events(&state.vaults, &vault).await?;
                Ok(json_response(StatusCode::OK, &json!({ "value": events })))
            }
            ([name], Method::DELETE) => {
                let deleted = match VaultName::parse(name) {
                    Ok(vault_name) => vaults::delete(&state.vaults, &vault_name).await?,
                    Err(_) => false,
                };
                // ARM: 200 when something was deleted, 204 when there was nothing.
                let status = if deleted {
                    StatusCode::OK
                } else {
                    StatusCode::NO_CONTENT
                };
                Ok(status.into_response())
            }
            ([name, "accessPolicies", kind], Method::PUT) => {
                update_access_policies(state, rg, name, kind, &body).await
            }
            ([] | [_] | [_, "accessPolicies", _], _) => {
                Err(ApiError::MethodNotAllowed(m.to_string()))
            }
            _ => Err(not_served(&path)),
        };
    }
    match segments.as_slice() {
        ["v1.0", "servicePrincipals"] => match *m {
            Method::POST => create_service_principal(state, &body).await,
            Method::GET => {
                let principals = state
                    .store
                    .list_principals()
                    .await
                    .map_err(ApiError::internal)?;
                let value: Vec<Value> = principals.iter().map(principal_json).collect();
                Ok(json_response(StatusCode::OK, &json!({ "value": value })))
            }
            _ => Err(ApiError::MethodNotAllowed(m.to_string())),
        },
        ["v1.0", selector] if selector.starts_with("servicePrincipals(") && *m == Method::GET => {
            let principal = find_principal(state, selector).await?;
            Ok(json_response(StatusCode::OK, &principal_json(&principal)))
        }
        ["v1.0", "servicePrincipals", id] => match *m {
            Method::GET => {
                let principal = find_principal(state, id).await?;
                Ok(json_response(StatusCode::OK, &principal_json(&principal)))
            }
            Method::DELETE => {
                let principal = find_principal(state, id).await?;
                state
                    .store
                    .delete_principal(&principal.object_id)
                    .await
                    .map_err(ApiError::internal)?;
                // Its tokens stop working now, not when they expire.
                state.principals.forget(&principal.object_id);
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            _ => Err(ApiError::MethodNotAllowed(m.to_string())),
        },
        ["v1.0", "servicePrincipals", id, "addCertificate"] if *m == Method::POST => {
            add_certificate(state, id, &body).await
        }
        ["v1.0", "servicePrincipals", id, "addPassword"] if *m == Method::POST => {
            add_password(state, id).await
        }
        [
            "v1.0",
            "servicePrincipals",
            id,
            "removePassword" | "removeKey",
        ] if *m == Method::POST => remove_credential(state, id, &body).await,
        ["strongroom", "master-key", "rotate"] => match *m {
            Method::POST => crate::master_key::rotate(state, &body).await,
            _ => Err(ApiError::MethodNotAllowed(m.to_string())),
        },
        ["strongroom", "dev", "clock"] if *m == Method::POST => {
            advance_clock(state, parts.uri.query()).await
        }
        _ => Err(not_served(&path)),
    }
}

fn not_served(path: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The resource path '{path}' is not served by Strongroom."),
    )
}

/// Splits `/subscriptions/{sub}[/resourceGroups/{rg}]/providers/{provider}/{kind}/...` (e.g.
/// `Microsoft.KeyVault`, `vaults`) into the resource group (if named) and what follows `kind`.
fn arm_resource_path<'a>(
    segments: &'a [&'a str],
    provider: &str,
    kind: &str,
) -> Option<(Option<&'a str>, &'a [&'a str])> {
    let (rg, rest) = match segments {
        ["subscriptions", _sub, "resourceGroups", rg, rest @ ..] => (Some(*rg), rest),
        ["subscriptions", _sub, rest @ ..] => (None, rest),
        _ => return None,
    };
    match rest {
        ["providers", found_provider, found_kind, tail @ ..]
            if found_provider.eq_ignore_ascii_case(provider)
                && found_kind.eq_ignore_ascii_case(kind) =>
        {
            Some((rg, tail))
        }
        _ => None,
    }
}

fn arm_error(status: StatusCode, code: &'static str, message: String) -> ApiError {
    ApiError::Custom {
        status,
        code,
        message,
    }
}

fn resource_not_found(rg: &str, name: &str) -> ApiError {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.KeyVault/vaults/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

async fn find_vault(state: &AppState, rg: &str, name: &str) -> Result<Vault, ApiError> {
    let vault_name = VaultName::parse(name).map_err(|_| resource_not_found(rg, name))?;
    vaults::get(&state.vaults, &vault_name)
        .await?
        .ok_or_else(|| resource_not_found(rg, name))
}

/// ARM's access-policy entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessPolicyEntry {
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

fn to_policy(entry: &AccessPolicyEntry) -> Result<AccessPolicy, ApiError> {
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

fn policy_json(policy: &AccessPolicy) -> Value {
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

fn vault_resource(state: &AppState, vault: &Vault) -> Value {
    let config = &state.config;
    let policies: Vec<Value> = vault.policies.iter().map(policy_json).collect();
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{DEFAULT_RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/{}",
            config.subscription_id, vault.name
        ),
        "name": vault.name.as_str(),
        "type": "Microsoft.KeyVault/vaults",
        "location": "local",
        "tags": {},
        "properties": {
            "tenantId": vault.tenant_id.0,
            "sku": {"family": "A", "name": vault.sku.as_str()},
            "accessPolicies": policies,
            "vaultUri": config.vault_uri(vault.name.as_str()),
            "enabledForDeployment": false,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": vault.retention_days,
            "enableRbacAuthorization": false,
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        },
    })
}

async fn list_vaults(state: &AppState) -> Result<Response, ApiError> {
    let all = vaults::list(&state.vaults).await?;
    let value: Vec<Value> = all.iter().map(|v| vault_resource(state, v)).collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VaultPutBody {
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
}

/// ARM's `properties.sku`: `{"family":"A","name":"standard"|"premium"}`.
#[derive(Debug, Default, Deserialize)]
struct SkuBody {
    name: Option<String>,
}

async fn put_vault(
    state: &AppState,
    caller: &Caller,
    rg: &str,
    name: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
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
    let policies = put
        .properties
        .access_policies
        .as_ref()
        .map(|entries| entries.iter().map(to_policy).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    if let Some(existing) = vaults::get(&state.vaults, &vault_name).await? {
        let vault = match policies {
            Some(policies) => vaults::set_policies(&state.vaults, &existing, policies).await?,
            None => existing,
        };
        let _ = rg;
        return Ok(json_response(
            StatusCode::OK,
            &vault_resource(state, &vault),
        ));
    }
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
    // As `az keyvault create` does: without explicit policies, the creator gets everything.
    let policies = policies.unwrap_or_else(|| {
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
    let vault = vaults::create(
        &state.vaults,
        vault_name,
        TenantId(tenant_id),
        retention_days,
        sku,
        policies,
    )
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &vault_resource(state, &vault),
    ))
}

#[derive(Debug, Deserialize)]
struct PolicyUpdateBody {
    properties: PolicyUpdateProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyUpdateProperties {
    access_policies: Vec<AccessPolicyEntry>,
}

async fn update_access_policies(
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

fn principal_json(principal: &PrincipalRow) -> Value {
    json!({
        "id": principal.object_id,
        "appId": principal.app_id,
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
async fn find_principal(state: &AppState, selector: &str) -> Result<PrincipalRow, ApiError> {
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

async fn create_service_principal(state: &AppState, body: &[u8]) -> Result<Response, ApiError> {
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

async fn add_password(state: &AppState, id: &str) -> Result<Response, ApiError> {
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
async fn remove_credential(state: &AppState, id: &str, body: &[u8]) -> Result<Response, ApiError> {
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
async fn add_certificate(state: &AppState, id: &str, body: &[u8]) -> Result<Response, ApiError> {
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

async fn advance_clock(state: &AppState, query: Option<&str>) -> Result<Response, ApiError> {
    let Some(clock) = &state.config.dev_clock else {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The dev clock is disabled; start the server with --dev-clock.".to_owned(),
        ));
    };
    let seconds = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "advanceSeconds")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .filter(|s| *s >= 0)
        .ok_or_else(|| {
            arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "advanceSeconds must be a non-negative integer.".to_owned(),
            )
        })?;
    clock.advance_seconds(seconds);
    let purged = strongroom_vault::janitor::run_once(&state.vaults).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"offsetSeconds": clock.offset_seconds(), "purged": purged}),
    ))
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
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// The managed identity named `name` (user-assigned, or a host's system-assigned one).
async fn find_identity(state: &AppState, rg: &str, name: &str) -> Result<PrincipalRow, ApiError> {
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
async fn ensure_identity(state: &AppState, name: &str) -> Result<(PrincipalRow, bool), ApiError> {
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
async fn delete_identity(state: &AppState, name: &str) -> Result<Response, ApiError> {
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
