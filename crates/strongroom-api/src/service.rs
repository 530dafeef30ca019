//! The service host (anything that is not a vault host): the web console (`/` and
//! `/console/…`), the identity provider and the management API (`/healthz` is answered
//! earlier, on every host). Routed by path here, in one place.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub(crate) async fn handle(
    state: Arc<AppState>,
    request: Request,
    facts: &crate::audit::RequestFacts,
) -> Response {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        console if crate::console::serves(console) => {
            crate::console::handle(&state.config, request.method(), console)
        }
        ["subscriptions", ..] | ["v1.0", ..] | ["strongroom", ..] => {
            crate::management::handle(&state, request, crate::management::Surface::Service, facts)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        [_tenant, ..] => crate::identity_routes::handle(&state, request).await,
        _ => ApiError::NotFound {
            code: "NotFound",
            message: "The requested path was not found.".to_owned(),
        }
        .into_response(),
    }
}
