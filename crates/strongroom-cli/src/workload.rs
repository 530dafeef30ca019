//! What a workload host needs from the server: a client secret of its managed identity, tokens
//! bought with it, and the agent's state file that `env --agent` reads. `strongroom agent`
//! (in the binary) and `env --agent` / `env --proxy` use these.
//!
//! The agent's state directory (`--agent-dir`, default `DATA_DIR/agent`, created 0700) holds
//! `agent.json` (0600): `{"listen","port","identity","clientId","principalId","identityHeader","pid"}`.
//! `identityHeader` is the App Service `X-IDENTITY-HEADER` secret; only the agent's user can
//! read it, which is what keeps other local users from taking the identity's tokens.

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::Method;
use serde::Deserialize;
use serde_json::json;
use strongroom_model::SecretValue;

use crate::command::DEFAULT_RESOURCE_GROUP;
use crate::datadir::DataDir;
use crate::endpoints::Target;
use crate::error::CliError;
use crate::https::{Body, HttpsClient, Outgoing};
use crate::identities::string_at;
use crate::session::{Audience, Session};

/// The agent's state file in its directory.
pub const AGENT_FILE: &str = "agent.json";

/// Why a workload operation failed: the CLI's one-line error.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.line().trim_start_matches("ERROR: "))]
pub struct WorkloadError(#[from] CliError);

/// A managed identity's client credential, and where its server is.
#[derive(Debug)]
pub struct WorkloadCredential {
    pub tenant_id: String,
    pub client_id: String,
    pub principal_id: String,
    /// The identity's name (or its host's).
    pub name: String,
    pub secret: SecretValue,
    /// The key id of the secret (Graph's `keyId`): what `ad sp credential delete` takes.
    pub key_id: String,
    /// When the secret expires (RFC 3339, as Graph writes it), if it does.
    pub end_date_time: Option<String>,
    /// `ca.pem` of the deployment: the one CA the workload trusts.
    pub ca_file: PathBuf,
    /// Where the server listens (from `server.json`).
    pub server_address: SocketAddr,
    /// `https://DOMAIN:PORT`, the server's identity host.
    pub authority_host: String,
}

/// The credential in a credential file (`identity credential create --out FILE`): what a
/// workload host uses instead of the administrator's credential.
pub fn read_credential_file(path: &Path) -> Result<WorkloadCredential, WorkloadError> {
    Ok(crate::credential_file::read(path)?.0)
}

/// How long a secret lives that is minted for a running process (the agent's, `env --proxy
/// --identity`'s) rather than written to a credential file: a leaked one is worth a day, not a
/// year. The agent replaces its secret at half this age.
pub const MINTED_SECRET_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// A new client secret for the managed identity `identity` (a user-assigned identity's name or
/// a host's), made with the administrator credential in `data_dir` (`addPassword`), named
/// `purpose` and ending `lifetime` after the server's now.
pub async fn new_workload_credential(
    data_dir: &Path,
    identity: &str,
    purpose: &str,
    lifetime: Duration,
) -> Result<WorkloadCredential, WorkloadError> {
    let session = Session::open(DataDir::load(data_dir)?)?;
    Ok(issue(&session, identity, Some((purpose, lifetime))).await?)
}

/// Deletes a secret `new_workload_credential` made (the agent's, when it stops), with the
/// administrator credential in `data_dir`: tokens bought with it stop working too.
pub async fn remove_workload_credential(
    data_dir: &Path,
    credential: &WorkloadCredential,
) -> Result<(), WorkloadError> {
    let session = Session::open(DataDir::load(data_dir)?)?;
    let token = session.token(Audience::Management).await?;
    crate::sp_credentials::remove(
        &session,
        &token,
        &credential.principal_id,
        &credential.key_id,
        false,
    )
    .await?;
    Ok(())
}

/// `new_workload_credential` with an open session. `short_lived`: the secret's display name
/// and lifetime; `None` takes Graph's default (a year), for a credential file an operator keeps.
pub(crate) async fn issue(
    session: &Session,
    identity: &str,
    short_lived: Option<(&str, Duration)>,
) -> Result<WorkloadCredential, CliError> {
    let token = session.token(Audience::Management).await?;
    let target = session
        .endpoints
        .identity_resource(DEFAULT_RESOURCE_GROUP, identity);
    let resource = session.call(Method::GET, &target, &token).await?;
    let principal_id = string_at(&resource, &["properties", "principalId"], &target)?;
    let add_password = session.endpoints.add_password(&principal_id);
    let body = match short_lived {
        None => json!({}),
        Some((purpose, lifetime)) => {
            let now = Session::server_time(&token).ok_or_else(|| CliError::UnexpectedBody {
                method: Method::POST,
                url: session
                    .endpoints
                    .token(&session.data.admin.tenant_id)
                    .to_string(),
                detail: "the access token carries no readable `iat`".to_owned(),
            })?;
            let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
            json!({"passwordCredential": {
                "displayName": purpose,
                "endDateTime": now.plus_seconds(seconds).rfc3339(),
            }})
        }
    };
    let password = session
        .call_json(Method::POST, &add_password, &token, &body)
        .await?;
    Ok(WorkloadCredential {
        tenant_id: string_at(&resource, &["properties", "tenantId"], &target)?,
        client_id: string_at(&resource, &["properties", "clientId"], &target)?,
        principal_id,
        name: string_at(&resource, &["name"], &target)?,
        secret: SecretValue::new(string_at(&password, &["secretText"], &add_password)?),
        key_id: string_at(&password, &["keyId"], &add_password)?,
        end_date_time: password
            .get("endDateTime")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        ca_file: session.data.ca_file.clone(),
        server_address: session.data.server.connect_address(),
        authority_host: session.data.server.authority_host.clone(),
    })
}

/// A token from the server's token endpoint, and how long it lives.
#[derive(Debug)]
pub struct FetchedToken {
    pub access_token: SecretValue,
    pub expires_in: i64,
}

/// Buys tokens for one credential from the server (client credentials, v2 endpoint).
pub struct TokenClient {
    http: HttpsClient,
    token_endpoint: Target,
}

impl TokenClient {
    /// A client for `server` (`https://host:port`, connected at `connect_to`), trusting `ca_file`.
    pub fn new(
        ca_file: &Path,
        server: &str,
        connect_to: SocketAddr,
        tenant_id: &str,
    ) -> Result<Self, WorkloadError> {
        let base = Target::parse_absolute(server).map_err(CliError::Usage)?;
        let http = HttpsClient::new(ca_file, connect_to).map_err(CliError::from)?;
        let tenant: String = url_segment(tenant_id);
        Ok(Self {
            http,
            token_endpoint: Target {
                path_and_query: format!("/{tenant}/oauth2/v2.0/token"),
                ..base
            },
        })
    }

    /// A token for `resource` (scope `{resource}/.default`).
    pub async fn fetch(
        &self,
        credential: &WorkloadCredential,
        resource: &str,
    ) -> Result<FetchedToken, WorkloadError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: i64,
        }
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &credential.client_id)
            .append_pair("client_secret", credential.secret.expose())
            .append_pair("scope", &format!("{resource}/.default"))
            .finish();
        let target = &self.token_endpoint;
        let response = self
            .http
            .send(Outgoing {
                method: Method::POST,
                target,
                bearer: None,
                body: Some(Body {
                    content_type: "application/x-www-form-urlencoded",
                    bytes: form.into_bytes(),
                }),
            })
            .await
            .map_err(CliError::from)?;
        if !response.status.is_success() {
            return Err(CliError::from_response(
                &Method::POST,
                target,
                response.status,
                &response.body,
            )
            .into());
        }
        let token: TokenResponse =
            serde_json::from_slice(&response.body).map_err(|error| CliError::UnexpectedBody {
                method: Method::POST,
                url: target.to_string(),
                detail: error.to_string(),
            })?;
        Ok(FetchedToken {
            access_token: SecretValue::new(token.access_token),
            expires_in: token.expires_in,
        })
    }
}

fn url_segment(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
}

/// What the agent tells `env --agent` (its `agent.json`).
#[derive(Debug)]
pub struct AgentInfo {
    pub listen: SocketAddr,
    pub identity: String,
    pub client_id: String,
    pub principal_id: String,
    pub identity_header: SecretValue,
    pub pid: u32,
}

/// Creates `dir` (0700) if needed.
pub fn create_agent_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Writes `contents` to `path`, replacing it, readable and writable by the owner only (0600
/// from the moment it exists: the file is created under a temporary name, then renamed).
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

impl AgentInfo {
    /// Writes `DIR/agent.json` (0600).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let body = json!({
            "listen": self.listen.to_string(),
            "port": self.listen.port(),
            "identity": self.identity,
            "clientId": self.client_id,
            "principalId": self.principal_id,
            "identityHeader": self.identity_header.expose(),
            "pid": self.pid,
        });
        write_private_file(&dir.join(AGENT_FILE), body.to_string().as_bytes())
    }

    pub(crate) fn read(dir: &Path) -> Result<Self, CliError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Stored {
            listen: SocketAddr,
            identity: String,
            client_id: String,
            principal_id: String,
            identity_header: String,
            pid: u32,
        }
        let path = dir.join(AGENT_FILE);
        let text = SecretValue::new(std::fs::read_to_string(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                CliError::MissingDataFile {
                    file: AGENT_FILE,
                    dir: dir.to_path_buf(),
                    hint: "is `strongroom agent` running with this --agent-dir?",
                }
            } else {
                CliError::ReadDataFile {
                    path: path.clone(),
                    source,
                }
            }
        })?);
        let stored: Stored = serde_json::from_str(text.expose())
            .map_err(|source| CliError::InvalidDataFile { path, source })?;
        Ok(Self {
            listen: stored.listen,
            identity: stored.identity,
            client_id: stored.client_id,
            principal_id: stored.principal_id,
            identity_header: SecretValue::new(stored.identity_header),
            pid: stored.pid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn agent_info_round_trips_privately() {
        let dir = tempfile::tempdir().unwrap();
        let agent_dir = dir.path().join("agent");
        create_agent_dir(&agent_dir).unwrap();
        let info = AgentInfo {
            listen: "127.0.0.1:4000".parse().unwrap(),
            identity: "web".to_owned(),
            client_id: "cid".to_owned(),
            principal_id: "oid".to_owned(),
            identity_header: SecretValue::new("h3ader".to_owned()),
            pid: 7,
        };
        info.write(&agent_dir).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&agent_dir), 0o700);
        assert_eq!(mode(&agent_dir.join(AGENT_FILE)), 0o600);
        let read = AgentInfo::read(&agent_dir).unwrap();
        assert_eq!(read.identity_header.expose(), "h3ader");
        assert_eq!((read.listen.port(), read.pid), (4000, 7));
        assert!(!format!("{read:?}").contains("h3ader"));
        let missing = AgentInfo::read(dir.path()).unwrap_err().line();
        assert!(
            missing.contains("is `strongroom agent` running"),
            "{missing}"
        );
    }
}
