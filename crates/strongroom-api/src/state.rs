//! What every handler can reach: configuration, the vault service context and identity.

use crate::throttle::{ThrottleMode, TokenGuard, VaultThrottle};
use std::sync::Arc;
use strongroom_identity::{AssertionReplayGuard, PrincipalStates, TokenIssuer, TokenVerifier};
use strongroom_model::ManualClock;
use strongroom_store::Store;
use strongroom_vault::VaultCtx;

/// The API's part of the configuration, built once by the binary.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Vaults live at `{vault}.vault.{domain}`.
    pub domain: String,
    /// The port clients use (the bound port).
    pub port: u16,
    /// The deployment's default tenant id.
    pub tenant_id: String,
    /// The subscription id shown in ARM resource ids.
    pub subscription_id: String,
    /// Present only with `--dev-clock`: lets the management API move time.
    pub dev_clock: Option<ManualClock>,
}

impl ApiConfig {
    /// `https://{domain}:{port}`: identity, management, health.
    pub fn public_origin(&self) -> String {
        format!("https://{}:{}", self.domain, self.port)
    }

    /// The audience a vault token is issued for and the challenge's `resource`. A strict
    /// parent of every vault host, port included, so the SDKs' challenge verification passes
    /// (CLIENT-PROTOCOL.md 2.7).
    pub fn vault_resource(&self) -> String {
        format!("https://vault.{}:{}", self.domain, self.port)
    }

    pub fn vault_audiences(&self) -> Vec<String> {
        vec![
            self.vault_resource(),
            format!("https://vault.{}", self.domain),
        ]
        .into_iter()
        .chain(crate::host::AZURE_CLOUDS.iter().map(|c| c.vault_resource()))
        .collect()
    }

    pub fn management_audiences(&self) -> Vec<String> {
        // Each cloud's Resource Manager and Graph resources, with and without the trailing
        // slash (`az` asks for `https://management.core.windows.net/` and, for Graph,
        // `https://graph.microsoft.com/`).
        let resources = crate::host::AZURE_CLOUDS
            .iter()
            .flat_map(|cloud| [cloud.management_host, cloud.graph_host])
            .chain(["management.core.windows.net"])
            .map(|host| format!("https://{host}"));
        resources
            .flat_map(|resource| [format!("{resource}/"), resource])
            .chain([format!("https://management.{}", self.domain)])
            .collect()
    }

    pub fn vault_uri(&self, vault: &str) -> String {
        format!("https://{vault}.vault.{}:{}/", self.domain, self.port)
    }

    /// The `WWW-Authenticate` value of the Key Vault challenge (CLIENT-PROTOCOL.md 1.2).
    pub fn challenge(&self) -> String {
        format!(
            "Bearer authorization=\"{}/{}\", resource=\"{}\"",
            self.public_origin(),
            self.tenant_id,
            self.vault_resource()
        )
    }

    /// The challenge on an Azure vault name (transparent mode): Entra's authority for our
    /// tenant and the cloud's resource, exactly as Azure sends it, so the SDKs' resource
    /// verification passes unchanged (CLIENT-PROTOCOL.md 2.7).
    pub fn azure_challenge(&self, cloud: &crate::host::AzureCloud) -> String {
        format!(
            "Bearer authorization=\"https://{}/{}\", resource=\"{}\"",
            cloud.login_host,
            self.tenant_id,
            cloud.vault_resource()
        )
    }
}

/// Shared state of the server.
pub struct AppState {
    pub config: ApiConfig,
    pub vaults: VaultCtx,
    pub issuer: TokenIssuer,
    pub verifier: TokenVerifier,
    /// Handed to identity functions (credentials, principals); the API never queries it.
    pub store: Arc<dyn Store>,
    /// Revocation: every verified token is checked against its principal's current state.
    pub principals: PrincipalStates,
    /// The `jti`s of accepted client assertions (replay).
    pub assertion_replay: AssertionReplayGuard,
    /// The token endpoint's limit on failed authentications (always on).
    pub(crate) token_guard: TokenGuard,
    /// The same limit for people: wrong passwords per user name, wrong device codes per
    /// browser (`signin/`).
    pub(crate) signin_guard: TokenGuard,
    /// Argon2id runs (sign-in's password checks, Graph's new passwords) that may run at
    /// once: each is deliberately slow.
    pub(crate) password_checks: tokio::sync::Semaphore,
    /// Azure's per-vault transaction limits, with `serve --throttle azure`.
    pub(crate) vault_throttle: Option<VaultThrottle>,
    /// Rotates the master key where the binary keeps it (`None`: the route answers 404).
    pub(crate) master_key_rotator: Option<Arc<dyn crate::MasterKeyRotator>>,
    /// Role assignments and definitions for vaults that authorise by Azure RBAC.
    pub(crate) rbac: crate::rbac_cache::RbacCache,
    /// Derived from `config` once, because every request needs them.
    pub(crate) derived: Derived,
    /// Kept with `serve --metrics-listen`; `None`: nothing is counted.
    pub(crate) metrics: Option<Arc<crate::Metrics>>,
    /// With `serve --audit-log`: every request and every token issued leaves an event.
    pub(crate) audit: Option<Arc<dyn crate::AuditSink>>,
    /// Keeps the caches above right when other nodes write the store.
    pub(crate) coherence: crate::coherence::Coherence,
}

/// Concurrent password checks: each takes a core for tens of milliseconds, and the machine
/// must keep serving everything else while someone guesses.
const PASSWORD_CHECKS: usize = 2;

pub(crate) struct Derived {
    pub(crate) challenge: String,
    pub(crate) vault_audiences: Vec<String>,
    pub(crate) management_audiences: Vec<String>,
}

impl AppState {
    pub fn new(
        config: ApiConfig,
        vaults: VaultCtx,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        store: Arc<dyn Store>,
    ) -> Self {
        let derived = Derived {
            challenge: config.challenge(),
            vault_audiences: config.vault_audiences(),
            management_audiences: config.management_audiences(),
        };
        Self {
            vaults,
            issuer,
            verifier,
            store,
            principals: PrincipalStates::default(),
            assertion_replay: AssertionReplayGuard::default(),
            token_guard: TokenGuard::new(config.dev_clock.clone()),
            signin_guard: TokenGuard::new(config.dev_clock.clone()),
            password_checks: tokio::sync::Semaphore::new(PASSWORD_CHECKS),
            vault_throttle: None,
            master_key_rotator: None,
            rbac: crate::rbac_cache::RbacCache::default(),
            config,
            derived,
            metrics: None,
            audit: None,
            coherence: crate::coherence::Coherence::default(),
        }
    }

    /// Lets administrators rotate the master key (`POST /strongroom/master-key/rotate`).
    #[must_use]
    pub fn with_master_key_rotator(mut self, rotator: Arc<dyn crate::MasterKeyRotator>) -> Self {
        self.master_key_rotator = Some(rotator);
        self
    }

    /// Counts requests and tokens into `metrics` (the binary serves them on its metrics
    /// listener).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<crate::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Counts a background job's tick (when metrics are kept).
    pub fn record_job(
        &self,
        job: &'static str,
        outcome: crate::JobOutcome,
        took: std::time::Duration,
    ) {
        if let Some(metrics) = &self.metrics {
            metrics.job_finished(job, outcome, took);
        }
    }

    /// (cache, hits, misses) of each in-memory cache, for `Metrics::set_live_source`.
    pub fn cache_counts(&self) -> Vec<(&'static str, u64, u64)> {
        [
            ("vault", self.vaults.vault_cache_counts()),
            ("token", self.verifier.cache_counts()),
            ("principal", self.principals.cache_counts()),
            ("rbac", &self.rbac.lookups),
        ]
        .into_iter()
        .map(|(cache, counts)| {
            let (hits, misses) = counts.read();
            (cache, hits, misses)
        })
        .collect()
    }

    /// Records an audit event for every request and every token issued into `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<dyn crate::AuditSink>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Answers as Azure does past its published per-vault limits (`ThrottleMode::Azure`).
    pub fn with_throttle(mut self, mode: ThrottleMode) -> Self {
        self.vault_throttle = match mode {
            ThrottleMode::Off => None,
            ThrottleMode::Azure => Some(VaultThrottle::new(self.config.dev_clock.clone())),
        };
        self
    }
}
