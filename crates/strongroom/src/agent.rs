//! `strongroom agent`: the metadata service of a workload host. It holds one managed identity's
//! client secret and hands that identity's tokens to local programs over plain HTTP, in the
//! protocols `ManagedIdentityCredential` speaks (CLIENT-PROTOCOL.md §4):
//!
//! - App Service, `GET /msi/token?api-version=2019-08-01&resource=R` with `X-IDENTITY-HEADER`
//!   (the secret in `DIR/agent.json`, compared in constant time) → `expires_on` body;
//! - Azure Arc, `GET /metadata/identity/oauth2/token?api-version=2020-06-01&resource=R` with
//!   `Metadata: true`: without `Authorization` a 401 whose `WWW-Authenticate: Basic realm=PATH`
//!   names a key file just written (0600, `--arc-key-dir`, default `/var/opt/azcmagent/tokens`,
//!   the only directory Microsoft's clients accept on Linux); with `Authorization: Basic <that
//!   file's content>` the IMDS body. A key works once and for `ARC_KEY_LIFETIME_SECONDS`;
//! - IMDS on `--imds-listen` (e.g. 169.254.169.254:80 where the operator bound that address),
//!   `GET /metadata/identity/oauth2/token` with `Metadata: true` → IMDS body. IMDS has no
//!   secret: whoever reaches that address gets the identity's tokens, as on an Azure VM.
//!
//! The credential: at start the agent makes a new client secret for the identity with the
//! administrator credential of `--data-dir` (`addPassword`) and keeps it in memory only.
//! Tokens come from the server's token endpoint (client credentials, `scope=R/.default`) over
//! HTTPS trusting the deployment's `ca.pem`, cached per resource until 5 minutes before expiry.
//!
//! Every listener is reachable by any local program and, through DNS rebinding, by any web page
//! a local browser shows, so before any protocol check:
//!
//! - `Host` must be the listener's own address (`ip:port`; `localhost:port` too on a loopback
//!   listener; on the IMDS listener also `169.254.169.254[:80]`), else 400;
//! - a request carrying `X-Forwarded-For` or `Forwarded` is refused (400), as Azure IMDS
//!   refuses `X-Forwarded-For`: the endpoint is for local callers, never for a proxy's;
//! - `resource` must look like a resource (an absolute URI or an application id, at most
//!   `MAX_RESOURCE_LEN` bytes of URI characters), else 400 and no token is fetched.
//!
//! The token cache holds at most `TOKEN_CACHE_CAPACITY` resources (when full, unusable entries
//! go first, then the least recently used); its lock is never held across the fetch, and
//! concurrent misses for one resource share one fetch. Unauthenticated Arc requests each write
//! a key file, so they are rate-limited (a bucket of `ARC_CHALLENGE_BURST`, refilled at
//! `ARC_CHALLENGES_PER_SECOND`; beyond it 429 with `Retry-After`).
//!
//! `--dev-clock` (tests only) lets `POST /strongroom/dev/clock?advanceSeconds=N` with the
//! `X-IDENTITY-HEADER` move the agent's clock forward, as the server's `--dev-clock` does: token
//! renewal and Arc key lifetimes can then be tested without waiting.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use strongroom_cli::{
    APP_SERVICE_PATH, ARC_PATH, AgentInfo, MINTED_SECRET_LIFETIME, TokenClient, WorkloadCredential,
    create_agent_dir, new_workload_credential, write_private_file,
};
use strongroom_identity::{
    IdentitySelector, IssuedToken, app_service_token_response, imds_error, imds_token_response,
};
use strongroom_model::{Clock, ManualClock, SecretValue, SystemClock, UnixTime};
use tokio::net::TcpListener;
use tokio::sync::OnceCell;

/// Where Microsoft's clients require Azure Arc key files on Linux.
pub(crate) const DEFAULT_ARC_KEY_DIR: &str = "/var/opt/azcmagent/tokens";
/// How long an Arc key file's content is accepted.
const ARC_KEY_LIFETIME_SECONDS: i64 = 60;
/// Outstanding Arc keys at most; the oldest is dropped first.
const MAX_ARC_KEYS: usize = 32;
/// A cached token is renewed this long before it expires.
const RENEW_BEFORE_SECONDS: i64 = 300;
/// Resources whose tokens the cache holds at most.
const TOKEN_CACHE_CAPACITY: usize = 64;
/// The longest `resource` accepted (Entra's application ID URIs are far shorter).
const MAX_RESOURCE_LEN: usize = 256;
/// Arc challenges (each writes and fsyncs a key file) allowed at once...
const ARC_CHALLENGE_BURST: f64 = 10.0;
/// ...and after the burst, per second.
const ARC_CHALLENGES_PER_SECOND: f64 = 5.0;
/// Azure IMDS's own address, which the IMDS listener also answers to in `Host`.
const IMDS_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
/// The agent's dev clock route (only with `--dev-clock`).
const DEV_CLOCK_PATH: &str = "/strongroom/dev/clock";
/// Random bytes of the identity header and of Arc keys.
const SECRET_BYTES: usize = 32;

/// `strongroom agent`
#[derive(Debug, clap::Args)]
pub(crate) struct AgentArgs {
    /// The managed identity (a user-assigned identity's name, or a host's name after
    /// `vm identity assign`): the agent makes a day-long secret for it with the administrator
    /// credential of --data-dir, replaces it at half its life, and deletes it when it stops
    #[arg(long, required_unless_present = "credential_file")]
    identity: Option<String>,
    /// The identity's credential file (`identity credential create --out`): no administrator
    /// credential is needed on this host
    #[arg(long, conflicts_with = "identity")]
    credential_file: Option<PathBuf>,
    /// The Strongroom server (default: the authorityHost in DATA_DIR/server.json)
    #[arg(long)]
    server: Option<String>,
    /// Where to serve the App Service and Azure Arc protocols (plain HTTP)
    #[arg(long, default_value = "127.0.0.1:40342")]
    listen: SocketAddr,
    /// Where to serve IMDS too, e.g. 169.254.169.254:80
    #[arg(long)]
    imds_listen: Option<SocketAddr>,
    /// The agent's directory: agent.json (default: DATA_DIR/agent)
    #[arg(long)]
    agent_dir: Option<PathBuf>,
    /// Where Azure Arc key files are written
    #[arg(long, default_value = DEFAULT_ARC_KEY_DIR)]
    arc_key_dir: PathBuf,
    /// For tests: `POST /strongroom/dev/clock?advanceSeconds=N` (with `X-IDENTITY-HEADER`)
    /// moves the agent's clock forward
    #[arg(long)]
    dev_clock: bool,
    /// For tests: the lifetime in seconds of the secret `--identity` mints (default a day)
    #[arg(long, hide = true)]
    minted_secret_lifetime: Option<u64>,
    #[command(flatten)]
    transport: crate::transport::TransportArgs,
}

/// Which protocol a listener serves on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    AppService,
    Arc,
    Imds,
}

/// What the agent does with a request, decided from the request alone.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Serve a token for `resource`; `echo` goes into the body (Arc confirms selectors).
    Token {
        resource: String,
        echo: Vec<(&'static str, String)>,
    },
    /// Arc without (valid) key: 401 with a fresh key file.
    Challenge,
    Refuse {
        status: StatusCode,
        description: &'static str,
    },
}

/// The identity the agent serves.
#[derive(Debug, Clone)]
struct Identity {
    client_id: String,
    principal_id: String,
    name: String,
}

/// The request, as far as the decision needs it.
struct Asked<'a> {
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
}

fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn refuse(status: StatusCode, description: &'static str) -> Decision {
    Decision::Refuse {
        status,
        description,
    }
}

/// The protocol a path selects on the main listener (`imds == false`) or the IMDS listener.
fn protocol_for(path: &str, imds: bool) -> Option<Protocol> {
    let path = path.trim_end_matches('/');
    match (path, imds) {
        (ARC_PATH, true) => Some(Protocol::Imds),
        (ARC_PATH, false) => Some(Protocol::Arc),
        (APP_SERVICE_PATH, false) => Some(Protocol::AppService),
        _ => None,
    }
}

/// Whether `resource` can name a resource: an application id (a GUID) or an absolute URI
/// (`scheme://host[...]`), at most `MAX_RESOURCE_LEN` bytes of unreserved URI characters, `:`
/// and `/` (no query, fragment, userinfo, percent-encoding or spaces). Anything else would only
/// make the agent fetch a token the caller cannot use.
fn valid_resource(resource: &str) -> bool {
    if resource.is_empty() || resource.len() > MAX_RESOURCE_LEN {
        return false;
    }
    let uri_char = |byte: u8| byte.is_ascii_alphanumeric() || b"-._~:/".contains(&byte);
    if !resource.bytes().all(uri_char) {
        return false;
    }
    if is_guid(resource) {
        return true;
    }
    let Some((scheme, rest)) = resource.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-');
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    scheme_ok && !host.is_empty()
}

/// `8-4-4-4-12` hex digits.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `host` (a `Host` header or a request target's authority) names the listener bound
/// to `listen`: DNS rebinding makes a browser send a page's own name, never these. The main
/// listener (`imds == false`) accepts `ip:port` of its address, and `localhost:port` on a
/// loopback or unspecified address; the IMDS listener its own `ip:port` and Azure's
/// `169.254.169.254[:80]`. On an unspecified address (`0.0.0.0`, `::`) any IP literal with the
/// right port is the listener's own. A missing port means 80.
fn host_allowed(listen: SocketAddr, imds: bool, host: &str) -> bool {
    if host.contains('@') {
        return false;
    }
    let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
        return false;
    };
    if authority.as_str() != host {
        return false;
    }
    let port = match authority.port() {
        Some(port) => port.as_u16(),
        None if host.ends_with(':') => return false,
        None => 80,
    };
    let name = authority.host();
    let ip = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    if imds && ip == Some(IpAddr::V4(IMDS_ADDRESS)) && port == 80 {
        return true;
    }
    if port != listen.port() {
        return false;
    }
    let own = listen.ip();
    match ip {
        Some(ip) => ip == own || own.is_unspecified(),
        None => {
            !imds
                && (own.is_loopback() || own.is_unspecified())
                && name.eq_ignore_ascii_case("localhost")
        }
    }
}

/// The first refusal a request gets before its protocol is looked at: a `Host` that is not the
/// listener's own, or a forwarding header.
fn refuse_origin(listen: SocketAddr, imds: bool, request: &Parts) -> Option<Decision> {
    let mut hosts = request.headers.get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok(),
        _ => None,
    };
    let target = request.uri.authority().map(|authority| authority.as_str());
    let named = host.or(target).is_some();
    let all_own = [host, target]
        .into_iter()
        .flatten()
        .all(|host| host_allowed(listen, imds, host));
    if !named || !all_own {
        return Some(refuse(
            StatusCode::BAD_REQUEST,
            "The Host header must be this endpoint's own address",
        ));
    }
    if carries_forwarding(&request.headers) {
        return Some(refuse(StatusCode::BAD_REQUEST, FORWARDED_REFUSAL));
    }
    None
}

/// Why a request with a forwarding header gets no token. Azure IMDS refuses `X-Forwarded-For`
/// because a metadata endpoint serves the programs of its own host, never a proxy's clients;
/// the agent and the proxy's IMDS both keep that rule.
pub(crate) const FORWARDED_REFUSAL: &str = "Requests with an X-Forwarded-For or Forwarded header are not accepted: this endpoint serves local callers, not a proxy's";

/// Whether a request names a forwarding hop (`X-Forwarded-For` or `Forwarded`).
pub(crate) fn carries_forwarding(headers: &HeaderMap) -> bool {
    ["x-forwarded-for", "forwarded"]
        .iter()
        .any(|name| headers.contains_key(*name))
}

/// The checks of each protocol, in the real services' order. `identity_header` is the App
/// Service secret; `arc_key_ok` says whether an Arc key is outstanding (and consumes it).
fn decide(
    protocol: Protocol,
    asked: &Asked<'_>,
    identity: &Identity,
    identity_header: &SecretValue,
    arc_key_ok: &mut dyn FnMut(&str) -> bool,
) -> Decision {
    let param = |name: &str| query_param(asked.query, name);
    let metadata = header_str(asked.headers, "metadata")
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
    match protocol {
        Protocol::AppService => {
            // JS sends no `Metadata` header here (CLIENT-PROTOCOL.md §4.2): only the secret counts.
            let presented = header_str(asked.headers, "x-identity-header").unwrap_or_default();
            if !identity_header.ct_eq(presented) {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "The X-IDENTITY-HEADER header is missing or wrong.",
                );
            }
        }
        Protocol::Arc | Protocol::Imds => {
            if !metadata {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "Required metadata header not specified",
                );
            }
        }
    }
    if protocol == Protocol::Arc {
        let key = header_str(asked.headers, "authorization")
            .and_then(|value| value.strip_prefix("Basic "))
            .map(str::trim);
        match key {
            Some(key) if arc_key_ok(key) => {}
            _ => return Decision::Challenge,
        }
    }
    if param("api-version").is_none() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Required api-version parameter not specified",
        );
    }
    let Some(resource) = param("resource") else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Required audience parameter not specified",
        );
    };
    if !valid_resource(&resource) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "The resource parameter is not a resource: an absolute URI or an application id of at most 256 characters is expected",
        );
    }
    let client_id = param("client_id");
    let object_id = param("object_id").or_else(|| param("principal_id"));
    let resource_id = match protocol {
        Protocol::AppService => param("mi_res_id"),
        Protocol::Arc | Protocol::Imds => param("msi_res_id"),
    };
    let selector = IdentitySelector {
        client_id: client_id.as_deref(),
        object_id: object_id.as_deref(),
        resource_id: resource_id.as_deref(),
    };
    if !selector.selects(&identity.client_id, &identity.principal_id, &identity.name) {
        return refuse(StatusCode::BAD_REQUEST, "Identity not found");
    }
    // Arc confirms the identity it used for every selector asked (msal checks the echo).
    let mut echo = Vec::new();
    if protocol == Protocol::Arc {
        if let Some(object_id) = object_id {
            echo.push(("object_id", object_id));
        }
        if let Some(resource_id) = resource_id {
            echo.push(("msi_res_id", resource_id));
        }
    }
    Decision::Token { resource, echo }
}

/// A token in the cache.
struct Cached {
    access_token: SecretValue,
    not_before: UnixTime,
    expires_on: UnixTime,
}

impl Cached {
    /// Whether it may still be handed out at `now` (not yet due for renewal).
    fn usable(&self, now: UnixTime) -> bool {
        self.expires_on.0 - RENEW_BEFORE_SECONDS > now.0
    }

    fn issued(&self, now: UnixTime) -> IssuedToken {
        IssuedToken {
            access_token: self.access_token.expose().to_owned(),
            expires_in: self.expires_on.0 - now.0,
            expires_on: self.expires_on,
            not_before: self.not_before,
        }
    }
}

/// One fetch in flight; every concurrent miss for its resource waits on it. `None`: the fetch
/// failed (logged once, by the fetcher).
type Flight = Arc<OnceCell<Option<Arc<Cached>>>>;

/// Tokens per audience, bounded, and the fetches in flight. Only ever locked briefly, never
/// across an `.await`.
#[derive(Default)]
struct TokenCache {
    entries: HashMap<String, CacheEntry>,
    flights: HashMap<String, Flight>,
    /// A counter that orders uses, for least-recently-used eviction.
    uses: u64,
}

struct CacheEntry {
    token: Arc<Cached>,
    last_used: u64,
}

impl TokenCache {
    /// The usable token for `audience`, marked as used.
    fn get(&mut self, audience: &str, now: UnixTime) -> Option<Arc<Cached>> {
        self.uses += 1;
        let uses = self.uses;
        let entry = self.entries.get_mut(audience)?;
        if !entry.token.usable(now) {
            return None;
        }
        entry.last_used = uses;
        Some(Arc::clone(&entry.token))
    }

    /// Stores `token` for `audience`; when full, drops unusable entries first, then the least
    /// recently used one.
    fn insert(&mut self, audience: &str, token: Arc<Cached>, now: UnixTime) {
        self.uses += 1;
        if !self.entries.contains_key(audience) && self.entries.len() >= TOKEN_CACHE_CAPACITY {
            self.entries.retain(|_, entry| entry.token.usable(now));
            if self.entries.len() >= TOKEN_CACHE_CAPACITY {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.last_used)
                    .map(|(name, _)| name.clone());
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(
            audience.to_owned(),
            CacheEntry {
                token,
                last_used: self.uses,
            },
        );
    }
}

/// A token bucket: `burst` at once, then `per_second`.
struct RateLimit {
    burst: f64,
    per_second: f64,
    available: f64,
    last: Instant,
}

impl RateLimit {
    fn new(burst: f64, per_second: f64, now: Instant) -> Self {
        Self {
            burst,
            per_second,
            available: burst,
            last: now,
        }
    }

    /// Takes one if there is one at `now`.
    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.available = (self.available + elapsed * self.per_second).min(self.burst);
        self.last = now;
        if self.available >= 1.0 {
            self.available -= 1.0;
            true
        } else {
            false
        }
    }
}

/// An outstanding Arc key and its file.
struct ArcKey {
    key: SecretValue,
    file: PathBuf,
    issued: UnixTime,
}

impl ArcKey {
    fn live(&self, now: UnixTime) -> bool {
        self.issued.0 + ARC_KEY_LIFETIME_SECONDS > now.0
    }
}

/// Removes its flight from the cache when dropped, if it is still the current one.
struct EndFlight<'a> {
    cache: &'a Mutex<TokenCache>,
    audience: &'a str,
    flight: &'a Flight,
}

impl Drop for EndFlight<'_> {
    fn drop(&mut self) {
        let mut cache = lock(self.cache);
        if cache
            .flights
            .get(self.audience)
            .is_some_and(|current| Arc::ptr_eq(current, self.flight))
        {
            cache.flights.remove(self.audience);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn remove_files(files: Vec<PathBuf>) {
    for file in files {
        let _ = std::fs::remove_file(file);
    }
}

struct Agent {
    identity: Identity,
    /// The secret tokens are bought with; a minted one is replaced at half its life.
    credential: RwLock<Arc<WorkloadCredential>>,
    tokens: TokenClient,
    identity_header: SecretValue,
    arc_key_dir: PathBuf,
    /// Where the App Service / Arc listener and the IMDS listener are bound (for `Host`).
    listen: SocketAddr,
    imds_listen: Option<SocketAddr>,
    cache: Mutex<TokenCache>,
    arc_keys: Mutex<Vec<ArcKey>>,
    arc_challenges: Mutex<RateLimit>,
    /// `Some` with `--dev-clock`: the clock the dev clock route moves.
    dev_clock: Option<ManualClock>,
}

impl Agent {
    fn now(&self) -> UnixTime {
        match &self.dev_clock {
            Some(clock) => clock.now(),
            None => SystemClock.now(),
        }
    }

    /// A token for `resource` from the cache, or fresh from the server; `None` when the fetch
    /// failed. Concurrent misses for one resource share one fetch, and no lock is held while
    /// it runs.
    async fn token(&self, resource: &str) -> Option<IssuedToken> {
        let audience = resource.trim_end_matches('/');
        let flight = {
            let mut cache = lock(&self.cache);
            if let Some(token) = cache.get(audience, self.now()) {
                return Some(token.issued(self.now()));
            }
            Arc::clone(cache.flights.entry(audience.to_owned()).or_default())
        };
        // If the caller that started the fetch goes away, the next waiter runs it.
        let fetched = flight.get_or_init(|| self.fetch(audience, &flight)).await;
        fetched.as_ref().map(|token| token.issued(self.now()))
    }

    /// Fetches a token for `audience`, stores it and ends the flight (also when the fetch is
    /// cancelled, so abandoned fetches leave nothing behind).
    async fn fetch(&self, audience: &str, flight: &Flight) -> Option<Arc<Cached>> {
        let _end = EndFlight {
            cache: &self.cache,
            audience,
            flight,
        };
        let credential = Arc::clone(
            &self
                .credential
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        );
        match self.tokens.fetch(&credential, audience).await {
            Ok(fetched) => {
                let now = self.now();
                let token = Arc::new(Cached {
                    access_token: fetched.access_token,
                    not_before: now,
                    expires_on: now.plus_seconds(fetched.expires_in),
                });
                // Stored before the flight ends: a request arriving in between finds it.
                lock(&self.cache).insert(audience, Arc::clone(&token), now);
                Some(token)
            }
            Err(err) => {
                tracing::error!(error = %err, "fetching a token failed");
                None
            }
        }
    }

    /// Whether `presented` is an outstanding, live Arc key; a matching key is used up (and its
    /// file deleted). Every outstanding key is compared, in constant time each.
    fn take_arc_key(&self, presented: &str) -> bool {
        let now = self.now();
        let mut keys = lock(&self.arc_keys);
        let mut matched = None;
        for (index, key) in keys.iter().enumerate() {
            if key.key.ct_eq(presented) && key.live(now) {
                matched = Some(index);
            }
        }
        let Some(index) = matched else {
            return false;
        };
        let key = keys.remove(index);
        drop(keys);
        remove_files(vec![key.file]);
        true
    }

    /// Writes a new key file (0600) and remembers its content; returns its path. Expired keys
    /// and, beyond `MAX_ARC_KEYS`, the oldest are dropped with their files.
    fn new_arc_key(&self) -> anyhow::Result<PathBuf> {
        let key = SecretValue::new(strongroom_crypto::random_token(SECRET_BYTES)?);
        // The name is random too: a base64url token has no `=`, which clients split on.
        let name = strongroom_crypto::random_token(16)?;
        let file = self.arc_key_dir.join(format!("{name}.key"));
        write_private_file(&file, key.expose().as_bytes())
            .with_context(|| format!("cannot write the Arc key file {}", file.display()))?;
        let now = self.now();
        let mut dropped = Vec::new();
        {
            let mut keys = lock(&self.arc_keys);
            keys.retain(|key| {
                let live = key.live(now);
                if !live {
                    dropped.push(key.file.clone());
                }
                live
            });
            keys.push(ArcKey {
                key,
                file: file.clone(),
                issued: now,
            });
            while keys.len() > MAX_ARC_KEYS {
                dropped.push(keys.remove(0).file);
            }
        }
        remove_files(dropped);
        Ok(file)
    }

    /// The 401 that names a new key file, or 429 beyond the challenge rate.
    fn challenge(&self) -> Response {
        if !lock(&self.arc_challenges).try_take(Instant::now()) {
            let mut response = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many Azure Arc challenges; retry later.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        match self.new_arc_key() {
            Ok(file) => {
                let realm = format!("Basic realm={}", file.display());
                let mut response = error_response(
                    StatusCode::UNAUTHORIZED,
                    "Read the key file named in WWW-Authenticate and send its content as Authorization: Basic.",
                );
                match HeaderValue::from_str(&realm) {
                    Ok(value) => {
                        response
                            .headers_mut()
                            .insert(header::WWW_AUTHENTICATE, value);
                        response
                    }
                    Err(_) => error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
                }
            }
            Err(err) => {
                tracing::error!(error = %format!("{err:#}"), "writing an Arc key file failed");
                error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
            }
        }
    }

    /// `POST /strongroom/dev/clock?advanceSeconds=N` (only with `--dev-clock`, and only with
    /// the identity header) → `{"offsetSeconds"}`.
    fn advance_dev_clock(&self, request: &Parts) -> Response {
        let Some(clock) = &self.dev_clock else {
            return error_response(StatusCode::NOT_FOUND, "Not found");
        };
        if request.method != axum::http::Method::POST {
            return error_response(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
        }
        let presented = header_str(&request.headers, "x-identity-header").unwrap_or_default();
        if !self.identity_header.ct_eq(presented) {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "The X-IDENTITY-HEADER header is missing or wrong.",
            );
        }
        let seconds = query_param(request.uri.query().unwrap_or_default(), "advanceSeconds")
            .and_then(|seconds| seconds.parse::<u32>().ok());
        let Some(seconds) = seconds else {
            return error_response(
                StatusCode::BAD_REQUEST,
                "advanceSeconds must be a non-negative integer",
            );
        };
        clock.advance_seconds(i64::from(seconds));
        json_response(
            StatusCode::OK,
            &json!({ "offsetSeconds": clock.offset_seconds() }),
        )
    }

    async fn respond(&self, imds: bool, request: &Parts) -> Response {
        let listen = match (imds, self.imds_listen) {
            (true, Some(address)) => address,
            _ => self.listen,
        };
        if let Some(Decision::Refuse {
            status,
            description,
        }) = refuse_origin(listen, imds, request)
        {
            return error_response(status, description);
        }
        let path = request.uri.path();
        if !imds && path == DEV_CLOCK_PATH {
            return self.advance_dev_clock(request);
        }
        let Some(protocol) = protocol_for(path, imds) else {
            return error_response(StatusCode::NOT_FOUND, "Not found");
        };
        if request.method != axum::http::Method::GET {
            return error_response(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
        }
        let asked = Asked {
            path,
            query: request.uri.query().unwrap_or_default(),
            headers: &request.headers,
        };
        // Arc keys are checked inside `decide`, which is synchronous: look the key up first.
        let presented = header_str(asked.headers, "authorization")
            .and_then(|value| value.strip_prefix("Basic "))
            .map(str::trim);
        let key_ok = match (protocol, presented) {
            (Protocol::Arc, Some(key)) => self.take_arc_key(key),
            _ => false,
        };
        let decision = decide(
            protocol,
            &asked,
            &self.identity,
            &self.identity_header,
            &mut |_| key_ok,
        );
        tracing::debug!(path = asked.path, ?protocol, "managed-identity request");
        match decision {
            Decision::Refuse {
                status,
                description,
            } => error_response(status, description),
            Decision::Challenge => self.challenge(),
            Decision::Token { resource, echo } => match self.token(&resource).await {
                Some(token) => {
                    let client_id = &self.identity.client_id;
                    let mut body = match protocol {
                        Protocol::AppService => {
                            app_service_token_response(&token, &resource, client_id)
                        }
                        Protocol::Arc | Protocol::Imds => {
                            imds_token_response(&token, &resource, client_id)
                        }
                    };
                    if let Value::Object(fields) = &mut body {
                        for (name, value) in echo {
                            fields.insert(name.to_owned(), Value::String(value));
                        }
                    }
                    json_response(StatusCode::OK, &body)
                }
                None => error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The token service could not get a token for this identity.",
                ),
            },
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn error_response(status: StatusCode, description: &str) -> Response {
    json_response(status, &imds_error(description))
}

async fn serve_main(State(agent): State<Arc<Agent>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    agent.respond(false, &parts).await
}

async fn serve_imds(State(agent): State<Arc<Agent>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    agent.respond(true, &parts).await
}

/// The address to reach `server` (`https://host:port`) at: the data directory's listen address
/// when the URL names the same host, otherwise the first address the name resolves to (IPv4
/// first).
async fn connect_address(
    server: &str,
    credential: &WorkloadCredential,
) -> anyhow::Result<SocketAddr> {
    let uri: axum::http::Uri = server
        .parse()
        .with_context(|| format!("--server {server:?} is not a URL"))?;
    anyhow::ensure!(
        uri.scheme_str() == Some("https"),
        "--server {server:?} is not an https URL"
    );
    let host = uri.host().context("--server has no host")?;
    let port = uri.port_u16().unwrap_or(443);
    if server.trim_end_matches('/') == credential.authority_host.trim_end_matches('/') {
        return Ok(credential.server_address);
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .with_context(|| format!("cannot resolve {host}"))?
        .collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .with_context(|| format!("{host} resolves to no address"))
}

/// Runs the agent until SIGINT/SIGTERM.
pub(crate) async fn run(data_dir: &Path, args: AgentArgs) -> anyhow::Result<()> {
    // A secret minted here (with admin.json) is deleted at stop; a credential file's is not
    // the agent's to delete.
    let minted_lifetime = args
        .minted_secret_lifetime
        .map_or(MINTED_SECRET_LIFETIME, Duration::from_secs);
    let (credential, minted) = match (&args.credential_file, &args.identity) {
        (Some(file), _) => {
            let credential = strongroom_cli::read_credential_file(file)
                .with_context(|| format!("cannot read the credential file {}", file.display()))?;
            (credential, false)
        }
        (None, Some(identity)) => {
            let credential =
                new_workload_credential(data_dir, identity, MINTED_SECRET_PURPOSE, minted_lifetime)
                    .await
                    .with_context(|| {
                        format!("cannot get a credential for identity {identity:?}")
                    })?;
            (credential, true)
        }
        (None, None) => anyhow::bail!("--identity or --credential-file is required"),
    };
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| credential.authority_host.clone());
    let connect_to = connect_address(&server, &credential).await?;
    let tokens = TokenClient::new(
        &credential.ca_file,
        &server,
        connect_to,
        &credential.tenant_id,
    )?;
    let agent_dir = args
        .agent_dir
        .clone()
        .unwrap_or_else(|| strongroom_cli::default_agent_dir(data_dir));
    create_agent_dir(&agent_dir)
        .with_context(|| format!("cannot create the agent directory {}", agent_dir.display()))?;
    // Only Azure Arc needs it, and only Microsoft's directory works for Microsoft's clients,
    // which usually takes root: without it the other protocols still serve.
    if let Err(err) = create_agent_dir(&args.arc_key_dir) {
        tracing::warn!(
            error = %err,
            dir = %args.arc_key_dir.display(),
            "cannot create the Arc key directory; Azure Arc requests will fail (see --arc-key-dir)"
        );
    }

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let listen = listener.local_addr()?;
    let imds_listener = match args.imds_listen {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} for IMDS"))?,
        ),
        None => None,
    };
    let imds_listen = imds_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()?;

    let identity = Identity {
        client_id: credential.client_id.clone(),
        principal_id: credential.principal_id.clone(),
        name: credential.name.clone(),
    };
    let identity_header = SecretValue::new(strongroom_crypto::random_token(SECRET_BYTES)?);
    AgentInfo {
        listen,
        identity: identity.name.clone(),
        client_id: identity.client_id.clone(),
        principal_id: identity.principal_id.clone(),
        identity_header: SecretValue::new(identity_header.expose().to_owned()),
        pid: std::process::id(),
    }
    .write(&agent_dir)
    .with_context(|| {
        format!(
            "cannot write {}",
            agent_dir.join(strongroom_cli::AGENT_FILE).display()
        )
    })?;

    let agent = Arc::new(Agent {
        identity,
        credential: RwLock::new(Arc::new(credential)),
        tokens,
        identity_header,
        arc_key_dir: args.arc_key_dir.clone(),
        listen,
        imds_listen,
        cache: Mutex::new(TokenCache::default()),
        arc_keys: Mutex::new(Vec::new()),
        arc_challenges: Mutex::new(RateLimit::new(
            ARC_CHALLENGE_BURST,
            ARC_CHALLENGES_PER_SECOND,
            Instant::now(),
        )),
        dev_clock: args.dev_clock.then(ManualClock::default),
    });
    let ready = json!({
        "listen": listen.to_string(),
        "port": listen.port(),
        "imdsListen": imds_listen.map(|address| address.to_string()),
        "identity": agent.identity.name,
        "clientId": agent.identity.client_id,
        "principalId": agent.identity.principal_id,
        "agentDir": agent_dir.display().to_string(),
        "pid": std::process::id(),
    });
    println!("strongroom agent ready: {ready}");
    println!(
        "  eval \"$(strongroom env --agent --agent-dir {})\" gives programs this identity",
        agent_dir.display()
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let main = Router::new()
        .fallback(serve_main)
        .with_state(Arc::clone(&agent));
    let limits = args.transport.limits();
    let main_task = tokio::spawn(crate::transport::serve_plain(
        listener,
        limits,
        main,
        stop_rx.clone(),
    ));
    let imds_task = imds_listener.map(|listener| {
        let router = Router::new()
            .fallback(serve_imds)
            .with_state(Arc::clone(&agent));
        tokio::spawn(crate::transport::serve_plain(
            listener,
            limits,
            router,
            stop_rx.clone(),
        ))
    });
    let renewal = match (minted, &args.identity) {
        (true, Some(identity)) => Some(tokio::spawn(renew_minted_secret(
            Arc::clone(&agent),
            data_dir.to_path_buf(),
            identity.clone(),
            minted_lifetime,
            stop_rx.clone(),
        ))),
        _ => None,
    };
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    main_task.await?;
    if let Some(task) = imds_task {
        task.await?;
    }
    // The renewal task gives back the secrets it minted and superseded that may still be live.
    let superseded = match renewal {
        Some(task) => task.await?,
        None => Vec::new(),
    };
    // Outstanding Arc key files go with the agent.
    let outstanding: Vec<PathBuf> = lock(&agent.arc_keys)
        .drain(..)
        .map(|key| key.file)
        .collect();
    remove_files(outstanding);
    if minted {
        // The secrets made here go with the agent: a stopped agent leaves no live credential
        // behind (and its tokens stop working).
        let current = Arc::clone(
            &agent
                .credential
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for credential in superseded.iter().chain([&current]) {
            if let Err(err) = strongroom_cli::remove_workload_credential(data_dir, credential).await
            {
                tracing::warn!(error = %err, "could not delete the agent's client secret");
            }
        }
    }
    Ok(())
}

/// The display name of the secrets the agent mints (`ad sp credential list` shows it).
const MINTED_SECRET_PURPOSE: &str = "strongroom agent";

/// Replaces the agent's minted secret at half its life, until `stop`. The superseded secret is
/// left to run out rather than deleted, because tokens already handed to programs were bought
/// with it and deleting it would revoke them; one that has run out is deleted. Returns the
/// superseded secrets that may still be live, for the agent to delete when it stops.
async fn renew_minted_secret(
    agent: Arc<Agent>,
    data_dir: PathBuf,
    identity: String,
    lifetime: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<Arc<WorkloadCredential>> {
    /// How soon a failed renewal is tried again.
    const RETRY: Duration = Duration::from_secs(30);
    let mut superseded: Option<Arc<WorkloadCredential>> = None;
    let mut wait = lifetime / 2;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return superseded.into_iter().collect(),
        }
        let fresh = new_workload_credential(&data_dir, &identity, MINTED_SECRET_PURPOSE, lifetime);
        match fresh.await {
            Ok(fresh) => {
                let previous = std::mem::replace(
                    &mut *agent
                        .credential
                        .write()
                        .unwrap_or_else(PoisonError::into_inner),
                    Arc::new(fresh),
                );
                // Superseded a half-life ago, so it has run out by now.
                if let Some(expired) = superseded.replace(previous)
                    && let Err(err) =
                        strongroom_cli::remove_workload_credential(&data_dir, &expired).await
                {
                    tracing::warn!(error = %err, "could not delete an expired agent secret");
                }
                tracing::info!("the agent's client secret was renewed");
                wait = lifetime / 2;
            }
            Err(err) => {
                tracing::warn!(error = %err, "renewing the agent's client secret failed; retrying");
                wait = RETRY.min(lifetime / 2);
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test fixtures are literals")]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn identity() -> Identity {
        Identity {
            client_id: "c1c1c1c1-0000-0000-0000-000000000000".to_owned(),
            principal_id: "0b0b0b0b-0000-0000-0000-000000000000".to_owned(),
            name: "web-id".to_owned(),
        }
    }

    /// `protocol_for(path)` then `decide`, with header `name: value` pairs and the one Arc key
    /// `good-key`.
    #[track_caller]
    fn check(imds: bool, target: &str, headers: &[(&str, &str)], expect: Expect) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let actual = match protocol_for(path, imds) {
            None => "no protocol".to_owned(),
            Some(protocol) => {
                let asked = Asked {
                    path,
                    query,
                    headers: &map,
                };
                let secret = SecretValue::new("hdr-secret".to_owned());
                let decision = decide(protocol, &asked, &identity(), &secret, &mut |key| {
                    key == "good-key"
                });
                format!("{protocol:?} {decision:?}")
            }
        };
        expect.assert_eq(&actual);
    }

    const APP: &str = "/msi/token?api-version=2019-08-01&resource=https://vault.azure.net";
    const ARC: &str = "/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https%3A%2F%2Fvault.azure.net";

    #[test]
    fn app_service() {
        check(
            false,
            APP,
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            false,
            APP,
            &[("x-identity-header", "hdr-secreT"), ("metadata", "true")],
            expect![[
                r#"AppService Refuse { status: 401, description: "The X-IDENTITY-HEADER header is missing or wrong." }"#
            ]],
        );
        check(
            false,
            APP,
            &[],
            expect![[
                r#"AppService Refuse { status: 401, description: "The X-IDENTITY-HEADER header is missing or wrong." }"#
            ]],
        );
        check(
            false,
            &format!(
                "{APP}&client_id=C1C1C1C1-0000-0000-0000-000000000000&mi_res_id=/x/userAssignedIdentities/WEB-ID"
            ),
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            false,
            &format!("{APP}&client_id=someone-else"),
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Refuse { status: 400, description: "Identity not found" }"#]],
        );
        check(
            false,
            &format!("{APP}&principal_id=someone-else"),
            &[("x-identity-header", "hdr-secret")],
            expect![[r#"AppService Refuse { status: 400, description: "Identity not found" }"#]],
        );
        check(
            false,
            "/msi/token?api-version=2019-08-01",
            &[("x-identity-header", "hdr-secret")],
            expect![[
                r#"AppService Refuse { status: 400, description: "Required audience parameter not specified" }"#
            ]],
        );
        check(false, "/other", &[], expect!["no protocol"]);
    }

    #[test]
    fn arc() {
        check(
            false,
            ARC,
            &[],
            expect![[
                r#"Arc Refuse { status: 400, description: "Required metadata header not specified" }"#
            ]],
        );
        check(
            false,
            ARC,
            &[("metadata", "true")],
            expect!["Arc Challenge"],
        );
        check(
            false,
            ARC,
            &[("metadata", "true"), ("authorization", "Basic bad-key")],
            expect!["Arc Challenge"],
        );
        check(
            false,
            ARC,
            &[("metadata", "true"), ("authorization", "Basic good-key")],
            expect![[r#"Arc Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            false,
            &format!(
                "{ARC}&object_id=0B0B0B0B-0000-0000-0000-000000000000&msi_res_id=/s/x/virtualMachines/web-id/"
            ),
            &[("metadata", "true"), ("authorization", "Basic good-key")],
            expect![[
                r#"Arc Token { resource: "https://vault.azure.net", echo: [("object_id", "0B0B0B0B-0000-0000-0000-000000000000"), ("msi_res_id", "/s/x/virtualMachines/web-id/")] }"#
            ]],
        );
    }

    #[test]
    fn imds() {
        let imds = "/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https://vault.azure.net";
        check(
            true,
            imds,
            &[],
            expect![[
                r#"Imds Refuse { status: 400, description: "Required metadata header not specified" }"#
            ]],
        );
        check(
            true,
            imds,
            &[("metadata", "True")],
            expect![[r#"Imds Token { resource: "https://vault.azure.net", echo: [] }"#]],
        );
        check(
            true,
            &format!("{imds}&msi_res_id=/x/userAssignedIdentities/other"),
            &[("metadata", "true")],
            expect![[r#"Imds Refuse { status: 400, description: "Identity not found" }"#]],
        );
        check(true, "/msi/token", &[], expect!["no protocol"]);
        check(
            true,
            "/metadata/identity/oauth2/token?resource=r",
            &[("metadata", "true")],
            expect![[
                r#"Imds Refuse { status: 400, description: "Required api-version parameter not specified" }"#
            ]],
        );
    }

    #[test]
    fn resources() {
        let verdicts: Vec<String> = [
            "https://vault.azure.net",
            "https://vault.azure.net/",
            "https://management.core.windows.net//",
            "https://vault.localhost:8443",
            "api://c1c1c1c1-0000-0000-0000-000000000000",
            "C1C1C1C1-0000-0000-0000-000000000000",
            "vault.azure.net",
            "https://",
            "https://:443",
            "1http://x",
            "https://vault.azure.net?x=1",
            "https://vault.azure.net#x",
            "https://user@vault.azure.net",
            "https://vault.azure.net/%2e",
            "https://vault azure.net",
            "javascript:alert(1)",
            "c1c1c1c1-0000-0000-0000-00000000000",
        ]
        .iter()
        .map(|resource| format!("{} {resource}", valid_resource(resource)))
        .collect();
        expect![[r#"
            true https://vault.azure.net
            true https://vault.azure.net/
            true https://management.core.windows.net//
            true https://vault.localhost:8443
            true api://c1c1c1c1-0000-0000-0000-000000000000
            true C1C1C1C1-0000-0000-0000-000000000000
            false vault.azure.net
            false https://
            false https://:443
            false 1http://x
            false https://vault.azure.net?x=1
            false https://vault.azure.net#x
            false https://user@vault.azure.net
            false https://vault.azure.net/%2e
            false https://vault azure.net
            false javascript:alert(1)
            false c1c1c1c1-0000-0000-0000-00000000000"#]]
        .assert_eq(&verdicts.join("\n"));
        assert!(!valid_resource(""));
        let longest = format!("https://{}", "a".repeat(MAX_RESOURCE_LEN - 8));
        assert!(valid_resource(&longest));
        assert!(!valid_resource(&format!("{longest}a")));
        check(
            false,
            "/msi/token?api-version=2019-08-01&resource=https://vault.azure.net?x",
            &[("x-identity-header", "hdr-secret")],
            expect![[
                r#"AppService Refuse { status: 400, description: "The resource parameter is not a resource: an absolute URI or an application id of at most 256 characters is expected" }"#
            ]],
        );
    }

    #[test]
    fn hosts() {
        let table = |listen: &str, imds: bool, hosts: &[&str]| -> String {
            let listen: SocketAddr = listen.parse().unwrap();
            hosts
                .iter()
                .map(|host| format!("{} {host}", host_allowed(listen, imds, host)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        expect![[r#"
            true 127.0.0.1:40342
            true localhost:40342
            true LOCALHOST:40342
            false 127.0.0.1:40343
            false 127.0.0.1
            false 127.0.0.2:40342
            false evil.example:40342
            false 169.254.169.254
            false user@127.0.0.1:40342
            false 127.0.0.1:"#]]
        .assert_eq(&table(
            "127.0.0.1:40342",
            false,
            &[
                "127.0.0.1:40342",
                "localhost:40342",
                "LOCALHOST:40342",
                "127.0.0.1:40343",
                "127.0.0.1",
                "127.0.0.2:40342",
                "evil.example:40342",
                "169.254.169.254",
                "user@127.0.0.1:40342",
                "127.0.0.1:",
            ],
        ));
        assert!(!host_allowed("127.0.0.1:40342".parse().unwrap(), false, ""));
        expect![[r#"
            true 169.254.169.254
            true 169.254.169.254:80
            true 127.0.0.1:8080
            false 169.254.169.254:8080
            false localhost:8080
            false metadata.evil:80"#]]
        .assert_eq(&table(
            "127.0.0.1:8080",
            true,
            &[
                "169.254.169.254",
                "169.254.169.254:80",
                "127.0.0.1:8080",
                "169.254.169.254:8080",
                "localhost:8080",
                "metadata.evil:80",
            ],
        ));
        expect![[r#"
            true [::1]:9000
            true localhost:9000
            false [::2]:9000
            true 10.1.2.3:7000
            true localhost:7000
            false host.example:7000
            false 10.1.2.3:7001"#]]
        .assert_eq(&format!(
            "{}\n{}",
            table(
                "[::1]:9000",
                false,
                &["[::1]:9000", "localhost:9000", "[::2]:9000"]
            ),
            table(
                "0.0.0.0:7000",
                false,
                &[
                    "10.1.2.3:7000",
                    "localhost:7000",
                    "host.example:7000",
                    "10.1.2.3:7001"
                ]
            )
        ));
    }

    #[test]
    fn origin_checks_come_first() {
        let listen: SocketAddr = "127.0.0.1:40342".parse().unwrap();
        let verdict = |target: &str, headers: &[(&str, &str)]| -> String {
            let mut builder = axum::http::Request::builder().uri(target);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            let (parts, ()) = builder.body(()).unwrap().into_parts();
            format!("{:?}", refuse_origin(listen, false, &parts))
        };
        expect![[r#"
            None
            Some(Refuse { status: 400, description: "The Host header must be this endpoint's own address" })
            Some(Refuse { status: 400, description: "The Host header must be this endpoint's own address" })
            Some(Refuse { status: 400, description: "The Host header must be this endpoint's own address" })
            Some(Refuse { status: 400, description: "Requests with an X-Forwarded-For or Forwarded header are not accepted: this endpoint serves local callers, not a proxy's" })
            Some(Refuse { status: 400, description: "Requests with an X-Forwarded-For or Forwarded header are not accepted: this endpoint serves local callers, not a proxy's" })"#]]
        .assert_eq(
            &[
                verdict("/msi/token", &[("host", "127.0.0.1:40342")]),
                verdict("/msi/token", &[]),
                verdict("/msi/token", &[("host", "rebound.example:40342")]),
                verdict("http://rebound.example:40342/msi/token", &[("host", "127.0.0.1:40342")]),
                verdict("/msi/token", &[("host", "127.0.0.1:40342"), ("x-forwarded-for", "10.0.0.1")]),
                verdict("/msi/token", &[("host", "localhost:40342"), ("forwarded", "for=10.0.0.1")]),
            ]
            .join("\n"),
        );
    }

    fn cached(expires_on: i64) -> Arc<Cached> {
        Arc::new(Cached {
            access_token: SecretValue::new(format!("token-{expires_on}")),
            not_before: UnixTime(0),
            expires_on: UnixTime(expires_on),
        })
    }

    #[test]
    fn the_token_cache_is_bounded() {
        let now = UnixTime(1_000);
        let mut cache = TokenCache::default();
        for index in 0..TOKEN_CACHE_CAPACITY {
            cache.insert(&format!("https://r{index}"), cached(10_000), now);
        }
        // r0 is used, so r1 is the least recently used.
        assert!(cache.get("https://r0", now).is_some());
        cache.insert("https://new-1", cached(10_000), now);
        assert_eq!(cache.entries.len(), TOKEN_CACHE_CAPACITY);
        assert!(cache.get("https://r1", now).is_none());
        assert!(cache.get("https://r0", now).is_some());
        // An entry due for renewal goes before any usable one, however recently used.
        cache.insert("https://r2", cached(now.0 + RENEW_BEFORE_SECONDS), now);
        assert!(cache.get("https://r3", now).is_some());
        cache.insert("https://new-2", cached(10_000), now);
        assert_eq!(cache.entries.len(), TOKEN_CACHE_CAPACITY);
        assert!(!cache.entries.contains_key("https://r2"));
        assert!(cache.get("https://r4", now).is_some());
        // Replacing an entry never evicts another.
        cache.insert("https://r4", cached(20_000), now);
        assert_eq!(cache.entries.len(), TOKEN_CACHE_CAPACITY);
        // Renewal is due RENEW_BEFORE_SECONDS before expiry.
        let mut cache = TokenCache::default();
        cache.insert("https://r", cached(10_000), now);
        assert!(
            cache
                .get("https://r", UnixTime(10_000 - RENEW_BEFORE_SECONDS - 1))
                .is_some()
        );
        assert!(
            cache
                .get("https://r", UnixTime(10_000 - RENEW_BEFORE_SECONDS))
                .is_none()
        );
    }

    #[test]
    fn arc_challenges_are_rate_limited() {
        let start = Instant::now();
        let mut limit = RateLimit::new(ARC_CHALLENGE_BURST, ARC_CHALLENGES_PER_SECOND, start);
        let burst = (0..20).filter(|_| limit.try_take(start)).count();
        assert_eq!(burst, 10);
        let later = start + std::time::Duration::from_millis(1_000);
        let refilled = (0..20).filter(|_| limit.try_take(later)).count();
        assert_eq!(refilled, 5);
        let much_later = later + std::time::Duration::from_secs(3_600);
        let capped = (0..20).filter(|_| limit.try_take(much_later)).count();
        assert_eq!(capped, 10);
    }
}
