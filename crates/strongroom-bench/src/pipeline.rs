//! The request pipeline in process: what a secret GET costs Strongroom itself, without TLS,
//! sockets or HTTP/1.1 parsing.
//!
//! The HTTPS phases can only show the difference between the server and the bare endpoint,
//! which mixes Strongroom's work with scheduling noise and the load generator's share of the
//! CPUs. Here the real service (`strongroom_api::service`, the one `serve` mounts) answers
//! `http::Request`s built in memory on a current-thread runtime: host routing, the bearer
//! token check (verifier cache hit), vault resolution, authorisation, the store read (current
//! version cache), AES-GCM open and the JSON response. The state is built as `serve` builds it
//! (SQLite store in a temporary directory, token issuer, vault context), with a vault whose
//! access policy grants the caller, and a secret written through the service first.

use crate::crypto::{CryptoResult, bench};
use anyhow::Context;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use strongroom_api::{ApiConfig, AppState};
use strongroom_authz::AccessPolicy;
use strongroom_crypto::MasterKey;
use strongroom_identity::{IdentityConfig, TokenIssuer, TokenRequest};
use strongroom_model::{
    Clock, KeyPermission, ObjectId, PermissionSet, SecretPermission, SystemClock, TenantId,
    VaultName,
};
use strongroom_store::{SqliteStore, Store};
use strongroom_vault::{VaultCtx, VaultSku};
use tower::ServiceExt;

const PORT: u16 = 8443;
const VAULT: &str = "bench";
const SECRET_PATH: &str = "/secrets/bench-secret?api-version=2025-07-01";

/// The API service with one vault, one secret and a token that may read it.
struct Pipeline {
    api: strongroom_api::Api,
    bearer: HeaderValue,
    host: HeaderValue,
    _dir: tempfile::TempDir,
}

impl Pipeline {
    async fn build() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("bench.db"))?);
        let master = Arc::new(MasterKey::generate()?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let tenant = strongroom_identity::ensure_default_tenant(store.as_ref()).await?;
        let principal = strongroom_identity::create_service_principal(
            store.as_ref(),
            &tenant.tenant_id,
            "bench",
            false,
            clock.now(),
        )
        .await?;
        let issuer = TokenIssuer::load_or_create(
            store.as_ref(),
            &master,
            IdentityConfig {
                domain: "localhost".to_owned(),
                public_origin: format!("https://localhost:{PORT}"),
            },
        )
        .await?;
        let token = issuer.issue(
            &TokenRequest::for_principal(&principal, format!("https://vault.localhost:{PORT}")),
            clock.now(),
        )?;
        let verifier = issuer.verifier();
        let vaults = VaultCtx::new(store.clone(), clock, master);
        strongroom_vault::vaults::create(
            &vaults,
            VaultName::parse(VAULT).map_err(|_| anyhow::anyhow!("bad vault name"))?,
            TenantId(tenant.tenant_id.clone()),
            90,
            VaultSku::Standard,
            vec![AccessPolicy {
                tenant_id: TenantId(tenant.tenant_id.clone()),
                object_id: ObjectId(principal.object_id.clone()),
                permissions: PermissionSet {
                    secrets: SecretPermission::ALL.to_vec(),
                    keys: KeyPermission::ALL.to_vec(),
                },
            }],
        )
        .await?;
        let config = ApiConfig {
            domain: "localhost".to_owned(),
            port: PORT,
            tenant_id: tenant.tenant_id,
            subscription_id: "00000000-0000-0000-0000-000000000000".to_owned(),
            dev_clock: None,
        };
        let state = Arc::new(AppState::new(config, vaults, issuer, verifier, store));
        let pipeline = Self {
            api: strongroom_api::service(state),
            bearer: HeaderValue::from_str(&format!("Bearer {}", token.access_token))?,
            host: HeaderValue::from_str(&format!("{VAULT}.vault.localhost:{PORT}"))?,
            _dir: dir,
        };
        let body = Bytes::from_static(br#"{"value":"bench-value"}"#);
        let (status, answer) = pipeline.call(Method::PUT, body).await?;
        anyhow::ensure!(
            status == StatusCode::OK,
            "seeding the secret: {status} {answer:?}"
        );
        let (status, answer) = pipeline.call(Method::GET, Bytes::new()).await?;
        anyhow::ensure!(
            status == StatusCode::OK && answer.windows(11).any(|w| w == b"bench-value"),
            "reading the secret: {status} {answer:?}"
        );
        Ok(pipeline)
    }

    fn request(&self, method: Method, body: Bytes) -> Request<axum::body::Body> {
        let mut request = Request::new(axum::body::Body::from(body));
        *request.method_mut() = method;
        *request.uri_mut() = http::Uri::from_static(SECRET_PATH);
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.host.clone());
        headers.insert(header::AUTHORIZATION, self.bearer.clone());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        request
    }

    async fn call(&self, method: Method, body: Bytes) -> anyhow::Result<(StatusCode, Bytes)> {
        let response = self.api.clone().oneshot(self.request(method, body)).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// Secret GET through the API service, in process; and the cost of building the request alone.
pub(crate) fn benches(total: Duration) -> anyhow::Result<Vec<CryptoResult>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pipeline = runtime.block_on(Pipeline::build())?;
    let request_only = bench(
        "request construction only (subtract from the next line)",
        total,
        || pipeline.request(Method::GET, Bytes::new()),
    );
    let get = bench(
        "secret GET through the API service in process (no TLS, no socket)",
        total,
        || {
            runtime.block_on(async {
                let response = pipeline
                    .api
                    .clone()
                    .oneshot(pipeline.request(Method::GET, Bytes::new()))
                    .await;
                match response {
                    Ok(response) => response
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .ok(),
                    Err(never) => match never {},
                }
            })
        },
    );
    Ok(vec![request_only, get])
}
