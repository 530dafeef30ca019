//! `keyvault secret set|show|list|delete`: the Key Vault data plane on the vault's own host,
//! with a token for the vault audience. Output is the server's JSON, as `az` prints it.

use std::collections::BTreeMap;

use http::Method;
use serde::Serialize;
use serde_json::Value;
use strongroom_model::{SecretValue, VaultName};

use crate::command::{ListSecretsArgs, SecretArgs, SetSecretArgs, ShowSecretArgs};
use crate::error::CliError;
use crate::session::{Audience, Session};

/// The `SecretSetParameters` body, borrowing the value so it is not copied again.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretSetParameters<'a> {
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<BTreeMap<&'a str, &'a str>>,
}

/// `secret set`: PUT `/secrets/{name}`; prints the new version's `SecretBundle`.
pub(crate) async fn set(session: &Session, args: &SetSecretArgs) -> Result<Value, CliError> {
    let vault = vault_name(&args.secret.vault_name)?;
    let value = match (&args.value, &args.file) {
        (Some(value), _) => value.clone(),
        (None, Some(path)) => {
            SecretValue::new(std::fs::read_to_string(path).map_err(|source| {
                CliError::ValueFile {
                    path: path.clone(),
                    source,
                }
            })?)
        }
        // clap's group makes exactly one of them present.
        (None, None) => return Err(CliError::Usage("give --value or --file".to_owned())),
    };
    let body = SecretSetParameters {
        value: value.expose(),
        content_type: args.content_type.as_deref(),
        tags: args.tags.as_ref().map(|tags| {
            tags.iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect()
        }),
    };
    let token = session.token(Audience::Vault).await?;
    let target = session.endpoints.secret(&vault, &args.secret.name, None);
    session.call_json(Method::PUT, &target, &token, &body).await
}

/// `secret show`: GET `/secrets/{name}[/{version}]`; prints the `SecretBundle`.
pub(crate) async fn show(session: &Session, args: &ShowSecretArgs) -> Result<Value, CliError> {
    let vault = vault_name(&args.secret.vault_name)?;
    let token = session.token(Audience::Vault).await?;
    let target = session
        .endpoints
        .secret(&vault, &args.secret.name, args.version.as_deref());
    session.call(Method::GET, &target, &token).await
}

/// `secret list`: every `SecretItem` of every page, as one JSON array.
pub(crate) async fn list(session: &Session, args: &ListSecretsArgs) -> Result<Value, CliError> {
    let vault = vault_name(&args.vault_name)?;
    let token = session.token(Audience::Vault).await?;
    let target = session.endpoints.secrets(&vault);
    Ok(Value::Array(session.list_all(target, &token).await?))
}

/// `secret delete`: DELETE `/secrets/{name}`; prints the `DeletedSecretBundle`.
pub(crate) async fn delete(session: &Session, args: &SecretArgs) -> Result<Value, CliError> {
    let vault = vault_name(&args.vault_name)?;
    let token = session.token(Audience::Vault).await?;
    let target = session.endpoints.secret(&vault, &args.name, None);
    session.call(Method::DELETE, &target, &token).await
}

/// The vault name is a host label here, so it is checked before it goes into SNI and `Host`.
pub(crate) fn vault_name(raw: &str) -> Result<VaultName, CliError> {
    VaultName::parse(raw).map_err(|source| CliError::VaultName {
        name: raw.to_owned(),
        source,
    })
}
