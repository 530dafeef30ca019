//! A scripted TLS peer for tests: a real rustls + hyper server on 127.0.0.1:0 with a
//! throwaway CA, answering each request with whatever a handler returns.
//!
//! It stands in for the Strongroom server's wire behaviour only (no storage or crypto of
//! ours is faked), so the client's SNI, headers, token request, paging and error handling run
//! over a real socket. End-to-end tests against the real binary live in `crates/strongroom`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A CA and a leaf for `localhost` and `*.vault.localhost` signed by it.
pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    leaf_der: CertificateDer<'static>,
    leaf_key: PrivateKeyDer<'static>,
}

impl Pki {
    /// A fresh CA named `ca_name` (distinct names make "unknown issuer" the failure mode).
    pub(crate) fn new(ca_name: &str) -> Self {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf =
            CertificateParams::new(vec!["localhost".to_owned(), "*.vault.localhost".to_owned()])
                .unwrap()
                .signed_by(&leaf_key, &issuer)
                .unwrap();
        Self {
            ca_pem: ca.pem(),
            leaf_der: leaf.der().clone(),
            leaf_key: PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
        }
    }

    /// Writes `ca.pem` into `dir` and returns its path.
    pub(crate) fn write_ca(&self, dir: &Path) -> std::path::PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}

/// One request as the peer saw it.
#[derive(Debug)]
pub(crate) struct Seen {
    pub(crate) sni: String,
    pub(crate) method: Method,
    /// Path and query.
    pub(crate) uri: String,
    pub(crate) host: String,
    pub(crate) authorization: String,
    pub(crate) content_type: String,
    pub(crate) content_length: String,
    pub(crate) body: String,
}

impl Seen {
    /// Everything on one line, for snapshots.
    pub(crate) fn describe(&self) -> String {
        format!(
            "sni={} {} {} host={} auth={} type={} length={} body={}",
            self.sni,
            self.method,
            self.uri,
            self.host,
            self.authorization,
            self.content_type,
            self.content_length,
            self.body
        )
    }

    /// The form fields of an `application/x-www-form-urlencoded` body.
    pub(crate) fn form(&self, name: &str) -> String {
        form_urlencoded::parse(self.body.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    }
}

/// Starts the peer; `handler` gives `(status, body)` for each request.
pub(crate) async fn serve<H>(pki: &Pki, handler: H) -> SocketAddr
where
    H: Fn(&Seen) -> (u16, String) + Send + Sync + 'static,
{
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![pki.leaf_der.clone()], pki.leaf_key.clone_key())
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let sni = tls.get_ref().1.server_name().unwrap_or("-").to_owned();
                let service = hyper::service::service_fn(move |request| {
                    let sni = sni.clone();
                    let handler = Arc::clone(&handler);
                    async move { Ok::<_, Infallible>(answer(sni, request, &*handler).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    address
}

async fn answer<H>(sni: String, request: Request<Incoming>, handler: &H) -> Response<Full<Bytes>>
where
    H: Fn(&Seen) -> (u16, String),
{
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let header = |headers: &HeaderMap, name| {
        headers
            .get(name)
            .map_or("-", |value| value.to_str().unwrap())
            .to_owned()
    };
    let seen = Seen {
        sni,
        method: parts.method.clone(),
        uri: parts.uri.to_string(),
        host: header(&parts.headers, HOST),
        authorization: header(&parts.headers, AUTHORIZATION),
        content_type: header(&parts.headers, CONTENT_TYPE),
        content_length: header(&parts.headers, CONTENT_LENGTH),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (status, body) = handler(&seen);
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}
