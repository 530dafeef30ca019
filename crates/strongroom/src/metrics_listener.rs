//! `serve --metrics-listen ADDR`: a plain-HTTP listener apart from the API's port, for the
//! monitoring system: `/metrics` (Prometheus text), `/healthz` (the process answers) and
//! `/readyz` (the store answers a read within a second: 503 otherwise, so a load balancer
//! stops sending requests to a node that cannot serve them). It serves nothing secret; bind it
//! where only the monitoring network reaches.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use strongroom_api::Metrics;
use strongroom_store::Store;
use tokio::sync::watch;

/// How long `/readyz` waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves the metrics listener on `listener` until `stop` turns true.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    limits: crate::transport::Limits,
    metrics: Arc<Metrics>,
    store: Arc<dyn Store>,
    stop: watch::Receiver<bool>,
) {
    let router = Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.encode(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route(
            "/readyz",
            get(move || {
                let store = store.clone();
                async move { ready(store.as_ref()).await.into_response() }
            }),
        );
    crate::transport::serve_plain(listener, limits, router, stop).await;
}

async fn ready(store: &dyn Store) -> (StatusCode, &'static str) {
    match tokio::time::timeout(READY_TIMEOUT, store.list_tenants()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: the store refused a read");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store too slow\n"),
    }
}
