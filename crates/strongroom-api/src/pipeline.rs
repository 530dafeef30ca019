//! The request pipeline, one readable function per plane. The order of checks is part of the
//! wire contract (AZURE-ERRORS.md B.7: authentication before routing and validation):
//! host -> authenticate (401) -> route (404/405) -> api-version (400) -> vault -> authorise
//! (403) -> body (400/413) -> throttle (429, opt-in) -> service -> response.

use crate::body::read_body;
use crate::error::{ApiError, json_response};
use crate::host::{HostTarget, Zone, origin_host, request_origin, route};
use crate::objects::DataRequest;
use crate::operation::Operation;
use crate::query::DataPlaneQuery;
use crate::state::AppState;
use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::sync::Arc;
use strongroom_identity::TokenError;
use strongroom_model::{Caller, ObjectKind, VaultName};
use tracing::Instrument;

/// Every request enters here. Generic over the body so a GET never boxes one: only the
/// requests that read a body turn it into an `axum::body::Body`.
pub(crate) async fn handle<B>(state: Arc<AppState>, request: http::Request<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    // Only a deployment that keeps metrics or an audit log reads the clock for them.
    let started = (state.metrics.is_some() || state.audit.is_some()).then(std::time::Instant::now);
    let facts = crate::audit::RequestFacts::default();
    let request_id = crate::request_id::next();
    let client_request_id = request.headers().get(CLIENT_REQUEST_ID).cloned();
    let origin = request_origin(request.uri(), request.headers());
    let seen = state
        .audit
        .is_some()
        .then(|| crate::audit::RequestSeen::of(&request, origin.as_deref()));
    let target = route(&state.config, origin.as_deref().map(origin_host));
    // The web console calling a vault from its own origin (console/cors.rs); a request
    // without `Origin` costs one header lookup.
    let console = match target {
        HostTarget::Vault(..) => crate::console::cors::ConsoleOrigin::of(
            &state.config,
            request.method(),
            request.headers(),
        ),
        _ => None,
    };
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        op = tracing::field::Empty,
        vault = tracing::field::Empty,
        caller = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let mut response = async {
        if request.method() == Method::GET && request.uri().path() == "/healthz" {
            // Readiness answers on every host, before authentication.
            return json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}));
        }
        if let Err(err) = state.coherence.check(&state).await {
            return err.into_response();
        }
        match target {
            HostTarget::Vault(label, zone) => {
                if let Some(preflight) = console.as_ref().and_then(|c| c.preflight()) {
                    return preflight;
                }
                let origin = origin.as_deref().unwrap_or_default();
                // Boxed where it starts: the data plane's state machine is most of a
                // request's future, and this way it is built once in place instead of being
                // copied along with every move of the (now small) outer future.
                Box::pin(data_plane(&state, label, zone, origin, request, &facts))
                    .await
                    .unwrap_or_else(IntoResponse::into_response)
            }
            HostTarget::Imds => crate::imds::handle(&state, request.map(Body::new)).await,
            HostTarget::Invalid => ApiError::Custom {
                status: StatusCode::BAD_REQUEST,
                code: "BadRequest",
                message: "The request's Host header does not name a host.".to_owned(),
            }
            .into_response(),
            // Boxed: the identity and management futures are large, and every request's
            // future (the hot vault GETs' too) would otherwise be as large as the largest.
            HostTarget::Management(_) | HostTarget::Graph => {
                let surface = match target {
                    HostTarget::Management(cloud) => crate::management::Surface::Arm(cloud),
                    _ => crate::management::Surface::Graph,
                };
                Box::pin(crate::management::handle(
                    &state,
                    request.map(Body::new),
                    surface,
                    &facts,
                ))
                .await
                .unwrap_or_else(IntoResponse::into_response)
            }
            HostTarget::Login(_) | HostTarget::Service => {
                Box::pin(crate::service::handle(
                    state.clone(),
                    request.map(Body::new),
                    &facts,
                ))
                .await
            }
        }
    }
    .instrument(span.clone())
    .await;
    span.record("status", response.status().as_u16());
    tracing::info!(parent: &span, status = response.status().as_u16(), "served");
    if let Some(started) = started {
        let plane = crate::metrics::Plane::of(&target);
        if let Some(metrics) = &state.metrics {
            metrics.observe_request(
                plane,
                facts.operation.get().copied(),
                response.status().as_u16(),
                started.elapsed(),
            );
        }
        if let (Some(audit), Some(seen)) = (&state.audit, &seen) {
            let event = crate::audit::RequestEvent {
                seen,
                facts: &facts,
                subscription_id: &state.config.subscription_id,
                request_id: &request_id,
                status: response.status(),
                took: started.elapsed(),
                plane: plane.audit_name(),
            };
            audit.record(&event.to_json());
        }
    }
    let headers = response.headers_mut();
    if let Some(console) = console {
        console.decorate(headers);
    }
    // Azure's `no-cache`, unless the answer chose its own (the sign-in pages' `no-store`, the
    // console's cacheable assets).
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    headers.insert(SERVICE_VERSION, HeaderValue::from_static("1.9.3019.1"));
    // The id's own buffer becomes the header value (no second copy); it is always a valid
    // header value (hex digits and dashes), so the error arm is unreachable in practice.
    if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(request_id)) {
        headers.insert(REQUEST_ID, value);
    }
    if let Some(value) = client_request_id {
        headers.insert(CLIENT_REQUEST_ID, value);
    }
    response
}

// Static names: a `&str` name is copied into a fresh allocation on every insert.
const SERVICE_VERSION: HeaderName = HeaderName::from_static("x-ms-keyvault-service-version");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");

async fn data_plane<B>(
    state: &AppState,
    vault_label: &str,
    zone: Zone,
    origin: &str,
    request: http::Request<B>,
    facts: &crate::audit::RequestFacts,
) -> Result<Response, ApiError>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let (parts, body) = request.into_parts();
    let caller = match zone {
        Zone::Local => authenticate(state, &parts.headers, &state.derived.vault_audiences).await?,
        Zone::Azure(cloud) => {
            authenticate_with_challenge(
                state,
                &parts.headers,
                &state.derived.vault_audiences,
                || state.config.azure_challenge(cloud),
            )
            .await?
        }
    };
    let span = tracing::Span::current();
    span.record("caller", tracing::field::display(&caller.object_id));

    let operation = Operation::parse(&parts.method, parts.uri.path())?;
    span.record("op", operation.operation_id());
    let _ = facts.operation.set(operation.operation_id());
    let audited = state.audit.is_some();
    if audited {
        let _ = facts.caller.set(caller.clone());
    }
    let query = DataPlaneQuery::parse(parts.uri.query());
    let api_version = query.api_version()?;

    let vault = strongroom_vault::vaults::resolve_label(&state.vaults, vault_label)
        .await?
        .ok_or_else(|| vault_not_found(vault_label))?;
    // The resolved name, not the raw label: only a valid, existing vault's name is logged.
    span.record("vault", tracing::field::display(&vault.name));
    if audited {
        let group = vault
            .resource_group
            .clone()
            .unwrap_or_else(|| crate::arm::DEFAULT_RESOURCE_GROUP.to_owned());
        let _ = facts.vault.set((vault.name.to_string(), group));
        let _ = facts.api_version.set(api_version.to_owned());
    }

    let decided = if vault.rbac_authorization {
        authorize_by_rbac(state, &vault, &caller, &operation).await?
    } else {
        strongroom_authz::authorize(&vault.policies, &caller, operation.required())
            .map_err(strongroom_authz::Refusal::AccessPolicy)
    };
    let grant = match decided {
        Ok(grant) => grant,
        // Only a refusal reads the vault's ARM location, which Azure's 403 names.
        Err(refusal) => {
            let location = crate::arm::vault_location(state, &vault).await;
            return Err(forbidden_by_rbac(&refusal, &vault.name, &location));
        }
    };

    let body = if operation.has_body() {
        read_body(&parts.headers, Body::new(body)).await?
    } else {
        drop(body);
        Bytes::new()
    };
    // `serve --throttle azure`: Azure's per-vault limits, weighed by operation and key.
    if let Some(throttle) = &state.vault_throttle
        && let Err(throttled) = throttle
            .admit(&state.vaults, &vault, &operation, &body)
            .await
    {
        return Ok(throttled.into_response());
    }
    let request = DataRequest {
        ctx: &state.vaults,
        vault: &vault,
        origin,
        query: &query,
        api_version,
        body,
    };
    match operation.kind() {
        ObjectKind::Secret => crate::secrets::dispatch(request, grant, operation).await,
        ObjectKind::Key if operation.is_key_crypto() => {
            crate::key_ops::dispatch(request, grant, operation).await
        }
        // Boxed for the same reason as the service host's future (see `handle`).
        ObjectKind::Key => Box::pin(crate::keys::dispatch(request, grant, operation)).await,
        ObjectKind::Certificate => {
            Box::pin(crate::certificates::dispatch(request, grant, operation)).await
        }
    }
}

/// A vault with `enableRbacAuthorization`: the caller's role assignments decide the
/// operation's data action on the vault, or on the object it names (an assignment at one
/// secret's scope covers that secret only).
async fn authorize_by_rbac(
    state: &AppState,
    vault: &strongroom_vault::Vault,
    caller: &Arc<Caller>,
    operation: &Operation,
) -> Result<
    Result<strongroom_authz::Grant<strongroom_authz::Any>, strongroom_authz::Refusal>,
    ApiError,
> {
    let snapshot = state.rbac.snapshot(state).await?;
    let resource_scope = rbac_scope(state, vault, operation);
    let model = strongroom_authz::VaultModel::Rbac {
        snapshot: &snapshot,
        resource_scope: &resource_scope,
        data_action: operation.data_action(),
    };
    Ok(strongroom_authz::authorize_in(
        model,
        caller,
        operation.required(),
    ))
}

/// The ARM id of what `operation` touches, as Azure's RBAC 403 prints it (`resourcegroups`
/// and `microsoft.keyvault` lower-cased; names as they are).
fn rbac_scope(state: &AppState, vault: &strongroom_vault::Vault, operation: &Operation) -> String {
    let group = vault
        .resource_group
        .as_deref()
        .unwrap_or(crate::arm::DEFAULT_RESOURCE_GROUP);
    let mut scope = format!(
        "/subscriptions/{}/resourcegroups/{group}/providers/microsoft.keyvault/vaults/{}",
        state.config.subscription_id, vault.name
    );
    if let Some(name) = operation.object_name() {
        let collection = match operation.kind() {
            ObjectKind::Secret => "secrets",
            ObjectKind::Key => "keys",
            ObjectKind::Certificate => "certificates",
        };
        scope.push('/');
        scope.push_str(collection);
        scope.push('/');
        scope.push_str(name.as_str());
    }
    scope
}

/// docs/reference/azure-rbac.md section 4: `Forbidden` with inner `ForbiddenByRbac`, the
/// lines joined by CRLF, a space before the CRLF after the decision reason.
fn forbidden_by_rbac(
    refusal: &strongroom_authz::Refusal,
    vault: &VaultName,
    location: &str,
) -> ApiError {
    match refusal {
        strongroom_authz::Refusal::AccessPolicy(denied) => forbidden(denied, vault, location),
        strongroom_authz::Refusal::Rbac {
            caller,
            data_action,
            resource_scope,
        } => ApiError::Forbidden {
            message: format!(
                "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {}\r\nAction: '{data_action}'\r\nResource: '{resource_scope}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {vault};location={location}\r\n",
                caller.describe()
            ),
            inner: Some("ForbiddenByRbac"),
        },
    }
}

fn vault_not_found(label: &str) -> ApiError {
    ApiError::NotFound {
        code: "VaultNotFound",
        message: format!("The vault '{label}' does not exist in this Strongroom deployment."),
    }
}

/// AZURE-ERRORS.md 3.1: caller, permission phrase, `vault;location=region`, AccessDenied.
fn forbidden(denied: &strongroom_authz::Denied, vault: &VaultName, location: &str) -> ApiError {
    ApiError::Forbidden {
        message: format!(
            "The user, group or application '{}' does not have {} permission on key vault '{vault};location={location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            denied.caller.describe(),
            denied.missing
        ),
        inner: Some("AccessDenied"),
    }
}

/// The bearer token from `Authorization`, if any (scheme matched case-insensitively).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    // `from_utf8` rather than `HeaderValue::to_str`: the same answer for a token (ASCII), but
    // a vectorised scan of the ~1 KB value instead of a byte-by-byte one, on every request.
    let value = std::str::from_utf8(headers.get(header::AUTHORIZATION)?.as_bytes()).ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Verifies the bearer token for one of `audiences`, or answers the Key Vault challenge.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    audiences: &[String],
) -> Result<Arc<Caller>, ApiError> {
    authenticate_with_challenge(state, headers, audiences, || {
        state.derived.challenge.clone()
    })
    .await
}

/// As `authenticate`, with the `WWW-Authenticate` value of the host the request used.
async fn authenticate_with_challenge(
    state: &AppState,
    headers: &HeaderMap,
    audiences: &[String],
    challenge: impl FnOnce() -> String,
) -> Result<Arc<Caller>, ApiError> {
    let Some(token) = bearer_token(headers) else {
        return Err(ApiError::Unauthorized {
            // AZURE-ERRORS.md 1.1, the 97-byte body recorded 2022-2025.
            message: "AKV10000: Request is missing a Bearer or PoP token.".to_owned(),
            challenge: challenge(),
        });
    };
    let now = state.vaults.now();
    let verified = state.verifier.verify(token, now, audiences);
    // The signature says who; the store says whether that still holds (revocation).
    let admitted = match verified {
        Ok(caller) => state.principals.admit(state.store.as_ref(), caller).await,
        Err(err) => Err(err),
    };
    admitted.map_err(|err| match err {
        TokenError::Unavailable => ApiError::Unavailable,
        err => ApiError::Unauthorized {
            message: token_error_message(&err),
            challenge: challenge(),
        },
    })
}

/// Azure's messages for refused tokens (AZURE-ERRORS.md 2.x).
fn token_error_message(err: &TokenError) -> String {
    match err {
        TokenError::WrongAudience { expected, found } => format!(
            "AKV10022: Invalid audience. Expected {}, found: {found}.",
            expected.join(" or ")
        ),
        TokenError::WrongIssuer { expected, found } => {
            format!("AKV10032: Invalid issuer. Expected one of {expected}, found {found}.")
        }
        TokenError::Expired => "[TokenExpired] Error validating token: 'S2S12086'.".to_owned(),
        TokenError::NotYetValid => "Token not yet valid".to_owned(),
        TokenError::BadSignature => {
            "AKV10046: Unable to resolve the key used for signature validation.".to_owned()
        }
        TokenError::Revoked => {
            "AKV10000: The token was revoked: its principal or the credential it was obtained with no longer exists.".to_owned()
        }
        _ => "AKV10000: Request is missing a Bearer or PoP token.".to_owned(),
    }
}
