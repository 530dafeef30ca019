//! A workload host's credential file: what `identity credential create --out FILE` writes on
//! the server host, for `strongroom agent --credential-file` and `env --credential-file` on a
//! workload host, so that host never holds the administrator's credential.
//!
//! `FILE` (0600) is JSON: `{"tenantId","clientId","principalId","name","clientSecret","keyId",
//! "endDateTime","caFile","server"}`, where `server` is the server's `server.json` and `caFile`
//! names the deployment's CA certificate written beside `FILE` (`ca.pem`, public), relative to
//! `FILE`'s directory so the two can be copied together to another host.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strongroom_model::SecretValue;

use crate::datadir::ServerInfo;
use crate::error::CliError;
use crate::session::Session;
use crate::workload::{WorkloadCredential, write_private_file};

/// The CA certificate written beside a credential file.
const CA_FILE_NAME: &str = "ca.pem";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    tenant_id: String,
    client_id: String,
    principal_id: String,
    name: String,
    client_secret: String,
    key_id: String,
    end_date_time: Option<String>,
    ca_file: String,
    server: ServerInfo,
}

/// `identity credential create --name N --out FILE`: a new client secret of the identity
/// (made with the administrator's credential, which stays here), written to `FILE` with the
/// CA beside it. Prints where, and the credential's key id (for `ad sp credential delete`).
pub(crate) async fn create(
    session: &Session,
    identity: &str,
    out: &Path,
) -> Result<Value, CliError> {
    let credential = crate::workload::issue(session, identity, None).await?;
    let directory = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let ca_path = directory.join(CA_FILE_NAME);
    let ca = std::fs::read(&session.data.ca_file).map_err(|source| CliError::ReadDataFile {
        path: session.data.ca_file.clone(),
        source,
    })?;
    let write_error = |path: &Path, source: std::io::Error| CliError::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&ca_path, ca).map_err(|source| write_error(&ca_path, source))?;
    let stored = Stored {
        tenant_id: credential.tenant_id.clone(),
        client_id: credential.client_id.clone(),
        principal_id: credential.principal_id.clone(),
        name: credential.name.clone(),
        client_secret: credential.secret.expose().to_owned(),
        key_id: credential.key_id.clone(),
        end_date_time: credential.end_date_time.clone(),
        ca_file: CA_FILE_NAME.to_owned(),
        server: session.data.server.clone(),
    };
    let text = SecretValue::new(serde_json::to_string_pretty(&stored).map_err(|source| {
        CliError::InvalidDataFile {
            path: out.to_path_buf(),
            source,
        }
    })?);
    drop(stored);
    write_private_file(out, text.expose().as_bytes()).map_err(|source| write_error(out, source))?;
    Ok(json!({
        "file": absolute(out),
        "caFile": absolute(&ca_path),
        "name": credential.name,
        "clientId": credential.client_id,
        "keyId": credential.key_id,
        "endDateTime": credential.end_date_time,
    }))
}

/// Reads a credential file: the credential, and the server it is for.
pub(crate) fn read(path: &Path) -> Result<(WorkloadCredential, ServerInfo), CliError> {
    let text = SecretValue::new(std::fs::read_to_string(path).map_err(|source| {
        CliError::ReadDataFile {
            path: path.to_path_buf(),
            source,
        }
    })?);
    let stored: Stored =
        serde_json::from_str(text.expose()).map_err(|source| CliError::InvalidDataFile {
            path: path.to_path_buf(),
            source,
        })?;
    let directory = path.parent().unwrap_or_else(|| Path::new("."));
    let ca_file = absolute(&directory.join(&stored.ca_file));
    let credential = WorkloadCredential {
        tenant_id: stored.tenant_id,
        client_id: stored.client_id,
        principal_id: stored.principal_id,
        name: stored.name,
        secret: SecretValue::new(stored.client_secret),
        key_id: stored.key_id,
        end_date_time: stored.end_date_time,
        ca_file,
        server_address: stored.server.connect_address(),
        authority_host: stored.server.authority_host.clone(),
    };
    Ok((credential, stored.server))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
