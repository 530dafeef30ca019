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

mod arm;
mod audit;
mod audit_query;
mod body;
mod cert_routes;
mod cert_wire;
mod certificates;
mod coherence;
mod console;
mod dev_clock;
mod error;
mod graph;
mod host;
mod identity_routes;
mod imds;
mod key_ops;
mod key_routes;
mod keys;
mod management;
mod master_key;
mod metered_store;
mod metrics;
mod objects;
mod odata;
mod operation;
mod pipeline;
mod query;
mod rbac_cache;
mod request_id;
mod secrets;
mod service;
mod signin;
mod state;
mod throttle;
mod unread_body;
pub mod wire;

pub use audit::{AuditSink, ClientAddr};
pub use audit_query::{
    AuditCursor, AuditPage, AuditQuery, AuditReadError, BadAuditQuery, CURSOR_HASH_DIGITS,
    LineVerdict,
};
pub use console::CONSOLE_CLIENT_ID;
pub use error::ApiError;
pub use host::{
    AZURE_CLOUDS, AzureCloud, IMDS_HOST, certificate_name_is_served, intercepts, strip_port,
};
pub use imds::{ProxyCredentialsRefused, ProxyIdentity, authenticate_proxy};
pub use master_key::{MasterKeyRotated, MasterKeyRotationError, MasterKeyRotator, RotationFuture};
pub use metered_store::MeteredStore;
pub use metrics::{JobOutcome, LiveCounts, Metrics};
pub use operation::Operation;
pub use state::{ApiConfig, AppState};
pub use throttle::ThrottleMode;

use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The whole HTTP application as one `tower::Service`: every request goes to
/// `pipeline::handle`, which routes by host and path itself; a panic that escapes anyway
/// still answers in Azure's error shape.
///
/// Why not an `axum::Router`: with everything behind one fallback it only added work to every
/// request (path matching, two extension maps, four boxed futures, a second copy of the
/// handler's state machine); the in-process benchmark measured it.
#[derive(Clone)]
pub struct Api {
    state: Arc<AppState>,
}

/// The service `serve` mounts on every listener.
pub fn service(state: Arc<AppState>) -> Api {
    Api { state }
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<B> tower::Service<http::Request<B>> for Api
where
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            let (request, leftover) = unread_body::watch(request);
            let answer = AssertUnwindSafe(pipeline::handle(state, request))
                .catch_unwind()
                .await;
            // Before the answer: hyper would close on unread bytes (unread_body.rs).
            leftover.drain().await;
            Ok(answer.unwrap_or_else(|_panic| {
                ApiError::Internal("a request handler panicked".into()).into_response_boxed()
            }))
        })
    }
}

impl ApiError {
    pub(crate) fn into_response_boxed(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}
