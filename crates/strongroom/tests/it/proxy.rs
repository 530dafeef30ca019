//! Transparent mode's proxy protocol on the raw wire (CONTRACTS.md "Managed identities and
//! transparent mode"): the listener answers plain HTTP as a proxy, refuses hosts it does not
//! serve, demands proxy credentials for IMDS, and terminates `CONNECT` tunnels for Azure's
//! names with a leaf that our CA minted for exactly that name.

use crate::harness::TestServer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const IMDS_REQUEST_TARGET: &str = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net";
const TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP/1.1 response: status, lower-cased headers, body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body))
        })
    }
}

/// Writes `request` and reads one response (headers, then `Content-Length` bytes).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, request: &str) -> Reply {
    let read = async {
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        let header_end = loop {
            if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "connection closed before the response headers");
            data.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
        let mut body = data[header_end + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {head:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse::<usize>().expect("content-length"));
        while body.len() < length {
            let n = stream.read(&mut buf).await.expect("read body");
            assert!(n > 0, "connection closed inside the body");
            body.extend_from_slice(&buf[..n]);
        }
        Reply {
            status,
            headers,
            body,
        }
    };
    tokio::time::timeout(TIMEOUT, read)
        .await
        .expect("the proxy answered in time")
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connecting to the listener")
}

/// `Proxy-Authorization: Basic` for `user:password` (standard base64, padded).
fn basic(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut encoded = String::new();
    for chunk in input.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                encoded.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    format!("Basic {encoded}")
}

fn admin_proxy_credentials(server: &TestServer) -> (String, String) {
    let admin = server.admin_credential();
    (
        admin["clientId"].as_str().expect("clientId").to_owned(),
        admin["clientSecret"]
            .as_str()
            .expect("clientSecret")
            .to_owned(),
    )
}

fn tls_connector(server: &TestServer) -> TlsConnector {
    let pem = std::fs::read(server.data_dir().join("ca.pem")).expect("reading ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        roots.add(certificate.expect("PEM")).expect("trust anchor");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

/// `CONNECT host:443` (loopback listener: no proxy credentials needed), answered 200.
async fn open_tunnel(server: &TestServer, host: &str) -> TcpStream {
    let mut stream = connect(server).await;
    let reply = exchange(
        &mut stream,
        &format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n"),
    )
    .await;
    assert_eq!(reply.status, 200, "CONNECT {host}:443");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_we_do_not_serve_are_refused() {
    let server = TestServer::start();
    for request in [
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT vault.azure.net.example.com:443 HTTP/1.1\r\nHost: vault.azure.net.example.com:443\r\n\r\n",
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
    ] {
        let reply = exchange(&mut connect(&server).await, request).await;
        assert_eq!(reply.status, 403, "{request}");
        assert!(
            String::from_utf8_lossy(&reply.body).contains("not an open proxy"),
            "{request}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imds_needs_proxy_credentials_and_answers_for_their_identity() {
    let server = TestServer::start();
    let (client_id, secret) = admin_proxy_credentials(&server);
    let imds = |credentials: Option<String>| {
        let auth = credentials
            .map(|c| format!("Proxy-Authorization: {c}\r\n"))
            .unwrap_or_default();
        format!(
            "GET {IMDS_REQUEST_TARGET} HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\n{auth}\r\n"
        )
    };

    for credentials in [None, Some(basic(&client_id, "wrong-secret"))] {
        let reply = exchange(&mut connect(&server).await, &imds(credentials.clone())).await;
        assert_eq!(reply.status, 407, "credentials {credentials:?}");
        assert_eq!(
            reply.header("proxy-authenticate"),
            Some(r#"Basic realm="strongroom""#)
        );
    }

    let reply = exchange(
        &mut connect(&server).await,
        &imds(Some(basic(&client_id, &secret))),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert_eq!(body["client_id"], client_id.as_str());
    assert_eq!(body["resource"], "https://vault.azure.net");
    assert!(body["expires_in"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imds_through_the_proxy_refuses_forwarded_requests_as_azure_imds_does() {
    let server = TestServer::start();
    let (client_id, secret) = admin_proxy_credentials(&server);
    let credentials = basic(&client_id, &secret);
    for forwarding in ["X-Forwarded-For: 10.0.0.7", "Forwarded: for=10.0.0.7"] {
        let request = format!(
            "GET {IMDS_REQUEST_TARGET} HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nProxy-Authorization: {credentials}\r\n{forwarding}\r\n\r\n"
        );
        let reply = exchange(&mut connect(&server).await, &request).await;
        assert_eq!(reply.status, 400, "{forwarding}");
        let body = String::from_utf8_lossy(&reply.body);
        assert!(body.contains("X-Forwarded-For"), "{body}");
        assert!(!body.contains("access_token"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tunnel_to_an_azure_vault_name_gets_a_leaf_for_that_name_from_our_ca() {
    let server = TestServer::start();
    let connector = tls_connector(&server);

    // The client trusts only ca.pem and checks the name: the handshake proves both.
    let tunnel = open_tunnel(&server, "x.vault.azure.net").await;
    let name = ServerName::try_from("x.vault.azure.net").expect("DNS name");
    let mut tls = tokio::time::timeout(TIMEOUT, connector.connect(name, tunnel))
        .await
        .expect("handshake in time")
        .expect("a certificate for x.vault.azure.net signed by our CA");
    let reply = exchange(
        &mut tls,
        "GET /secrets/s?api-version=7.4 HTTP/1.1\r\nHost: x.vault.azure.net\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate").map(str::to_owned),
        Some(format!(
            r#"Bearer authorization="https://login.microsoftonline.com/{}", resource="https://vault.azure.net""#,
            server.tenant_id
        ))
    );

    // Inside a tunnel, a name we do not serve gets no certificate at all.
    let tunnel = open_tunnel(&server, "x.vault.azure.net").await;
    let other = ServerName::try_from("example.com").expect("DNS name");
    let refused = tokio::time::timeout(TIMEOUT, connector.connect(other, tunnel))
        .await
        .expect("handshake in time");
    assert!(refused.is_err(), "example.com got a certificate");
}

/// `--proxy-passthrough` relays exactly the listed destinations; without it they are refused.
/// The destination is a local echo server (the only kind of "real host" a test may reach).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_relays_only_what_the_operator_listed() {
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the echo server");
    let echo_port = echo.local_addr().expect("echo address").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    });
    let connect_request =
        format!("CONNECT 127.0.0.1:{echo_port} HTTP/1.1\r\nHost: 127.0.0.1:{echo_port}\r\n\r\n");

    let refusing = TestServer::start();
    let reply = exchange(&mut connect(&refusing).await, &connect_request).await;
    assert_eq!(reply.status, 403, "not listed, so not relayed");

    let other_port = echo_port.wrapping_add(1);
    let relaying = TestServer::start_with(&[
        "--proxy-passthrough",
        &format!("127.0.0.1:{echo_port},example.invalid"),
    ]);
    let reply = exchange(
        &mut connect(&relaying).await,
        &format!("CONNECT 127.0.0.1:{other_port} HTTP/1.1\r\nHost: 127.0.0.1:{other_port}\r\n\r\n"),
    )
    .await;
    assert_eq!(
        reply.status, 403,
        "another port of a listed host is not listed"
    );

    let mut tunnel = connect(&relaying).await;
    let reply = exchange(&mut tunnel, &connect_request).await;
    assert_eq!(reply.status, 200, "listed destination");
    let relayed = async {
        tunnel
            .write_all(b"ping through the tunnel")
            .await
            .expect("write");
        let mut echoed = vec![0u8; b"ping through the tunnel".len()];
        tunnel.read_exact(&mut echoed).await.expect("read echo");
        echoed
    };
    let echoed = tokio::time::timeout(TIMEOUT, relayed)
        .await
        .expect("the relay answered in time");
    assert_eq!(echoed, b"ping through the tunnel");
}

/// A passthrough entry without a port means 443 only, and a relayed tunnel with no byte in
/// either direction for the idle timeout is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_ports_are_explicit_and_idle_relays_close() {
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the echo server");
    let echo_port = echo.local_addr().expect("echo address").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    });
    let server = TestServer::start_with(&[
        "--proxy-passthrough",
        &format!("127.0.0.1,127.0.0.1:{echo_port}"),
        "--idle-timeout",
        "2s",
    ]);
    let other_port = echo_port.wrapping_add(1);
    let reply = exchange(
        &mut connect(&server).await,
        &format!("CONNECT 127.0.0.1:{other_port} HTTP/1.1\r\nHost: 127.0.0.1:{other_port}\r\n\r\n"),
    )
    .await;
    assert_eq!(
        reply.status, 403,
        "a host listed without a port is 443 only"
    );

    let mut tunnel = connect(&server).await;
    let connect_request =
        format!("CONNECT 127.0.0.1:{echo_port} HTTP/1.1\r\nHost: 127.0.0.1:{echo_port}\r\n\r\n");
    assert_eq!(exchange(&mut tunnel, &connect_request).await.status, 200);
    tunnel.write_all(b"ping").await.expect("write");
    let mut echoed = [0u8; 4];
    tokio::time::timeout(TIMEOUT, tunnel.read_exact(&mut echoed))
        .await
        .expect("echo in time")
        .expect("echo");
    let quiet_since = std::time::Instant::now();
    let mut rest = [0u8; 1];
    let end = tokio::time::timeout(Duration::from_secs(8), tunnel.read(&mut rest)).await;
    let quiet_for = quiet_since.elapsed();
    assert!(
        matches!(end, Ok(Ok(0) | Err(_))),
        "the idle relay was not closed within 8 s: {end:?}"
    );
    assert!(
        quiet_for >= Duration::from_millis(1500),
        "the relay closed after {quiet_for:?}, before the 2 s idle timeout"
    );
}

/// Off loopback, proxy credentials in clear text are refused (with a message that says why),
/// while the same listener used as an `https://` proxy accepts them inside TLS: a `CONNECT`
/// and IMDS, and the tunnel's own TLS runs inside the proxy's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_proxy_credentials_are_accepted_only_inside_tls() {
    let server = TestServer::start_configured(
        crate::harness::ServeOptions {
            listen: "0.0.0.0:0".to_owned(),
            ..Default::default()
        },
        &[],
    );
    let (client_id, secret) = admin_proxy_credentials(&server);
    let credentials = basic(&client_id, &secret);
    let connect_request = format!(
        "CONNECT x.vault.azure.net:443 HTTP/1.1\r\nHost: x.vault.azure.net:443\r\nProxy-Authorization: {credentials}\r\n\r\n"
    );

    let reply = exchange(&mut connect(&server).await, &connect_request).await;
    assert_eq!(reply.status, 403, "clear-text credentials off loopback");
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        text.contains("clear text") && text.contains("https://"),
        "the refusal says why and what to do: {text}"
    );
    let imds = format!(
        "GET {IMDS_REQUEST_TARGET} HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nProxy-Authorization: {credentials}\r\n\r\n"
    );
    let reply = exchange(&mut connect(&server).await, &imds).await;
    assert_eq!(
        reply.status, 403,
        "clear-text IMDS credentials off loopback"
    );

    // The same requests inside TLS to the listener (an https:// proxy).
    let connector = tls_connector(&server);
    let proxy_name = ServerName::try_from("localhost").expect("DNS name");
    let mut outer = connector
        .connect(proxy_name.clone(), connect(&server).await)
        .await
        .expect("TLS to the proxy");
    let reply = exchange(&mut outer, &connect_request).await;
    assert_eq!(reply.status, 200, "CONNECT inside TLS");
    let vault = ServerName::try_from("x.vault.azure.net").expect("DNS name");
    let inner = tokio::time::timeout(TIMEOUT, connector.connect(vault, outer))
        .await
        .expect("the tunnel's handshake in time")
        .expect("TLS inside the proxy's TLS, with a leaf our CA minted");
    let (_, session) = inner.get_ref();
    assert!(session.peer_certificates().is_some_and(|c| !c.is_empty()));

    let mut outer = connector
        .connect(proxy_name, connect(&server).await)
        .await
        .expect("TLS to the proxy");
    let reply = exchange(&mut outer, &imds).await;
    assert_eq!(
        reply.status,
        200,
        "IMDS inside TLS: {}",
        String::from_utf8_lossy(&reply.body)
    );
}

/// Guessing proxy credentials is throttled like guessing at the token endpoint: after ten
/// wrong secrets for one client id, even the right one is refused until the lockout passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessed_proxy_credentials_lock_the_client_id() {
    let server = TestServer::start();
    let management = server.admin_token(crate::harness::MANAGEMENT_SCOPE).await;
    let (client_id, secret) = admin_proxy_credentials(&server);
    let connect_with = |password: &str| {
        format!(
            "CONNECT x.vault.azure.net:443 HTTP/1.1\r\nHost: x.vault.azure.net:443\r\nProxy-Authorization: {}\r\n\r\n",
            basic(&client_id, password)
        )
    };
    assert_eq!(
        exchange(&mut connect(&server).await, &connect_with(&secret))
            .await
            .status,
        200,
        "the right secret before any guess"
    );
    for guess in 0..10 {
        let reply = exchange(
            &mut connect(&server).await,
            &connect_with(&format!("guess-{guess}")),
        )
        .await;
        assert_eq!(reply.status, 407, "guess {guess}");
    }
    let reply = exchange(&mut connect(&server).await, &connect_with(&secret)).await;
    assert_eq!(
        reply.status, 407,
        "locked: even the right secret is refused"
    );

    // The lockout ends with its window (moved by the dev clock).
    let advanced = server
        .client()
        .request(
            "POST",
            "localhost",
            "/strongroom/dev/clock?advanceSeconds=61",
        )
        .bearer(&management)
        .send()
        .await
        .expect("advancing the clock");
    assert_eq!(advanced.status, http::StatusCode::OK, "{advanced}");
    let reply = exchange(&mut connect(&server).await, &connect_with(&secret)).await;
    assert_eq!(reply.status, 200, "after the lockout window");
}
