//! The Azure instance metadata service's token endpoint (IMDS,
//! `GET http://169.254.169.254/metadata/identity/oauth2/token`), as the transparent proxy
//! serves it, and the proxy credentials that say which workload identity is asking.
//!
//! The proxy authenticates `Proxy-Authorization: Basic base64(clientId:secret)` with
//! `authenticate_proxy` and attaches the principal to the request as a `ProxyIdentity`
//! extension; only the proxy can set it, so a request without one has no identity. The checks
//! follow the real service (CLIENT-PROTOCOL.md 4.3, 4.4): `Metadata: true` first (the probe
//! without it gets a 400 immediately), then `resource`, then the optional `client_id`,
//! `object_id` or `msi_res_id`, which must name the proxy identity.

use crate::error::json_response;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use strongroom_identity::{
    AuthenticatedClient, IdentityError, TokenRequest, authenticate_client, imds_error,
    imds_token_response, selects_identity,
};

/// The workload identity a proxy client proved with its proxy credentials.
#[derive(Debug, Clone)]
pub struct ProxyIdentity(pub AuthenticatedClient);

/// Proxy credentials were sent but do not authenticate anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyCredentialsRefused;

/// Checks `Proxy-Authorization: Basic base64(clientId:secret)` against the default tenant's
/// principals. `Ok(None)`: no credentials sent.
pub async fn authenticate_proxy(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<ProxyIdentity>, ProxyCredentialsRefused> {
    let Some(value) = headers.get(header::PROXY_AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ProxyCredentialsRefused)?;
    let (scheme, encoded) = value
        .trim()
        .split_once(' ')
        .ok_or(ProxyCredentialsRefused)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ProxyCredentialsRefused);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| ProxyCredentialsRefused)?;
    let decoded = String::from_utf8(decoded).map_err(|_| ProxyCredentialsRefused)?;
    let (client_id, secret) = decoded.split_once(':').ok_or(ProxyCredentialsRefused)?;
    // The token endpoint's guard against guessing covers proxy credentials too: a client id
    // locked there is refused here without its secret being checked, and failures count.
    if state.token_guard.check(client_id).is_err() {
        return Err(ProxyCredentialsRefused);
    }
    match authenticate_client(
        state.store.as_ref(),
        &state.config.tenant_id,
        client_id,
        secret,
        state.vaults.now(),
    )
    .await
    {
        Ok(client) => {
            state.token_guard.succeeded(client_id);
            Ok(Some(ProxyIdentity(client)))
        }
        Err(IdentityError::Store(err)) => {
            tracing::error!(error = %err, "checking proxy credentials failed");
            Err(ProxyCredentialsRefused)
        }
        Err(_) => {
            state.token_guard.failed(client_id);
            Err(ProxyCredentialsRefused)
        }
    }
}

/// `GET /metadata/identity/oauth2/token[/]` on the IMDS host.
pub(crate) async fn handle(state: &AppState, request: Request) -> Response {
    let path = request.uri().path().trim_end_matches('/');
    if path != "/metadata/identity/oauth2/token" {
        return imds_response(StatusCode::NOT_FOUND, "Not found");
    }
    if request.method() != Method::GET {
        return imds_response(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    }
    let metadata = request
        .headers()
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !metadata {
        return imds_response(
            StatusCode::BAD_REQUEST,
            "Required metadata header not specified",
        );
    }
    let query = request.uri().query().unwrap_or_default();
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .filter(|value| !value.is_empty())
    };
    let Some(resource) = param("resource") else {
        return imds_response(
            StatusCode::BAD_REQUEST,
            "Required audience parameter not specified",
        );
    };
    let Some(ProxyIdentity(client)) = request.extensions().get::<ProxyIdentity>() else {
        return identity_not_found();
    };
    let principal = &client.principal;
    let resource_id = param("msi_res_id").or_else(|| param("mi_res_id"));
    let matches_identity = selects_identity(
        param("client_id").as_deref(),
        param("object_id").as_deref(),
        resource_id.as_deref(),
        principal,
    );
    if !matches_identity {
        return identity_not_found();
    }
    let audience = resource.trim_end_matches('/');
    let issued = match state.issuer.issue(
        &TokenRequest::for_client(client, audience),
        state.vaults.now(),
    ) {
        Ok(issued) => issued,
        Err(err) => {
            tracing::error!(error = %err, "issuing an IMDS token failed");
            return imds_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal error");
        }
    };
    if let Some(metrics) = &state.metrics {
        metrics.token_issued(true);
    }
    if let Some(audit) = &state.audit {
        audit.record(&crate::audit::token_event(
            &state.config.subscription_id,
            &principal.object_id,
            &principal.app_id,
            &principal.tenant_id,
            audience,
            "managed_identity",
        ));
    }
    json_response(
        StatusCode::OK,
        &imds_token_response(&issued, &resource, &principal.app_id),
    )
}

fn identity_not_found() -> Response {
    imds_response(StatusCode::BAD_REQUEST, "Identity not found")
}

fn imds_response(status: StatusCode, description: &str) -> Response {
    json_response(status, &imds_error(description))
}
