//! The real binary under test and a raw HTTPS client for it.
//!
//! `TestServer::start()` runs `strongroom serve` on `127.0.0.1:0` with a temporary data
//! directory and `--dev-clock`, waits for the readiness line (no sleeps, 60 s timeout), and
//! kills the child on drop; `start_configured` changes the listener, drops `--dev-clock` or
//! runs the binary under another program (`strace`). `RawClient` speaks HTTP/1.1 or HTTP/2
//! over rustls (aws-lc-rs), trusting only the server's `ca.pem`, to `127.0.0.1:PORT` with
//! whatever SNI and `Host` a test asks for, and sends whatever method, path, headers and
//! body bytes it is given: the things the official SDKs never send.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long the server may take to print its readiness line.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one request may take, connect to last body byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const READY_PREFIX: &str = "strongroom ready: ";

/// The Azure management audience; the management API and the dev clock accept it.
pub(crate) const MANAGEMENT_SCOPE: &str = "https://management.azure.com/.default";

/// How `serve` is started (kept for `restart`): `TestServer::start` uses the default,
/// `--listen 127.0.0.1:0 --dev-clock`, run directly.
#[derive(Debug, Clone)]
pub(crate) struct ServeOptions {
    /// `--listen`.
    pub(crate) listen: String,
    /// Whether `--dev-clock` is passed.
    pub(crate) dev_clock: bool,
    /// A program (and its arguments) the binary runs under, e.g. `strace -f -o FILE`;
    /// empty: the binary is the child.
    pub(crate) wrapper: Vec<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:0".to_owned(),
            dev_clock: true,
            wrapper: Vec::new(),
        }
    }
}

/// A running `strongroom serve` on a temporary data directory.
pub(crate) struct TestServer {
    data_dir: TempDir,
    options: ServeOptions,
    /// Flags added to `serve` (kept for `restart`).
    extra_args: Vec<String>,
    child: Option<Child>,
    /// The JSON after `strongroom ready: ` (the content of `server.json`).
    pub(crate) ready: Value,
    pub(crate) port: u16,
    pub(crate) tenant_id: String,
    pub(crate) subscription_id: String,
    stderr: Arc<Mutex<String>>,
}

impl TestServer {
    /// Starts the binary on a fresh data directory and waits until it is ready.
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts the binary with extra `serve` flags.
    pub(crate) fn start_with(extra_args: &[&str]) -> Self {
        Self::start_configured(ServeOptions::default(), extra_args)
    }

    /// Starts the binary as `options` say, with extra `serve` flags.
    pub(crate) fn start_configured(options: ServeOptions, extra_args: &[&str]) -> Self {
        let data_dir = tempfile::tempdir().expect("creating a temporary data directory");
        let mut server = Self {
            data_dir,
            options,
            extra_args: extra_args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
            ready: Value::Null,
            port: 0,
            tenant_id: String::new(),
            subscription_id: String::new(),
            stderr: Arc::default(),
        };
        server.spawn();
        server
    }

    pub(crate) fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Starts another node of `first`'s deployment, as an operator adds one: a copy of its
    /// data directory (CA, master key, administrator; not its lock, database or server.json)
    /// and the same flags (its `--store` among them), plus `extra_args`.
    pub(crate) fn start_node_of(first: &TestServer, extra_args: &[&str]) -> Self {
        let data_dir = tempfile::tempdir().expect("creating a temporary data directory");
        copy_deployment_files(first.data_dir(), data_dir.path());
        // As private as `serve` requires (the copy took the source's modes, files only).
        std::fs::set_permissions(
            data_dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("making the data directory private");
        let mut server = Self {
            data_dir,
            options: first.options.clone(),
            extra_args: first
                .extra_args
                .iter()
                .cloned()
                .chain(extra_args.iter().map(|a| (*a).to_owned()))
                .collect(),
            child: None,
            ready: Value::Null,
            port: 0,
            tenant_id: String::new(),
            subscription_id: String::new(),
            stderr: Arc::default(),
        };
        server.spawn();
        server
    }

    /// Everything the server wrote to stderr so far (for failure messages).
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown hook runs, nothing is flushed.
    /// Under a wrapper the server itself is killed first (killing only the wrapper could
    /// leave it running, as a tracer's death detaches its tracee).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            if !self.options.wrapper.is_empty() {
                self.signal_server("KILL");
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM to the server (graceful shutdown), then waits up to `timeout` for the child
    /// (the wrapper, if any, exits with it); SIGKILL if it has not exited by then. `true` if
    /// it exited by itself.
    pub(crate) fn terminate(&mut self, timeout: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        self.signal_server("TERM");
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_server("KILL");
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Sends `signal` (a `kill -SIGNAL` name) to the `serve` process: the `pid` it announced.
    pub(crate) fn signal_server(&self, signal: &str) {
        if let Some(pid) = self.ready["pid"].as_u64() {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(pid.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Kills the server if it still runs and starts it again on the same data directory.
    /// The port changes; take a new `client()` and new tokens afterwards.
    pub(crate) fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let binary = env!("CARGO_BIN_EXE_strongroom");
        let mut command = match self.options.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(["--listen", &self.options.listen]);
        if self.options.dev_clock {
            command.arg("--dev-clock");
        }
        let mut child = command
            .args(&self.extra_args)
            .env_remove("STRONGROOM_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning the strongroom binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let stderr_sink = Arc::new(Mutex::new(String::new()));
        self.stderr = stderr_sink.clone();
        let stderr_thread = std::thread::spawn(move || drain_into(stderr, &stderr_sink));

        // The reader keeps draining stdout after the readiness line so the child never
        // blocks on a full pipe.
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

        let line = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(line) => line,
            Err(err) => {
                let _ = child.kill();
                let status = child.wait();
                let _ = stderr_thread.join();
                panic!(
                    "strongroom did not print its readiness line ({err}); exit: {status:?}\nstderr:\n{}",
                    self.stderr()
                );
            }
        };
        self.child = Some(child);
        self.ready = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("readiness JSON {line:?} does not parse: {err}"));
        // The listener's own port (`port` is the public one, which `--public-port` may set).
        self.port = self.ready["listen"]
            .as_str()
            .and_then(|listen| listen.parse::<SocketAddr>().ok())
            .map(|listen| listen.port())
            .unwrap_or_else(|| panic!("readiness JSON has no listen address: {line}"));
        self.tenant_id = self.ready["tenantId"]
            .as_str()
            .unwrap_or_else(|| panic!("readiness JSON has no tenantId: {line}"))
            .to_owned();
        self.subscription_id = self.ready["subscriptionId"]
            .as_str()
            .unwrap_or_else(|| panic!("readiness JSON has no subscriptionId: {line}"))
            .to_owned();
    }

    /// A client for the current port, trusting only this data directory's `ca.pem`.
    pub(crate) fn client(&self) -> RawClient {
        RawClient::new(&self.data_dir().join("ca.pem"), self.port)
    }

    /// The vault audience and challenge resource, `https://vault.localhost:PORT` (the public
    /// port).
    pub(crate) fn vault_resource(&self) -> String {
        format!("https://vault.localhost:{}", self.ready["port"])
    }

    /// `{"tenantId","clientId","clientSecret","objectId"}` from `admin.json`.
    pub(crate) fn admin_credential(&self) -> Value {
        let path = self.data_dir().join("admin.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
        serde_json::from_str(&text).expect("admin.json is JSON")
    }

    /// An access token for the administrator by client credentials
    /// (`POST /{tenantId}/oauth2/v2.0/token`).
    pub(crate) async fn admin_token(&self, scope: &str) -> String {
        let admin = self.admin_credential();
        self.client_token(
            admin["clientId"].as_str().expect("clientId"),
            admin["clientSecret"].as_str().expect("clientSecret"),
            scope,
        )
        .await
    }

    /// An access token for any principal by client credentials.
    pub(crate) async fn client_token(
        &self,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> String {
        let response = self
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("scope", scope),
            ])
            .await;
        assert_eq!(response.status, StatusCode::OK, "token request: {response}");
        response.json()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {response}"))
            .to_owned()
    }

    /// Posts `form` to the tenant's token endpoint and returns the answer as it is.
    pub(crate) async fn token_request(&self, form: &[(&str, &str)]) -> RawResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.client()
            .request(
                "POST",
                "localhost",
                &format!("/{}/oauth2/v2.0/token", self.tenant_id),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("token request")
    }

    /// An administrator token for the vault data plane (`https://vault.localhost:PORT`).
    pub(crate) async fn vault_token(&self) -> String {
        self.admin_token(&format!("{}/.default", self.vault_resource()))
            .await
    }

    /// Sends `method path` to vault `vault`'s data plane as the administrator (a fresh token),
    /// with `body` as JSON when given.
    pub(crate) async fn vault_call(
        &self,
        method: &str,
        vault: &str,
        path: &str,
        body: Option<&Value>,
    ) -> RawResponse {
        let token = self.vault_token().await;
        let mut request = self
            .client()
            .request(method, &format!("{vault}.vault.localhost"), path)
            .bearer(&token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|err| panic!("{method} {path} on {vault}: {err}"))
    }

    /// Creates vault `name` through the management API; without access policies the
    /// administrator gets every permission.
    pub(crate) async fn create_vault(&self, name: &str) -> Value {
        let token = self.admin_token(MANAGEMENT_SCOPE).await;
        let path = format!(
            "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/{name}?api-version=2023-07-01",
            self.subscription_id
        );
        let body = json!({
            "location": "local",
            "properties": {
                "tenantId": self.tenant_id,
                "sku": {"family": "A", "name": "standard"},
            },
        });
        let response = self
            .client()
            .request("PUT", "localhost", &path)
            .bearer(&token)
            .json(&body)
            .send()
            .await
            .expect("create vault request");
        assert!(
            response.status == StatusCode::CREATED || response.status == StatusCode::OK,
            "create vault {name}: {response}"
        );
        response.json()
    }

    /// Runs the CLI (`strongroom --data-dir DIR ARGS...`) against this server and returns
    /// its stdout; panics with stderr when it exits non-zero.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
            .env_remove("STRONGROOM_DATA_DIR")
            .stdin(Stdio::null())
            .output()
            .expect("running the strongroom CLI");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "strongroom {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Moves the dev clock forward (`POST /strongroom/dev/clock?advanceSeconds=N`).
    pub(crate) async fn advance_clock(&self, seconds: u64) -> Value {
        let token = self.admin_token(MANAGEMENT_SCOPE).await;
        let response = self
            .client()
            .request(
                "POST",
                "localhost",
                &format!("/strongroom/dev/clock?advanceSeconds={seconds}"),
            )
            .bearer(&token)
            .send()
            .await
            .expect("dev clock request");
        assert_eq!(response.status, StatusCode::OK, "dev clock: {response}");
        response.json()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Copies a data directory's files (recursively, modes kept) except what belongs to one
/// running node: its lock, its SQLite database, its server.json and server certificate.
fn copy_deployment_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("reading the data directory") {
        let entry = entry.expect("a directory entry");
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "serve.lock" || name.starts_with("strongroom.db") || name == "server.json" {
            continue;
        }
        let target = to.join(&*name);
        if entry.file_type().expect("a file type").is_dir() {
            std::fs::create_dir_all(&target).expect("creating a directory");
            copy_deployment_files(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copying a data directory file");
        }
    }
}

fn drain_into(mut stream: impl Read, sink: &Mutex<String>) {
    let mut buffer = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        if let Ok(mut text) = sink.lock() {
            text.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    }
}

/// HTTPS to one server, one fresh connection per request.
#[derive(Clone)]
pub(crate) struct RawClient {
    connect_to: SocketAddr,
    port: u16,
    http1: TlsConnector,
    http2: TlsConnector,
}

impl RawClient {
    pub(crate) fn new(ca_file: &Path, port: u16) -> Self {
        let pem = std::fs::read(ca_file)
            .unwrap_or_else(|err| panic!("reading {}: {err}", ca_file.display()));
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            roots
                .add(certificate.expect("ca.pem holds PEM certificates"))
                .expect("ca.pem is a usable trust anchor");
        }
        assert!(
            !roots.is_empty(),
            "{} holds no certificate",
            ca_file.display()
        );
        let config = |alpn: &[u8]| {
            let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default versions")
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
            config.alpn_protocols = vec![alpn.to_vec()];
            TlsConnector::from(Arc::new(config))
        };
        Self {
            connect_to: SocketAddr::from(([127, 0, 0, 1], port)),
            port,
            http1: config(b"http/1.1"),
            http2: config(b"h2"),
        }
    }

    /// A TLS connection to the server for `sni`, negotiating `h2` or `http/1.1` by ALPN, for
    /// tests that drive the connection themselves (idle and keep-alive behaviour).
    pub(crate) async fn connect_tls(
        &self,
        sni: &str,
        http2: bool,
    ) -> tokio_rustls::client::TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.connect_to)
            .await
            .expect("connecting to the server");
        let _ = tcp.set_nodelay(true);
        let connector = if http2 { &self.http2 } else { &self.http1 };
        connector
            .connect(
                ServerName::try_from(sni.to_owned()).expect("a DNS name"),
                tcp,
            )
            .await
            .expect("the TLS handshake")
    }

    /// A request to `host` (SNI and `Host`, without the port: `v.vault.localhost`,
    /// `localhost`) for a raw path and query. `method` may be any token.
    pub(crate) fn request(&self, method: &str, host: &str, path_and_query: &str) -> RawRequest {
        RawRequest {
            client: self.clone(),
            method: Method::from_bytes(method.as_bytes()).expect("an HTTP method token"),
            sni: host.to_owned(),
            authority: format!("{host}:{}", self.port),
            path_and_query: path_and_query.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
            stall_after_body: None,
            http2: false,
        }
    }
}

/// One request being built; `send()` delivers it on a new connection.
pub(crate) struct RawRequest {
    client: RawClient,
    method: Method,
    sni: String,
    /// `Host` (HTTP/1.1) or `:authority` (HTTP/2).
    authority: String,
    path_and_query: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    /// `Some(n)`: declare `Content-Length: n`, send `body`, then send nothing more.
    stall_after_body: Option<u64>,
    http2: bool,
}

impl RawRequest {
    pub(crate) fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_bytes(value.as_ref()).expect("a header value"),
        ));
        self
    }

    pub(crate) fn bearer(self, token: &str) -> Self {
        self.header(AUTHORIZATION.as_str(), format!("Bearer {token}"))
    }

    /// Sends this `Host` / `:authority` instead of `{sni}:{port}`.
    pub(crate) fn authority(mut self, authority: &str) -> Self {
        authority.clone_into(&mut self.authority);
        self
    }

    /// Raw body bytes, sent as they are with a `Content-Length`.
    pub(crate) fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Declares `Content-Length: declared_len` but sends only `prefix` and then waits, as a
    /// slow client would. The response (if any) arrives while the body is still "in flight";
    /// unlike a full oversized body, this never races the server's close against our writes.
    pub(crate) fn stalled_body(mut self, prefix: impl Into<Bytes>, declared_len: u64) -> Self {
        self.body = prefix.into();
        self.stall_after_body = Some(declared_len);
        self
    }

    pub(crate) fn json(self, body: &Value) -> Self {
        self.header(CONTENT_TYPE.as_str(), "application/json")
            .body(body.to_string())
    }

    /// Negotiates `h2` by ALPN and speaks HTTP/2.
    pub(crate) fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Sends the request and reads the whole response. `Err` is a transport failure
    /// (connection refused or reset, TLS, timeout), never an HTTP status.
    pub(crate) async fn send(self) -> Result<RawResponse, String> {
        let what = format!("{} {}{}", self.method, self.authority, self.path_and_query);
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange()).await {
            Ok(result) => result.map_err(|err| format!("{what}: {err}")),
            Err(_) => Err(format!("{what}: no answer within {REQUEST_TIMEOUT:?}")),
        }
    }

    async fn exchange(self) -> Result<RawResponse, String> {
        let tcp = TcpStream::connect(self.client.connect_to)
            .await
            .map_err(|err| format!("connect: {err}"))?;
        let _ = tcp.set_nodelay(true);
        let server_name =
            ServerName::try_from(self.sni.clone()).map_err(|err| format!("SNI: {err}"))?;
        let connector = if self.http2 {
            &self.client.http2
        } else {
            &self.client.http1
        };
        let tls = connector
            .connect(server_name, tcp)
            .await
            .map_err(|err| format!("TLS: {err}"))?;
        let io = TokioIo::new(tls);

        let mut builder = Request::builder().method(self.method.clone());
        builder = if self.http2 {
            builder.uri(format!("https://{}{}", self.authority, self.path_and_query))
        } else {
            builder
                .uri(self.path_and_query.as_str())
                .header(HOST, self.authority.as_str())
        };
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let (content_length, body) = match self.stall_after_body {
            Some(declared) => (
                declared,
                StalledBody {
                    prefix: Some(self.body.clone()),
                    declared,
                }
                .boxed_unsync(),
            ),
            None => (
                self.body.len() as u64,
                Full::new(self.body.clone()).boxed_unsync(),
            ),
        };
        let request = builder
            .header(CONTENT_LENGTH, content_length)
            .body(body)
            .map_err(|err| format!("building the request: {err}"))?;

        if self.http2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .map_err(|err| format!("h2 handshake: {err}"))?;
            let driver = tokio::spawn(connection);
            let result = read_response(sender.send_request(request).await).await;
            drop(sender);
            driver.abort();
            result
        } else {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|err| format!("http1 handshake: {err}"))?;
            let exchange = async move { read_response(sender.send_request(request).await).await };
            let (result, _connection) = tokio::join!(exchange, connection);
            result
        }
    }
}

/// A body that yields its prefix and then never finishes.
struct StalledBody {
    prefix: Option<Bytes>,
    declared: u64,
}

impl hyper::body::Body for StalledBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.prefix.take() {
            Some(prefix) => Poll::Ready(Some(Ok(Frame::data(prefix)))),
            // Nothing more will come; the connection is driven by the socket from here on.
            None => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared)
    }
}

async fn read_response(
    response: Result<http::Response<hyper::body::Incoming>, hyper::Error>,
) -> Result<RawResponse, String> {
    let response = response.map_err(|err| format!("exchange: {err}"))?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|err| format!("reading the body: {err}"))?
        .to_bytes();
    Ok(RawResponse {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body,
    })
}

/// A whole response.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) version: http::Version,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl RawResponse {
    /// The body as JSON; panics with the response when it is not.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("response body is not JSON ({err}): {self}"))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the body is Azure's error shape, `{"error":{"code":"..","message":".."}}`,
    /// and returns `(code, message)`.
    #[track_caller]
    pub(crate) fn azure_error(&self) -> (String, String) {
        let body = self.json();
        let code = body["error"]["code"].as_str();
        let message = body["error"]["message"].as_str();
        match (code, message) {
            (Some(code), Some(message)) => (code.to_owned(), message.to_owned()),
            _ => panic!("not an Azure error body: {self}"),
        }
    }
}

impl std::fmt::Display for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = self.text();
        if text.len() > 500 {
            let mut end = 500;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str("...");
        }
        write!(f, "{} {text}", self.status)
    }
}
