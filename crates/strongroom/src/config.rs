//! Configuration of `strongroom serve`: defaults, then `STRONGROOM_*` variables, then flags
//! (clap merges the last two). Built once in main and handed down in parts.

use anyhow::Context;
use std::net::SocketAddr;

/// Flags of `strongroom serve`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (HTTPS). Port 0 picks a free port; the readiness line tells which.
    #[arg(long, env = "STRONGROOM_LISTEN", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// The port clients reach this node on, when it differs from the listener's (several
    /// nodes behind a load balancer: the balancer's port). It is part of the vault audience,
    /// the challenge and the authority, so every node of a deployment must be given the same
    #[arg(long, env = "STRONGROOM_PUBLIC_PORT")]
    pub public_port: Option<u16>,
    /// Vaults are served at `{vault}.vault.{domain}`; identity and management at `{domain}`.
    #[arg(long, env = "STRONGROOM_DOMAIN", default_value = "localhost")]
    pub domain: String,
    /// Lets administrators move the server's clock forward (for tests of retention and expiry).
    #[arg(long, env = "STRONGROOM_DEV_CLOCK")]
    pub dev_clock: bool,
    /// Transparent mode: destinations (`host:port`, or `host` for port 443; comma-separated)
    /// whose `CONNECT` tunnels are relayed to the real host. Every other name Strongroom does
    /// not serve is refused.
    #[arg(long, env = "STRONGROOM_PROXY_PASSTHROUGH", value_delimiter = ',')]
    pub proxy_passthrough: Vec<String>,
    /// Secure key release: an attestation authority to trust, as `<URL>=<path to its JWKS
    /// file>` (repeatable; comma-separated in the variable). A release policy's `authority`
    /// must be one of these URLs, and a target token must be signed by a key of its JWKS.
    #[arg(
        long = "attestation-authority",
        env = "STRONGROOM_ATTESTATION_AUTHORITY",
        value_delimiter = ',',
        value_name = "URL=JWKS_FILE"
    )]
    pub attestation_authorities: Vec<String>,
    /// `azure`: answer as Azure Key Vault does past its published per-vault transaction
    /// limits (429 `Throttled` with `Retry-After`), so clients can test their retry logic.
    #[arg(long, env = "STRONGROOM_THROTTLE", value_enum, default_value = "off")]
    pub throttle: Throttle,
    /// Write an audit log: one hash-chained JSON line per request and per token issued, in the
    /// field names of Azure Key Vault's AuditEvent log (`-`: standard output)
    #[arg(long, env = "STRONGROOM_AUDIT_LOG")]
    pub audit_log: Option<std::path::PathBuf>,
    /// Rotate the audit log before it grows past this many bytes
    #[arg(long, env = "STRONGROOM_AUDIT_LOG_MAX_BYTES", default_value_t = crate::audit_log::DEFAULT_MAX_BYTES)]
    pub audit_log_max_bytes: u64,
    /// Rotated audit log files kept (`PATH.1` … `PATH.N`)
    #[arg(long, env = "STRONGROOM_AUDIT_LOG_KEEP", default_value_t = crate::audit_log::DEFAULT_KEEP)]
    pub audit_log_keep: usize,
    /// Serve `/metrics` (Prometheus), `/healthz` and `/readyz` over plain HTTP on this address
    /// (e.g. 127.0.0.1:9464); without it, nothing is counted
    #[arg(long, env = "STRONGROOM_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds between runs of the background work (purging what retention ended, key
    /// rotations, certificate renewals). With several nodes on one database, each period runs
    /// on one node only
    #[arg(long, env = "STRONGROOM_JANITOR_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub janitor_interval: u64,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub transport: crate::transport::TransportArgs,
    #[command(flatten)]
    pub master_key: crate::master_key::MasterKeyArgs,
}

/// Where a deployment's data lives (`serve`, `backup`, `migrate`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// The database: absent, the embedded SQLite file in the data directory; or a PostgreSQL
    /// URL (`postgres://user:password@host:5432/db?sslmode=disable`) that several nodes share
    #[arg(long = "store", env = "STRONGROOM_STORE_URL", value_name = "URL")]
    pub url: Option<String>,
}

/// What `--store` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreLocation {
    /// `DATA_DIR/strongroom.db`.
    Embedded,
    /// A PostgreSQL connection URL (it may carry a password: never print it whole).
    Postgres(String),
}

/// `url` without a password: the one in the user part, and a `password=` parameter.
pub(crate) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.to_ascii_lowercase().starts_with("password="))
                .collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

impl StoreArgs {
    pub(crate) fn location(&self) -> anyhow::Result<StoreLocation> {
        match self.url.as_deref().map(str::trim) {
            None | Some("") => Ok(StoreLocation::Embedded),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreLocation::Postgres(url.to_owned()))
            }
            Some(_) => anyhow::bail!(
                "--store must be a PostgreSQL URL (postgres://…), or absent for the embedded database"
            ),
        }
    }
}

/// `serve --throttle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Throttle {
    /// No transaction limits.
    Off,
    /// Azure Key Vault's published per-vault limits (per 10 seconds).
    Azure,
}

impl From<Throttle> for strongroom_api::ThrottleMode {
    fn from(throttle: Throttle) -> Self {
        match throttle {
            Throttle::Off => Self::Off,
            Throttle::Azure => Self::Azure,
        }
    }
}

impl ServeArgs {
    /// The trusted attestation authorities, each JWKS file read and parsed now, so a bad
    /// file stops start-up instead of failing every release later.
    pub(crate) fn attestation_authorities(
        &self,
    ) -> anyhow::Result<Vec<strongroom_vault::keys::AttestationAuthority>> {
        self.attestation_authorities
            .iter()
            .map(|entry| {
                let (url, path) = entry.split_once('=').with_context(|| {
                    format!("--attestation-authority '{entry}' is not <URL>=<JWKS file>")
                })?;
                let jwks = std::fs::read(path)
                    .with_context(|| format!("reading the JWKS of {url} from {path}"))?;
                Ok(strongroom_vault::keys::AttestationAuthority::from_jwks(
                    url, &jwks,
                )?)
            })
            .collect()
    }

    /// Validates the domain: a lower-case DNS name (letters, digits, hyphens, dots).
    pub(crate) fn domain(&self) -> anyhow::Result<String> {
        let domain = self.domain.trim_end_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        anyhow::ensure!(valid, "--domain '{}' is not a valid DNS name", self.domain);
        Ok(domain)
    }
}
