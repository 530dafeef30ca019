//! Prometheus metrics, kept only when `serve --metrics-listen` asks for them (the hot path
//! then pays one labelled counter and one histogram observation per request, and nothing
//! otherwise): requests by plane, operation and status, their latency by plane and
//! operation, and tokens issued by grant. Served as Prometheus text by the binary's metrics
//! listener, apart from the API's own port.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// Which surface a request reached.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) enum Plane {
    Vault,
    Management,
    /// The deployment's own host: the identity service and Strongroom's own API.
    Service,
    Imds,
    Other,
}

impl Plane {
    /// The surface a request's host names.
    pub(crate) fn of(target: &crate::host::HostTarget<'_>) -> Self {
        use crate::host::HostTarget;
        match target {
            HostTarget::Vault(..) => Self::Vault,
            HostTarget::Management(_) | HostTarget::Graph => Self::Management,
            HostTarget::Login(_) | HostTarget::Service => Self::Service,
            HostTarget::Imds => Self::Imds,
            HostTarget::Invalid => Self::Other,
        }
    }

    /// The audit log's `operationName` of a request that is no data-plane operation.
    pub(crate) fn audit_name(self) -> &'static str {
        match self {
            Self::Vault => "VaultRequest",
            Self::Management => "ManagementRequest",
            Self::Service => "ServiceRequest",
            Self::Imds => "ImdsRequest",
            Self::Other => "InvalidRequest",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Vault => "vault",
            Self::Management => "management",
            Self::Service => "service",
            Self::Imds => "imds",
            Self::Other => "other",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    plane: &'static str,
    /// The spec's operationId on the data plane; the plane's name elsewhere (ARM and Graph
    /// paths carry names, which must not become label values).
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    plane: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    /// `client_credentials` (the token endpoint) or `managed_identity` (IMDS, the proxy).
    grant: &'static str,
}

/// The deployment's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    tokens: Family<TokenLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 3.3 s, doubling: a cached GET to a slow certificate creation.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("strongroom");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by plane, operation and HTTP status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's head to its response, by plane and operation",
            latency.clone(),
        );
        registry.register(
            "tokens_issued",
            "Access tokens issued, by grant",
            tokens.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            tokens,
        }
    }

    pub(crate) fn observe_request(
        &self,
        plane: Plane,
        operation: Option<&'static str>,
        status: u16,
        took: Duration,
    ) {
        let plane = plane.as_str();
        let operation = operation.unwrap_or(plane);
        self.requests
            .get_or_create(&RequestLabels {
                plane,
                operation,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&LatencyLabels { plane, operation })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn token_issued(&self, managed_identity: bool) {
        let grant = if managed_identity {
            "managed_identity"
        } else {
            "client_credentials"
        };
        self.tokens.get_or_create(&TokenLabels { grant }).inc();
    }

    /// The Prometheus text exposition (OpenMetrics text, which Prometheus scrapes).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_tokens_are_counted_by_their_labels() {
        let metrics = Metrics::new();
        for _ in 0..3 {
            metrics.observe_request(
                Plane::Vault,
                Some("GetSecret"),
                200,
                Duration::from_micros(300),
            );
        }
        metrics.observe_request(
            Plane::Vault,
            Some("GetSecret"),
            403,
            Duration::from_millis(1),
        );
        metrics.observe_request(Plane::Management, None, 200, Duration::from_millis(2));
        metrics.token_issued(false);
        metrics.token_issued(true);
        metrics.token_issued(true);
        let text = metrics.encode();
        for line in [
            r#"strongroom_requests_total{plane="vault",operation="GetSecret",status="200"} 3"#,
            r#"strongroom_requests_total{plane="vault",operation="GetSecret",status="403"} 1"#,
            r#"strongroom_requests_total{plane="management",operation="management",status="200"} 1"#,
            r#"strongroom_request_duration_seconds_count{plane="vault",operation="GetSecret"} 4"#,
            r#"strongroom_tokens_issued_total{grant="managed_identity"} 2"#,
            r#"strongroom_tokens_issued_total{grant="client_credentials"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
