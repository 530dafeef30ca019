//! Configuration of `strongroom serve`: defaults, then `STRONGROOM_*` variables, then flags
//! (clap merges the last two). Built once in main and handed down in parts.

use std::net::SocketAddr;

/// Flags of `strongroom serve`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (HTTPS). Port 0 picks a free port; the readiness line tells which.
    #[arg(long, env = "STRONGROOM_LISTEN", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Vaults are served at `{vault}.vault.{domain}`; identity and management at `{domain}`.
    #[arg(long, env = "STRONGROOM_DOMAIN", default_value = "localhost")]
    pub domain: String,
    /// Lets administrators move the server's clock forward (for tests of retention and expiry).
    #[arg(long, env = "STRONGROOM_DEV_CLOCK")]
    pub dev_clock: bool,
    /// Transparent mode: hosts (`host` or `host:port`, comma-separated) whose `CONNECT` tunnels
    /// are relayed to the real host. Every other name Strongroom does not serve is refused.
    #[arg(long, env = "STRONGROOM_PROXY_PASSTHROUGH", value_delimiter = ',')]
    pub proxy_passthrough: Vec<String>,
}

impl ServeArgs {
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
