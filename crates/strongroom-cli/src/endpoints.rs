//! Every URL the CLI calls, built in one place from `server.json`.
//!
//! A `Target` is a logical URL: the host name the server routes on (`localhost`,
//! `V.vault.localhost`) plus path and query. The HTTPS client sends that host as SNI and
//! `Host` but always connects to the listen address, so `*.vault.localhost` need not resolve.
//! Path segments that come from the user are percent-encoded here and nowhere else.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use strongroom_model::VaultName;

use crate::datadir::ServerInfo;

/// Key Vault data-plane api-version the CLI speaks (what `az` 2.7x sends for secrets).
pub(crate) const DATA_PLANE_API_VERSION: &str = "2025-07-01";
/// Key Vault data-plane api-version for keys (the spec in `shared/reference/keyvault-openapi`).
pub(crate) const KEYS_API_VERSION: &str = "2026-04-01";
/// ARM api-version for `Microsoft.KeyVault/vaults`; the server accepts any.
pub(crate) const MANAGEMENT_API_VERSION: &str = "2023-07-01";
/// ARM api-version for `Microsoft.ManagedIdentity`; the server accepts any.
pub(crate) const IDENTITY_API_VERSION: &str = "2023-01-31";
/// ARM api-version for `Microsoft.Compute/virtualMachines`; the server accepts any.
pub(crate) const COMPUTE_API_VERSION: &str = "2024-07-01";
/// Scope for management and Graph calls: the server accepts `management.azure.com` tokens for both.
pub(crate) const MANAGEMENT_SCOPE: &str = "https://management.azure.com/.default";

/// Everything but RFC 3986 unreserved characters is encoded in a path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A logical `https://host:port/path?query` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Origin form: starts with `/`.
    pub(crate) path_and_query: String,
}

impl Target {
    /// `host:port`, the `Host` header.
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Reads an absolute `https` URL such as a `nextLink`.
    pub(crate) fn parse_absolute(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|error| format!("{url:?} is not a URL: {error}"))?;
        if uri.scheme_str() != Some("https") {
            return Err(format!("{url:?} is not an https URL"));
        }
        let host = uri.host().ok_or_else(|| format!("{url:?} has no host"))?;
        Ok(Self {
            host: host.to_owned(),
            port: uri.port_u16().unwrap_or(443),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned()),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "https://{}:{}{}",
            self.host, self.port, self.path_and_query
        )
    }
}

/// Which `accessPolicies/{operation}` to call.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PolicyOperation {
    Add,
    Remove,
}

/// URL builder for one deployment.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    domain: String,
    port: u16,
    subscription_id: String,
}

impl Endpoints {
    pub(crate) fn new(server: &ServerInfo) -> Self {
        Self {
            domain: server.domain.clone(),
            port: server.port,
            subscription_id: server.subscription_id.clone(),
        }
    }

    fn identity(&self, path_and_query: String) -> Target {
        Target {
            host: self.domain.clone(),
            port: self.port,
            path_and_query,
        }
    }

    fn vault_host(&self, vault: &VaultName) -> String {
        format!("{}.vault.{}", vault.as_str(), self.domain)
    }

    /// `https://V.vault.DOMAIN:PORT`, the `AZURE_KEYVAULT_URL` SDKs take (no trailing slash).
    pub(crate) fn vault_url(&self, vault: &VaultName) -> String {
        format!("https://{}:{}", self.vault_host(vault), self.port)
    }

    /// The scope a data-plane token is asked for, matching the server's 401 challenge resource.
    pub(crate) fn vault_scope(&self) -> String {
        format!("https://vault.{}:{}/.default", self.domain, self.port)
    }

    /// `POST /{tenant}/oauth2/v2.0/token`
    pub(crate) fn token(&self, tenant_id: &str) -> Target {
        self.identity(format!("/{}/oauth2/v2.0/token", segment(tenant_id)))
    }

    /// `…/vaults/{name}` in resource group `resource_group`.
    pub(crate) fn vault_resource(&self, resource_group: &str, name: &str) -> Target {
        self.identity(format!(
            "{}?api-version={MANAGEMENT_API_VERSION}",
            self.vault_resource_path(resource_group, name)
        ))
    }

    /// Vaults of the subscription, or of one resource group.
    pub(crate) fn vaults(&self, resource_group: Option<&str>) -> Target {
        let scope = match resource_group {
            Some(resource_group) => format!(
                "/subscriptions/{}/resourceGroups/{}",
                segment(&self.subscription_id),
                segment(resource_group)
            ),
            None => format!("/subscriptions/{}", segment(&self.subscription_id)),
        };
        self.identity(format!(
            "{scope}/providers/Microsoft.KeyVault/vaults?api-version={MANAGEMENT_API_VERSION}"
        ))
    }

    /// `…/vaults/{name}/accessPolicies/{add|remove}`
    pub(crate) fn access_policies(
        &self,
        resource_group: &str,
        name: &str,
        operation: PolicyOperation,
    ) -> Target {
        let operation = match operation {
            PolicyOperation::Add => "add",
            PolicyOperation::Remove => "remove",
        };
        self.identity(format!(
            "{}/accessPolicies/{operation}?api-version={MANAGEMENT_API_VERSION}",
            self.vault_resource_path(resource_group, name)
        ))
    }

    /// Strongroom's own `…/vaults/{name}/certificateEvents` (the events certificates'
    /// `EmailContacts` actions recorded), in `resource_group` when one is named.
    pub(crate) fn certificate_events(&self, resource_group: Option<&str>, name: &str) -> Target {
        let group = resource_group
            .map(|group| format!("/resourceGroups/{}", segment(group)))
            .unwrap_or_default();
        self.identity(format!(
            "/subscriptions/{}{group}/providers/Microsoft.KeyVault/vaults/{}/certificateEvents?api-version={MANAGEMENT_API_VERSION}",
            segment(&self.subscription_id),
            segment(name)
        ))
    }

    fn vault_resource_path(&self, resource_group: &str, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
            segment(&self.subscription_id),
            segment(resource_group),
            segment(name)
        )
    }

    /// `…/Microsoft.ManagedIdentity/userAssignedIdentities/{name}` in `resource_group`.
    pub(crate) fn identity_resource(&self, resource_group: &str, name: &str) -> Target {
        self.identity(format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}?api-version={IDENTITY_API_VERSION}",
            segment(&self.subscription_id),
            segment(resource_group),
            segment(name)
        ))
    }

    /// User-assigned identities of the subscription, or of one resource group.
    pub(crate) fn identities(&self, resource_group: Option<&str>) -> Target {
        let scope = match resource_group {
            Some(resource_group) => format!(
                "/subscriptions/{}/resourceGroups/{}",
                segment(&self.subscription_id),
                segment(resource_group)
            ),
            None => format!("/subscriptions/{}", segment(&self.subscription_id)),
        };
        self.identity(format!(
            "{scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version={IDENTITY_API_VERSION}"
        ))
    }

    /// `…/Microsoft.Compute/virtualMachines/{host}`: a host's system-assigned identity.
    pub(crate) fn host_resource(&self, resource_group: &str, host: &str) -> Target {
        self.identity(format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{}?api-version={COMPUTE_API_VERSION}",
            segment(&self.subscription_id),
            segment(resource_group),
            segment(host)
        ))
    }

    /// `GET /strongroom/audit/events?{query}`: the audit log's events (Strongroom's own API).
    pub(crate) fn audit_events(&self, query: &[(&str, &str)]) -> Target {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        self.identity(format!("/strongroom/audit/events?{query}"))
    }

    /// `POST /strongroom/master-key/rotate`
    pub(crate) fn master_key_rotation(&self) -> Target {
        self.identity("/strongroom/master-key/rotate".to_owned())
    }

    /// `POST /v1.0/servicePrincipals`
    pub(crate) fn service_principals(&self) -> Target {
        self.identity("/v1.0/servicePrincipals".to_owned())
    }

    /// `GET /v1.0/servicePrincipals(appId='{appId}')`; OData doubles a `'` inside the literal.
    pub(crate) fn service_principal_by_app_id(&self, app_id: &str) -> Target {
        let literal = app_id.replace('\'', "''");
        self.identity(format!(
            "/v1.0/servicePrincipals(appId='{}')",
            segment(&literal).to_string().replace("%27", "'")
        ))
    }

    /// `/v1.0/servicePrincipals/{objectId}`
    pub(crate) fn service_principal(&self, object_id: &str) -> Target {
        self.identity(format!("/v1.0/servicePrincipals/{}", segment(object_id)))
    }

    /// `POST /v1.0/servicePrincipals/{objectId}/addPassword`
    pub(crate) fn add_password(&self, object_id: &str) -> Target {
        self.identity(format!(
            "/v1.0/servicePrincipals/{}/addPassword",
            segment(object_id)
        ))
    }

    /// Graph `POST /v1.0/servicePrincipals/{objectId}/removePassword` (a client secret) or
    /// `…/removeKey` (a certificate).
    pub(crate) fn remove_credential(&self, object_id: &str, certificate: bool) -> Target {
        let action = if certificate {
            "removeKey"
        } else {
            "removePassword"
        };
        self.identity(format!(
            "/v1.0/servicePrincipals/{}/{action}",
            segment(object_id)
        ))
    }

    /// Graph `POST /v1.0/servicePrincipals/{id}/addCertificate` (Strongroom's shortcut for
    /// `keyCredentials`): registers a public certificate.
    pub(crate) fn add_certificate(&self, object_id: &str) -> Target {
        self.identity(format!(
            "/v1.0/servicePrincipals/{}/addCertificate",
            segment(object_id)
        ))
    }

    /// Graph `/v1.0/users[?$filter=…]`
    pub(crate) fn users(&self, filter: Option<&str>) -> Target {
        let query = filter.map_or_else(String::new, |filter| {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("$filter", filter)
                .finish();
            format!("?{query}")
        });
        self.identity(format!("/v1.0/users{query}"))
    }

    /// Graph `/v1.0/users/{id-or-userPrincipalName}`
    pub(crate) fn user(&self, id_or_upn: &str) -> Target {
        self.identity(format!("/v1.0/users/{}", segment(id_or_upn)))
    }

    /// `/secrets/{name}[/{version}]` on the vault's host.
    pub(crate) fn secret(&self, vault: &VaultName, name: &str, version: Option<&str>) -> Target {
        let version = version.map(|version| format!("/{}", segment(version)));
        Target {
            host: self.vault_host(vault),
            port: self.port,
            path_and_query: format!(
                "/secrets/{}{}?api-version={DATA_PLANE_API_VERSION}",
                segment(name),
                version.unwrap_or_default()
            ),
        }
    }

    /// A keys-API path on the vault's host: `segments` joined by `/`, each percent-encoded
    /// (`["keys", name, ""]` is `/keys/{name}/`, the latest version as the SDKs ask for it),
    /// with `maxresults` when given.
    pub(crate) fn keys_api(
        &self,
        vault: &VaultName,
        segments: &[&str],
        maxresults: Option<u32>,
    ) -> Target {
        let path: String = segments
            .iter()
            .map(|raw| format!("/{}", segment(raw)))
            .collect();
        let maxresults = maxresults
            .map(|count| format!("&maxresults={count}"))
            .unwrap_or_default();
        Target {
            host: self.vault_host(vault),
            port: self.port,
            path_and_query: format!("{path}?api-version={KEYS_API_VERSION}{maxresults}"),
        }
    }

    /// `/secrets` on the vault's host (first page).
    pub(crate) fn secrets(&self, vault: &VaultName) -> Target {
        Target {
            host: self.vault_host(vault),
            port: self.port,
            path_and_query: format!("/secrets?api-version={DATA_PLANE_API_VERSION}"),
        }
    }
}

fn segment(raw: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(raw, PATH_SEGMENT)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints {
            domain: "localhost".to_owned(),
            port: 4443,
            subscription_id: "00000000-0000-0000-0000-000000000001".to_owned(),
        }
    }

    #[test]
    fn urls() {
        let e = endpoints();
        let v1 = VaultName::parse("My-Vault").unwrap();
        let urls = [
            e.token("72f988bf-86f1-41af-91ab-2d7cd011db47"),
            e.token("a/b"),
            e.vault_resource("rg", "v1"),
            e.vault_resource("my rg", "v1/../x"),
            e.vaults(None),
            e.vaults(Some("rg")),
            e.access_policies("rg", "v1", PolicyOperation::Add),
            e.access_policies("rg", "v1", PolicyOperation::Remove),
            e.certificate_events(None, "v1"),
            e.certificate_events(Some("my rg"), "v1"),
            e.service_principals(),
            e.service_principal_by_app_id("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            e.service_principal_by_app_id("o'neil/x"),
            e.add_password("3fa85f64"),
            e.identity_resource("rg", "web id"),
            e.identities(None),
            e.identities(Some("rg")),
            e.host_resource("rg", "web-01"),
            e.secret(&v1, "db-password", None),
            e.secret(&v1, "db-password", Some("0123456789abcdef0123456789abcdef")),
            e.secret(&v1, "a/b?c", Some("")),
            e.secrets(&v1),
            e.keys_api(&v1, &["keys", "k1", ""], None),
            e.keys_api(&v1, &["keys", "a/b?c", "0123", "encrypt"], None),
            e.keys_api(&v1, &["keys"], Some(5)),
            e.keys_api(&v1, &["rng"], None),
        ]
        .map(|target| target.to_string())
        .join("\n");
        expect![[r#"
            https://localhost:4443/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token
            https://localhost:4443/a%2Fb/oauth2/v2.0/token
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v1?api-version=2023-07-01
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/my%20rg/providers/Microsoft.KeyVault/vaults/v1%2F..%2Fx?api-version=2023-07-01
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v1/accessPolicies/add?api-version=2023-07-01
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v1/accessPolicies/remove?api-version=2023-07-01
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.KeyVault/vaults/v1/certificateEvents?api-version=2023-07-01
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/my%20rg/providers/Microsoft.KeyVault/vaults/v1/certificateEvents?api-version=2023-07-01
            https://localhost:4443/v1.0/servicePrincipals
            https://localhost:4443/v1.0/servicePrincipals(appId='3fa85f64-5717-4562-b3fc-2c963f66afa6')
            https://localhost:4443/v1.0/servicePrincipals(appId='o''neil%2Fx')
            https://localhost:4443/v1.0/servicePrincipals/3fa85f64/addPassword
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web%20id?api-version=2023-01-31
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31
            https://localhost:4443/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-01?api-version=2024-07-01
            https://my-vault.vault.localhost:4443/secrets/db-password?api-version=2025-07-01
            https://my-vault.vault.localhost:4443/secrets/db-password/0123456789abcdef0123456789abcdef?api-version=2025-07-01
            https://my-vault.vault.localhost:4443/secrets/a%2Fb%3Fc/?api-version=2025-07-01
            https://my-vault.vault.localhost:4443/secrets?api-version=2025-07-01
            https://my-vault.vault.localhost:4443/keys/k1/?api-version=2026-04-01
            https://my-vault.vault.localhost:4443/keys/a%2Fb%3Fc/0123/encrypt?api-version=2026-04-01
            https://my-vault.vault.localhost:4443/keys?api-version=2026-04-01&maxresults=5
            https://my-vault.vault.localhost:4443/rng?api-version=2026-04-01"#]]
        .assert_eq(&urls);
    }

    #[test]
    fn vault_url_and_scope() {
        let e = endpoints();
        let v1 = VaultName::parse("v1x").unwrap();
        expect![[r#"https://v1x.vault.localhost:4443 https://vault.localhost:4443/.default"#]]
            .assert_eq(&format!("{} {}", e.vault_url(&v1), e.vault_scope()));
        assert_eq!(
            e.secret(&v1, "s", None).authority(),
            "v1x.vault.localhost:4443"
        );
    }

    #[test]
    fn next_links() {
        let parsed = [
            "https://v1.vault.localhost:4443/secrets?api-version=2025-07-01&$skiptoken=abc",
            "https://localhost/x",
            "http://localhost:1/x",
            "not a url",
            "/relative",
        ]
        .map(|url| format!("{:?}", Target::parse_absolute(url)))
        .join("\n");
        expect![[r#"
            Ok(Target { host: "v1.vault.localhost", port: 4443, path_and_query: "/secrets?api-version=2025-07-01&$skiptoken=abc" })
            Ok(Target { host: "localhost", port: 443, path_and_query: "/x" })
            Err("\"http://localhost:1/x\" is not an https URL")
            Err("\"not a url\" is not a URL: invalid uri character")
            Err("\"/relative\" is not an https URL")"#]]
        .assert_eq(&parsed);
    }
}
