//! `env --vault V`: the application's own principal for vault `V`, so that an application
//! never receives the administrator's credential. It is made on first use
//! (`strongroom-app-V`, with an access policy on `V` only: every secret, key and certificate
//! permission) and reused: its client id and secret are kept in `DATA_DIR/apps/V.json`
//! (0600, beside `admin.json`, which is no more secret than this). Reuse checks that the
//! principal still holds that secret; if it was deleted or revoked, a new one is made.

use std::path::{Path, PathBuf};

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strongroom_model::{
    CertificatePermission, KeyPermission, SecretPermission, SecretValue, VaultName,
};

use crate::command::DEFAULT_RESOURCE_GROUP;
use crate::endpoints::PolicyOperation;
use crate::error::CliError;
use crate::identities::string_at;
use crate::session::{Audience, Session};
use crate::workload::{create_agent_dir, write_private_file};

/// Where application credentials are kept, in the data directory.
const APPS_DIR: &str = "apps";

/// An application principal's credential for one vault.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VaultApp {
    pub(crate) client_id: String,
    object_id: String,
    key_id: String,
    pub(crate) client_secret: String,
}

/// The application principal of `vault`: reused when it still works, else made (with its
/// access policy on `vault`).
pub(crate) async fn for_vault(
    session: &Session,
    data_dir: &Path,
    vault: &VaultName,
) -> Result<VaultApp, CliError> {
    let token = session.token(Audience::Management).await?;
    let vault_target = session
        .endpoints
        .vault_resource(DEFAULT_RESOURCE_GROUP, vault.as_str());
    // The vault must exist: a principal for a vault that does not is of no use.
    session.call(Method::GET, &vault_target, &token).await?;

    let file = app_file(data_dir, vault);
    if let Some(app) = read(&file)?
        && still_holds(session, &token, &app).await?
    {
        return Ok(app);
    }
    let principals = session.endpoints.service_principals();
    let created = session
        .call_json(
            Method::POST,
            &principals,
            &token,
            &json!({ "displayName": format!("strongroom-app-{}", vault.as_str()) }),
        )
        .await?;
    let object_id = string_at(&created, &["id"], &principals)?;
    let add_password = session.endpoints.add_password(&object_id);
    let password = session
        .call_json(Method::POST, &add_password, &token, &json!({}))
        .await?;
    let policy = json!({
        "tenantId": session.data.admin.tenant_id,
        "objectId": object_id,
        "permissions": {
            "secrets": SecretPermission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "keys": KeyPermission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "certificates": CertificatePermission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        },
    });
    let policies = session.endpoints.access_policies(
        DEFAULT_RESOURCE_GROUP,
        vault.as_str(),
        PolicyOperation::Add,
    );
    session
        .call_json(
            Method::PUT,
            &policies,
            &token,
            &json!({ "properties": { "accessPolicies": [policy] } }),
        )
        .await?;
    let app = VaultApp {
        client_id: string_at(&created, &["appId"], &principals)?,
        object_id,
        key_id: string_at(&password, &["keyId"], &add_password)?,
        client_secret: string_at(&password, &["secretText"], &add_password)?,
    };
    write(&file, &app)?;
    Ok(app)
}

fn app_file(data_dir: &Path, vault: &VaultName) -> PathBuf {
    data_dir
        .join(APPS_DIR)
        .join(format!("{}.json", vault.as_str()))
}

fn read(file: &Path) -> Result<Option<VaultApp>, CliError> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => SecretValue::new(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CliError::ReadDataFile {
                path: file.to_path_buf(),
                source,
            });
        }
    };
    // A file we cannot read back is replaced by a new principal.
    Ok(serde_json::from_str(text.expose()).ok())
}

fn write(file: &Path, app: &VaultApp) -> Result<(), CliError> {
    let failed = |source: std::io::Error| CliError::WriteFile {
        path: file.to_path_buf(),
        source,
    };
    if let Some(dir) = file.parent() {
        create_agent_dir(dir).map_err(failed)?;
    }
    let text = SecretValue::new(serde_json::to_string(app).map_err(|source| {
        CliError::InvalidDataFile {
            path: file.to_path_buf(),
            source,
        }
    })?);
    write_private_file(file, text.expose().as_bytes()).map_err(failed)
}

/// Whether the principal still exists and still holds the kept secret.
async fn still_holds(
    session: &Session,
    token: &SecretValue,
    app: &VaultApp,
) -> Result<bool, CliError> {
    let target = session.endpoints.service_principal(&app.object_id);
    let principal = match session.call(Method::GET, &target, token).await {
        Ok(principal) => principal,
        Err(CliError::Azure { code, .. }) if code == "Request_ResourceNotFound" => {
            return Ok(false);
        }
        Err(other) => return Err(other),
    };
    let holds = principal
        .get("passwordCredentials")
        .and_then(Value::as_array)
        .is_some_and(|credentials| {
            credentials
                .iter()
                .any(|c| c.get("keyId").and_then(Value::as_str) == Some(app.key_id.as_str()))
        });
    Ok(holds && principal.get("appId").and_then(Value::as_str) == Some(app.client_id.as_str()))
}
