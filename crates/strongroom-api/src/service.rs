//! The service host (anything that is not a vault host): health, the identity provider, the
//! management API. Routed by path here, in one place.

use crate::error::{ApiError, json_response};
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub(crate) async fn handle(state: Arc<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = request.method().clone();
    match (method, segments.as_slice()) {
        (Method::GET, ["healthz"]) => {
            json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
        }
        (_, ["subscriptions", ..] | ["v1.0", ..] | ["strongroom", ..]) => {
            crate::management::handle(&state, request)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        (_, [_tenant, ..]) => crate::identity_routes::handle(&state, request).await,
        _ => ApiError::NotFound {
            code: "NotFound",
            message: "The requested path was not found.".to_owned(),
        }
        .into_response(),
    }
}
