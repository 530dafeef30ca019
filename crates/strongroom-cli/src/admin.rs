//! `admin rotate`: the deployment administrator's credential replaced in place. The new
//! secret is made and written to `admin.json` first, and only then are the older credentials
//! deleted (revoking their tokens), so a failure half-way leaves a working `admin.json`.
//!
//! `master-key rotate`: asks the running server to rotate its master key
//! (`POST /strongroom/master-key/rotate`), with the new passphrase when the key is derived
//! from one.

use std::path::Path;

use http::Method;
use serde_json::{Value, json};
use strongroom_model::SecretValue;
use zeroize::Zeroizing;

use crate::command::MasterKeyRotateArgs;
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

/// Rotates the server's master key; prints the server's answer
/// (`{"vaults","deploymentValues","keySource","location"}`).
pub(crate) async fn rotate_master_key(
    session: &Session,
    args: &MasterKeyRotateArgs,
) -> Result<Value, CliError> {
    let passphrase = read_new_passphrase(args)?;
    let token = session.token(Audience::Management).await?;
    let target = session.endpoints.master_key_rotation();
    let body = RotateBody {
        new_passphrase: passphrase.as_deref().map(String::as_str),
    };
    session
        .call_json(Method::POST, &target, &token, &body)
        .await
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RotateBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    new_passphrase: Option<&'a str>,
}

fn read_new_passphrase(args: &MasterKeyRotateArgs) -> Result<Option<Zeroizing<String>>, CliError> {
    read_passphrase(
        args.new_passphrase_file.as_deref(),
        args.new_passphrase_stdin,
    )
    .map_err(|source| CliError::ReadFile {
        path: args
            .new_passphrase_file
            .clone()
            .unwrap_or_else(|| "<stdin>".into()),
        source,
    })
}

/// A passphrase as `serve --master-passphrase-file|--master-passphrase-stdin` reads it (and
/// `master-key rotate` reads the new one, so the passphrase set is the one `serve` reads
/// back): a file's whole text, or stdin's first line, without the final line break. `None`
/// when neither is given.
pub fn read_passphrase(
    file: Option<&Path>,
    stdin: bool,
) -> std::io::Result<Option<Zeroizing<String>>> {
    let mut text = Zeroizing::new(String::new());
    if let Some(path) = file {
        std::fs::File::open(path)
            .and_then(|mut file| std::io::Read::read_to_string(&mut file, &mut text))?;
    } else if stdin {
        std::io::stdin().read_line(&mut text)?;
    } else {
        return Ok(None);
    }
    Ok(Some(Zeroizing::new(
        text.trim_end_matches(['\r', '\n']).to_owned(),
    )))
}
