//! What every listener (the server's HTTPS and proxy side, the agent, the agent's IMDS) does to
//! hold under slow clients and floods: a connection cap, and deadlines on each phase of a
//! connection's life.
//!
//! - **Cap.** At most `max_connections` are open. At the cap, the connection that has been idle
//!   longest (handshaking, waiting for its first request, or between requests) is closed to make
//!   room; when every connection is busy with a request, the new one is refused. So connections
//!   that connect and stall can hold slots only until someone else needs them, and never exhaust
//!   the file descriptors (the soft `RLIMIT_NOFILE` is raised to fit the cap at start).
//! - **Header read.** The TLS handshake and the head of the first request must arrive within
//!   `header_read_timeout` of the accept; a later HTTP/1 head within `header_read_timeout` of
//!   its first byte.
//! - **Idle.** A connection with no request in flight for `idle_timeout` is closed (HTTP/1
//!   keep-alive and HTTP/2 alike, however many pings it sends).
//! - **Request.** A request (body read included) that has not been answered within
//!   `request_timeout` gets 408 and its connection is closed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// Headroom kept under the file-descriptor limit for the database, logs and the listener.
const RESERVED_FDS: u64 = 256;
/// How long the agent's listeners wait for in-flight requests at shutdown.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Transport limits of a listener (flags of `serve` and `agent`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TransportArgs {
    /// Open connections at most. At the cap the longest-idle connection is closed to make
    /// room; if none is idle the new one is refused.
    #[arg(long, env = "STRONGROOM_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Deadline for a TLS handshake and for the head of a connection's first request
    /// (e.g. `10s`, `500ms`).
    #[arg(long, env = "STRONGROOM_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    #[arg(long, env = "STRONGROOM_IDLE_TIMEOUT", default_value = "120s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// A request (its body included) not answered within this gets 408.
    #[arg(long, env = "STRONGROOM_REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub request_timeout: Duration,
}

/// `10s`, `500ms`, `2m`, or a number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 10s, 500ms or 2m"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        _ => {
            return Err(format!(
                "'{text}' is not a duration such as 10s, 500ms or 2m"
            ));
        }
    };
    if duration.is_zero() {
        return Err("a timeout must be more than zero".to_owned());
    }
    Ok(duration)
}

impl TransportArgs {
    /// The limits to serve with. The cap must fit under the file-descriptor limit: the soft
    /// limit is raised towards the hard one, and the cap lowered (with a warning) if even the
    /// hard limit is too small.
    pub(crate) fn limits(&self) -> Limits {
        let wanted = u64::try_from(self.max_connections.max(1)).unwrap_or(u64::MAX);
        let available = raise_fd_limit(wanted.saturating_add(RESERVED_FDS));
        let fitting = available.saturating_sub(RESERVED_FDS).max(1);
        let max_connections = if fitting < wanted {
            tracing::warn!(
                wanted,
                fd_limit = available,
                "--max-connections lowered to fit the open-file limit"
            );
            usize::try_from(fitting).unwrap_or(usize::MAX)
        } else {
            self.max_connections.max(1)
        };
        Limits {
            max_connections,
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            request_timeout: self.request_timeout,
            tag_client_address: false,
        }
    }
}

/// Raises the soft open-file limit to `wanted` (at most the hard limit); returns the limit now
/// in force.
fn raise_fd_limit(wanted: u64) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let current = getrlimit(Resource::Nofile);
    let soft = current.current.unwrap_or(u64::MAX);
    if soft >= wanted {
        return soft;
    }
    let target = current.maximum.map_or(wanted, |hard| hard.min(wanted));
    let raised = rustix::process::Rlimit {
        current: Some(target),
        maximum: current.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => target,
        Err(_) => soft,
    }
}

/// The limits in force on one listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    /// Put the peer's address in each request's extensions (`ClientAddr`), for the audit
    /// log; off otherwise, since the first extension costs an allocation per request.
    pub tag_client_address: bool,
}

/// The open connections of a listener. Requests touch only their own connection's atomics;
/// the table's lock is taken to admit and release connections, and (only at the cap) to pick
/// the longest-idle connection to evict.
pub(crate) struct ConnectionTable {
    limits: Limits,
    /// What `idle_since` values count from.
    epoch: Instant,
    state: Mutex<TableState>,
}

#[derive(Default)]
struct TableState {
    open: usize,
    next_id: u64,
    connections: HashMap<u64, Arc<Activity>>,
}

impl ConnectionTable {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            epoch: Instant::now(),
            state: Mutex::new(TableState::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TableState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A slot for a new connection, or `None` when the cap is reached and no connection is
    /// idle. At the cap the longest-idle connection is told to close and its slot passes to
    /// the new one.
    pub(crate) fn admit(self: &Arc<Self>) -> Option<Connection> {
        let mut state = self.lock();
        if state.open >= self.limits.max_connections {
            // Rare (only at the cap): a scan of the open connections.
            let victim_id = state
                .connections
                .iter()
                .filter(|(_, a)| {
                    a.in_flight.load(Ordering::Acquire) == 0 && !a.evicted.load(Ordering::Acquire)
                })
                .min_by_key(|(id, a)| (a.idle_since_ms.load(Ordering::Acquire), **id))
                .map(|(id, _)| *id)?;
            if let Some(victim) = state.connections.remove(&victim_id) {
                // The victim's slot is handed over: it must not give it back when it ends.
                victim.slot_handed_over.store(true, Ordering::Release);
                victim.evict();
            }
        } else {
            state.open += 1;
        }
        let activity = self.register(&mut state);
        drop(state);
        Some(Connection {
            table: self.clone(),
            activity,
            started: Instant::now(),
        })
    }

    fn register(&self, state: &mut TableState) -> Arc<Activity> {
        let id = state.next_id;
        state.next_id += 1;
        let activity = Arc::new(Activity {
            id,
            idle_since_ms: AtomicU64::new(self.now_ms()),
            head_started_ms: AtomicU64::new(NO_HEAD),
            ..Activity::default()
        });
        state.connections.insert(id, activity.clone());
        activity
    }

    fn release(&self, activity: &Arc<Activity>) {
        let mut state = self.lock();
        state.connections.remove(&activity.id);
        if !activity.slot_handed_over.load(Ordering::Acquire) {
            state.open = state.open.saturating_sub(1);
        }
    }

    /// Open connections (for tests and logs).
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().open
    }
}

/// `head_started_ms` when no head is arriving.
const NO_HEAD: u64 = u64::MAX;

/// What the watchdog of one connection watches.
#[derive(Default)]
struct Activity {
    id: u64,
    in_flight: AtomicUsize,
    served_any: AtomicBool,
    evicted: AtomicBool,
    slot_handed_over: AtomicBool,
    /// When the connection last became idle (nothing in flight), in ms since the table's
    /// epoch: the eviction order.
    idle_since_ms: AtomicU64,
    /// HTTP/1: when the first byte of the next request's head arrived, in ms since the
    /// table's epoch, or [`NO_HEAD`] (the head must be complete within the header-read timeout
    /// from then). An atomic, not a lock: every read and every request touches it.
    head_started_ms: AtomicU64,
    changed: Notify,
}

impl Activity {
    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.changed.notify_one();
    }
}

/// One admitted connection: its slot in the table (given back on drop) and its activity.
/// Cloned into a `CONNECT` tunnel, which then serves on the same slot.
pub(crate) struct Connection {
    table: Arc<ConnectionTable>,
    activity: Arc<Activity>,
    started: Instant,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.table.release(&self.activity);
    }
}

impl Connection {
    pub(crate) fn limits(&self) -> Limits {
        self.table.limits
    }

    /// Time left of the header-read deadline, counted from the accept (TLS handshake and
    /// protocol sniffing come out of it).
    fn handshake_deadline(&self) -> Instant {
        self.started + self.table.limits.header_read_timeout
    }

    /// Resolves when this connection must close: evicted, idle too long, or (before any
    /// request) past the header-read deadline.
    async fn must_close(&self) {
        let limits = self.table.limits;
        loop {
            let notified = self.activity.changed.notified();
            if self.activity.evicted.load(Ordering::Acquire) {
                return;
            }
            // Requests do not wake the watchdog (that would cost a task poll and a timer per
            // request): it sleeps to the nearest deadline it knows, and while requests are in
            // flight or a head may be arriving it looks again every header-read timeout.
            let now = Instant::now();
            let recheck = now + limits.header_read_timeout;
            let deadline = if self.activity.in_flight.load(Ordering::Acquire) > 0 {
                None
            } else if self.activity.served_any.load(Ordering::Acquire) {
                let since_ms = self.activity.idle_since_ms.load(Ordering::Acquire);
                let since = self.table.epoch + Duration::from_millis(since_ms);
                let idle = since + limits.idle_timeout;
                let head_ms = self.activity.head_started_ms.load(Ordering::Acquire);
                Some(if head_ms == NO_HEAD {
                    idle
                } else {
                    let head = self.table.epoch + Duration::from_millis(head_ms);
                    idle.min(head + limits.header_read_timeout)
                })
            } else {
                Some(self.handshake_deadline())
            };
            if deadline.is_some_and(|deadline| now >= deadline) {
                return;
            }
            let wake = deadline.map_or(recheck, |deadline| deadline.min(recheck));
            // Only an eviction notifies.
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// Runs `step` (protocol sniffing, the TLS handshake) unless the connection must close
    /// first (header-read deadline or eviction): `None` then.
    pub(crate) async fn before_first_request<F: Future>(&self, step: F) -> Option<F::Output> {
        tokio::select! {
            output = step => Some(output),
            () = self.must_close() => None,
        }
    }

    /// HTTP/1 bytes arrived: if no request is in flight they begin the next request's head.
    fn bytes_arrived(&self) {
        if self.activity.in_flight.load(Ordering::Acquire) > 0
            || !self.activity.served_any.load(Ordering::Acquire)
        {
            return;
        }
        if self.activity.head_started_ms.load(Ordering::Acquire) == NO_HEAD {
            // A race with another read only moves the start by the time between them.
            let _ = self.activity.head_started_ms.compare_exchange(
                NO_HEAD,
                self.table.now_ms(),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    fn request_started(&self) {
        self.activity.served_any.store(true, Ordering::Release);
        self.activity
            .head_started_ms
            .store(NO_HEAD, Ordering::Release);
        self.activity.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn request_ended(&self) {
        if self.activity.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.activity
                .idle_since_ms
                .store(self.table.now_ms(), Ordering::Release);
        }
    }

    /// A second handle on the same slot, for the tunnel a `CONNECT` opens: the outer
    /// connection ends when the tunnel starts, and the tunnel keeps the slot.
    pub(crate) fn for_tunnel(&self) -> Connection {
        // The tunnel's slot is the outer connection's: only one of them gives it back.
        self.activity
            .slot_handed_over
            .store(true, Ordering::Release);
        let activity = {
            let mut state = self.table.lock();
            self.table.register(&mut state)
        };
        Connection {
            table: self.table.clone(),
            activity,
            started: Instant::now(),
        }
    }
}

/// Serves HTTP/1.1 and HTTP/2 on an established stream with `service`, under the
/// connection's limits, until the client closes it, the limits close it, or `close` asks it to
/// finish its in-flight requests. `http2` says ALPN chose `h2`: HTTP/2 connections carry
/// pings and window updates between requests, so only HTTP/1 heads are timed from their
/// first byte.
pub(crate) async fn serve_http<S, IO>(
    io: IO,
    service: S,
    connection: Arc<Connection>,
    close: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
    http2: bool,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    if http2 {
        serve_with(builder, io, service, connection, close, peer).await;
    } else {
        let io = HeadTimed {
            inner: io,
            connection: connection.clone(),
        };
        serve_with(builder, io, service, connection, close, peer).await;
    }
}

/// [`serve_http`] for plain-HTTP listeners: HTTP/1.1 only (with upgrades, for `CONNECT`).
pub(crate) async fn serve_http_1<S, IO>(
    io: IO,
    service: S,
    connection: Arc<Connection>,
    close: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    let io = HeadTimed {
        inner: io,
        connection: connection.clone(),
    };
    serve_with(builder, io, service, connection, close, peer).await;
}

async fn serve_with<S, IO>(
    mut builder: auto::Builder<TokioExecutor>,
    io: IO,
    service: S,
    connection: Arc<Connection>,
    mut close: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let limits = connection.limits();
    let tracked = Tracked {
        inner: service,
        connection: connection.clone(),
        timeout: limits.request_timeout,
        peer: limits.tag_client_address.then_some(peer),
    };
    // hyper's own head timer starts when a keep-alive connection goes idle, which would make
    // the idle timeout the header-read timeout: the watchdog times heads instead.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    let serving =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(tracked));
    tokio::pin!(serving);
    tokio::select! {
        result = serving.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        }
        // Shutdown: in-flight requests finish (the server bounds the wait as a whole).
        _ = close.changed() => {
            serving.as_mut().graceful_shutdown();
            let result = serving.await;
            tracing::debug!(%peer, ?result, "connection drained at shutdown");
        }
        // Idle, evicted or past its head deadline: nothing is in flight, so it just closes.
        () = connection.must_close() => {
            tracing::debug!(%peer, "connection closed by its limits");
        }
    }
}

/// Serves plain HTTP/1.1 on `listener` with `service` (the agent's listeners) until `stop`
/// turns true, then lets open connections finish their in-flight requests (bounded).
pub(crate) async fn serve_plain<S>(
    listener: tokio::net::TcpListener,
    limits: Limits,
    service: S,
    mut stop: watch::Receiver<bool>,
) where
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let table = ConnectionTable::new(limits);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            stopped = stop.wait_for(|stop| *stop) => {
                drop(stopped);
                break;
            }
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Reap finished connections so the set stays as small as the open ones.
        while tasks.try_join_next().is_some() {}
        let Some(connection) = table.admit() else {
            tracing::debug!(%peer, "connection refused: at the connection cap and none idle");
            continue;
        };
        let service = service.clone();
        let close = stop.clone();
        tasks.spawn(async move {
            serve_http_1(stream, service, Arc::new(connection), close, peer).await;
        });
    }
    drop(listener);
    let drained = async { while tasks.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(CLOSE_GRACE, drained).await;
}

/// An HTTP/1 stream that tells its connection when bytes arrive, so a request head is timed
/// from its first byte.
struct HeadTimed<IO> {
    inner: IO,
    connection: Arc<Connection>,
}

impl<IO: AsyncRead + Unpin> AsyncRead for HeadTimed<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.connection.bytes_arrived();
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for HeadTimed<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Relays bytes both ways until either side closes or nothing has moved in either direction
/// for `idle`.
pub(crate) async fn relay_until_idle<A, B>(mut client: A, mut upstream: B, idle: Duration)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut from_client = vec![0u8; 16 * 1024];
    let mut from_upstream = vec![0u8; 16 * 1024];
    loop {
        let moved = tokio::time::timeout(idle, async {
            tokio::select! {
                read = client.read(&mut from_client) => match read {
                    Ok(0) | Err(_) => None,
                    Ok(n) => upstream.write_all(&from_client[..n]).await.ok(),
                },
                read = upstream.read(&mut from_upstream) => match read {
                    Ok(0) | Err(_) => None,
                    Ok(n) => client.write_all(&from_upstream[..n]).await.ok(),
                },
            }
        })
        .await;
        if !matches!(moved, Ok(Some(()))) {
            break;
        }
    }
    let _ = client.shutdown().await;
    let _ = upstream.shutdown().await;
}

/// Counts a connection's requests in flight (for the idle rule and eviction) and bounds each
/// request's time.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    connection: Arc<Connection>,
    timeout: Duration,
    /// The client's address, given to each request when the audit log wants it.
    peer: Option<std::net::SocketAddr>,
}

/// Ends the request's in-flight count however its future ends (answered, timed out, or
/// dropped with the connection).
struct InFlight(Arc<Connection>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

impl<S> tower::Service<Request<Incoming>> for Tracked<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        if let Some(peer) = self.peer {
            request
                .extensions_mut()
                .insert(strongroom_api::ClientAddr(peer));
        }
        self.connection.request_started();
        let in_flight = InFlight(self.connection.clone());
        let timeout = self.timeout;
        let answer = self.inner.call(request);
        Box::pin(async move {
            let result = match tokio::time::timeout(timeout, answer).await {
                Ok(result) => result,
                Err(_) => Ok(request_timeout()),
            };
            drop(in_flight);
            result
        })
    }
}

/// 408 in Azure's error shape; the connection closes after it.
fn request_timeout() -> Response<Body> {
    let body = serde_json::json!({
        "error": {
            "code": "RequestTimeout",
            "message": "The request was not completed within the server's request timeout.",
        }
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test fixtures")]
mod tests {
    use super::*;

    fn limits(max: usize) -> Limits {
        Limits {
            max_connections: max,
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            tag_client_address: false,
        }
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_is_evicted_and_busy_ones_are_kept() {
        let table = ConnectionTable::new(limits(2));
        let first = table.admit().unwrap();
        let second = table.admit().unwrap();
        second.request_started();
        assert_eq!(table.open(), 2);

        // The first is idle: it makes room, and is told to close.
        let third = table.admit().unwrap();
        assert!(first.activity.evicted.load(Ordering::Acquire));
        assert!(!second.activity.evicted.load(Ordering::Acquire));
        drop(first);
        assert_eq!(table.open(), 2, "the evicted slot passed to the new one");

        // Both remaining are busy: a new connection is refused.
        third.request_started();
        assert!(table.admit().is_none());

        // A request ends: that connection is idle again, and evictable.
        second.request_ended();
        let fourth = table.admit().unwrap();
        assert!(second.activity.evicted.load(Ordering::Acquire));
        drop(second);
        drop(third);
        drop(fourth);
        assert_eq!(table.open(), 0);
    }

    #[tokio::test]
    async fn a_tunnel_keeps_the_slot_of_its_connect() {
        let table = ConnectionTable::new(limits(1));
        let outer = table.admit().unwrap();
        let tunnel = outer.for_tunnel();
        drop(outer);
        assert_eq!(table.open(), 1);
        drop(tunnel);
        assert_eq!(table.open(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_sends_a_request_closes_at_the_header_deadline() {
        let table = ConnectionTable::new(limits(4));
        let connection = table.admit().unwrap();
        let started = Instant::now();
        connection.must_close().await;
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_is_not_idle() {
        let table = ConnectionTable::new(limits(4));
        let connection = Arc::new(table.admit().unwrap());
        connection.request_started();
        let watching = {
            let connection = connection.clone();
            tokio::spawn(async move { connection.must_close().await })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!watching.is_finished());
        connection.request_ended();
        let ended = Instant::now();
        watching.await.unwrap();
        assert_eq!(ended.elapsed(), Duration::from_secs(1));
    }
}
