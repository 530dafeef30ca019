//! `strongroom agent`, the workload host's managed-identity endpoint, driven over raw HTTP/1.1
//! (any `Host`, any header) against a real server. Every agent runs with its own `--agent-dir`
//! and `--arc-key-dir` in a temporary directory: nothing is written to
//! `/var/opt/azcmagent/tokens` or any other system path. The tests of lifetimes run it with
//! `--dev-clock` and move its clock (`POST /strongroom/dev/clock` with the identity header).
//!
//! Token fetches are counted by a TCP relay the agent reaches the server through (`--server
//! https://localhost:RELAY`): the agent opens one connection per fetch. The relay can also hold
//! new connections, which stalls the fetches behind them.
//!
//! - `Host` must be the listener's own address; forwarding headers are refused.
//! - `resource` must be a URI or an application id; the cache is bounded; its lock is not held
//!   across a fetch and concurrent misses share one fetch; a cached token is renewed
//!   `RENEW_BEFORE_SECONDS` (300) before it expires.
//! - Arc challenges are rate-limited; an Arc key works once, for 60 s; at most 32 are
//!   outstanding, the oldest dropped with its file.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::harness::TestServer;

const READY_PREFIX: &str = "strongroom agent ready: ";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const REPLY_TIMEOUT: Duration = Duration::from_secs(90);
const APP_SERVICE: &str = "/msi/token";
const ARC: &str = "/metadata/identity/oauth2/token";
const RESOURCE: &str = "https://vault.azure.net";
/// The agent's constants, as CONTRACTS.md states them.
const RENEW_BEFORE_SECONDS: u64 = 300;
const TOKEN_LIFETIME_SECONDS: u64 = 3599;
const ARC_KEY_LIFETIME_SECONDS: u64 = 60;
const MAX_ARC_KEYS: usize = 32;
const TOKEN_CACHE_CAPACITY: usize = 64;

/// One HTTP/1.1 response, read to the end of the connection.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {} {}", self.status, self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Asserts an IMDS error, `{"error":"invalid_request","error_description":…}`, with
    /// `status`, and returns the description.
    #[track_caller]
    fn imds_error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        let body = self.json();
        assert_eq!(body["error"], "invalid_request", "{}", self.body);
        let fields: Vec<&String> = body
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(fields, ["error", "error_description"], "{}", self.body);
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn access_token(&self) -> String {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token: {}", self.body))
            .to_owned()
    }

    fn expires_on(&self) -> u64 {
        self.json()["expires_on"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("no expires_on: {}", self.body))
    }

    /// The key file an Arc 401 names.
    fn key_file(&self) -> PathBuf {
        assert_eq!(self.status, 401, "{}", self.body);
        let realm = self.header("www-authenticate").unwrap_or_default();
        let file = realm
            .strip_prefix("Basic realm=")
            .unwrap_or_else(|| panic!("no Basic realm: {realm:?}"));
        PathBuf::from(file)
    }
}

/// Sends `method target` with `Host: host` (none if `None`), `headers` and no body, on a new
/// connection, and reads the whole response.
async fn send(
    address: SocketAddr,
    method: &str,
    host: Option<&str>,
    target: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let exchange = async {
        let mut stream = TcpStream::connect(address).await.expect("connecting");
        let mut head = format!("{method} {target} HTTP/1.1\r\n");
        if let Some(host) = host {
            head.push_str(&format!("Host: {host}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.expect("writing");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("reading");
        raw
    };
    let raw = tokio::time::timeout(REPLY_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {target}: no answer within {REPLY_TIMEOUT:?}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn query(resource: &str, api_version: &str) -> String {
    let encoded: String = resource
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect();
    format!("?api-version={api_version}&resource={encoded}")
}

/// What a request to the agent needs, cheap to move into a task.
#[derive(Debug, Clone)]
struct Endpoint {
    listen: SocketAddr,
    imds: SocketAddr,
    identity_header: String,
}

impl Endpoint {
    fn host(&self) -> String {
        self.listen.to_string()
    }

    /// App Service: `GET /msi/token` with the identity header.
    async fn app_service(&self, resource: &str) -> Reply {
        let target = format!("{APP_SERVICE}{}", query(resource, "2019-08-01"));
        send(
            self.listen,
            "GET",
            Some(&self.host()),
            &target,
            &[("X-IDENTITY-HEADER", &self.identity_header)],
        )
        .await
    }

    /// Azure Arc: `GET /metadata/identity/oauth2/token` with `Metadata: true` and, if given,
    /// `Authorization: Basic key`.
    async fn arc(&self, key: Option<&str>) -> Reply {
        let target = format!("{ARC}{}", query(RESOURCE, "2020-06-01"));
        let authorization = key.map(|key| format!("Basic {key}"));
        let mut headers = vec![("Metadata", "true")];
        if let Some(authorization) = &authorization {
            headers.push(("Authorization", authorization));
        }
        send(self.listen, "GET", Some(&self.host()), &target, &headers).await
    }

    /// An Arc challenge that was not rate-limited (waits out 429s): the key file it names.
    async fn arc_key_file(&self) -> PathBuf {
        for _ in 0..100 {
            let reply = self.arc(None).await;
            if reply.status != 429 {
                return reply.key_file();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Arc challenges stayed rate-limited for 10 s");
    }

    /// Moves the agent's clock forward (`--dev-clock`).
    async fn advance_clock(&self, seconds: u64) {
        let reply = send(
            self.listen,
            "POST",
            Some(&self.host()),
            &format!("/strongroom/dev/clock?advanceSeconds={seconds}"),
            &[("X-IDENTITY-HEADER", &self.identity_header)],
        )
        .await;
        assert_eq!(reply.status, 200, "agent dev clock: {}", reply.body);
    }
}

/// A running `strongroom agent` for one identity of `server`.
struct TestAgent {
    child: Child,
    dir: TempDir,
    endpoint: Endpoint,
}

impl TestAgent {
    /// Creates identity `name` and starts an agent for it (`--server` `server_url` if given;
    /// `--dev-clock` if `dev_clock`).
    fn start(server: &TestServer, name: &str, server_url: Option<&str>, dev_clock: bool) -> Self {
        server.cli(&["identity", "create", "--name", name]);
        let dir = tempfile::tempdir().expect("a temporary agent directory");
        let agent_dir = dir.path().join("agent");
        let arc_dir = dir.path().join("arc");
        let mut command = Command::new(env!("CARGO_BIN_EXE_strongroom"));
        command
            .arg("--data-dir")
            .arg(server.data_dir())
            .args(["agent", "--identity", name])
            .args(["--listen", "127.0.0.1:0", "--imds-listen", "127.0.0.1:0"])
            .arg("--agent-dir")
            .arg(&agent_dir)
            .arg("--arc-key-dir")
            .arg(&arc_dir);
        if let Some(url) = server_url {
            command.args(["--server", url]);
        }
        if dev_clock {
            command.arg("--dev-clock");
        }
        let mut child = command
            .env_remove("STRONGROOM_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning strongroom agent");
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready_tx, ready_rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(json) = line.strip_prefix(READY_PREFIX)
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(json.to_owned());
                }
            }
        });
        let Ok(line) = ready_rx.recv_timeout(READY_TIMEOUT) else {
            let _ = child.kill();
            let status = child.wait();
            panic!("strongroom agent did not get ready; exit: {status:?}");
        };
        let ready: Value = serde_json::from_str(&line).expect("agent readiness JSON");
        let address = |field: &str| -> SocketAddr {
            ready[field]
                .as_str()
                .and_then(|text| text.parse().ok())
                .unwrap_or_else(|| panic!("no {field} in {line}"))
        };
        let info: Value = serde_json::from_slice(
            &std::fs::read(agent_dir.join("agent.json")).expect("reading agent.json"),
        )
        .expect("agent.json is JSON");
        let endpoint = Endpoint {
            listen: address("listen"),
            imds: address("imdsListen"),
            identity_header: info["identityHeader"]
                .as_str()
                .expect("identityHeader")
                .to_owned(),
        };
        Self {
            child,
            dir,
            endpoint,
        }
    }

    fn arc_dir(&self) -> PathBuf {
        self.dir.path().join("arc")
    }

    /// The `.key` files in the Arc key directory.
    fn arc_key_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.arc_dir())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|ext| ext == "key"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP relay to the server that counts the connections it accepts and can hold new ones.
struct Relay {
    address: SocketAddr,
    accepted: Arc<AtomicUsize>,
    hold: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding");
        let address = listener.local_addr().expect("relay address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let (hold, held) = watch::channel(false);
        let counter = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut held = held.clone();
                tokio::spawn(async move {
                    if held.wait_for(|held| !*held).await.is_err() {
                        return;
                    }
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            address,
            accepted,
            hold,
            task,
        }
    }

    /// `--server` for an agent that should fetch through this relay.
    fn url(&self) -> String {
        format!("https://localhost:{}", self.address.port())
    }

    /// Connections accepted so far: the agent's token fetches.
    fn fetches(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn hold(&self, hold: bool) {
        self.hold.send_replace(hold);
    }

    /// Waits until `count` connections have arrived.
    async fn wait_for_fetches(&self, count: usize) {
        for _ in 0..500 {
            if self.fetches() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{count} fetches expected, {} seen", self.fetches());
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn server_address(server: &TestServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_listeners_own_host_is_served() {
    let server = TestServer::start();
    let agent = TestAgent::start(&server, "mi-hosts", None, false);
    let endpoint = &agent.endpoint;
    let port = endpoint.listen.port();
    let app_target = format!("{APP_SERVICE}{}", query(RESOURCE, "2019-08-01"));
    let secret = [("X-IDENTITY-HEADER", endpoint.identity_header.as_str())];
    let app = |host: Option<String>| {
        let target = app_target.clone();
        async move { send(endpoint.listen, "GET", host.as_deref(), &target, &secret).await }
    };
    for good in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let reply = app(Some(good.clone())).await;
        assert_eq!(reply.status, 200, "Host {good}: {}", reply.body);
    }
    for bad in [
        format!("rebound.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_owned(),
        "169.254.169.254".to_owned(),
    ] {
        let reply = app(Some(bad.clone())).await;
        let description = reply.imds_error(400);
        assert!(description.contains("Host"), "Host {bad}: {description}");
    }
    // No Host at all, and an absolute-form target naming another host.
    assert_eq!(app(None).await.status, 400);
    let absolute = format!("http://rebound.example:{port}{app_target}");
    let reply = send(
        endpoint.listen,
        "GET",
        Some(&endpoint.host()),
        &absolute,
        &secret,
    )
    .await;
    reply.imds_error(400);

    // A rebound Arc request writes no key file.
    let arc_target = format!("{ARC}{}", query(RESOURCE, "2020-06-01"));
    let reply = send(
        endpoint.listen,
        "GET",
        Some(&format!("rebound.example:{port}")),
        &arc_target,
        &[("Metadata", "true")],
    )
    .await;
    reply.imds_error(400);
    assert!(agent.arc_key_files().is_empty());

    // IMDS: Azure's address, with or without :80, or the listener's own.
    let imds_target = format!("{ARC}{}", query(RESOURCE, "2018-02-01"));
    let imds_port = endpoint.imds.port();
    let imds = |host: String| {
        let target = imds_target.clone();
        async move {
            send(
                endpoint.imds,
                "GET",
                Some(&host),
                &target,
                &[("Metadata", "true")],
            )
            .await
        }
    };
    for good in [
        "169.254.169.254".to_owned(),
        "169.254.169.254:80".to_owned(),
        format!("127.0.0.1:{imds_port}"),
    ] {
        let reply = imds(good.clone()).await;
        assert_eq!(reply.status, 200, "IMDS Host {good}: {}", reply.body);
    }
    for bad in [
        format!("localhost:{imds_port}"),
        format!("rebound.example:{imds_port}"),
        "169.254.169.254:8080".to_owned(),
        format!("127.0.0.1:{port}"),
    ] {
        let reply = imds(bad.clone()).await;
        let description = reply.imds_error(400);
        assert!(
            description.contains("Host"),
            "IMDS Host {bad}: {description}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_headers_are_refused_on_every_protocol() {
    let server = TestServer::start();
    let agent = TestAgent::start(&server, "mi-xff", None, false);
    let endpoint = &agent.endpoint;
    let app = format!("{APP_SERVICE}{}", query(RESOURCE, "2019-08-01"));
    let arc = format!("{ARC}{}", query(RESOURCE, "2020-06-01"));
    let imds = format!("{ARC}{}", query(RESOURCE, "2018-02-01"));
    let header = endpoint.identity_header.as_str();
    let host = endpoint.host();
    let imds_host = endpoint.imds.to_string();
    let cases: [(SocketAddr, &str, &str, (&str, &str)); 3] = [
        (endpoint.listen, &host, &app, ("X-IDENTITY-HEADER", header)),
        (endpoint.listen, &host, &arc, ("Metadata", "true")),
        (endpoint.imds, &imds_host, &imds, ("Metadata", "true")),
    ];
    for (address, host, target, credential) in cases {
        // Served without forwarding headers (Arc: the challenge)...
        let plain = send(address, "GET", Some(host), target, &[credential]).await;
        assert!(
            plain.status == 200 || plain.status == 401,
            "{target}: {}",
            plain.body
        );
        // ...refused with either.
        for forwarded in [
            ("X-Forwarded-For", "203.0.113.7"),
            ("Forwarded", "for=203.0.113.7"),
            ("x-forwarded-for", "127.0.0.1"),
        ] {
            let reply = send(address, "GET", Some(host), target, &[credential, forwarded]).await;
            let description = reply.imds_error(400);
            assert!(
                description.contains("X-Forwarded-For"),
                "{target} with {forwarded:?}: {description}"
            );
        }
    }
    // Only the one plain Arc challenge wrote a key file.
    assert_eq!(agent.arc_key_files().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_cache_is_bounded_and_fetches_only_resources() {
    let server = TestServer::start();
    let relay = Relay::start(server_address(&server)).await;
    let agent = TestAgent::start(&server, "mi-cache", Some(&relay.url()), false);
    let endpoint = &agent.endpoint;

    // Not resources: refused before any fetch.
    let long = format!("https://{}.example", "a".repeat(300));
    for resource in [
        "vault.azure.net",
        "https://vault.azure.net?x=1",
        "https://vault.azure.net/#x",
        "https://user@vault.azure.net",
        "https://vault azure.net",
        "javascript:alert(1)",
        "https://vault.azure.net/%2e%2e",
        long.as_str(),
    ] {
        let reply = endpoint.app_service(resource).await;
        let description = reply.imds_error(400);
        assert!(
            description.contains("resource"),
            "{resource}: {description}"
        );
    }
    assert_eq!(relay.fetches(), 0, "a refused resource caused a fetch");

    // The first resource, then enough others to fill the cache: the first is evicted (least
    // recently used), the most recent one is still cached.
    let first = endpoint.app_service(RESOURCE).await.access_token();
    assert_eq!(relay.fetches(), 1);
    assert_eq!(endpoint.app_service(RESOURCE).await.access_token(), first);
    assert_eq!(relay.fetches(), 1, "a cached token was fetched again");
    for index in 0..TOKEN_CACHE_CAPACITY {
        let reply = endpoint.app_service(&format!("api://filler-{index}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let filled = relay.fetches();
    assert_eq!(filled, 1 + TOKEN_CACHE_CAPACITY);
    let last = format!("api://filler-{}", TOKEN_CACHE_CAPACITY - 1);
    assert_eq!(endpoint.app_service(&last).await.status, 200);
    assert_eq!(relay.fetches(), filled, "the newest entry was evicted");
    assert_eq!(endpoint.app_service(RESOURCE).await.status, 200);
    assert_eq!(
        relay.fetches(),
        filled + 1,
        "the cache kept more than {TOKEN_CACHE_CAPACITY} resources"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_fetch_blocks_no_other_resource_and_misses_share_one_fetch() {
    let server = TestServer::start();
    let relay = Relay::start(server_address(&server)).await;
    let agent = TestAgent::start(&server, "mi-flight", Some(&relay.url()), false);
    let endpoint = agent.endpoint.clone();

    let cached = endpoint
        .app_service("https://cached.example")
        .await
        .access_token();
    assert_eq!(relay.fetches(), 1);

    // The server stops answering new connections: a miss stalls inside its fetch.
    relay.hold(true);
    let stalled = {
        let endpoint = endpoint.clone();
        tokio::spawn(async move { endpoint.app_service("https://stalled.example").await })
    };
    relay.wait_for_fetches(2).await;

    // A cached resource is still served at once.
    let again = tokio::time::timeout(
        Duration::from_secs(5),
        endpoint.app_service("https://cached.example"),
    )
    .await
    .expect("a cached token waited for another resource's fetch (a lock held across it)");
    assert_eq!(again.access_token(), cached);

    // Concurrent misses for one resource make one fetch.
    let shared: Vec<_> = (0..5)
        .map(|_| {
            let endpoint = endpoint.clone();
            tokio::spawn(async move { endpoint.app_service("https://shared.example").await })
        })
        .collect();
    relay.wait_for_fetches(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        relay.fetches(),
        3,
        "concurrent misses made more than one fetch"
    );

    relay.hold(false);
    assert_eq!(stalled.await.expect("task").status, 200);
    let mut tokens = Vec::new();
    for task in shared {
        tokens.push(task.await.expect("task").access_token());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "the waiters got different tokens");
    assert_eq!(relay.fetches(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_token_is_renewed_before_it_expires() {
    let server = TestServer::start();
    let relay = Relay::start(server_address(&server)).await;
    let agent = TestAgent::start(&server, "mi-renew", Some(&relay.url()), true);
    let endpoint = &agent.endpoint;

    let first = endpoint.app_service(RESOURCE).await;
    let token = first.access_token();
    let expires_on = first.expires_on();
    assert_eq!(relay.fetches(), 1);

    // 310 s before expiry (give or take the seconds this test takes): still the cached token.
    let margin = 10;
    endpoint
        .advance_clock(TOKEN_LIFETIME_SECONDS - RENEW_BEFORE_SECONDS - margin)
        .await;
    let cached = endpoint.app_service(RESOURCE).await;
    assert_eq!(cached.access_token(), token);
    assert_eq!(cached.expires_on(), expires_on);
    assert_eq!(relay.fetches(), 1, "renewed more than 300 s before expiry");

    // The server's clock moves too, so the renewed token differs (its `iat`).
    server.advance_clock(3_600).await;
    // 290 s before expiry: renewed, although the cached token has not expired.
    endpoint.advance_clock(2 * margin).await;
    let renewed = endpoint.app_service(RESOURCE).await;
    assert_eq!(relay.fetches(), 2, "not renewed 290 s before expiry");
    assert_ne!(renewed.access_token(), token);
    assert!(
        renewed.expires_on() >= expires_on + TOKEN_LIFETIME_SECONDS - RENEW_BEFORE_SECONDS,
        "renewed expires_on {} vs first {expires_on}",
        renewed.expires_on()
    );
    // And the renewed token is cached again.
    assert_eq!(
        endpoint.app_service(RESOURCE).await.access_token(),
        renewed.access_token()
    );
    assert_eq!(relay.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arc_challenges_are_rate_limited() {
    let server = TestServer::start();
    let agent = TestAgent::start(&server, "mi-arc-rate", None, false);
    let endpoint = &agent.endpoint;
    let mut challenged = 0;
    let mut limited = 0;
    let start = std::time::Instant::now();
    for _ in 0..30 {
        let reply = endpoint.arc(None).await;
        match reply.status {
            401 => {
                let file = reply.key_file();
                assert_eq!(file.parent(), Some(agent.arc_dir().as_path()));
                challenged += 1;
            }
            429 => {
                reply.imds_error(429);
                assert_eq!(reply.header("retry-after"), Some("1"));
                limited += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    // A burst of 10, plus what 5 per second refills while the loop runs.
    let refilled = (start.elapsed().as_secs_f64() * 5.0).ceil() as usize;
    assert!(
        limited > 0 && (10..=10 + refilled).contains(&challenged),
        "{challenged} challenges answered, {limited} limited, {refilled} refilled"
    );
    assert_eq!(agent.arc_key_files().len(), challenged);
    // A presented (wrong) key does not get around the limit: it is a challenge too.
    assert_eq!(endpoint.arc(Some("not-a-key")).await.status, 429);
    // The bucket refills.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(endpoint.arc(None).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arc_keys_work_once_for_sixty_seconds_and_at_most_32_are_outstanding() {
    let server = TestServer::start();
    let agent = TestAgent::start(&server, "mi-arc-keys", None, true);
    let endpoint = &agent.endpoint;
    let read_key = |file: &Path| -> String {
        assert_eq!(file.parent(), Some(agent.arc_dir().as_path()));
        std::fs::read_to_string(file).expect("reading the key file")
    };

    // Once.
    let file = endpoint.arc_key_file().await;
    let key = read_key(&file);
    assert_eq!(endpoint.arc(Some(&key)).await.status, 200);
    assert!(!file.exists(), "a used key's file stays");
    assert_eq!(
        endpoint.arc(Some(&key)).await.status,
        401,
        "a key worked twice"
    );

    // Within its lifetime, and not after.
    let file = endpoint.arc_key_file().await;
    let key = read_key(&file);
    endpoint.advance_clock(ARC_KEY_LIFETIME_SECONDS - 2).await;
    assert_eq!(endpoint.arc(Some(&key)).await.status, 200);
    let file = endpoint.arc_key_file().await;
    let key = read_key(&file);
    endpoint.advance_clock(ARC_KEY_LIFETIME_SECONDS + 1).await;
    let refused = endpoint.arc(Some(&key)).await;
    assert_eq!(
        refused.status, 401,
        "an expired key worked: {}",
        refused.body
    );
    // That refusal was a new challenge, which dropped the expired key's file.
    assert!(!file.exists(), "an expired key's file stays");

    // The cap: every key so far expires, then 33 challenges; the first is dropped.
    endpoint.advance_clock(ARC_KEY_LIFETIME_SECONDS + 1).await;
    let mut issued = Vec::new();
    for _ in 0..=MAX_ARC_KEYS {
        let file = endpoint.arc_key_file().await;
        let key = read_key(&file);
        issued.push((file, key));
    }
    let outstanding = agent.arc_key_files();
    assert_eq!(outstanding.len(), MAX_ARC_KEYS, "{outstanding:?}");
    assert!(
        !issued[0].0.exists(),
        "the oldest key's file stays beyond the cap"
    );
    let mut expected: Vec<PathBuf> = issued[1..].iter().map(|(file, _)| file.clone()).collect();
    expected.sort();
    assert_eq!(outstanding, expected);
    // The second-oldest still works; the oldest does not.
    assert_eq!(endpoint.arc(Some(&issued[1].1)).await.status, 200);
    assert_eq!(agent.arc_key_files().len(), MAX_ARC_KEYS - 1);
    // (A refused key is a challenge, which may be rate-limited after so many.)
    let oldest = endpoint.arc(Some(&issued[0].1)).await;
    assert!(
        oldest.status == 401 || oldest.status == 429,
        "a key dropped beyond the cap worked: {} {}",
        oldest.status,
        oldest.body
    );
}
