//! `keyvault create|list|show|delete|set-policy|delete-policy`: the management API
//! (`Microsoft.KeyVault/vaults`, ARM-shaped) and, to resolve `--spn`, Graph.

use http::Method;
use serde_json::{Value, json};
use strongroom_model::{SecretPermission, SecretValue};

use crate::command::{
    CreateVaultArgs, DeletePolicyArgs, ListVaultsArgs, PrincipalArgs, SetPolicyArgs, VaultArgs,
};
use crate::endpoints::PolicyOperation;
use crate::error::CliError;
use crate::session::{Audience, Session};

/// `keyvault create`: PUT the vault. Without `accessPolicies` the server gives the caller
/// every permission, as `az keyvault create` does; an existing vault keeps its policies.
pub(crate) async fn create(session: &Session, args: &CreateVaultArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let mut properties = json!({
        "tenantId": session.data.admin.tenant_id,
        "sku": { "family": "A", "name": args.sku.as_str() },
    });
    if let Some(retention_days) = args.retention_days {
        properties["softDeleteRetentionInDays"] = json!(retention_days);
    }
    let body = json!({ "location": args.location, "properties": properties });
    let target = session
        .endpoints
        .vault_resource(&args.vault.resource_group, &args.vault.name);
    session.call_json(Method::PUT, &target, &token, &body).await
}

/// `keyvault list`: the vaults as a JSON array, every page.
pub(crate) async fn list(session: &Session, args: &ListVaultsArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session.endpoints.vaults(args.resource_group.as_deref());
    Ok(Value::Array(session.list_all(target, &token).await?))
}

/// `keyvault show`
pub(crate) async fn show(session: &Session, args: &VaultArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    get_vault(session, args, &token).await
}

/// `keyvault delete`: like `az`, prints nothing, also when the vault did not exist (204).
pub(crate) async fn delete(session: &Session, args: &VaultArgs) -> Result<(), CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .vault_resource(&args.resource_group, &args.name);
    session.call(Method::DELETE, &target, &token).await?;
    Ok(())
}

/// `keyvault set-policy`: merge secret, key and certificate permissions into the principal's policy, then
/// print the vault as `az` does.
pub(crate) async fn set_policy(session: &Session, args: &SetPolicyArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let object_id = resolve_principal(session, &args.principal, &token).await?;
    let mut secrets: Vec<&str> = args
        .secret_permissions
        .iter()
        .flat_map(|permission| permission.permissions())
        .map(SecretPermission::as_str)
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    let mut keys: Vec<&str> = args
        .key_permissions
        .iter()
        .flat_map(|permission| permission.names())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut certificates: Vec<&str> = args
        .certificate_permissions
        .iter()
        .flat_map(|permission| permission.names())
        .collect();
    certificates.sort_unstable();
    certificates.dedup();
    let policy = json!({
        "tenantId": session.data.admin.tenant_id,
        "objectId": object_id,
        "permissions": { "keys": keys, "secrets": secrets, "certificates": certificates },
    });
    change_policies(session, &args.vault, PolicyOperation::Add, policy, &token).await
}

/// `keyvault delete-policy`: remove the principal's policy, then print the vault.
pub(crate) async fn delete_policy(
    session: &Session,
    args: &DeletePolicyArgs,
) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let object_id = resolve_principal(session, &args.principal, &token).await?;
    let policy = json!({
        "tenantId": session.data.admin.tenant_id,
        "objectId": object_id,
        "permissions": { "keys": [], "secrets": [], "certificates": [] },
    });
    change_policies(
        session,
        &args.vault,
        PolicyOperation::Remove,
        policy,
        &token,
    )
    .await
}

async fn change_policies(
    session: &Session,
    vault: &VaultArgs,
    operation: PolicyOperation,
    policy: Value,
    token: &SecretValue,
) -> Result<Value, CliError> {
    let target = session
        .endpoints
        .access_policies(&vault.resource_group, &vault.name, operation);
    let body = json!({ "properties": { "accessPolicies": [policy] } });
    session
        .call_json(Method::PUT, &target, token, &body)
        .await?;
    get_vault(session, vault, token).await
}

async fn get_vault(
    session: &Session,
    args: &VaultArgs,
    token: &SecretValue,
) -> Result<Value, CliError> {
    let target = session
        .endpoints
        .vault_resource(&args.resource_group, &args.name);
    session.call(Method::GET, &target, token).await
}

/// The object id a policy is keyed by: given, or looked up from the application id.
async fn resolve_principal(
    session: &Session,
    principal: &PrincipalArgs,
    token: &SecretValue,
) -> Result<String, CliError> {
    let app_id = match (&principal.object_id, &principal.spn) {
        (Some(object_id), _) => return Ok(object_id.clone()),
        (None, Some(app_id)) => app_id,
        // clap's group makes exactly one of them present.
        (None, None) => {
            return Err(CliError::Usage("give --spn or --object-id".to_owned()));
        }
    };
    let target = session.endpoints.service_principal_by_app_id(app_id);
    let principal = session.call(Method::GET, &target, token).await?;
    match principal.get("id") {
        Some(Value::String(object_id)) => Ok(object_id.clone()),
        _ => Err(CliError::UnexpectedBody {
            method: Method::GET,
            url: target.to_string(),
            detail: "the service principal has no `id`".to_owned(),
        }),
    }
}
