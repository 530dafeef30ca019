//! Host routing: `{vault}.vault.{domain}` and Azure's vault names (`{vault}.vault.azure.net`
//! and the other clouds' suffixes) go to the Key Vault data plane, Azure's login hosts to the
//! identity provider, `169.254.169.254` to IMDS, every other host to identity, management and
//! health. The same table decides which names the transparent proxy intercepts.

use crate::state::ApiConfig;
use axum::http::{HeaderMap, Uri, header};

/// One Azure cloud's public names, as the SDKs and tutorials hard-code them.
#[derive(Debug, PartialEq, Eq)]
pub struct AzureCloud {
    /// Vaults are `{vault}.{vault_suffix}`; the challenge resource is `https://{vault_suffix}`.
    pub vault_suffix: &'static str,
    /// The Entra host tokens come from (the challenge's `authorization`).
    pub login_host: &'static str,
    /// Every login host of this cloud (instance discovery's `aliases`), `login_host` first.
    pub login_aliases: &'static [&'static str],
    /// The alias MSAL files this cloud's tokens under (instance discovery's `preferred_cache`).
    pub preferred_cache: &'static str,
    /// Azure Resource Manager's host (`az`, the management SDKs).
    pub management_host: &'static str,
    /// Microsoft Graph's host (`az ad …`).
    pub graph_host: &'static str,
}

impl AzureCloud {
    /// The single hosts of this cloud Strongroom serves (its login aliases, ARM, Graph); vault
    /// hosts are every label under `vault_suffix`.
    pub fn served_hosts(&self) -> impl Iterator<Item = &'static str> + use<> {
        let aliases: &'static [&'static str] = self.login_aliases;
        aliases
            .iter()
            .copied()
            .chain([self.management_host, self.graph_host])
    }

    /// The challenge `resource` and token audience of this cloud's vaults.
    pub fn vault_resource(&self) -> String {
        format!("https://{}", self.vault_suffix)
    }
}

/// The clouds whose names Strongroom serves in transparent mode.
pub const AZURE_CLOUDS: [AzureCloud; 4] = [
    AzureCloud {
        vault_suffix: "vault.azure.net",
        login_host: "login.microsoftonline.com",
        login_aliases: &[
            "login.microsoftonline.com",
            "login.windows.net",
            "login.microsoft.com",
            "sts.windows.net",
        ],
        preferred_cache: "login.windows.net",
        management_host: "management.azure.com",
        graph_host: "graph.microsoft.com",
    },
    AzureCloud {
        vault_suffix: "vault.azure.cn",
        login_host: "login.chinacloudapi.cn",
        login_aliases: &["login.chinacloudapi.cn", "login.partner.microsoftonline.cn"],
        preferred_cache: "login.chinacloudapi.cn",
        management_host: "management.chinacloudapi.cn",
        graph_host: "microsoftgraph.chinacloudapi.cn",
    },
    AzureCloud {
        vault_suffix: "vault.usgovcloudapi.net",
        login_host: "login.microsoftonline.us",
        login_aliases: &["login.microsoftonline.us", "login.usgovcloudapi.net"],
        preferred_cache: "login.microsoftonline.us",
        management_host: "management.usgovcloudapi.net",
        graph_host: "graph.microsoft.us",
    },
    AzureCloud {
        vault_suffix: "vault.microsoftazure.de",
        login_host: "login.microsoftonline.de",
        login_aliases: &["login.microsoftonline.de"],
        preferred_cache: "login.microsoftonline.de",
        management_host: "management.microsoftazure.de",
        graph_host: "graph.microsoft.de",
    },
];

/// The address of the instance metadata service (IMDS) on every Azure VM.
pub const IMDS_HOST: &str = "169.254.169.254";

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostTarget<'a> {
    /// The raw vault label (validated later, after authentication) and whose names it uses.
    Vault(&'a str, Zone),
    /// One of Azure's login hosts: the identity provider under Entra's name.
    Login(&'static AzureCloud),
    /// `169.254.169.254`: the managed-identity token endpoint.
    Imds,
    /// One of Azure's Resource Manager hosts: the management API's ARM routes only, answered
    /// with that cloud's names (vault URIs).
    Management(&'static AzureCloud),
    /// One of Microsoft Graph's hosts: the management API's Graph routes only.
    Graph,
    Service,
    /// A `Host` that is not a host name (`[`, spaces, stray brackets): refused with a 400.
    Invalid,
}

/// Whose names a vault host uses: ours (`{vault}.vault.{domain}`) or an Azure cloud's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    Local,
    Azure(&'static AzureCloud),
}

/// `https://` and the request's host with port, lower-cased: the `Host` header (HTTP/1.1) or
/// the URI authority (HTTP/2 `:authority`, proxy absolute-form). One exactly sized buffer:
/// every request needs the host to route (`origin_host`) and a vault request the origin for
/// the ids it answers with, so this is the one allocation for both.
pub(crate) fn request_origin(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let raw: &str = match uri.authority() {
        Some(authority) => authority.as_str(),
        None => headers.get(header::HOST)?.to_str().ok()?,
    };
    let mut origin = String::with_capacity(HTTPS.len() + raw.len());
    origin.push_str(HTTPS);
    origin.extend(raw.chars().map(|c| c.to_ascii_lowercase()));
    Some(origin)
}

const HTTPS: &str = "https://";

/// The host part (with port) of an origin made by `request_origin`.
pub(crate) fn origin_host(origin: &str) -> &str {
    origin.strip_prefix(HTTPS).unwrap_or(origin)
}

pub fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // An IPv6 literal, `]` included; without a `]` the text names no host and is
        // returned whole (`route` refuses it).
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

/// The single label in front of `.{suffix}`, if `name` is exactly `{label}.{suffix}`.
fn label_before<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let label = name.strip_suffix(suffix)?.strip_suffix('.')?;
    (!label.is_empty() && !label.contains('.')).then_some(label)
}

/// The Azure cloud whose login host (or alias) `name` is.
pub(crate) fn login_cloud(name: &str) -> Option<&'static AzureCloud> {
    AZURE_CLOUDS
        .iter()
        .find(|cloud| cloud.login_aliases.contains(&name))
}

pub(crate) fn route<'a>(config: &ApiConfig, host: Option<&'a str>) -> HostTarget<'a> {
    let Some(host) = host else {
        return HostTarget::Service;
    };
    if !is_host_syntax(host) {
        return HostTarget::Invalid;
    }
    let name = strip_port(host).trim_end_matches('.');
    // `label.vault.{domain}`, matched without formatting the suffix on every request.
    if let Some(label) = name
        .strip_suffix(config.domain.as_str())
        .and_then(|rest| rest.strip_suffix("vault."))
        .and_then(|rest| label_before(rest, ""))
    {
        return HostTarget::Vault(label, Zone::Local);
    }
    for cloud in &AZURE_CLOUDS {
        if let Some(label) = label_before(name, cloud.vault_suffix) {
            return HostTarget::Vault(label, Zone::Azure(cloud));
        }
    }
    if let Some(cloud) = login_cloud(name) {
        return HostTarget::Login(cloud);
    }
    if name == IMDS_HOST {
        return HostTarget::Imds;
    }
    if let Some(cloud) = AZURE_CLOUDS
        .iter()
        .find(|cloud| cloud.management_host == name)
    {
        return HostTarget::Management(cloud);
    }
    if AZURE_CLOUDS.iter().any(|cloud| cloud.graph_host == name) {
        return HostTarget::Graph;
    }
    HostTarget::Service
}

/// Whether `host` (`name[:port]` or `[ipv6][:port]`) is made of what a host and port can
/// hold, with balanced brackets: anything else names no host of ours.
fn is_host_syntax(host: &str) -> bool {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':');
    match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').is_some_and(|(address, port)| {
            !address.is_empty()
                && address
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
                && (port.is_empty()
                    || port
                        .strip_prefix(':')
                        .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
        }),
        None => !host.is_empty() && host.bytes().all(allowed),
    }
}

/// Whether the transparent proxy terminates TLS for `name` (a host name without port): the
/// Azure names above and our own domain's names. Everything else is refused: Strongroom is
/// never an open proxy.
pub fn intercepts(domain: &str, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let own = name == domain
        || name == "localhost"
        || name
            .strip_suffix(domain)
            .is_some_and(|prefix| prefix.ends_with('.'));
    own || login_cloud(&name).is_some()
        || AZURE_CLOUDS.iter().any(|cloud| {
            label_before(&name, cloud.vault_suffix).is_some()
                || cloud.management_host == name
                || cloud.graph_host == name
        })
}

/// Whether a certificate for `name` (a DNS name, possibly a `*.` wildcard) would be valid for
/// a host Strongroom itself serves: the deployment CA must never sign one, or anyone allowed
/// to create a certificate could impersonate the server (its vaults, its identity service,
/// the Azure names it intercepts) to every client that trusts that CA.
pub fn certificate_name_is_served(domain: &str, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let Some(parent) = name.strip_prefix("*.") else {
        return intercepts(domain, &name);
    };
    // A wildcard matches one label under `parent`: any served name with that parent, or
    // (for the suffix-served families) any label at all.
    let azure_names = AZURE_CLOUDS
        .iter()
        .map(|cloud| cloud.vault_suffix)
        .chain(AZURE_CLOUDS.iter().flat_map(AzureCloud::served_hosts))
        .chain(["localhost"]);
    let has_parent = |served: &str| {
        served
            .split_once('.')
            .is_some_and(|(_, served_parent)| served_parent == parent)
    };
    intercepts(domain, parent)
        || intercepts(domain, &format!("probe.{parent}"))
        || has_parent(domain)
        || azure_names.into_iter().any(has_parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_names_the_server_serves() {
        let domain = "strongroom.example";
        for served in [
            "strongroom.example",
            "myvault.vault.strongroom.example",
            "*.vault.strongroom.example",
            "*.strongroom.example",
            "*.example",
            "localhost",
            "*.localhost",
            "x.vault.azure.net",
            "*.vault.azure.net",
            "*.azure.net",
            "login.microsoftonline.com",
            "*.microsoftonline.com",
            "LOGIN.MICROSOFTONLINE.COM.",
            "sts.windows.net",
            "*.windows.net",
            "management.azure.com",
            "*.azure.com",
            "graph.microsoft.com",
            "*.microsoft.com",
        ] {
            assert!(certificate_name_is_served(domain, served), "{served}");
        }
        for other in [
            "app.contoso.com",
            "*.contoso.com",
            "service.internal",
            "vault.azure.net.contoso.com",
            "*.net",
            "microsoft.com",
        ] {
            assert!(!certificate_name_is_served(domain, other), "{other}");
        }
    }

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
            HostTarget::Vault("myvault", Zone::Local)
        );
        assert_eq!(
            route(&c, Some("myvault.vault.localhost")),
            HostTarget::Vault("myvault", Zone::Local)
        );
        assert_eq!(route(&c, Some("localhost:8443")), HostTarget::Service);
        assert_eq!(route(&c, Some("vault.localhost:8443")), HostTarget::Service);
        assert_eq!(
            route(&c, Some("a.b.vault.localhost:8443")),
            HostTarget::Service
        );
        assert_eq!(route(&c, Some("[::1]:8443")), HostTarget::Service);
        assert_eq!(route(&c, None), HostTarget::Service);
        for bad in ["[", "[::1", "[]", "a b", "x]", "[::1]x", "host/", ""] {
            assert_eq!(route(&c, Some(bad)), HostTarget::Invalid, "{bad:?}");
        }
        assert_eq!(strip_port("["), "[");
        assert_eq!(strip_port("[::1]:8443"), "[::1]");
    }

    #[test]
    fn routes_azure_names() {
        let c = config();
        assert_eq!(
            route(&c, Some("myvault.vault.azure.net")),
            HostTarget::Vault("myvault", Zone::Azure(&AZURE_CLOUDS[0]))
        );
        assert_eq!(
            route(&c, Some("cn.vault.azure.cn:443")),
            HostTarget::Vault("cn", Zone::Azure(&AZURE_CLOUDS[1]))
        );
        assert_eq!(route(&c, Some("vault.azure.net")), HostTarget::Service);
        assert_eq!(route(&c, Some("a.b.vault.azure.net")), HostTarget::Service);
        assert_eq!(
            route(&c, Some("login.microsoftonline.com")),
            HostTarget::Login(&AZURE_CLOUDS[0])
        );
        assert_eq!(
            route(&c, Some("login.windows.net:443")),
            HostTarget::Login(&AZURE_CLOUDS[0])
        );
        assert_eq!(route(&c, Some("169.254.169.254")), HostTarget::Imds);
        assert_eq!(route(&c, Some("169.254.169.254:80")), HostTarget::Imds);
        assert_eq!(
            route(&c, Some("management.azure.com")),
            HostTarget::Management(&AZURE_CLOUDS[0])
        );
        assert_eq!(
            route(&c, Some("management.usgovcloudapi.net:443")),
            HostTarget::Management(&AZURE_CLOUDS[2])
        );
        assert_eq!(route(&c, Some("graph.microsoft.com")), HostTarget::Graph);
        assert_eq!(
            route(&c, Some("microsoftgraph.chinacloudapi.cn")),
            HostTarget::Graph
        );
        assert_eq!(
            route(&c, Some("x.management.azure.com")),
            HostTarget::Service
        );
    }

    #[test]
    fn intercepts_only_served_names() {
        for name in [
            "myvault.vault.azure.net",
            "x.vault.usgovcloudapi.net",
            "login.microsoftonline.com",
            "login.windows.net",
            "login.microsoftonline.us",
            "login.chinacloudapi.cn",
            "localhost",
            "v.vault.localhost",
            "LOGIN.MICROSOFTONLINE.COM.",
            "management.azure.com",
            "graph.microsoft.com",
            "management.chinacloudapi.cn",
            "graph.microsoft.us",
        ] {
            assert!(intercepts("localhost", name), "{name}");
        }
        for name in [
            "example.com",
            "vault.azure.net.example.com",
            "a.b.vault.azure.net",
            "x.management.azure.com",
            "azure.com",
            "portal.azure.com",
            "microsoft.com",
            "evillocalhost",
            "169.254.169.254",
        ] {
            assert!(!intercepts("localhost", name), "{name}");
        }
    }
}
