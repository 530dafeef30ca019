//! `admin rotate`: the deployment administrator's credential replaced in place. The new
//! secret is made and written to `admin.json` first, and only then are the older credentials
//! deleted (revoking their tokens), so a failure half-way leaves a working `admin.json`.

use std::path::Path;

use http::Method;
use serde_json::{Value, json};
use strongroom_model::SecretValue;

use crate::error::CliError;
use crate::identities::string_at;
use crate::session::{Audience, Session};
use crate::workload::write_private_file;

/// Rotates the administrator's secret; prints `{"clientId","keyId","removed"}`.
pub(crate) async fn rotate(session: &Session, data_dir: &Path) -> Result<Value, CliError> {
    let admin = &session.data.admin;
    let token = session.token(Audience::Management).await?;
    let principal_target = session.endpoints.service_principal(&admin.object_id);
    let principal = session.call(Method::GET, &principal_target, &token).await?;
    let older = crate::sp_credentials::key_ids(&principal);

    let add_password = session.endpoints.add_password(&admin.object_id);
    let password = session
        .call_json(Method::POST, &add_password, &token, &json!({}))
        .await?;
    let key_id = string_at(&password, &["keyId"], &add_password)?;
    let secret = SecretValue::new(string_at(&password, &["secretText"], &add_password)?);
    let file = data_dir.join("admin.json");
    let body = SecretValue::new(
        json!({
            "tenantId": admin.tenant_id,
            "clientId": admin.client_id,
            "clientSecret": secret.expose(),
            "objectId": admin.object_id,
        })
        .to_string(),
    );
    write_private_file(&file, body.expose().as_bytes())
        .map_err(|source| CliError::WriteFile { path: file, source })?;

    for (old, certificate) in &older {
        crate::sp_credentials::remove(session, &token, &admin.object_id, old, *certificate).await?;
    }
    Ok(json!({ "clientId": admin.client_id, "keyId": key_id, "removed": older.len() }))
}
