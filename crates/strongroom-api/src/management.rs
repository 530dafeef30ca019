//! The management API's edge: authenticates the caller (only deployment administrators pass,
//! with ARM's 401 and 403 bodies, except the open reads: ARM's subscription and tenant reads
//! and Graph's `GET /v1.0/me`), reads the body once, and hands the request to Azure Resource
//! Manager's routes ([`crate::arm`]), Microsoft Graph's ([`crate::graph`]) or Strongroom's own
//! (`/strongroom/…`).

use crate::body::read_body;
use crate::error::ApiError;
use crate::host::AzureCloud;
use crate::pipeline::authenticate;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use strongroom_model::Caller;

/// Which route tables a host offers: Azure's ARM and Graph hosts (transparent mode) each serve
/// only their own; the deployment's service host serves all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// A cloud's Resource Manager host: what `az` and the management SDKs reach.
    Arm(&'static AzureCloud),
    Graph,
    /// The deployment's own host: Strongroom's CLI.
    Service,
}

/// A management request, taken apart once.
pub(crate) struct Incoming<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) caller: &'a Caller,
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) segments: &'a [&'a str],
    pub(crate) query: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

pub(crate) async fn handle(
    state: &AppState,
    request: Request,
    surface: Surface,
    facts: &crate::audit::RequestFacts,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let caller = authenticate(state, &parts.headers, &state.derived.management_audiences)
        .await
        .map_err(|err| match err {
            ApiError::Unauthorized { .. } => ApiError::Custom {
                status: StatusCode::UNAUTHORIZED,
                code: "InvalidAuthenticationToken",
                message: "The access token is missing or invalid.".to_owned(),
            },
            other => other,
        })?;
    // Who made a management request goes into its audit event, as a data-plane caller does.
    let _ = facts.caller.set(caller.clone());
    let path = parts.uri.path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // What Azure lets every signed-in principal read (`az login` lists them): the
    // subscription, shown only to a principal that holds a role somewhere in it, and the tenant.
    if surface != Surface::Graph
        && parts.method == Method::GET
        && let Some(answer) = crate::arm::open_reads(state, &caller, &segments).await
    {
        return answer;
    }
    // Graph's `/me`: every signed-in user may read their own user object (`az ad
    // signed-in-user show`, the console); the rest of Graph is for administrators.
    if !matches!(surface, Surface::Arm(_))
        && parts.method == Method::GET
        && segments.as_slice() == ["v1.0", "me"]
    {
        return crate::graph::me(state, &caller, parts.uri.query()).await;
    }
    if !caller.is_admin {
        return Err(ApiError::Custom {
            status: StatusCode::FORBIDDEN,
            code: "AuthorizationFailed",
            message: format!(
                "The client '{}' with object id '{}' does not have authorization to perform this action.",
                caller.app_id, caller.object_id
            ),
        });
    }
    let body = read_body(&parts.headers, body).await?;
    let method = &parts.method;
    let arm_cloud = match surface {
        Surface::Arm(cloud) => Some(Some(cloud)),
        Surface::Service => Some(None),
        Surface::Graph => None,
    };
    let incoming = Incoming {
        state,
        caller: &caller,
        method,
        path: &path,
        segments: &segments,
        query: parts.uri.query(),
        body: &body,
    };
    if let Some(cloud) = arm_cloud
        && let Some(answer) = crate::arm::route(&incoming, cloud).await
    {
        return answer;
    }
    if !matches!(surface, Surface::Arm(_))
        && let Some(answer) =
            crate::graph::route(state, method, &segments, parts.uri.query(), &body).await
    {
        return answer;
    }
    let own = surface == Surface::Service;
    match segments.as_slice() {
        ["strongroom", "master-key", "rotate"] if own => match *method {
            Method::POST => crate::master_key::rotate(state, &body).await,
            _ => Err(ApiError::MethodNotAllowed(method.to_string())),
        },
        ["strongroom", "audit", "events"] if own => {
            crate::audit_query::events(state, method, parts.uri.query()).await
        }
        ["strongroom", "dev", "clock"] if own && *method == Method::POST => {
            crate::dev_clock::advance(state, parts.uri.query()).await
        }
        _ => Err(crate::arm::not_served(&path)),
    }
}
