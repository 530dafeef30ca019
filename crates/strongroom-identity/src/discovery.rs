//! The OpenID Connect discovery document MSAL fetches before its token request.
//!
//! MSAL needs only `authorization_endpoint` and `token_endpoint` (CLIENT-PROTOCOL.md §3.4);
//! the rest is there for tools that read the document to validate our tokens themselves
//! (`issuer`, `jwks_uri`). `token_endpoint` is always the v2 path, for `adfs` too: MSAL posts
//! wherever the document says, and the Rust SDK hard-codes `/{tenant}/oauth2/v2.0/token`, so
//! one path serves both (§3.1).

use crate::IdentityConfig;
use serde_json::{Value, json};

/// The document served at `/{tenant}/v2.0/.well-known/openid-configuration`,
/// `/{tenant}/.well-known/openid-configuration` and `/adfs/.well-known/openid-configuration`.
/// `tenant_path` is the tenant segment the client used (`adfs`, a GUID); `tenant_id` the tenant
/// it resolved to, which names the issuer.
pub fn openid_configuration(config: &IdentityConfig, tenant_path: &str, tenant_id: &str) -> Value {
    let base = format!("{}/{tenant_path}", config.origin());
    let host = config
        .origin()
        .split_once("://")
        .map_or(config.origin(), |(_, host)| host);
    json!({
        "issuer": config.issuer_for(tenant_id),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": [
            "aud", "iss", "iat", "nbf", "exp", "appid", "idtyp", "oid", "sub", "tid", "ver"
        ],
        "request_uri_parameter_supported": false,
        "tenant_region_scope": null,
        "cloud_instance_name": config.domain,
        "cloud_graph_host_name": host,
        "msgraph_host": host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn adfs_document_advertises_the_v2_token_endpoint() {
        let config = IdentityConfig {
            domain: "localhost".to_owned(),
            public_origin: "https://localhost:8443/".to_owned(),
        };
        let doc = openid_configuration(&config, "adfs", "11111111-2222-3333-4444-555555555555");
        expect![[r#"
            {
              "authorization_endpoint": "https://localhost:8443/adfs/oauth2/v2.0/authorize",
              "claims_supported": [
                "aud",
                "iss",
                "iat",
                "nbf",
                "exp",
                "appid",
                "idtyp",
                "oid",
                "sub",
                "tid",
                "ver"
              ],
              "cloud_graph_host_name": "localhost:8443",
              "cloud_instance_name": "localhost",
              "grant_types_supported": [
                "client_credentials"
              ],
              "id_token_signing_alg_values_supported": [
                "RS256"
              ],
              "issuer": "https://sts.strongroom.localhost/11111111-2222-3333-4444-555555555555/",
              "jwks_uri": "https://localhost:8443/adfs/discovery/v2.0/keys",
              "msgraph_host": "localhost:8443",
              "request_uri_parameter_supported": false,
              "response_modes_supported": [
                "query",
                "fragment",
                "form_post"
              ],
              "response_types_supported": [
                "code",
                "id_token",
                "code id_token",
                "id_token token"
              ],
              "scopes_supported": [
                "openid",
                "profile",
                "email",
                "offline_access"
              ],
              "subject_types_supported": [
                "pairwise"
              ],
              "tenant_region_scope": null,
              "token_endpoint": "https://localhost:8443/adfs/oauth2/v2.0/token",
              "token_endpoint_auth_methods_supported": [
                "client_secret_post"
              ]
            }"#]]
        .assert_eq(&serde_json::to_string_pretty(&doc).unwrap());
    }
}
