//! The request pipeline in process: what a secret GET costs Strongroom itself, without TLS,
//! sockets or HTTP/1.1 parsing. `strongroom-bench` runs this example (built by
//! `scripts/bench.sh`) and puts its rows in the crypto table of BENCHMARKS.md; it lives here
//! because only the HTTP edge may see the service (the benchmark crate stays below the edge).
//!
//!     cargo run --release -p strongroom-api --example pipeline_bench -- 500ms
//!
//! Output: one JSON object per line, `{"name", "ns_per_op", "best_ns_per_op", "iterations"}`.
//!
//! The HTTPS phases can only show the difference between the server and the bare endpoint,
//! which mixes Strongroom's work with scheduling noise and the load generator's share of the
//! CPUs. Here the real service (`strongroom_api::service`, the one `serve` mounts) answers
//! `http::Request`s built in memory on a current-thread runtime: host routing, the bearer
//! token check (verifier cache hit), vault resolution, authorisation, the store read (current
//! version cache), AES-GCM open and the JSON response. The state is built as `serve` builds it
//! (SQLite store in a temporary directory, token issuer, vault context), with a vault whose
//! access policy grants the caller, and a secret written through the service first.

use base64::Engine as _;
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

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The server's allocator (`crates/strongroom/src/main.rs`), so allocation costs as it does
/// there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// The crypto table's timing loop (std only): one loop for every row of that table.
#[path = "../../strongroom-bench/src/timing.rs"]
mod timing;

const PORT: u16 = 8443;
const VAULT: &str = "bench";
const SECRET_PATH: &str = "/secrets/bench-secret?api-version=2025-07-01";
const EC_KEY_CREATE_PATH: &str = "/keys/bench-ec/create?api-version=7.5";

/// The API service with one vault, one secret, one P-256 key and a token that may use them.
struct Pipeline {
    api: strongroom_api::Api,
    /// `POST /keys/bench-ec/{version}/sign` and its ES256 body.
    sign_path: http::Uri,
    sign_body: Bytes,
    bearer: HeaderValue,
    host: HeaderValue,
    _dir: tempfile::TempDir,
}

impl Pipeline {
    /// `metrics`: count requests as `serve --metrics-listen` does.
    async fn build(metrics: bool) -> Result<Self, Error> {
        let dir = tempfile::tempdir()?;
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
        // A token bought with the principal's one secret, as the token endpoint would issue
        // it (revocation checks that credential on every request).
        let (credential, _secret) = strongroom_identity::add_client_secret(
            store.as_ref(),
            &principal.object_id,
            clock.now(),
        )
        .await?;
        let client = strongroom_identity::AuthenticatedClient {
            credential_id: credential.key_id,
            principal: principal.clone(),
        };
        let token = issuer.issue(
            &TokenRequest::for_client(&client, format!("https://vault.localhost:{PORT}")),
            clock.now(),
        )?;
        let verifier = issuer.verifier();
        let vaults = VaultCtx::new(store.clone(), clock, master);
        strongroom_vault::vaults::create(
            &vaults,
            VaultName::parse(VAULT).map_err(|_| "bad vault name")?,
            TenantId(tenant.tenant_id.clone()),
            90,
            VaultSku::Standard,
            vec![AccessPolicy {
                tenant_id: TenantId(tenant.tenant_id.clone()),
                object_id: ObjectId(principal.object_id.clone()),
                permissions: PermissionSet {
                    secrets: SecretPermission::ALL.to_vec(),
                    keys: KeyPermission::ALL.to_vec(),
                    certificates: Vec::new(),
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
        let mut state = AppState::new(config, vaults, issuer, verifier, store);
        if metrics {
            state = state.with_metrics(Arc::new(strongroom_api::Metrics::new()));
        }
        let state = Arc::new(state);
        let mut pipeline = Self {
            api: strongroom_api::service(state),
            sign_path: http::Uri::from_static("/"),
            sign_body: Bytes::new(),
            bearer: HeaderValue::from_str(&format!("Bearer {}", token.access_token))?,
            host: HeaderValue::from_str(&format!("{VAULT}.vault.localhost:{PORT}"))?,
            _dir: dir,
        };
        let body = Bytes::from_static(br#"{"value":"bench-value"}"#);
        let (status, answer) = pipeline.call(Method::PUT, body).await?;
        if status != StatusCode::OK {
            return Err(format!("seeding the secret: {status} {answer:?}").into());
        }
        let create = Bytes::from_static(br#"{"kty":"EC","crv":"P-256"}"#);
        let request = pipeline.request_to(
            Method::POST,
            http::Uri::from_static(EC_KEY_CREATE_PATH),
            create,
        );
        let (status, answer) = pipeline.send(request).await?;
        if status != StatusCode::OK {
            return Err(format!("creating the EC key: {status} {answer:?}").into());
        }
        let created: serde_json::Value = serde_json::from_slice(&answer)?;
        let version = created
            .pointer("/key/kid")
            .and_then(serde_json::Value::as_str)
            .and_then(|kid| kid.rsplit('/').next())
            .ok_or("the created key has no kid")?;
        pipeline.sign_path =
            http::Uri::try_from(format!("/keys/bench-ec/{version}/sign?api-version=7.5"))?;
        // A 32-byte digest, as strongroom-bench's REST phase signs (its bytes do not matter).
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0x5a; 32]);
        pipeline.sign_body =
            Bytes::from(serde_json::json!({ "alg": "ES256", "value": digest }).to_string());
        let (status, answer) = pipeline.send(pipeline.sign_request()).await?;
        if status != StatusCode::OK || !answer.starts_with(b"{\"kid\"") {
            return Err(format!("signing: {status} {answer:?}").into());
        }
        let (status, answer) = pipeline.call(Method::GET, Bytes::new()).await?;
        if status != StatusCode::OK || !answer.windows(11).any(|w| w == b"bench-value") {
            return Err(format!("reading the secret: {status} {answer:?}").into());
        }
        Ok(pipeline)
    }

    fn request(&self, method: Method, body: Bytes) -> Request<axum::body::Body> {
        self.request_to(method, http::Uri::from_static(SECRET_PATH), body)
    }

    fn sign_request(&self) -> Request<axum::body::Body> {
        self.request_to(Method::POST, self.sign_path.clone(), self.sign_body.clone())
    }

    fn request_to(&self, method: Method, uri: http::Uri, body: Bytes) -> Request<axum::body::Body> {
        let mut request = Request::new(axum::body::Body::from(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.host.clone());
        headers.insert(header::AUTHORIZATION, self.bearer.clone());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        request
    }

    async fn call(&self, method: Method, body: Bytes) -> Result<(StatusCode, Bytes), Error> {
        self.send(self.request(method, body)).await
    }

    async fn send(&self, request: Request<axum::body::Body>) -> Result<(StatusCode, Bytes), Error> {
        let response = self.api.clone().oneshot(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// Times `op` with the crypto table's own loop and prints the row as one JSON line.
fn bench<R>(name: &str, total: Duration, op: impl FnMut() -> R) {
    let timing = timing::time(total, op);
    println!(
        "{}",
        serde_json::json!({
            "name": name,
            "ns_per_op": timing.ns_per_op,
            "best_ns_per_op": timing.best_ns_per_op,
            "iterations": timing.iterations,
        })
    );
}

/// `pipeline_bench [TIME]`: secret GET through the API service, in process; and the cost of
/// building the request alone. TIME (e.g. `500ms`, `2s`) is the measured time per row.
fn main() -> Result<(), Error> {
    let total = match std::env::args().nth(1) {
        None => Duration::from_millis(500),
        Some(arg) => match arg.strip_suffix("ms") {
            Some(ms) => Duration::from_millis(ms.parse()?),
            None => Duration::from_secs_f64(arg.trim_end_matches('s').parse()?),
        },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pipeline = runtime.block_on(Pipeline::build(false))?;
    let metered = runtime.block_on(Pipeline::build(true))?;
    bench(
        "request construction only (subtract from the next line)",
        total,
        || pipeline.request(Method::GET, Bytes::new()),
    );
    // The answer is kept (black-boxed by `bench`) so the response body is really built.
    bench(
        "secret GET through the API service in process (no TLS, no socket)",
        total,
        || {
            runtime
                .block_on(pipeline.send(pipeline.request(Method::GET, Bytes::new())))
                .ok()
        },
    );
    bench(
        "secret GET as above, counted for --metrics-listen (requests, latency)",
        total,
        || {
            runtime
                .block_on(metered.send(metered.request(Method::GET, Bytes::new())))
                .ok()
        },
    );
    bench(
        "ES256 sign through the API service in process (no TLS, no socket)",
        total,
        || {
            runtime
                .block_on(pipeline.send(pipeline.sign_request()))
                .ok()
        },
    );
    Ok(())
}
