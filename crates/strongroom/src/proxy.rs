//! Transparent mode: the listener's plain-HTTP side, an HTTP/1.1 proxy that serves Azure's
//! names itself (CONTRACTS.md "Managed identities and transparent mode").
//!
//! - `CONNECT host:port` for a name `strongroom_api::intercepts` accepts: `200`, then TLS is
//!   terminated in the tunnel with a leaf minted for that name (`tls::MintingResolver`) and the
//!   same application serves the inner connection. Nothing is ever forwarded anywhere.
//! - Absolute-form `GET http://169.254.169.254/metadata/identity/oauth2/token…`: IMDS, for the
//!   identity in the proxy credentials (attached as a `ProxyIdentity` extension). A request
//!   with `X-Forwarded-For` or `Forwarded` gets `400`, as Azure IMDS and the agent answer it.
//! - `CONNECT` to a destination the operator listed in `--proxy-passthrough`: relayed to the
//!   real host, byte for byte.
//! - Anything else: `403` (never an open proxy).
//!
//! Proxy credentials (`Proxy-Authorization: Basic`, clientId:secret) are required for IMDS
//! always and for `CONNECT` unless the listener is loopback-only; missing or wrong: `407`.

use crate::server::{ConnectionGuard, serve_app};
use crate::transport::Connection;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use strongroom_api::{AppState, ProxyIdentity, authenticate_proxy, intercepts};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// What the proxy side of the listener needs; one per server.
pub(crate) struct Proxy {
    pub(crate) state: Arc<AppState>,
    pub(crate) app: strongroom_api::Api,
    /// TLS inside tunnels: certificates chosen by SNI, minted on demand.
    pub(crate) tunnel_tls: TlsAcceptor,
    /// Whether `CONNECT` needs proxy credentials (the listener is not loopback-only).
    pub(crate) credentials_required: bool,
    /// Names the operator allowed to be relayed (`--proxy-passthrough`); empty by default.
    pub(crate) passthrough: Passthrough,
}

/// The operator's explicit list of `CONNECT` destinations that are relayed, byte for byte, to
/// the real host. Entries are `host:port`, or `host` for port 443 only; hosts compare
/// case-insensitively.
#[derive(Debug, Default)]
pub(crate) struct Passthrough {
    entries: Vec<(String, u16)>,
}

/// The port a passthrough entry without one means: TLS, which is all a tunnel should carry.
const DEFAULT_PASSTHROUGH_PORT: u16 = 443;

impl Passthrough {
    pub(crate) fn new(entries: &[String]) -> Self {
        let entries = entries
            .iter()
            .map(|entry| entry.trim().to_ascii_lowercase())
            .filter(|entry| !entry.is_empty())
            .map(|entry| match entry.rsplit_once(':') {
                Some((host, port)) if port.parse::<u16>().is_ok() => (
                    host.to_owned(),
                    port.parse::<u16>().unwrap_or(DEFAULT_PASSTHROUGH_PORT),
                ),
                _ => (entry, DEFAULT_PASSTHROUGH_PORT),
            })
            .collect();
        Self { entries }
    }

    fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.entries
            .iter()
            .any(|(allowed, allowed_port)| *allowed == host && *allowed_port == port)
    }
}

/// Serves one plain-HTTP connection (its first byte was not a TLS handshake), HTTP/1.1 only,
/// under the listener's limits.
pub(crate) async fn serve_connection(
    proxy: Arc<Proxy>,
    stream: TcpStream,
    peer: SocketAddr,
    guard: ConnectionGuard,
    connection: Connection,
) {
    let connection = Arc::new(connection);
    let close = guard.close.clone();
    let tunnel_slot = connection.clone();
    let service = tower::service_fn(move |request: Request<Incoming>| {
        let proxy = proxy.clone();
        let guard = guard.clone();
        let slot = tunnel_slot.clone();
        async move {
            let response = handle(proxy, request, peer, guard, slot, Transport::ClearText).await;
            Ok::<_, Infallible>(response)
        }
    });
    crate::transport::serve_http_1(stream, service, connection, close, peer).await;
}

/// Serves one TLS connection from a client that may use this listener as an `https://` proxy
/// (Python, Node and Go clients support one): `CONNECT` and absolute-form requests go to the
/// proxy, with credentials protected by the TLS; everything else is the application.
pub(crate) async fn serve_tls_connection<S>(
    proxy: Arc<Proxy>,
    stream: tokio_rustls::server::TlsStream<S>,
    peer: SocketAddr,
    guard: ConnectionGuard,
    connection: Connection,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let connection = Arc::new(connection);
    let close = guard.close.clone();
    // hyper clones the service for every request: one `Arc` makes that one increment.
    let shared = Arc::new(TlsConnection {
        app: proxy.app.clone(),
        proxy,
        guard,
        slot: connection.clone(),
        peer,
    });
    let service = tower::service_fn(move |request: Request<Incoming>| {
        let shared = shared.clone();
        async move {
            let response = if is_proxy_request(&request) {
                handle(
                    shared.proxy.clone(),
                    request,
                    shared.peer,
                    shared.guard.clone(),
                    shared.slot.clone(),
                    Transport::Tls,
                )
                .await
            } else {
                let mut app = shared.app.clone();
                match tower::Service::call(&mut app, request.map(Body::new)).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            };
            Ok::<_, Infallible>(response)
        }
    });
    crate::transport::serve_http(stream, service, connection, close, peer, http2).await;
}

/// What every request on one TLS connection may need.
struct TlsConnection {
    proxy: Arc<Proxy>,
    app: strongroom_api::Api,
    guard: ConnectionGuard,
    slot: Arc<Connection>,
    peer: SocketAddr,
}

/// A request for the proxy rather than the application: `CONNECT`, or an absolute-form URI
/// (`GET http://169.254.169.254/…`).
fn is_proxy_request(request: &Request<Incoming>) -> bool {
    request.method() == Method::CONNECT
        || (request.version() < hyper::Version::HTTP_2 && request.uri().scheme().is_some())
}

/// How the proxy request reached us: proxy credentials are accepted in clear text only on a
/// loopback listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    ClearText,
    Tls,
}

async fn handle(
    proxy: Arc<Proxy>,
    request: Request<Incoming>,
    peer: SocketAddr,
    guard: ConnectionGuard,
    slot: Arc<Connection>,
    transport: Transport,
) -> Response<Body> {
    let method = request.method().clone();
    // Host and port only: an authority may carry userinfo, which is never logged.
    let target = request.uri().authority().map_or_else(
        || request.uri().path().to_owned(),
        |a| match a.port_u16() {
            Some(port) => format!("{}:{port}", a.host()),
            None => a.host().to_owned(),
        },
    );
    match answer(proxy, request, peer, guard, slot, transport).await {
        // The application logged it (IMDS).
        Answered::ByApp(response) => response,
        Answered::ByProxy(response) => {
            let status = response.status().as_u16();
            tracing::info!(%peer, %method, target = %target, status, "proxy request");
            response
        }
    }
}

/// Who produced a response, so that each request is logged once.
enum Answered {
    ByProxy(Response<Body>),
    ByApp(Response<Body>),
}

async fn answer(
    proxy: Arc<Proxy>,
    mut request: Request<Incoming>,
    peer: SocketAddr,
    guard: ConnectionGuard,
    slot: Arc<Connection>,
    transport: Transport,
) -> Answered {
    // Off loopback, a client secret in clear text has already crossed the network: refuse it
    // loudly (and never use it), so the misconfiguration is fixed rather than relied on.
    if proxy.credentials_required
        && transport == Transport::ClearText
        && request.headers().contains_key(header::PROXY_AUTHORIZATION)
    {
        return Answered::ByProxy(refuse(
            StatusCode::FORBIDDEN,
            "strongroom proxy: proxy credentials were sent in clear text to a listener that is not on loopback, so they crossed the network readable by anyone on the path; they are refused. Use an https:// proxy URL (https://<clientId>:<secret>@host:port, which `strongroom env --proxy` prints for such a server) so the credentials travel inside TLS, and consider rotating the secret (`strongroom ad sp credential reset`).",
        ));
    }
    let identity = match authenticate_proxy(&proxy.state, request.headers()).await {
        Ok(identity) => identity,
        Err(_) => {
            return Answered::ByProxy(proxy_auth_required("the proxy credentials are not valid"));
        }
    };
    if request.method() == Method::CONNECT {
        let Some(authority) = request.uri().authority().cloned() else {
            return Answered::ByProxy(refuse(StatusCode::BAD_REQUEST, "CONNECT needs host:port"));
        };
        if identity.is_none() && proxy.credentials_required {
            return Answered::ByProxy(proxy_auth_required("proxy credentials are required"));
        }
        if !intercepts(&proxy.state.config.domain, authority.host()) {
            let port = authority.port_u16().unwrap_or(443);
            if proxy.passthrough.allows(authority.host(), port) {
                let tunnel = slot.for_tunnel();
                return Answered::ByProxy(relay(
                    request,
                    authority.host().to_owned(),
                    port,
                    peer,
                    tunnel,
                ));
            }
            return Answered::ByProxy(not_served(authority.host()));
        }
        let on_upgrade = hyper::upgrade::on(&mut request);
        let tls = proxy.tunnel_tls.clone();
        let app = proxy.app.clone();
        let tunnel = slot.for_tunnel();
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(err) => {
                    tracing::debug!(%peer, error = %err, "CONNECT upgrade failed");
                    return;
                }
            };
            let accepted = tunnel
                .before_first_request(tls.accept(TokioIo::new(upgraded)))
                .await;
            match accepted {
                Some(Ok(stream)) => serve_app(stream, app, guard, Arc::new(tunnel), peer).await,
                Some(Err(err)) => {
                    tracing::debug!(%peer, host = authority.host(), error = %err, "tunnel TLS handshake failed");
                }
                None => tracing::debug!(%peer, "tunnel TLS handshake timed out"),
            }
        });
        return Answered::ByProxy(Response::new(Body::empty()));
    }

    let is_imds =
        request.uri().authority().is_some_and(|a| {
            a.host() == strongroom_api::IMDS_HOST && a.port_u16().unwrap_or(80) == 80
        }) && request.uri().scheme_str() == Some("http");
    if !is_imds {
        return Answered::ByProxy(match request.uri().authority() {
            Some(authority) => not_served(authority.host()),
            None => refuse(
                StatusCode::BAD_REQUEST,
                "this port speaks HTTPS; plain HTTP is accepted only as proxy requests",
            ),
        });
    }
    if crate::agent::carries_forwarding(request.headers()) {
        return Answered::ByProxy(refuse(
            StatusCode::BAD_REQUEST,
            crate::agent::FORWARDED_REFUSAL,
        ));
    }
    let Some(identity) = identity else {
        return Answered::ByProxy(proxy_auth_required(
            "IMDS needs proxy credentials that name a workload identity",
        ));
    };
    request.headers_mut().remove(header::PROXY_AUTHORIZATION);
    request.extensions_mut().insert::<ProxyIdentity>(identity);
    let request = request.map(Body::new);
    match proxy.app.clone().oneshot(request).await {
        Ok(response) => Answered::ByApp(response),
        Err(never) => match never {},
    }
}

/// Answers an allowed `CONNECT` and relays the tunnel to the real host. The target is
/// connected only after the client's upgrade, so a refused connection ends the tunnel; the
/// connect is bounded by the header-read deadline and the relay ends after the idle timeout
/// with no byte in either direction.
fn relay(
    mut request: Request<Incoming>,
    host: String,
    port: u16,
    peer: SocketAddr,
    tunnel: Connection,
) -> Response<Body> {
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let limits = tunnel.limits();
        let connect = TcpStream::connect((host.as_str(), port));
        match tokio::time::timeout(limits.header_read_timeout, connect).await {
            Ok(Ok(upstream)) => {
                crate::transport::relay_until_idle(
                    TokioIo::new(upgraded),
                    upstream,
                    limits.idle_timeout,
                )
                .await;
            }
            Ok(Err(err)) => {
                tracing::info!(%peer, host = %host, port, error = %err, "passthrough connect failed");
            }
            Err(_) => {
                tracing::info!(%peer, host = %host, port, "passthrough connect timed out");
            }
        }
        drop(tunnel);
    });
    Response::new(Body::empty())
}

fn not_served(host: &str) -> Response<Body> {
    refuse(
        StatusCode::FORBIDDEN,
        &format!(
            "strongroom proxy: {host} is not served here. Strongroom intercepts only Azure Key Vault and login names (*.vault.azure.net and the other clouds' vault names, login.microsoftonline.com, ...), IMDS at 169.254.169.254 and its own domain; it is not an open proxy."
        ),
    )
}

fn proxy_auth_required(why: &str) -> Response<Body> {
    let mut response = refuse(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        &format!(
            "strongroom proxy: {why}; use http://<clientId>:<secret>@host:port from `strongroom env --proxy`"
        ),
    );
    response.headers_mut().insert(
        header::PROXY_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"strongroom\""),
    );
    response
}

fn refuse(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::Passthrough;

    #[test]
    fn passthrough_allows_only_listed_destinations() {
        let passthrough = Passthrough::new(&[
            "Example.com".to_owned(),
            "api.example.net:8443".to_owned(),
            " ".to_owned(),
        ]);
        assert!(passthrough.allows("example.com", 443));
        assert!(passthrough.allows("EXAMPLE.COM", 443));
        assert!(!passthrough.allows("example.com", 8443));
        assert!(passthrough.allows("api.example.net", 8443));
        assert!(!passthrough.allows("api.example.net", 443));
        assert!(!passthrough.allows("other.example.com", 443));
        assert!(!Passthrough::default().allows("example.com", 443));
    }
}
