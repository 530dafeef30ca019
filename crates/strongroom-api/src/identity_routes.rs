//! The identity provider's HTTP edge: the OAuth2 token endpoints (v2 and v1), OIDC discovery,
//! JWKS and, on Azure's login hosts (transparent mode), Entra's instance discovery. Bodies and
//! Entra-shaped errors (`{"error","error_description","error_codes"}`,
//! CLIENT-PROTOCOL.md 3.7) come from `strongroom-identity`; this module only frames them.

use crate::error::json_response;
use crate::host::{AZURE_CLOUDS, login_cloud, origin_host, request_origin, strip_port};
use crate::state::AppState;
use crate::throttle::{TokenRefusal, retry_after_value};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use strongroom_identity::{
    CLIENT_ASSERTION_TYPE_JWT, IdentityError, TokenRequest, aad_error_body, authenticate_client,
    authenticate_client_assertion, openid_configuration, resolve_tenant, resource_from_scope,
    token_response_v1, token_response_v2,
};

/// Token requests are small forms; anything bigger is refused before parsing.
const MAX_TOKEN_REQUEST_BYTES: usize = 64 * 1024;

pub(crate) async fn handle(state: &AppState, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let origin = public_origin(state, &request);
    let request = match crate::signin::route(state, request, &segments, &origin).await {
        Ok(response) => return response,
        Err(request) => request,
    };
    let method = request.method().clone();
    let result = match (method, segments.as_slice()) {
        (Method::POST, [tenant, "oauth2", "v2.0", "token"]) => {
            token(state, tenant, request, TokenFlavour::V2).await
        }
        (Method::POST, [tenant, "oauth2", "token"]) => {
            token(state, tenant, request, TokenFlavour::V1).await
        }
        (Method::GET, [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
            let origin = public_origin(state, &request);
            discovery(state, &origin, tenant, true).await
        }
        (Method::GET, [tenant, ".well-known", "openid-configuration"]) => {
            let origin = public_origin(state, &request);
            discovery(state, &origin, tenant, false).await
        }
        (Method::GET, [_, "discovery", "instance"]) => Ok(instance_discovery(state, &request)),
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
    result.unwrap_or_else(|err| entra_error_response(state, &err))
}

/// An identity failure as Entra answers it: its status and `{"error","error_description",…}`.
pub(crate) fn entra_error_response(state: &AppState, err: &IdentityError) -> Response {
    let (status, body) = aad_error_body(err, state.vaults.now());
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &body,
    )
}

/// Where the client reached the identity provider: `https://{host}` on Azure's login hosts
/// (transparent mode, so MSAL posts back through the proxy), else our configured origin.
fn public_origin(state: &AppState, request: &Request) -> String {
    match request_origin(request.uri(), request.headers()) {
        Some(origin) if login_cloud(strip_port(origin_host(&origin))).is_some() => origin,
        _ => state.issuer.config().origin().to_owned(),
    }
}

async fn discovery(
    state: &AppState,
    origin: &str,
    tenant: &str,
    v2: bool,
) -> Result<Response, IdentityError> {
    let row = resolve_tenant(state.store.as_ref(), tenant).await?;
    let mut config = state.issuer.config().clone();
    origin.clone_into(&mut config.public_origin);
    let document = openid_configuration(&config, tenant, &row.tenant_id, v2);
    Ok(json_response(StatusCode::OK, &document))
}

/// Entra's instance discovery (`GET /common/discovery/instance?authorization_endpoint=…`),
/// which MSAL calls on `login.microsoftonline.com` for a tenant GUID (CLIENT-PROTOCOL.md 3.3).
/// The authority must be one we serve: an Azure login host (answered under that host) or our
/// own domain (answered with our origin, since MSAL drops the port); others are
/// `invalid_instance`, as Entra answers for hosts it does not know.
fn instance_discovery(state: &AppState, request: &Request) -> Response {
    let query = request.uri().query().unwrap_or_default();
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let api_version = param("api-version").unwrap_or_else(|| "1.1".to_owned());
    let Some(endpoint) = param("authorization_endpoint") else {
        return entra_error(
            "invalid_request",
            90014,
            "AADSTS90014: The required field 'authorization_endpoint' is missing from the request.",
        );
    };
    let rest = endpoint
        .strip_prefix("https://")
        .unwrap_or(endpoint.as_str());
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let authority = authority.to_ascii_lowercase();
    let tenant = path.split('/').next().filter(|t| !t.is_empty());
    let host = strip_port(&authority);
    let origin = if login_cloud(host).is_some() {
        format!("https://{authority}")
    } else if host == state.config.domain {
        state.config.public_origin()
    } else {
        return entra_error(
            "invalid_instance",
            50049,
            "AADSTS50049: Unknown or invalid instance.",
        );
    };
    let tenant = tenant.unwrap_or("common");
    let metadata: Vec<Value> = AZURE_CLOUDS
        .iter()
        .map(|cloud| {
            json!({
                "preferred_network": cloud.login_host,
                "preferred_cache": cloud.preferred_cache,
                "aliases": cloud.login_aliases,
            })
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "tenant_discovery_endpoint":
                format!("{origin}/{tenant}/v2.0/.well-known/openid-configuration"),
            "api-version": api_version,
            "metadata": metadata,
        }),
    )
}

/// An Entra error body for the few errors that are not an `IdentityError`.
fn entra_error(error: &str, code: u32, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
        }),
    )
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
    let tenant_path = tenant;
    let tenant = resolve_tenant(state.store.as_ref(), tenant_path).await?;
    let origin = public_origin(state, &request);
    let audiences = assertion_audiences(
        &origin,
        state.issuer.config().origin(),
        &[tenant_path, tenant.tenant_id.as_str()],
    );
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
        Some(user_grant)
            if flavour == TokenFlavour::V2
                && crate::signin::grants::USER_GRANT_TYPES.contains(&user_grant) =>
        {
            let owned = |name: &str| field(name).map(str::to_owned);
            return crate::signin::grants::redeem(state, tenant_path, user_grant, &owned, &origin)
                .await;
        }
        Some(other) => {
            return Err(IdentityError::UnsupportedGrantType {
                grant_type: other.to_owned(),
            });
        }
        None => return Err(missing("grant_type")),
    }
    let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
    // Against guessing: a client id with too many recent failures is refused before its
    // credential is looked at (`throttle.rs`).
    if let Err(refusal) = state.token_guard.check(client_id) {
        return Ok(token_refused(refusal));
    }
    // A client proves itself with a secret or (certificate credentials) an assertion, not both.
    let assertion = match (field("client_assertion_type"), field("client_assertion")) {
        (None, None) => None,
        (Some(CLIENT_ASSERTION_TYPE_JWT), Some(assertion)) if field("client_secret").is_none() => {
            Some(assertion)
        }
        (Some(CLIENT_ASSERTION_TYPE_JWT), None) => return Err(missing("client_assertion")),
        (None, Some(_)) => return Err(missing("client_assertion_type")),
        _ => {
            return Err(IdentityError::ClientAssertion {
                code: 50_027,
                message: format!(
                    "JWT token is invalid or malformed. The client_assertion_type must be \
                     '{CLIENT_ASSERTION_TYPE_JWT}', without a client_secret."
                ),
            });
        }
    };
    let resource = match flavour {
        TokenFlavour::V2 => resource_from_scope(field("scope").unwrap_or(""))?,
        TokenFlavour::V1 => field("resource")
            .map(|r| r.trim_end_matches('/').to_owned())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| missing("resource"))?,
    };
    let now = state.vaults.now();
    let authenticated = match assertion {
        Some(assertion) => {
            authenticate_client_assertion(
                state.store.as_ref(),
                &state.assertion_replay,
                &tenant.tenant_id,
                client_id,
                assertion,
                &audiences,
                now,
            )
            .await
        }
        None => {
            let client_secret = field("client_secret").ok_or_else(|| missing("client_secret"))?;
            authenticate_client(
                state.store.as_ref(),
                &tenant.tenant_id,
                client_id,
                client_secret,
                now,
            )
            .await
        }
    };
    let client = match authenticated {
        Ok(client) => {
            state.token_guard.succeeded(client_id);
            client
        }
        Err(err) => {
            if is_credential_failure(&err) {
                state.token_guard.failed(client_id);
            }
            return Err(err);
        }
    };
    let issued = state
        .issuer
        .issue(&TokenRequest::for_client(&client, resource.clone()), now)?;
    if let Some(metrics) = &state.metrics {
        metrics.token_issued(false);
    }
    if let Some(audit) = &state.audit {
        let principal = &client.principal;
        audit.record(&crate::audit::token_event(
            &state.config.subscription_id,
            &principal.object_id,
            &principal.app_id,
            &principal.tenant_id,
            &resource,
            "client_credentials",
        ));
    }
    let body = match flavour {
        TokenFlavour::V2 => token_response_v2(&issued),
        TokenFlavour::V1 => token_response_v1(&issued, &resource),
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// A failed proof of identity (counted against the client id), as opposed to a malformed
/// request or a server fault.
fn is_credential_failure(err: &IdentityError) -> bool {
    matches!(
        err,
        IdentityError::UnknownClient { .. }
            | IdentityError::TenantMismatch { .. }
            | IdentityError::InvalidSecret { .. }
            | IdentityError::ExpiredSecret { .. }
            | IdentityError::ClientAssertion { .. }
            | IdentityError::InvalidCertificate
    )
}

/// Entra's answer to a throttled client-credentials request: 429 with `Retry-After`
/// (MSAL.NET, "client and server throttling"), in its error shape; the code says why:
/// `AADSTS50053` (smart lockout's "too many times with an incorrect" credential) or
/// `AADSTS90055` (`TenantThrottlingError`, too many incoming requests).
fn token_refused(refusal: TokenRefusal) -> Response {
    let (error, code, description, retry_after) = match refusal {
        TokenRefusal::ClientLocked { retry_after } => (
            "invalid_client",
            50_053,
            "The account is locked because it tried to sign in too many times with an \
             incorrect credential. Wait before retrying.",
            retry_after,
        ),
        TokenRefusal::Busy { retry_after } => (
            "temporarily_unavailable",
            90_055,
            "TenantThrottlingError: There are too many incoming requests. Wait before retrying.",
            retry_after,
        ),
    };
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}"
            ),
            "error_codes": [code],
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after_value(retry_after));
    response
}

/// The `aud` values a client assertion posted here may carry: the token endpoints (v2 and v1)
/// under the origin the client reached, our configured origin and Entra's own login host, for
/// the tenant as the path named it and as its id (MSAL uses the discovery document's
/// `token_endpoint`, which keeps the path's tenant).
fn assertion_audiences(reached: &str, configured: &str, tenants: &[&str]) -> Vec<String> {
    let mut audiences = Vec::new();
    for origin in [reached, configured, "https://login.microsoftonline.com"] {
        for tenant in tenants {
            for path in ["oauth2/v2.0/token", "oauth2/token"] {
                let audience = format!("{}/{tenant}/{path}", origin.trim_end_matches('/'));
                if !audiences.contains(&audience) {
                    audiences.push(audience);
                }
            }
        }
    }
    audiences
}
