//! A small HTTPS/1.1 client for one Strongroom server: hyper's `client::conn::http1` over
//! tokio-rustls (aws-lc-rs), trusting exactly one CA (`ca.pem`).
//!
//! Why not a general client: every request goes to the listen address from `server.json`,
//! while SNI and `Host` carry the logical host (`localhost:PORT`, `V.vault.localhost:PORT`),
//! so the CLI works where `*.vault.localhost` does not resolve. A general client would resolve
//! the name and trust the system roots; we want neither.
//!
//! One connection per request: the CLI makes a handful of calls per run, and no pooling
//! means no state to get wrong.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use strongroom_model::SecretValue;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::endpoints::Target;

/// How long one request may take, connect to last body byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest response body accepted (a page of secrets is far smaller).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
const USER_AGENT_VALUE: &str = concat!("strongroom-cli/", env!("CARGO_PKG_VERSION"));

/// Why an HTTPS exchange failed before any HTTP status was known.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpsError {
    #[error("cannot read the CA certificate {}: {source}", path.display())]
    ReadCa { path: PathBuf, source: io::Error },
    #[error("the CA certificate {} is not usable: {detail}", path.display())]
    InvalidCa { path: PathBuf, detail: String },
    #[error("cannot reach the Strongroom server at {address} (is `strongroom serve` running?)")]
    Refused { address: SocketAddr },
    #[error("cannot reach the Strongroom server at {address}: {source}")]
    Connect {
        address: SocketAddr,
        source: io::Error,
    },
    #[error("{host:?} is not a valid TLS server name")]
    ServerName { host: String },
    #[error("TLS handshake with {host} failed: {source}")]
    Tls { host: String, source: io::Error },
    #[error("cannot build the request to {url}: {source}")]
    Request { url: String, source: http::Error },
    #[error("HTTP exchange with {url} failed: {source}")]
    Exchange { url: String, source: hyper::Error },
    #[error("cannot read the response from {url}: {detail}")]
    Body { url: String, detail: String },
    #[error("no answer from {url} within {} s", REQUEST_TIMEOUT.as_secs())]
    Timeout { url: String },
}

/// A request body and its media type.
pub(crate) struct Body {
    pub(crate) content_type: &'static str,
    pub(crate) bytes: Vec<u8>,
}

/// One request to send.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    pub(crate) target: &'a Target,
    pub(crate) bearer: Option<&'a SecretValue>,
    pub(crate) body: Option<Body>,
}

/// The status and whole body of a response.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

/// Connects to one address, trusts one CA.
pub(crate) struct HttpsClient {
    connect_to: SocketAddr,
    tls: TlsConnector,
}

impl HttpsClient {
    /// A client that connects to `connect_to` and trusts only the certificates in `ca_file`.
    pub(crate) fn new(ca_file: &Path, connect_to: SocketAddr) -> Result<Self, HttpsError> {
        let pem = std::fs::read(ca_file).map_err(|source| HttpsError::ReadCa {
            path: ca_file.to_path_buf(),
            source,
        })?;
        let invalid = |detail: String| HttpsError::InvalidCa {
            path: ca_file.to_path_buf(),
            detail,
        };
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate.map_err(|error| invalid(error.to_string()))?;
            roots
                .add(certificate)
                .map_err(|error| invalid(error.to_string()))?;
        }
        if roots.is_empty() {
            return Err(invalid("it holds no PEM certificate".to_owned()));
        }
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|error| invalid(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        // We speak HTTP/1.1 only; say so, so an auto-detecting server does not pick h2.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            connect_to,
            tls: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Sends one request on a fresh connection and reads the whole response.
    pub(crate) async fn send(&self, request: Outgoing<'_>) -> Result<Incoming, HttpsError> {
        let url = request.target.to_string();
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request, &url)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(HttpsError::Timeout { url }),
        }
    }

    async fn exchange(&self, request: Outgoing<'_>, url: &str) -> Result<Incoming, HttpsError> {
        let address = self.connect_to;
        let tcp = TcpStream::connect(address).await.map_err(|source| {
            if source.kind() == io::ErrorKind::ConnectionRefused {
                HttpsError::Refused { address }
            } else {
                HttpsError::Connect { address, source }
            }
        })?;
        // Best effort: small requests, and Nagle only adds latency.
        let _ = tcp.set_nodelay(true);

        let host = &request.target.host;
        let server_name = ServerName::try_from(host.clone())
            .map_err(|_| HttpsError::ServerName { host: host.clone() })?;
        let tls = self
            .tls
            .connect(server_name, tcp)
            .await
            .map_err(|source| HttpsError::Tls {
                host: host.clone(),
                source,
            })?;

        let http_request = build_request(request).map_err(|source| HttpsError::Request {
            url: url.to_owned(),
            source,
        })?;
        let exchange_error = |source| HttpsError::Exchange {
            url: url.to_owned(),
            source,
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(exchange_error)?;

        // The connection future drives the socket; it finishes once `sender` is dropped at the
        // end of the exchange, so no task outlives this call.
        let exchange = async move {
            let response = sender
                .send_request(http_request)
                .await
                .map_err(exchange_error)?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|error| HttpsError::Body {
                    url: url.to_owned(),
                    detail: error.to_string(),
                })?
                .to_bytes();
            Ok(Incoming { status, body })
        };
        let (result, _connection_result) = tokio::join!(exchange, connection);
        // A connection error also fails the exchange, which reports it with the URL.
        result
    }
}

fn build_request(request: Outgoing<'_>) -> Result<Request<Full<Bytes>>, http::Error> {
    let mut builder = Request::builder()
        .method(request.method)
        .uri(request.target.path_and_query.as_str())
        .header(HOST, request.target.authority())
        .header(USER_AGENT, USER_AGENT_VALUE)
        .header(ACCEPT, "application/json");
    if let Some(token) = request.bearer {
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose()))?;
        value.set_sensitive(true);
        builder = builder.header(AUTHORIZATION, value);
    }
    let body = match request.body {
        Some(body) => {
            builder = builder.header(CONTENT_TYPE, body.content_type);
            Bytes::from(body.bytes)
        }
        None => Bytes::new(),
    };
    builder
        .header(CONTENT_LENGTH, body.len())
        .body(Full::new(body))
}

#[cfg(test)]
mod tests {
    //! Against a real TLS server on 127.0.0.1:0 with a throwaway CA: what goes on the wire
    //! (SNI, `Host`, headers, body) and what each failure looks like.

    use tokio::net::TcpListener;

    use super::*;
    use crate::test_peer::{self, Pki};

    /// A peer that answers 418 with a description of the request.
    async fn echo_server(pki: &Pki) -> SocketAddr {
        test_peer::serve(pki, |seen| (418, seen.describe())).await
    }

    fn client(pki: &Pki, address: SocketAddr) -> (tempfile::TempDir, HttpsClient) {
        let dir = tempfile::tempdir().unwrap();
        let client = HttpsClient::new(&pki.write_ca(dir.path()), address).unwrap();
        (dir, client)
    }

    fn target(host: &str, port: u16, path_and_query: &str) -> Target {
        Target {
            host: host.to_owned(),
            port,
            path_and_query: path_and_query.to_owned(),
        }
    }

    #[tokio::test]
    async fn sends_the_logical_host_as_sni_and_host_header() {
        let pki = Pki::new("Test CA");
        let address = echo_server(&pki).await;
        let (_dir, client) = client(&pki, address);
        let port = address.port();
        let token = SecretValue::new("tok123".to_owned());

        let vault = target(
            "v1.vault.localhost",
            port,
            "/secrets/a?api-version=2025-07-01",
        );
        let response = client
            .send(Outgoing {
                method: Method::PUT,
                target: &vault,
                bearer: Some(&token),
                body: Some(Body {
                    content_type: "application/json",
                    bytes: br#"{"value":"x"}"#.to_vec(),
                }),
            })
            .await
            .unwrap();
        assert_eq!(response.status, StatusCode::IM_A_TEAPOT);
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert_eq!(
            text.replace(&port.to_string(), "PORT"),
            r#"sni=v1.vault.localhost PUT /secrets/a?api-version=2025-07-01 host=v1.vault.localhost:PORT auth=Bearer tok123 type=application/json length=13 body={"value":"x"}"#
        );

        let identity = target("localhost", port, "/healthz");
        let response = client
            .send(Outgoing {
                method: Method::GET,
                target: &identity,
                bearer: None,
                body: None,
            })
            .await
            .unwrap();
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert_eq!(
            text.replace(&port.to_string(), "PORT"),
            "sni=localhost GET /healthz host=localhost:PORT auth=- type=- length=0 body="
        );
    }

    #[tokio::test]
    async fn refuses_a_server_signed_by_another_ca() {
        let pki = Pki::new("Test CA");
        let address = echo_server(&pki).await;
        let other = Pki::new("Another CA");
        let (_dir, client) = client(&other, address);
        let error = client
            .send(Outgoing {
                method: Method::GET,
                target: &target("localhost", address.port(), "/"),
                bearer: None,
                body: None,
            })
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "TLS handshake with localhost failed: invalid peer certificate: UnknownIssuer"
        );
    }

    #[tokio::test]
    async fn refused_connection_says_to_start_the_server() {
        let pki = Pki::new("Test CA");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let (_dir, client) = client(&pki, address);
        let error = client
            .send(Outgoing {
                method: Method::GET,
                target: &target("localhost", address.port(), "/"),
                bearer: None,
                body: None,
            })
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot reach the Strongroom server at {address} (is `strongroom serve` running?)"
            )
        );
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, "not a certificate\n").unwrap();
        let address: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let error = HttpsClient::new(&ca_file, address).err().unwrap();
        assert_eq!(
            error
                .to_string()
                .replace(&dir.path().display().to_string(), "DIR"),
            "the CA certificate DIR/ca.pem is not usable: it holds no PEM certificate"
        );
        let error = HttpsClient::new(&dir.path().join("absent.pem"), address)
            .err()
            .unwrap();
        assert_eq!(
            error
                .to_string()
                .replace(&dir.path().display().to_string(), "DIR"),
            "cannot read the CA certificate DIR/absent.pem: No such file or directory (os error 2)"
        );
    }
}
