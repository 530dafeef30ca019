//! The identity provider's HTTP edge: the OAuth2 token endpoints (v2 and v1), OIDC discovery
//! and JWKS. Bodies and Entra-shaped errors (`{"error","error_description","error_codes"}`,
//! CLIENT-PROTOCOL.md 3.7) come from `strongroom-identity`; this module only frames them.

use crate::error::json_response;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use strongroom_identity::{
    IdentityError, TokenRequest, aad_error_body, authenticate_client, openid_configuration,
    resolve_tenant, resource_from_scope, token_response_v1, token_response_v2,
};

/// Token requests are small forms; anything bigger is refused before parsing.
const MAX_TOKEN_REQUEST_BYTES: usize = 64 * 1024;

pub(crate) async fn handle(state: &AppState, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = request.method().clone();
    let result = match (method, segments.as_slice()) {
        (Method::POST, [tenant, "oauth2", "v2.0", "token"]) => {
            token(state, tenant, request, TokenFlavour::V2).await
        }
        (Method::POST, [tenant, "oauth2", "token"]) => {
            token(state, tenant, request, TokenFlavour::V1).await
        }
        (Method::GET, [tenant, "v2.0", ".well-known", "openid-configuration"])
        | (Method::GET, [tenant, ".well-known", "openid-configuration"]) => {
            discovery(state, tenant).await
        }
        (
            Method::GET,
            [_, "discovery", "v2.0", "keys"] | [_, "discovery", "keys"] | ["discovery", "keys"],
        ) => Ok(json_response(StatusCode::OK, &state.issuer.jwks())),
        _ => {
            return crate::error::ApiError::NotFound {
                code: "NotFound",
                message: "The requested path was not found.".to_owned(),
            }
            .into_response_boxed();
        }
    };
    result.unwrap_or_else(|err| {
        let (status, body) = aad_error_body(&err, state.vaults.now());
        json_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &body,
        )
    })
}

async fn discovery(state: &AppState, tenant: &str) -> Result<Response, IdentityError> {
    let row = resolve_tenant(state.store.as_ref(), tenant).await?;
    let document = openid_configuration(state.issuer.config(), tenant, &row.tenant_id);
    Ok(json_response(StatusCode::OK, &document))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenFlavour {
    /// `/oauth2/v2.0/token`: `scope=<resource>/.default`.
    V2,
    /// `/oauth2/token`: `resource=<resource>`; the answer adds `expires_on`, `resource`.
    V1,
}

async fn token(
    state: &AppState,
    tenant: &str,
    request: Request,
    flavour: TokenFlavour,
) -> Result<Response, IdentityError> {
    let tenant = resolve_tenant(state.store.as_ref(), tenant).await?;
    let missing = |name: &str| IdentityError::MissingParameter {
        name: name.to_owned(),
    };
    let body = axum::body::to_bytes(request.into_body(), MAX_TOKEN_REQUEST_BYTES)
        .await
        .map_err(|_| missing("grant_type"))?;
    // The query string is ignored (JS adds `?client-request-id=`), as are `claims` and
    // `client_info` (CLIENT-PROTOCOL.md 3.6).
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(IdentityError::UnsupportedGrantType {
                grant_type: other.to_owned(),
            });
        }
        None => return Err(missing("grant_type")),
    }
    let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
    let client_secret = field("client_secret").ok_or_else(|| missing("client_secret"))?;
    let resource = match flavour {
        TokenFlavour::V2 => resource_from_scope(field("scope").unwrap_or(""))?,
        TokenFlavour::V1 => field("resource")
            .map(|r| r.trim_end_matches('/').to_owned())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| missing("resource"))?,
    };
    let now = state.vaults.now();
    let principal = authenticate_client(
        state.store.as_ref(),
        &tenant.tenant_id,
        client_id,
        client_secret,
        now,
    )
    .await?;
    let issued = state.issuer.issue(
        &TokenRequest::for_principal(&principal, resource.clone()),
        now,
    )?;
    let body = match flavour {
        TokenFlavour::V2 => token_response_v2(&issued),
        TokenFlavour::V1 => token_response_v1(&issued, &resource),
    };
    Ok(json_response(StatusCode::OK, &body))
}
