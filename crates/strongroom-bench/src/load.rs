//! The load generator: N keep-alive HTTP/1.1 connections over TLS, each sending its next
//! request as soon as the previous response has been read in full (closed loop).
//!
//! The client is hyper 1's connection-level `http1` client over tokio-rustls (aws-lc-rs),
//! connecting to 127.0.0.1:PORT with the SNI and `Host` of the target, trusting only the CA
//! the target names: the same for the real server and the bare endpoint, so the two figures
//! differ only by what the server does. Connections are opened (TLS handshake included) before
//! the clock starts; each phase has an unmeasured warm-up, then a measured window. A request
//! counts when it completes inside the window; its latency is from send to last body byte.
//!
//! A phase may spread its connections over several targets (`run_spread`: the nodes of one
//! deployment behind a load balancer that spreads connections) and sample the CPU of several
//! groups of processes at the window's edges (each node, the database server's processes).

use crate::stats::{self, Latencies};
use anyhow::{Context, bail};
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// No single request may take longer than this; a slower one counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Hard bound on requests per connection per phase, whatever the duration.
const MAX_REQUESTS_PER_CONNECTION: u64 = 5_000_000;

/// Where and how to connect: an address on 127.0.0.1, the TLS name, and the `Host` header.
pub(crate) struct Target {
    addr: SocketAddr,
    server_name: ServerName<'static>,
    host_header: HeaderValue,
    connector: TlsConnector,
}

impl Target {
    /// `host` is the name without port (SNI); the `Host` header gets `host:port`.
    pub(crate) fn new(port: u16, host: &str, ca_pem: &Path) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca_pem)
            .with_context(|| format!("reading {}", ca_pem.display()))?
        {
            roots
                .add(cert.with_context(|| format!("parsing {}", ca_pem.display()))?)
                .context("adding the CA to the trust store")?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            server_name: ServerName::try_from(host.to_owned())
                .with_context(|| format!("{host:?} is not a TLS server name"))?,
            host_header: HeaderValue::from_str(&format!("{host}:{port}"))
                .with_context(|| format!("{host:?} is not a Host header value"))?,
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// The `Host` header value, for building requests.
    pub(crate) fn host_header(&self) -> &HeaderValue {
        &self.host_header
    }

    /// A new keep-alive connection (TCP + TLS + HTTP/1.1); its driver runs as a task.
    pub(crate) async fn connect(&self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("connecting to {}", self.addr))?;
        tcp.set_nodelay(true)?;
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .context("TLS handshake")?;
        let (sender, connection) = http1::handshake(TokioIo::new(tls))
            .await
            .context("HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// One request on a fresh connection, answering the response headers too.
    pub(crate) async fn request_once_with_headers(
        &self,
        request: Request<Full<Bytes>>,
    ) -> anyhow::Result<(StatusCode, http::HeaderMap, Bytes)> {
        let mut sender = self.connect().await?;
        sender.ready().await.context("connection closed")?;
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok((parts.status, parts.headers, body))
    }

    /// One request on a fresh connection, for setup steps.
    pub(crate) async fn request_once(
        &self,
        request: Request<Full<Bytes>>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut sender = self.connect().await?;
        send(&mut sender, request).await
    }
}

/// One request on an open connection, for setup steps that send many.
pub(crate) async fn send_on(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    send(sender, request).await
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let exchange = async {
        sender.ready().await.context("connection closed")?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        anyhow::Ok((status, body))
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(result) => result,
        Err(_) => bail!("no response within {REQUEST_TIMEOUT:?}"),
    }
}

/// Builds request number `seq` of connection `connection`.
pub(crate) type MakeRequest = Arc<dyn Fn(usize, u64) -> Request<Full<Bytes>> + Send + Sync>;

/// How one phase runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Phase {
    pub(crate) connections: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
}

/// What one phase measured.
#[derive(Debug, Clone)]
pub(crate) struct PhaseResult {
    /// Successful (2xx) requests completed in the measured window.
    pub(crate) requests: u64,
    /// Failed requests (non-2xx, transport errors, timeouts) in warm-up and window.
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
    pub(crate) window: Duration,
    pub(crate) latencies: Latencies,
    /// CPU the server process used during the window, if it could be read.
    pub(crate) server_cpu: Option<Duration>,
    /// CPU this (load generator) process used during the window.
    pub(crate) client_cpu: Option<Duration>,
    /// CPU everything else on the machine used during the window (noise).
    pub(crate) other_cpu: Option<Duration>,
    pub(crate) response_bytes: usize,
}

impl PhaseResult {
    pub(crate) fn per_second(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }

    /// Server CPU per successful request.
    pub(crate) fn server_cpu_per_request(&self) -> Option<Duration> {
        per_request(self.server_cpu, self.requests)
    }

    pub(crate) fn client_cpu_per_request(&self) -> Option<Duration> {
        per_request(self.client_cpu, self.requests)
    }

    /// CPUs kept busy by other processes during the window, on average.
    pub(crate) fn other_cpus(&self) -> Option<f64> {
        self.other_cpu
            .map(|cpu| cpu.as_secs_f64() / self.window.as_secs_f64())
    }
}

/// `cpu` divided by `requests` (none for no requests).
pub(crate) fn per_request(cpu: Option<Duration>, requests: u64) -> Option<Duration> {
    let requests = u32::try_from(requests).ok().filter(|n| *n > 0)?;
    cpu.map(|cpu| cpu / requests)
}

struct ConnectionOutcome {
    requests: u64,
    /// Successful requests in warm-up, window and after it (everything the server answered).
    completed: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
    response_bytes: usize,
}

/// Reads the CPU time some processes have used so far (one figure for the group).
pub(crate) type CpuSampler = Arc<dyn Fn() -> Option<Duration> + Send + Sync>;

/// The CPU sampler of one process.
pub(crate) fn process_sampler(pid: u32) -> CpuSampler {
    Arc::new(move || stats::process_cpu(pid))
}

/// What a phase spread over several targets measured, beyond the totals.
#[derive(Debug, Clone)]
pub(crate) struct SpreadResult {
    /// The totals: `server_cpu` is the sum over every CPU group, so `other_cpu` leaves all of
    /// them out.
    pub(crate) result: PhaseResult,
    /// Requests completed in the window, per target (connection `i` goes to target
    /// `i % targets`).
    pub(crate) target_requests: Vec<u64>,
    /// CPU each group used during the window, in the order given.
    pub(crate) group_cpu: Vec<Option<Duration>>,
    /// Successful requests over the whole phase (warm-up, window, and those answered after
    /// it): what the server did between the phase's start and its end, for counters read
    /// around the phase.
    pub(crate) completed: u64,
}

/// Runs one phase against `target`; `server_pid` is sampled for CPU time.
pub(crate) async fn run_phase(
    target: Arc<Target>,
    phase: Phase,
    make: MakeRequest,
    server_pid: u32,
) -> anyhow::Result<PhaseResult> {
    let spread = run_spread(&[target], phase, make, vec![process_sampler(server_pid)]).await?;
    Ok(spread.result)
}

/// Runs one phase with its connections spread over `targets` (connection `i` to target
/// `i % targets.len()`, as a load balancer spreading connections would), sampling each of
/// `cpu_groups` at the window's edges.
pub(crate) async fn run_spread(
    targets: &[Arc<Target>],
    phase: Phase,
    make: MakeRequest,
    cpu_groups: Vec<CpuSampler>,
) -> anyhow::Result<SpreadResult> {
    anyhow::ensure!(!targets.is_empty(), "a phase needs a target");
    let mut senders = Vec::with_capacity(phase.connections);
    for index in 0..phase.connections {
        senders.push(targets[index % targets.len()].connect().await?);
    }
    let start = Instant::now();
    let window_start = start + phase.warmup;
    let window_end = window_start + phase.duration;

    let cpu_probe = tokio::spawn(async move {
        tokio::time::sleep_until(window_start.into()).await;
        let sample = || {
            (
                cpu_groups.iter().map(|group| group()).collect::<Vec<_>>(),
                stats::own_cpu(),
                stats::machine_busy(),
            )
        };
        let before = sample();
        tokio::time::sleep_until(window_end.into()).await;
        let after = sample();
        let delta = |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
        let groups: Vec<Option<Duration>> = before
            .0
            .iter()
            .zip(&after.0)
            .map(|(a, b)| delta(*a, *b))
            .collect();
        let server = groups
            .iter()
            .try_fold(Duration::ZERO, |sum, group| Some(sum + (*group)?));
        let client = delta(before.1, after.1);
        let machine = delta(before.2, after.2);
        let other = (|| Some(machine?.saturating_sub(server? + client?)))();
        (groups, server, client, other)
    });

    let mut tasks = tokio::task::JoinSet::new();
    for (index, mut sender) in senders.into_iter().enumerate() {
        let make = make.clone();
        tasks.spawn(async move {
            let mut outcome = ConnectionOutcome {
                requests: 0,
                completed: 0,
                errors: 0,
                first_error: None,
                latencies_us: Vec::new(),
                response_bytes: 0,
            };
            let mut seq = 0u64;
            while seq < MAX_REQUESTS_PER_CONNECTION {
                let sent = Instant::now();
                if sent >= window_end {
                    break;
                }
                let request = make(index, seq);
                seq += 1;
                let result = send(&mut sender, request).await;
                let done = Instant::now();
                match result {
                    Ok((status, body)) if status.is_success() => {
                        outcome.completed += 1;
                        if done >= window_start && done < window_end {
                            outcome.requests += 1;
                            outcome.latencies_us.push(stats::micros_u32(done - sent));
                        }
                        outcome.response_bytes = body.len();
                    }
                    Ok((status, body)) => {
                        outcome.errors += 1;
                        outcome.first_error.get_or_insert_with(|| {
                            format!("{status}: {}", String::from_utf8_lossy(&body))
                        });
                    }
                    Err(err) => {
                        outcome.errors += 1;
                        outcome
                            .first_error
                            .get_or_insert_with(|| format!("{err:#}"));
                        // The connection is unusable after a transport error.
                        break;
                    }
                }
            }
            (index, outcome)
        });
    }

    let mut result = PhaseResult {
        requests: 0,
        errors: 0,
        first_error: None,
        window: phase.duration,
        latencies: Latencies::default(),
        server_cpu: None,
        client_cpu: None,
        other_cpu: None,
        response_bytes: 0,
    };
    let mut target_requests = vec![0u64; targets.len()];
    let mut completed = 0u64;
    let mut samples = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, outcome) = joined.context("a load connection task failed")?;
        result.requests += outcome.requests;
        target_requests[index % targets.len()] += outcome.requests;
        completed += outcome.completed;
        result.errors += outcome.errors;
        if result.first_error.is_none() {
            result.first_error = outcome.first_error;
        }
        result.response_bytes = result.response_bytes.max(outcome.response_bytes);
        samples.extend_from_slice(&outcome.latencies_us);
    }
    result.latencies = Latencies::from_samples(samples);
    let (group_cpu, server_cpu, client_cpu, other_cpu) =
        cpu_probe.await.context("the CPU probe failed")?;
    result.server_cpu = server_cpu;
    result.client_cpu = client_cpu;
    result.other_cpu = other_cpu;
    Ok(SpreadResult {
        result,
        target_requests,
        group_cpu,
        completed,
    })
}

/// A request with the target's `Host`, an optional bearer token and an optional JSON body.
pub(crate) fn request(
    method: http::Method,
    path_and_query: &str,
    host: &HeaderValue,
    authorization: Option<&HeaderValue>,
    json_body: Option<Bytes>,
) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(json_body.clone().unwrap_or_default()));
    *request.method_mut() = method;
    // Origin-form URI: the connection-level client sends it as the request target.
    *request.uri_mut() = http::Uri::try_from(path_and_query).unwrap_or_default();
    let headers = request.headers_mut();
    headers.insert(header::HOST, host.clone());
    if let Some(value) = authorization {
        headers.insert(header::AUTHORIZATION, value.clone());
    }
    if json_body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    request
}
