//! Prometheus metrics, kept only when `serve --metrics-listen` asks for them (the hot path
//! then pays one labelled counter and one histogram observation per request, and nothing
//! otherwise): requests by plane, operation and status, their latency by plane and
//! operation, and tokens issued by grant. Served as Prometheus text by the binary's metrics
//! listener, apart from the API's own port.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobNameLabels {
    job: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreErrorLabels {
    operation: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    result: &'static str,
}

/// How one tick of a background job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// This node ran the job's period.
    Ran,
    /// Another node had claimed the period (several nodes on one database).
    Skipped,
    /// The run, or the claim, failed (logged).
    Failed,
}

impl JobOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ran => "ran",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// Numbers the other layers keep themselves, read at each scrape.
#[derive(Clone, Debug, Default)]
pub struct LiveCounts {
    /// (cache, hits, misses) per in-memory cache.
    pub caches: Vec<(&'static str, u64, u64)>,
    /// The store's connection pool, if it has one: (size, idle, waiting).
    pub pool: Option<(u64, u64, u64)>,
}

type LiveSource = Arc<dyn Fn() -> LiveCounts + Send + Sync>;

/// Encodes `LiveCounts` at scrape time (a Prometheus collector).
struct LiveCollector {
    source: Arc<std::sync::OnceLock<LiveSource>>,
}

impl std::fmt::Debug for LiveCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCollector").finish_non_exhaustive()
    }
}

impl Collector for LiveCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some(source) = self.source.get() else {
            return Ok(());
        };
        let live = source();
        let mut lookups = encoder.encode_descriptor(
            "cache_lookups",
            "Lookups in the in-memory caches, by cache and result (hit or miss)",
            None,
            MetricType::Counter,
        )?;
        for &(cache, hits, misses) in &live.caches {
            for (result, count) in [("hit", hits), ("miss", misses)] {
                let labels = CacheLabels { cache, result };
                let family = lookups.encode_family(&labels)?;
                ConstCounter::new(count).encode(family)?;
            }
        }
        if let Some((size, idle, waiting)) = live.pool {
            for (name, help, value) in [
                (
                    "store_pool_connections",
                    "Connections the store's pool holds",
                    size,
                ),
                (
                    "store_pool_idle_connections",
                    "Pool connections not in use",
                    idle,
                ),
                (
                    "store_pool_waiting",
                    "Requests waiting for a pool connection",
                    waiting,
                ),
            ] {
                let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
                let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
                gauge.encode(metric)?;
            }
        }
        Ok(())
    }
}

/// The deployment's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    tokens: Family<TokenLabels, Counter>,
    jobs: Family<JobLabels, Counter>,
    job_duration: Family<JobNameLabels, Histogram, fn() -> Histogram>,
    live: Arc<std::sync::OnceLock<LiveSource>>,
    store_latency: Family<StoreLabels, Histogram, fn() -> Histogram>,
    store_errors: Family<StoreErrorLabels, Counter>,
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

/// From 10 µs (a cached SQLite read) to about 10 s (a pool wait that times out).
fn store_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_01, 2.0, 20))
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
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "background_runs",
            "Background job ticks, by job and outcome (ran here, skipped: another node ran the period, failed)",
            jobs.clone(),
        );
        let job_duration =
            Family::<JobNameLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "background_run_duration_seconds",
            "Time a background job's tick took, by job",
            job_duration.clone(),
        );
        let store_latency =
            Family::<StoreLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                store_histogram,
            );
        registry.register(
            "store_operation_duration_seconds",
            "Time a call into the store took (SQLite or PostgreSQL), by operation",
            store_latency.clone(),
        );
        let store_errors = Family::<StoreErrorLabels, Counter>::default();
        registry.register(
            "store_errors",
            "Store calls that failed, by operation and kind (unavailable, conflict, corrupt, refused: an expected answer such as not found, backend)",
            store_errors.clone(),
        );
        let live = Arc::new(std::sync::OnceLock::new());
        registry.register_collector(Box::new(LiveCollector {
            source: Arc::clone(&live),
        }));
        Self {
            registry,
            requests,
            latency,
            tokens,
            jobs,
            job_duration,
            live,
            store_latency,
            store_errors,
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

    pub(crate) fn job_finished(&self, job: &'static str, outcome: JobOutcome, took: Duration) {
        self.jobs
            .get_or_create(&JobLabels {
                job,
                outcome: outcome.as_str(),
            })
            .inc();
        self.job_duration
            .get_or_create(&JobNameLabels { job })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn store_operation(
        &self,
        operation: &'static str,
        took: Duration,
        error: Option<&'static str>,
    ) {
        self.store_latency
            .get_or_create(&StoreLabels { operation })
            .observe(took.as_secs_f64());
        if let Some(kind) = error {
            self.store_errors
                .get_or_create(&StoreErrorLabels { operation, kind })
                .inc();
        }
    }

    /// Where the cache and pool numbers come from (set once, when the state that owns them
    /// exists; later calls are ignored).
    pub fn set_live_source(&self, source: impl Fn() -> LiveCounts + Send + Sync + 'static) {
        let _ = self.live.set(Arc::new(source));
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
