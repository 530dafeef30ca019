//! All of Strongroom's HTTP server code: host routing, the request pipeline, the Key Vault
//! `Operation` table, wire DTOs, the one error edge, the identity provider's endpoints,
//! the management API, and for transparent mode the Azure names, IMDS and proxy credentials
//! (the binary frames the proxy protocol itself and asks `intercepts` what it may serve).
//!
//! Must not touch: SQL, crypto primitives, storage internals. Domain types come from
//! `strongroom-vault` and are converted to wire DTOs by hand here.
//!
//! Invariants: every data-plane request is authenticated, routed, version-checked and
//! authorised in that order (`pipeline::handle`); every error leaves through `ApiError`'s one
//! `IntoResponse`; no handler panics on input.
//!
//! Start reading at `pipeline.rs`, then `operation.rs`.

// A request must never panic the server: fallible paths return errors.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod body;
mod error;
mod host;
mod identity_routes;
mod imds;
mod key_ops;
mod key_routes;
mod keys;
mod management;
mod objects;
mod operation;
mod pipeline;
mod query;
mod request_id;
mod secrets;
mod service;
mod state;
pub mod wire;

pub use error::ApiError;
pub use host::{AZURE_CLOUDS, AzureCloud, IMDS_HOST, intercepts, strip_port};
pub use imds::{ProxyCredentialsRefused, ProxyIdentity, authenticate_proxy};
pub use operation::Operation;
pub use state::{ApiConfig, AppState};

use axum::Router;
use std::sync::Arc;

/// The whole HTTP application. Every request goes through `pipeline::handle`; a panic that
/// escapes anyway still answers in Azure's error shape.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(pipeline::handle)
        .with_state(state)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                ApiError::Internal("a request handler panicked".into()).into_response_boxed()
            },
        ))
}

impl ApiError {
    pub(crate) fn into_response_boxed(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}
