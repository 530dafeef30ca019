//! Host routing: `{vault}.vault.{domain}` goes to the Key Vault data plane, every other host
//! to identity, management and health.

use crate::state::ApiConfig;
use axum::http::{HeaderMap, Uri, header};

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostTarget {
    /// The raw vault label (validated later, after authentication).
    Vault(String),
    Service,
}

/// The request's host with port, lower-cased: the `Host` header (HTTP/1.1) or the URI
/// authority (HTTP/2 `:authority`).
pub(crate) fn request_host(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let raw = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })?;
    Some(raw.to_ascii_lowercase())
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| &host[..=h.len()]);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

pub(crate) fn route(config: &ApiConfig, host: Option<&str>) -> HostTarget {
    let Some(host) = host else {
        return HostTarget::Service;
    };
    let name = strip_port(host).trim_end_matches('.');
    let suffix = format!(".vault.{}", config.domain);
    match name.strip_suffix(&suffix) {
        Some(label) if !label.is_empty() && !label.contains('.') => {
            HostTarget::Vault(label.to_owned())
        }
        _ => HostTarget::Service,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ApiConfig {
        ApiConfig {
            domain: "localhost".into(),
            port: 8443,
            tenant_id: "t".into(),
            subscription_id: "s".into(),
            dev_clock: None,
        }
    }

    #[test]
    fn routes_by_host() {
        let c = config();
        assert_eq!(
            route(&c, Some("myvault.vault.localhost:8443")),
            HostTarget::Vault("myvault".into())
        );
        assert_eq!(
            route(&c, Some("myvault.vault.localhost")),
            HostTarget::Vault("myvault".into())
        );
        assert_eq!(route(&c, Some("localhost:8443")), HostTarget::Service);
        assert_eq!(route(&c, Some("vault.localhost:8443")), HostTarget::Service);
        assert_eq!(
            route(&c, Some("a.b.vault.localhost:8443")),
            HostTarget::Service
        );
        assert_eq!(route(&c, Some("[::1]:8443")), HostTarget::Service);
        assert_eq!(route(&c, None), HostTarget::Service);
    }
}
