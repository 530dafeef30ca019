//! The OpenID Connect discovery document MSAL fetches before its token request.
//!
//! MSAL Python needs only `authorization_endpoint` and `token_endpoint` (CLIENT-PROTOCOL.md
//! §3.4). MSAL for Node (msal-common 16) also requires `issuer` and `jwks_uri`, and checks the
//! `issuer` against the authority it fetched the document from: same scheme, host and port, or
//! a Microsoft login host (docs/reference/msal-node.md). So the two documents MSAL fetches name
//! an issuer under the origin the client reached, shaped like the real services':
//! `{origin}/{tenant_id}/v2.0` (Entra's v2 document) and `{origin}/adfs` (AD FS's). The v1
//! document (`/{tenant}/.well-known/openid-configuration`, which no SDK fetches) keeps our
//! tokens' `iss`, as Entra's v1 document names its v1 tokens' `sts.windows.net` issuer, so a
//! tool that validates our tokens from discovery finds the issuer and `jwks_uri` it needs.
//! `token_endpoint` is always the v2 path, for `adfs` too: MSAL posts wherever the document
//! says, and the Rust SDK hard-codes `/{tenant}/oauth2/v2.0/token`, so one path serves both
//! (§3.1).

use crate::IdentityConfig;
use serde_json::{Value, json};

/// The document served at `/{tenant}/v2.0/.well-known/openid-configuration` (`v2`),
/// `/{tenant}/.well-known/openid-configuration` and `/adfs/.well-known/openid-configuration`.
/// `tenant_path` is the tenant segment the client used (`adfs`, a GUID); `tenant_id` the tenant
/// it resolved to; `config.public_origin` the origin the client reached.
pub fn openid_configuration(
    config: &IdentityConfig,
    tenant_path: &str,
    tenant_id: &str,
    v2: bool,
) -> Value {
    let base = format!("{}/{tenant_path}", config.origin());
    let issuer = if v2 {
        format!("{}/{tenant_id}/v2.0", config.origin())
    } else if tenant_path.eq_ignore_ascii_case("adfs") {
        format!("{}/adfs", config.origin())
    } else {
        config.issuer_for(tenant_id)
    };
    let host = config
        .origin()
        .split_once("://")
        .map_or(config.origin(), |(_, host)| host);
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "grant_types_supported": [
            "client_credentials",
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code"
        ],
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
        let doc = openid_configuration(
            &config,
            "adfs",
            "11111111-2222-3333-4444-555555555555",
            false,
        );
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
              "device_authorization_endpoint": "https://localhost:8443/adfs/oauth2/v2.0/devicecode",
              "end_session_endpoint": "https://localhost:8443/adfs/oauth2/v2.0/logout",
              "grant_types_supported": [
                "client_credentials",
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code"
              ],
              "id_token_signing_alg_values_supported": [
                "RS256"
              ],
              "issuer": "https://localhost:8443/adfs",
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

    /// MSAL for Node refuses a document whose `issuer` is not on the authority's own scheme,
    /// host and port (msal-common `Authority.validateIssuer`, rule 1; a Microsoft login host
    /// passes rule 2) and reports `endpoints_resolution_error`. The v1 document keeps the
    /// tokens' issuer, as Entra's does.
    #[test]
    fn issuer_is_on_the_origin_msal_fetched_the_document_from() {
        let tenant_id = "11111111-2222-3333-4444-555555555555";
        let cases = [
            ("https://localhost:8443", "adfs", false),
            ("https://localhost:8443", "ADFS", false),
            ("https://localhost:8443", tenant_id, true),
            ("https://localhost:8443", "adfs", true),
            ("https://login.microsoftonline.com", tenant_id, true),
            ("https://localhost:8443", tenant_id, false),
        ];
        let mut lines = Vec::new();
        for (origin, tenant_path, v2) in cases {
            let config = IdentityConfig {
                domain: "localhost".to_owned(),
                public_origin: origin.to_owned(),
            };
            let doc = openid_configuration(&config, tenant_path, tenant_id, v2);
            let issuer = doc["issuer"].as_str().unwrap();
            let same_origin = issuer.starts_with(&format!("{origin}/"));
            lines.push(format!(
                "{origin} {tenant_path} v2={v2}: {issuer} same_origin={same_origin}"
            ));
            for member in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
                assert!(
                    doc[member].as_str().unwrap().starts_with(origin),
                    "{member}"
                );
            }
        }
        expect![[r#"
            https://localhost:8443 adfs v2=false: https://localhost:8443/adfs same_origin=true
            https://localhost:8443 ADFS v2=false: https://localhost:8443/adfs same_origin=true
            https://localhost:8443 11111111-2222-3333-4444-555555555555 v2=true: https://localhost:8443/11111111-2222-3333-4444-555555555555/v2.0 same_origin=true
            https://localhost:8443 adfs v2=true: https://localhost:8443/11111111-2222-3333-4444-555555555555/v2.0 same_origin=true
            https://login.microsoftonline.com 11111111-2222-3333-4444-555555555555 v2=true: https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0 same_origin=true
            https://localhost:8443 11111111-2222-3333-4444-555555555555 v2=false: https://sts.strongroom.localhost/11111111-2222-3333-4444-555555555555/ same_origin=false"#]].assert_eq(&lines.join("\n"));
    }
}
