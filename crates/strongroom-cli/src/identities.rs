//! `identity create|show|list|delete`, `vm create`, `vm identity assign` and `ad sp credential
//! reset`:
//! managed identities through the ARM-shaped management API (`Microsoft.ManagedIdentity`,
//! `Microsoft.Compute/virtualMachines`) and client secrets through Graph's `addPassword`.

use http::Method;
use serde_json::{Value, json};

use crate::command::{
    CredentialResetArgs, HostArgs, IdentityArgs, ListIdentitiesArgs, VmCreateArgs,
};
use crate::endpoints::Target;
use crate::error::CliError;
use crate::session::{Audience, Session};

/// `identity create`: PUT the identity (an existing one is returned unchanged).
pub(crate) async fn create(session: &Session, args: &IdentityArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .identity_resource(&args.resource_group, &args.name);
    let resource = session
        .call_json(Method::PUT, &target, &token, &json!({"location": "local"}))
        .await?;
    flatten(&resource, &target)
}

/// `identity show`
pub(crate) async fn show(session: &Session, args: &IdentityArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .identity_resource(&args.resource_group, &args.name);
    let resource = session.call(Method::GET, &target, &token).await?;
    flatten(&resource, &target)
}

/// `identity list`: every identity, flattened like `az identity list`.
pub(crate) async fn list(session: &Session, args: &ListIdentitiesArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session.endpoints.identities(args.resource_group.as_deref());
    let resources = session.list_all(target.clone(), &token).await?;
    resources
        .iter()
        .map(|resource| flatten(resource, &target))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// `identity delete`: prints nothing, also when the identity did not exist.
pub(crate) async fn delete(session: &Session, args: &IdentityArgs) -> Result<(), CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .identity_resource(&args.resource_group, &args.name);
    session.call(Method::DELETE, &target, &token).await?;
    Ok(())
}

/// `vm create`: registers the host (an existing one is returned as it is) and prints its
/// resource.
pub(crate) async fn create_host(session: &Session, args: &VmCreateArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .host_resource(&args.host.resource_group, &args.host.name);
    session
        .call_json(
            Method::PUT,
            &target,
            &token,
            &json!({"location": args.location}),
        )
        .await
}

/// `vm identity assign`: what `az vm identity assign` prints.
pub(crate) async fn assign_host(session: &Session, args: &HostArgs) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .host_resource(&args.resource_group, &args.name);
    let body = json!({"identity": {"type": "SystemAssigned"}});
    let host = session
        .call_json(Method::PATCH, &target, &token, &body)
        .await?;
    let principal_id = string_at(&host, &["identity", "principalId"], &target)?;
    Ok(json!({
        "systemAssignedIdentity": principal_id,
        "userAssignedIdentities": {},
    }))
}

/// `ad sp credential reset --id APPID`: a new client secret for the principal, printed as
/// `{"appId","password","tenant"}`, or with `--create-cert` a new certificate credential,
/// `{"appId","fileWithCertAndPrivateKey","password":null,"tenant"}`. As `az` does, the older
/// credentials (secrets and certificates) are then deleted, unless `--append`; the new one
/// exists before any old one goes, so the principal is never without a credential.
pub(crate) async fn reset_credential(
    session: &Session,
    args: &CredentialResetArgs,
) -> Result<Value, CliError> {
    let token = session.token(Audience::Management).await?;
    let lookup = session.endpoints.service_principal_by_app_id(&args.id);
    let principal = session.call(Method::GET, &lookup, &token).await?;
    let object_id = string_at(&principal, &["id"], &lookup)?;
    let older = if args.append {
        Vec::new()
    } else {
        crate::sp_credentials::key_ids(&principal)
    };
    let app_id = string_at(&principal, &["appId"], &lookup)?;
    // Only a certificate needs the name (it becomes the subject).
    let display_name = if args.cert.create_cert {
        string_at(&principal, &["displayName"], &lookup)?
    } else {
        String::new()
    };
    let mut output = json!({ "appId": app_id });
    crate::principals::add_credential(
        session,
        &token,
        &object_id,
        &app_id,
        &display_name,
        &args.cert,
        &mut output,
    )
    .await?;
    for (key_id, certificate) in older {
        crate::sp_credentials::remove(session, &token, &object_id, &key_id, certificate).await?;
    }
    Ok(output)
}

/// An ARM identity resource as `az identity` prints it: the properties lifted to the top,
/// `resourceGroup` taken from the id.
fn flatten(resource: &Value, target: &Target) -> Result<Value, CliError> {
    let id = string_at(resource, &["id"], target)?;
    let resource_group = id
        .split('/')
        .skip_while(|segment| !segment.eq_ignore_ascii_case("resourceGroups"))
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok(json!({
        "clientId": string_at(resource, &["properties", "clientId"], target)?,
        "id": id,
        "location": resource.get("location").cloned().unwrap_or(Value::Null),
        "name": string_at(resource, &["name"], target)?,
        "principalId": string_at(resource, &["properties", "principalId"], target)?,
        "resourceGroup": resource_group,
        "tags": resource.get("tags").cloned().unwrap_or_else(|| json!({})),
        "tenantId": string_at(resource, &["properties", "tenantId"], target)?,
        "type": resource.get("type").cloned().unwrap_or(Value::Null),
    }))
}

/// The string at `path` in the answer to a GET of `target`, or an error naming the call.
pub(crate) fn string_at(body: &Value, path: &[&str], target: &Target) -> Result<String, CliError> {
    string_in_answer(Method::GET, body, path, target)
}

/// The string at `path` in the JSON answer to `method target`, or an error naming the request.
pub(crate) fn string_in_answer(
    method: Method,
    body: &Value,
    path: &[&str],
    target: &Target,
) -> Result<String, CliError> {
    let found = path.iter().try_fold(body, |value, key| value.get(key));
    match found {
        Some(Value::String(value)) => Ok(value.clone()),
        _ => Err(CliError::UnexpectedBody {
            method,
            url: target.to_string(),
            detail: format!("no `{}` in the answer", path.join(".")),
        }),
    }
}
