//! The bare endpoint: the stack's limit. Same TLS and HTTP stack as `strongroom serve`
//! (tokio multi-thread runtime with its default workers, rustls on aws-lc-rs with an ECDSA
//! P-256 leaf from a local CA plus the CA in the chain, ALPN h2 + http/1.1, hyper-util's auto
//! connection builder, TCP_NODELAY) answering every request with one fixed body and doing
//! nothing else: no routing, no authentication, no storage. It answers with the real GET's
//! body and headers (passed in by the benchmark), and it runs with the server's global
//! allocator (mimalloc, set for this whole binary in `main.rs`), so the two differ only by
//! Strongroom's work.
//!
//! With `--operation`, it is also the stack's limit for a key operation over REST: it reads
//! each request's body (as the server must) and runs the same aws-lc-rs call the raw phase
//! times (`keyops::raw_operation`, on a key generated at start) before it answers. Strongroom
//! can approach that figure but not pass it.
//!
//! It runs as a child process of the benchmark (this binary's hidden `bare-serve`), exactly as
//! the real server does, so both get a process of their own, the same runtime configuration and
//! CPU time that can be read from `/proc/PID/stat`. It prints `bare ready: {"port":N}` when
//! listening and writes the CA it trusts to `DIR/ca.pem`.

use crate::keyops::{self, KeyOp, RawOp};
use crate::load::Target;
use crate::process::ChildServer;
use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use clap::ValueEnum as _;
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::convert::Infallible;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use strongroom_crypto::LocalCa;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub(crate) const READY_PREFIX: &str = "bare ready: ";
/// The name the bare endpoint's certificate is for (and the client's SNI / `Host`).
pub(crate) const HOST: &str = "bench.vault.localhost";

#[derive(Debug, Clone, Args)]
pub(crate) struct BareServeArgs {
    /// Where to write `ca.pem`.
    #[arg(long)]
    dir: PathBuf,
    /// The fixed response body.
    #[arg(long)]
    body_file: PathBuf,
    /// A response header, `name: value`, sent on every response (repeatable): the real
    /// server's headers, so both answer with the same bytes.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Read the request body and run this key operation before answering every request.
    #[arg(long, value_enum)]
    operation: Option<KeyOp>,
}

/// A running bare endpoint (stopped when dropped) and the target that loads it.
pub(crate) struct BareEndpoint {
    pub(crate) server: ChildServer,
    pub(crate) target: Arc<Target>,
}

/// Starts `bare-serve` (this binary) in `work/{label}`, answering every request with `body`
/// and `headers` (less `date` and `content-length`, which hyper adds itself, as it does for
/// the server), after running `operation` if one is given.
pub(crate) fn spawn(
    work: &Path,
    label: &str,
    body: &[u8],
    headers: &HeaderMap,
    operation: Option<KeyOp>,
) -> anyhow::Result<BareEndpoint> {
    let dir = work.join(label);
    std::fs::create_dir_all(&dir)?;
    let body_file = dir.join("body");
    std::fs::write(&body_file, body)?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("bare-serve")
        .arg("--dir")
        .arg(&dir)
        .arg("--body-file")
        .arg(&body_file);
    for (name, value) in headers {
        if name != header::DATE && name != header::CONTENT_LENGTH {
            command.arg("--header").arg(format!(
                "{name}: {}",
                value.to_str().context("a response header is not text")?
            ));
        }
    }
    if let Some(op) = operation {
        let value = op
            .to_possible_value()
            .context("every key operation has a command-line name")?;
        command.arg("--operation").arg(value.get_name());
    }
    let server = ChildServer::spawn(
        "bare endpoint",
        command,
        READY_PREFIX,
        &dir.join("stderr.log"),
    )?;
    let target = Arc::new(Target::new(server.port()?, HOST, &dir.join("ca.pem"))?);
    Ok(BareEndpoint { server, target })
}

/// Entry point of `strongroom-bench bare-serve`; runs until killed.
pub(crate) fn serve_main(args: &BareServeArgs) -> anyhow::Result<()> {
    // The same runtime `strongroom` builds: multi-thread, default worker count.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: &BareServeArgs) -> anyhow::Result<()> {
    let body = Bytes::from(
        std::fs::read(&args.body_file)
            .with_context(|| format!("reading {}", args.body_file.display()))?,
    );
    let mut headers = http::HeaderMap::new();
    for line in &args.headers {
        let (name, value) = line
            .split_once(':')
            .with_context(|| format!("--header {line:?} is not `name: value`"))?;
        headers.append(
            http::HeaderName::from_bytes(name.trim().as_bytes())
                .with_context(|| format!("header name {name:?}"))?,
            HeaderValue::from_str(value.trim())
                .with_context(|| format!("header value {value:?}"))?,
        );
    }
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    let ca = LocalCa::generate("Strongroom bench bare CA")?;
    let leaf = ca.issue_server_cert(
        &[HOST.to_owned(), "localhost".to_owned()],
        &[IpAddr::from([127, 0, 0, 1])],
    )?;
    let ca_pem = ca.cert_pem();
    std::fs::write(args.dir.join("ca.pem"), &ca_pem).context("writing ca.pem")?;

    let mut chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .context("leaf PEM")?;
    chain.push(CertificateDer::from(ca.cert_der().to_vec()));
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.expose().as_bytes()).context("key PEM")?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("certificate and key")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let operation: Option<Arc<RawOp>> = match args.operation {
        Some(op) => Some(Arc::new(keyops::raw_operation(op)?)),
        None => None,
    };

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    println!("{READY_PREFIX}{}", serde_json::json!({ "port": port }));

    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let body = body.clone();
        let headers = headers.clone();
        let operation = operation.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = service_fn(move |request: Request<Incoming>| {
                let mut response = Response::new(Full::new(body.clone()));
                *response.headers_mut() = headers.clone();
                let operation = operation.clone();
                async move {
                    if let Some(operation) = operation {
                        // A body that fails to arrive or an operation that fails would make
                        // this a different (cheaper) request: answer 500, which the load
                        // generator counts as an error.
                        let read = request.into_body().collect().await.is_ok();
                        if !(read && operation()) {
                            *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                        }
                    }
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        });
    }
}
