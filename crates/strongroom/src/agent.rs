//! `strongroom agent`: the metadata service of a workload host. It holds one managed identity's
//! client secret and hands that identity's tokens to local programs over plain HTTP, in the
//! protocols `ManagedIdentityCredential` speaks (CLIENT-PROTOCOL.md §4):
//!
//! - App Service, `GET /msi/token?api-version=2019-08-01&resource=R` with `X-IDENTITY-HEADER`
//!   (the secret in `DIR/agent.json`, compared in constant time) → `expires_on` body;
//! - Azure Arc, `GET /metadata/identity/oauth2/token?api-version=2020-06-01&resource=R` with
//!   `Metadata: true`: without `Authorization` a 401 whose `WWW-Authenticate: Basic realm=PATH`
//!   names a key file just written (0600, `--arc-key-dir`, default `/var/opt/azcmagent/tokens`,
//!   the only directory Microsoft's clients accept on Linux); with `Authorization: Basic <that
//!   file's content>` the IMDS body. A key works once and for `ARC_KEY_LIFETIME_SECONDS`;
//! - IMDS on `--imds-listen` (e.g. 169.254.169.254:80 where the operator bound that address),
//!   `GET /metadata/identity/oauth2/token` with `Metadata: true` → IMDS body. IMDS has no
//!   secret: whoever reaches that address gets the identity's tokens, as on an Azure VM.
//!
//! The credential: at start the agent makes a new client secret for the identity with the
//! administrator credential of `--data-dir` (`addPassword`) and keeps it in memory only.
//! Tokens come from the server's token endpoint (client credentials, `scope=R/.default`) over
//! HTTPS trusting the deployment's `ca.pem`, cached per resource until 5 minutes before expiry.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use strongroom_cli::{
    APP_SERVICE_PATH, ARC_PATH, AgentInfo, TokenClient, WorkloadCredential, create_agent_dir,
    new_workload_credential, write_private_file,
};
use strongroom_identity::{
    IdentitySelector, IssuedToken, app_service_token_response, imds_error, imds_token_response,
};
use strongroom_model::{Clock, SecretValue, SystemClock, UnixTime};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// Where Microsoft's clients require Azure Arc key files on Linux.
pub(crate) const DEFAULT_ARC_KEY_DIR: &str = "/var/opt/azcmagent/tokens";
/// How long an Arc key file's content is accepted.
const ARC_KEY_LIFETIME_SECONDS: i64 = 60;
/// Outstanding Arc keys at most; the oldest is dropped first.
const MAX_ARC_KEYS: usize = 32;
/// A cached token is renewed this long before it expires.
const RENEW_BEFORE_SECONDS: i64 = 300;
/// Random bytes of the identity header and of Arc keys.
const SECRET_BYTES: usize = 32;

/// `strongroom agent`
#[derive(Debug, clap::Args)]
pub(crate) struct AgentArgs {
    /// The managed identity (a user-assigned identity's name, or a host's name after
    /// `vm identity assign`): the agent makes a secret for it with the administrator
    /// credential of --data-dir, and deletes it when it stops
    #[arg(long, required_unless_present = "credential_file")]
    identity: Option<String>,
    /// The identity's credential file (`identity credential create --out`): no administrator
    /// credential is needed on this host
    #[arg(long, conflicts_with = "identity")]
    credential_file: Option<PathBuf>,
    /// The Strongroom server (default: the authorityHost in DATA_DIR/server.json)
    #[arg(long)]
    server: Option<String>,
    /// Where to serve the App Service and Azure Arc protocols (plain HTTP)
    #[arg(long, default_value = "127.0.0.1:40342")]
    listen: SocketAddr,
    /// Where to serve IMDS too, e.g. 169.254.169.254:80
    #[arg(long)]
    imds_listen: Option<SocketAddr>,
    /// The agent's directory: agent.json (default: DATA_DIR/agent)
    #[arg(long)]
    agent_dir: Option<PathBuf>,
    /// Where Azure Arc key files are written
    #[arg(long, default_value = DEFAULT_ARC_KEY_DIR)]
    arc_key_dir: PathBuf,
    #[command(flatten)]
    transport: crate::transport::TransportArgs,
}

/// Which protocol a listener serves on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    AppService,
    Arc,
    Imds,
}

/// What the agent does with a request, decided from the request alone.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Serve a token for `resource`; `echo` goes into the body (Arc confirms selectors).
    Token {
        resource: String,
        echo: Vec<(&'static str, String)>,
    },
    /// Arc without (valid) key: 401 with a fresh key file.
    Challenge,
    Refuse {
        status: StatusCode,
        description: &'static str,
    },
}

/// The identity the agent serves.
#[derive(Debug, Clone)]
struct Identity {
    client_id: String,
    principal_id: String,
    name: String,
}

/// The request, as far as the decision needs it.
struct Asked<'a> {
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
}

fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn refuse(status: StatusCode, description: &'static str) -> Decision {
    Decision::Refuse {
        status,
        description,
    }
}

/// The protocol a path selects on the main listener (`imds == false`) or the IMDS listener.
fn protocol_for(path: &str, imds: bool) -> Option<Protocol> {
    let path = path.trim_end_matches('/');
    match (path, imds) {
        (ARC_PATH, true) => Some(Protocol::Imds),
        (ARC_PATH, false) => Some(Protocol::Arc),
        (APP_SERVICE_PATH, false) => Some(Protocol::AppService),
        _ => None,
    }
}

/// The checks of each protocol, in the real services' order. `identity_header` is the App
/// Service secret; `arc_key_ok` says whether an Arc key is outstanding (and consumes it).
fn decide(
    protocol: Protocol,
    asked: &Asked<'_>,
    identity: &Identity,
    identity_header: &SecretValue,
    arc_key_ok: &mut dyn FnMut(&str) -> bool,
) -> Decision {
    let param = |name: &str| query_param(asked.query, name);
    let metadata = header_str(asked.headers, "metadata")
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
    match protocol {
        Protocol::AppService => {
            // JS sends no `Metadata` header here (CLIENT-PROTOCOL.md §4.2): only the secret counts.
            let presented = header_str(asked.headers, "x-identity-header").unwrap_or_default();
            if !identity_header.ct_eq(presented) {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "The X-IDENTITY-HEADER header is missing or wrong.",
                );
            }
        }
        Protocol::Arc | Protocol::Imds => {
            if !metadata {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "Required metadata header not specified",
                );
            }
        }
    }
    if protocol == Protocol::Arc {
        let key = header_str(asked.headers, "authorization")
            .and_then(|value| value.strip_prefix("Basic "))
            .map(str::trim);
        match key {
            Some(key) if arc_key_ok(key) => {}
            _ => return Decision::Challenge,
        }
    }
    if param("api-version").is_none() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Required api-version parameter not specified",
        );
    }
    let Some(resource) = param("resource") else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Required audience parameter not specified",
        );
    };
    let client_id = param("client_id");
    let object_id = param("object_id").or_else(|| param("principal_id"));
    let resource_id = match protocol {
        Protocol::AppService => param("mi_res_id"),
        Protocol::Arc | Protocol::Imds => param("msi_res_id"),
    };
    let selector = IdentitySelector {
        client_id: client_id.as_deref(),
        object_id: object_id.as_deref(),
        resource_id: resource_id.as_deref(),
    };
    if !selector.selects(&identity.client_id, &identity.principal_id, &identity.name) {
        return refuse(StatusCode::BAD_REQUEST, "Identity not found");
    }
    // Arc confirms the identity it used for every selector asked (msal checks the echo).
    let mut echo = Vec::new();
    if protocol == Protocol::Arc {
        if let Some(object_id) = object_id {
            echo.push(("object_id", object_id));
        }
        if let Some(resource_id) = resource_id {
            echo.push(("msi_res_id", resource_id));
        }
    }
    Decision::Token { resource, echo }
}

/// A token in the cache.
struct Cached {
    access_token: SecretValue,
    not_before: UnixTime,
    expires_on: UnixTime,
}

/// An outstanding Arc key and its file.
struct ArcKey {
    key: SecretValue,
    file: PathBuf,
    issued: UnixTime,
}

struct Agent {
    identity: Identity,
    credential: WorkloadCredential,
    tokens: TokenClient,
    identity_header: SecretValue,
    arc_key_dir: PathBuf,
    cache: Mutex<HashMap<String, Cached>>,
    arc_keys: Mutex<Vec<ArcKey>>,
    clock: SystemClock,
}

impl Agent {
    /// A token for `resource` from the cache, or fresh from the server.
    async fn token(&self, resource: &str) -> anyhow::Result<IssuedToken> {
        let audience = resource.trim_end_matches('/');
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        let usable = cache
            .get(audience)
            .is_some_and(|cached| cached.expires_on.0 - RENEW_BEFORE_SECONDS > now.0);
        if !usable {
            let fetched = self.tokens.fetch(&self.credential, audience).await?;
            cache.insert(
                audience.to_owned(),
                Cached {
                    access_token: fetched.access_token,
                    not_before: now,
                    expires_on: now.plus_seconds(fetched.expires_in),
                },
            );
        }
        let cached = cache
            .get(audience)
            .context("the token cache lost an entry it just stored")?;
        Ok(IssuedToken {
            access_token: cached.access_token.expose().to_owned(),
            expires_in: cached.expires_on.0 - now.0,
            expires_on: cached.expires_on,
            not_before: cached.not_before,
        })
    }

    /// Whether `presented` is an outstanding Arc key; a matching key is used up (and its file
    /// deleted). Every outstanding key is compared, in constant time each.
    async fn take_arc_key(&self, presented: &str) -> bool {
        let now = self.clock.now();
        let mut keys = self.arc_keys.lock().await;
        let mut matched = None;
        for (index, key) in keys.iter().enumerate() {
            let live = key.issued.0 + ARC_KEY_LIFETIME_SECONDS > now.0;
            if key.key.ct_eq(presented) && live {
                matched = Some(index);
            }
        }
        match matched {
            Some(index) => {
                let key = keys.remove(index);
                let _ = std::fs::remove_file(&key.file);
                true
            }
            None => false,
        }
    }

    /// Writes a new key file (0600) and remembers its content; returns its path.
    async fn new_arc_key(&self) -> anyhow::Result<PathBuf> {
        let now = self.clock.now();
        let mut keys = self.arc_keys.lock().await;
        keys.retain(|key| {
            let keep = key.issued.0 + ARC_KEY_LIFETIME_SECONDS > now.0;
            if !keep {
                let _ = std::fs::remove_file(&key.file);
            }
            keep
        });
        if keys.len() >= MAX_ARC_KEYS {
            let oldest = keys.remove(0);
            let _ = std::fs::remove_file(&oldest.file);
        }
        let key = SecretValue::new(strongroom_crypto::random_token(SECRET_BYTES)?);
        // The name is random too: a base64url token has no `=`, which clients split on.
        let name = strongroom_crypto::random_token(16)?;
        let file = self.arc_key_dir.join(format!("{name}.key"));
        write_private_file(&file, key.expose().as_bytes())
            .with_context(|| format!("cannot write the Arc key file {}", file.display()))?;
        keys.push(ArcKey {
            key,
            file: file.clone(),
            issued: now,
        });
        Ok(file)
    }

    async fn respond(&self, imds: bool, request: &Parts) -> Response {
        let path = request.uri.path();
        let Some(protocol) = protocol_for(path, imds) else {
            return error_response(StatusCode::NOT_FOUND, "Not found");
        };
        if request.method != axum::http::Method::GET {
            return error_response(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
        }
        let asked = Asked {
            path,
            query: request.uri.query().unwrap_or_default(),
            headers: &request.headers,
        };
        // Arc keys are checked inside `decide`, which is synchronous: look the key up first.
        let presented = header_str(asked.headers, "authorization")
            .and_then(|value| value.strip_prefix("Basic "))
            .map(str::trim);
        let key_ok = match (protocol, presented) {
            (Protocol::Arc, Some(key)) => self.take_arc_key(key).await,
            _ => false,
        };
        let decision = decide(
            protocol,
            &asked,
            &self.identity,
            &self.identity_header,
            &mut |_| key_ok,
        );
        tracing::debug!(path = asked.path, ?protocol, "managed-identity request");
        match decision {
            Decision::Refuse {
                status,
                description,
            } => error_response(status, description),
            Decision::Challenge => match self.new_arc_key().await {
                Ok(file) => {
                    let realm = format!("Basic realm={}", file.display());
                    let mut response = error_response(
                        StatusCode::UNAUTHORIZED,
                        "Read the key file named in WWW-Authenticate and send its content as Authorization: Basic.",
                    );
                    match HeaderValue::from_str(&realm) {
                        Ok(value) => {
                            response
                                .headers_mut()
                                .insert(header::WWW_AUTHENTICATE, value);
                            response
                        }
                        Err(_) => {
                            error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
                        }
                    }
                }
                Err(err) => {
                    tracing::error!(error = %format!("{err:#}"), "writing an Arc key file failed");
                    error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
                }
            },
            Decision::Token { resource, echo } => match self.token(&resource).await {
                Ok(token) => {
                    let client_id = &self.identity.client_id;
                    let mut body = match protocol {
                        Protocol::AppService => {
                            app_service_token_response(&token, &resource, client_id)
                        }
                        Protocol::Arc | Protocol::Imds => {
                            imds_token_response(&token, &resource, client_id)
                        }
                    };
                    if let Value::Object(fields) = &mut body {
                        for (name, value) in echo {
                            fields.insert(name.to_owned(), Value::String(value));
                        }
                    }
                    json_response(StatusCode::OK, &body)
                }
                Err(err) => {
                    tracing::error!(error = %format!("{err:#}"), "fetching a token failed");
                    error_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "The token service could not get a token for this identity.",
                    )
                }
            },
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn error_response(status: StatusCode, description: &str) -> Response {
    json_response(status, &imds_error(description))
}

async fn serve_main(State(agent): State<Arc<Agent>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    agent.respond(false, &parts).await
}

async fn serve_imds(State(agent): State<Arc<Agent>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    agent.respond(true, &parts).await
}

/// The address to reach `server` (`https://host:port`) at: the data directory's listen address
/// when the URL names the same host, otherwise the first address the name resolves to (IPv4
/// first).
async fn connect_address(
    server: &str,
    credential: &WorkloadCredential,
) -> anyhow::Result<SocketAddr> {
    let uri: axum::http::Uri = server
        .parse()
        .with_context(|| format!("--server {server:?} is not a URL"))?;
    anyhow::ensure!(
        uri.scheme_str() == Some("https"),
        "--server {server:?} is not an https URL"
    );
    let host = uri.host().context("--server has no host")?;
    let port = uri.port_u16().unwrap_or(443);
    if server.trim_end_matches('/') == credential.authority_host.trim_end_matches('/') {
        return Ok(credential.server_address);
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .with_context(|| format!("cannot resolve {host}"))?
        .collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .with_context(|| format!("{host} resolves to no address"))
}

/// Runs the agent until SIGINT/SIGTERM.
pub(crate) async fn run(data_dir: &Path, args: AgentArgs) -> anyhow::Result<()> {
    // A secret minted here (with admin.json) is deleted at stop; a credential file's is not
    // the agent's to delete.
    let (credential, minted) = match (&args.credential_file, &args.identity) {
        (Some(file), _) => {
            let credential = strongroom_cli::read_credential_file(file)
                .with_context(|| format!("cannot read the credential file {}", file.display()))?;
            (credential, false)
        }
        (None, Some(identity)) => {
            let credential = new_workload_credential(data_dir, identity)
                .await
                .with_context(|| format!("cannot get a credential for identity {identity:?}"))?;
            (credential, true)
        }
        (None, None) => anyhow::bail!("--identity or --credential-file is required"),
    };
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| credential.authority_host.clone());
    let connect_to = connect_address(&server, &credential).await?;
    let tokens = TokenClient::new(
        &credential.ca_file,
        &server,
        connect_to,
        &credential.tenant_id,
    )?;
    let agent_dir = args
        .agent_dir
        .clone()
        .unwrap_or_else(|| strongroom_cli::default_agent_dir(data_dir));
    create_agent_dir(&agent_dir)
        .with_context(|| format!("cannot create the agent directory {}", agent_dir.display()))?;
    // Only Azure Arc needs it, and only Microsoft's directory works for Microsoft's clients,
    // which usually takes root: without it the other protocols still serve.
    if let Err(err) = create_agent_dir(&args.arc_key_dir) {
        tracing::warn!(
            error = %err,
            dir = %args.arc_key_dir.display(),
            "cannot create the Arc key directory; Azure Arc requests will fail (see --arc-key-dir)"
        );
    }

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let listen = listener.local_addr()?;
    let imds_listener = match args.imds_listen {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} for IMDS"))?,
        ),
        None => None,
    };
    let imds_listen = imds_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()?;

    let identity = Identity {
        client_id: credential.client_id.clone(),
        principal_id: credential.principal_id.clone(),
        name: credential.name.clone(),
    };
    let identity_header = SecretValue::new(strongroom_crypto::random_token(SECRET_BYTES)?);
    AgentInfo {
        listen,
        identity: identity.name.clone(),
        client_id: identity.client_id.clone(),
        principal_id: identity.principal_id.clone(),
        identity_header: SecretValue::new(identity_header.expose().to_owned()),
        pid: std::process::id(),
    }
    .write(&agent_dir)
    .with_context(|| {
        format!(
            "cannot write {}",
            agent_dir.join(strongroom_cli::AGENT_FILE).display()
        )
    })?;

    let agent = Arc::new(Agent {
        identity,
        credential,
        tokens,
        identity_header,
        arc_key_dir: args.arc_key_dir.clone(),
        cache: Mutex::new(HashMap::new()),
        arc_keys: Mutex::new(Vec::new()),
        clock: SystemClock,
    });
    let ready = json!({
        "listen": listen.to_string(),
        "port": listen.port(),
        "imdsListen": imds_listen.map(|address| address.to_string()),
        "identity": agent.identity.name,
        "clientId": agent.identity.client_id,
        "principalId": agent.identity.principal_id,
        "agentDir": agent_dir.display().to_string(),
        "pid": std::process::id(),
    });
    println!("strongroom agent ready: {ready}");
    println!(
        "  eval \"$(strongroom env --agent --agent-dir {})\" gives programs this identity",
        agent_dir.display()
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let main = Router::new()
        .fallback(serve_main)
        .with_state(Arc::clone(&agent));
    let limits = args.transport.limits();
    let main_task = tokio::spawn(crate::transport::serve_plain(
        listener,
        limits,
        main,
        stop_rx.clone(),
    ));
    let imds_task = imds_listener.map(|listener| {
        let router = Router::new()
            .fallback(serve_imds)
            .with_state(Arc::clone(&agent));
        tokio::spawn(crate::transport::serve_plain(
            listener,
            limits,
            router,
            stop_rx.clone(),
        ))
    });
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    main_task.await?;
    if let Some(task) = imds_task {
        task.await?;
    }
    // Outstanding Arc key files go with the agent.
    for key in agent.arc_keys.lock().await.drain(..) {
        let _ = std::fs::remove_file(&key.file);
    }
    if minted {
        // The secret made at start goes with the agent: a stopped agent leaves no live
        // credential behind (and its tokens stop working).
        if let Err(err) =
            strongroom_cli::remove_workload_credential(data_dir, &agent.credential).await
        {
            tracing::warn!(error = %err, "could not delete the agent's client secret");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test fixtures are literals")]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn identity() -> Identity {
        Identity {
            client_id: "c1c1c1c1-0000-0000-0000-000000000000".to_owned(),
            principal_id: "0b0b0b0b-0000-0000-0000-000000000000".to_owned(),
            name: "web-id".to_owned(),
        }
    }

    /// `protocol_for(path)` then `decide`, with header `name: value` pairs and the one Arc key
    /// `good-key`.
    #[track_caller]
    fn check(imds: bool, target: &str, headers: &[(&str, &str)], expect: Expect) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let actual = match protocol_for(path, imds) {
            None => "no protocol".to_owned(),
            Some(protocol) => {
                let asked = Asked {
                    path,
                    query,
                    headers: &map,
                };
                let secret = SecretValue::new("hdr-secret".to_owned());
                let decision = decide(protocol, &asked, &identity(), &secret, &mut |key| {
                    key == "good-key"
                });
                format!("{protocol:?} {decision:?}")
            }
        };
        expect.assert_eq(&actual);
    }

    const APP: &str = "/msi/token?api-version=2019-08-01&resource=https://vault.azure.net";
    const ARC: &str = "/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https%3A%2F%2Fvault.azure.net";

    #[test]
    fn app_service() {
        check(
            false,
            APP,
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            false,
            APP,
            &[("x-identity-header", "hdr-secreT"), ("metadata", "true")],
            expect![[
                r#"AppService Refuse { status: 401, description: "The X-IDENTITY-HEADER header is missing or wrong." }"#
            ]],
        );
        check(
            false,
            APP,
            &[],
            expect![[
                r#"AppService Refuse { status: 401, description: "The X-IDENTITY-HEADER header is missing or wrong." }"#
            ]],
        );
        check(
            false,
            &format!(
                "{APP}&client_id=C1C1C1C1-0000-0000-0000-000000000000&mi_res_id=/x/userAssignedIdentities/WEB-ID"
            ),
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            false,
            &format!("{APP}&client_id=someone-else"),
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Refuse { status: 400, description: "Identity not found" }"#]],
        );
        check(
            false,
            &format!("{APP}&principal_id=someone-else"),
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Refuse { status: 400, description: "Identity not found" }"#]],
        );
        check(
            false,
            "/msi/token?api-version=2019-08-01",
            &[("x-identity-header", "hdr-secret")],
            expect![[
                r#"AppService Refuse { status: 400, description: "Required audience parameter not specified" }"#
            ]],
        );
        check(false, "/other", &[], expect!["no protocol"]);
    }

    #[test]
    fn arc() {
        check(
            false,
            ARC,
            &[],
            expect![[
                r#"Arc Refuse { status: 400, description: "Required metadata header not specified" }"#
            ]],
        );
        check(
            false,
            ARC,
            &[("metadata", "true")],
            expect!["Arc Challenge"],
        );
        check(
            false,
            ARC,
            &[("metadata", "true"), ("authorization", "Basic bad-key")],
            expect!["Arc Challenge"],
        );
        check(
            false,
            ARC,
            &[("metadata", "true"), ("authorization", "Basic good-key")],
            expect![[r#"Arc Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            false,
            &format!(
                "{ARC}&object_id=0B0B0B0B-0000-0000-0000-000000000000&msi_res_id=/s/x/virtualMachines/web-id/"
            ),
            &[("metadata", "true"), ("authorization", "Basic good-key")],
            expect![[
                r#"Arc Token { resource: "https://vault.azure.net", echo: [("object_id", "0B0B0B0B-0000-0000-0000-000000000000"), ("msi_res_id", "/s/x/virtualMachines/web-id/")] }"#
            ]],
        );
    }

    #[test]
    fn imds() {
        let imds = "/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https://vault.azure.net";
        check(
            true,
            imds,
            &[],
            expect![[
                r#"Imds Refuse { status: 400, description: "Required metadata header not specified" }"#
            ]],
        );
        check(
            true,
            imds,
            &[("metadata", "True")],
            expect![[r#"Imds Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            true,
            &format!("{imds}&msi_res_id=/x/userAssignedIdentities/other"),
            &[("metadata", "true")],
            expect![[r#"Imds Refuse { status: 400, description: "Identity not found" }"#]],
        );
        check(true, "/msi/token", &[], expect!["no protocol"]);
        check(
            true,
            "/metadata/identity/oauth2/token?resource=r",
            &[("metadata", "true")],
            expect![[
                r#"Imds Refuse { status: 400, description: "Required api-version parameter not specified" }"#
            ]],
        );
    }
}
