//! What the official SDKs never send (STYLE.md 4.5): malformed and oversized bodies, odd
//! query encodings, unknown api-versions, path traversal, wrong methods, garbage
//! credentials, unknown hosts, a burst of concurrent bad requests, HTTP/2. Every answer is
//! a 4xx in Azure's error shape (never a 5xx), and afterwards the server still serves.

use http::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::harness::{MANAGEMENT_SCOPE, RawClient, RawRequest, RawResponse, TestServer};

const VAULT: &str = "hostile";
const HOST: &str = "hostile.vault.localhost";
const SECRET_VALUE: &str = "kept";

/// One line per response: status, `error.code` (or the AAD `error` string), and the start
/// of the message with the port and any trace id masked.
fn render(label: &str, port: u16, response: &RawResponse) -> String {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let code = body["error"]["code"]
        .as_str()
        .or_else(|| body["error"].as_str())
        .unwrap_or("-");
    let message = body["error"]["message"]
        .as_str()
        .or_else(|| body["error_description"].as_str())
        .map(|m| {
            let m = m.split("\r\nTrace ID:").next().unwrap_or(m);
            let short: String = m
                .replace(&port.to_string(), "PORT")
                .chars()
                .take(110)
                .collect();
            format!(" {short:?}")
        })
        .unwrap_or_default();
    format!("{label}: {} {code}{message}\n", response.status.as_u16())
}

/// Asserts a response is no 5xx and that an error is JSON with a code.
#[track_caller]
fn assert_sane(label: &str, response: &RawResponse) {
    assert!(
        !response.status.is_server_error(),
        "{label}: server error {response}"
    );
    if response.status.is_client_error() {
        let body: Value = serde_json::from_slice(&response.body)
            .unwrap_or_else(|err| panic!("{label}: error body is not JSON ({err}): {response}"));
        let azure = body["error"]["code"].is_string() && body["error"]["message"].is_string();
        let aad = body["error"].is_string();
        assert!(azure || aad, "{label}: not an error body: {response}");
    }
}

fn cases(
    client: &RawClient,
    server: &TestServer,
    token: &str,
    management_token: &str,
) -> Vec<(&'static str, RawRequest)> {
    let vault = |method: &str, path: &str| client.request(method, HOST, path).bearer(token);
    let put = |body: Vec<u8>| {
        vault("PUT", "/secrets/s-new?api-version=7.4")
            .header("content-type", "application/json")
            .body(body)
    };
    let mut thirty_mb = br#"{"value":""#.to_vec();
    thirty_mb.resize(30 * 1024 * 1024, b'a');
    thirty_mb.extend_from_slice(br#""}"#);
    let long_name = "a".repeat(10_000);
    vec![
        ("PUT malformed JSON", put(br#"{"value":"#.to_vec())),
        ("PUT JSON array", put(b"[1,2]".to_vec())),
        ("PUT value is a number", put(br#"{"value":5}"#.to_vec())),
        ("PUT empty body", put(Vec::new())),
        ("PUT invalid UTF-8", put(b"{\"value\":\"\xff\xfe\"}".to_vec())),
        ("PUT 30 MB body over HTTP/2", put(thirty_mb).http2()),
        (
            "PUT 30 MB declared, 1 MiB + 1 sent",
            vault("PUT", "/secrets/s-new?api-version=7.4")
                .header("content-type", "application/json")
                .stalled_body(vec![b'a'; 1024 * 1024 + 1], 30 * 1024 * 1024),
        ),
        (
            "PUT api%2Dversion=7.4",
            vault("PUT", "/secrets/s-encoded?api%2Dversion=7.4")
                .json(&json!({"value": "encoded query name"})),
        ),
        (
            "PUT text/plain body",
            vault("PUT", "/secrets/s-plain?api-version=7.4")
                .header("content-type", "text/plain")
                .body(r#"{"value":"plain"}"#),
        ),
        ("GET unknown api-version", vault("GET", "/secrets/s?api-version=1999-01-01")),
        ("GET empty api-version", vault("GET", "/secrets/s?api-version=")),
        ("GET no api-version", vault("GET", "/secrets/s")),
        (
            "GET ../../etc/passwd",
            vault("GET", "/secrets/../../etc/passwd?api-version=7.4"),
        ),
        ("GET %2e%2e/x", vault("GET", "/secrets/%2e%2e/x?api-version=7.4")),
        ("GET encoded slash", vault("GET", "/secrets/a%2Fb?api-version=7.4")),
        ("GET NUL in name", vault("GET", "/secrets/a%00b?api-version=7.4")),
        ("GET underscore in name", vault("GET", "/secrets/a_b?api-version=7.4")),
        (
            "GET 10 000-char name",
            vault("GET", &format!("/secrets/{long_name}?api-version=7.4")),
        ),
        ("GET maxresults=abc", vault("GET", "/secrets?api-version=7.4&maxresults=abc")),
        ("GET maxresults=0", vault("GET", "/secrets?api-version=7.4&maxresults=0")),
        ("GET bad $skiptoken", vault("GET", "/secrets?api-version=7.4&$skiptoken=!!")),
        ("GET unknown route", vault("GET", "/nope?api-version=7.4")),
        ("DELETE /secrets", vault("DELETE", "/secrets?api-version=7.4")),
        ("BREW /secrets/s", vault("BREW", "/secrets/s?api-version=7.4")),
        (
            "Authorization: garbage",
            client
                .request("GET", HOST, "/secrets/s?api-version=7.4")
                .header("authorization", "garbage"),
        ),
        (
            "Authorization: Bearer not.a.jwt",
            client
                .request("GET", HOST, "/secrets/s?api-version=7.4")
                .bearer("not.a.jwt"),
        ),
        (
            "Authorization: Basic",
            client
                .request("GET", HOST, "/secrets/s?api-version=7.4")
                .header("authorization", "Basic dXNlcjpwYXNz"),
        ),
        (
            "management token on a vault",
            client
                .request("GET", HOST, "/secrets/s?api-version=7.4")
                .bearer(management_token),
        ),
        (
            "unknown vault host",
            client
                .request("GET", "nosuchvault.vault.localhost", "/secrets?api-version=7.4")
                .bearer(token),
        ),
        (
            "Host in upper case",
            vault("GET", "/secrets/s?api-version=7.4")
                .authority(&format!("HOSTILE.VAULT.LOCALHOST:{}", server.port)),
        ),
        (
            "Host: [ (not a host name)",
            vault("GET", "/secrets/s?api-version=7.4").authority("["),
        ),
        (
            "Host names another vault than SNI",
            vault("GET", "/secrets/s?api-version=7.4")
                .authority(&format!("nosuchvault.vault.localhost:{}", server.port)),
        ),
        (
            "token endpoint, invalid UTF-8 form",
            client
                .request("POST", "localhost", &format!("/{}/oauth2/v2.0/token", server.tenant_id))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b"grant_type=\xff\xfe".to_vec()),
        ),
        (
            "management without a token",
            client.request(
                "GET",
                "localhost",
                &format!(
                    "/subscriptions/{}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01",
                    server.subscription_id
                ),
            ),
        ),
        (
            "management, malformed JSON",
            client
                .request(
                    "PUT",
                    "localhost",
                    &format!(
                        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/other?api-version=2023-07-01",
                        server.subscription_id
                    ),
                )
                .bearer(management_token)
                .header("content-type", "application/json")
                .body("{\"location\":"),
        ),
        ("service host, unknown path", client.request("GET", "localhost", "/a/b/c/d")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_4xx_and_the_server_keeps_serving() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    let token = server.vault_token().await;
    let management_token = server.admin_token(MANAGEMENT_SCOPE).await;
    let client = server.client();
    let created = client
        .request("PUT", HOST, "/secrets/s?api-version=7.4")
        .bearer(&token)
        .json(&json!({"value": SECRET_VALUE}))
        .send()
        .await
        .expect("set secret s");
    assert_eq!(created.status, StatusCode::OK, "{created}");

    let challenge = format!(
        r#"Bearer authorization="https://localhost:{port}/{tenant}", resource="https://vault.localhost:{port}""#,
        port = server.port,
        tenant = server.tenant_id
    );
    let mut table = String::new();
    for (label, request) in cases(&client, &server, &token, &management_token) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("{label}: {err}\nstderr:\n{}", server.stderr()));
        assert_sane(label, &response);
        table.push_str(&render(label, server.port, &response));
        if response.status == StatusCode::UNAUTHORIZED && label != "management without a token" {
            assert_eq!(
                response.header("www-authenticate"),
                Some(challenge.as_str()),
                "{label}: challenge"
            );
        }
        if label == "DELETE /secrets" {
            assert_eq!(
                response.text(),
                r#"{"error":{"code":"MethodNotAllowed","message":"HTTP DELETE not allowed"}}"#
            );
        }
    }
    expect_test::expect![[r#"
        PUT malformed JSON: 400 BadParameter "The request body is not valid JSON."
        PUT JSON array: 400 BadParameter "Property  has invalid value\r\n"
        PUT value is a number: 400 BadParameter "Property value has invalid value\r\n"
        PUT empty body: 400 BadParameter "The request body is not valid JSON."
        PUT invalid UTF-8: 400 BadParameter "The request body is not valid UTF-8."
        PUT 30 MB body over HTTP/2: 413 RequestEntityTooLarge "The request body is larger than the service accepts."
        PUT 30 MB declared, 1 MiB + 1 sent: 413 RequestEntityTooLarge "The request body is larger than the service accepts."
        PUT api%2Dversion=7.4: 200 -
        PUT text/plain body: 200 -
        GET unknown api-version: 400 BadParameter "The specified version (1999-01-01) is not recognized. Consider using the latest supported version (2026-04-01)"
        GET empty api-version: 400 BadParameter "The specified version () is not recognized. Consider using the latest supported version (2026-04-01)."
        GET no api-version: 400 BadParameter "The specified version () is not recognized. Consider using the latest supported version (2026-04-01)."
        GET ../../etc/passwd: 404 NotFound "The requested path was not found."
        GET %2e%2e/x: 400 BadParameter "The request URI contains an invalid name: .."
        GET encoded slash: 400 BadParameter "The request URI contains an invalid name: a/b"
        GET NUL in name: 400 BadParameter "The request URI contains an invalid name: a\0b"
        GET underscore in name: 400 BadParameter "The request URI contains an invalid name: a_b"
        GET 10 000-char name: 400 BadParameter "The request URI contains an invalid name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        GET maxresults=abc: 400 BadParameter "Invalid maxresults value: abc. The value must be between 1 and 25."
        GET maxresults=0: 400 BadParameter "Invalid maxresults value: 0. The value must be between 1 and 25."
        GET bad $skiptoken: 400 BadParameter "The $skiptoken is invalid."
        GET unknown route: 404 NotFound "The requested path was not found."
        DELETE /secrets: 405 MethodNotAllowed "HTTP DELETE not allowed"
        BREW /secrets/s: 405 MethodNotAllowed "HTTP BREW not allowed"
        Authorization: garbage: 401 Unauthorized "AKV10000: Request is missing a Bearer or PoP token."
        Authorization: Bearer not.a.jwt: 401 Unauthorized "AKV10000: Request is missing a Bearer or PoP token."
        Authorization: Basic: 401 Unauthorized "AKV10000: Request is missing a Bearer or PoP token."
        management token on a vault: 401 Unauthorized "AKV10022: Invalid audience. Expected https://vault.localhost:PORT or https://vault.localhost or https://vault."
        unknown vault host: 404 VaultNotFound "The vault 'nosuchvault' does not exist in this Strongroom deployment."
        Host in upper case: 200 -
        Host: [ (not a host name): 400 BadRequest "The request's Host header does not name a host."
        Host names another vault than SNI: 404 VaultNotFound "The vault 'nosuchvault' does not exist in this Strongroom deployment."
        token endpoint, invalid UTF-8 form: 400 unsupported_grant_type "AADSTS70003: The app requested an unsupported grant type '��'."
        management without a token: 401 InvalidAuthenticationToken "The access token is missing or invalid."
        management, malformed JSON: 400 BadParameter "The request body is not valid JSON."
        service host, unknown path: 404 NotFound "The requested path was not found."
    "#]].assert_eq(&table);

    oversized_body_over_http1(&client, &token).await;
    concurrent_malformed_requests(&client, &token).await;
    http2_works(&client, &token).await;
    still_serving(&server, &client, &token).await;
}

/// The whole 30 MB over HTTP/1.1. The server answers 413 after 1 MiB and closes the
/// connection with the rest unread, so the kernel resets it and the client often sees a
/// write error instead of the 413 (curl does too, with and without `Expect: 100-continue`).
/// FIXME: once the server rejects on `Content-Length` before reading (no `100 Continue`)
/// and closes gracefully, require the 413 here.
async fn oversized_body_over_http1(client: &RawClient, token: &str) {
    let mut body = br#"{"value":""#.to_vec();
    body.resize(30 * 1024 * 1024, b'a');
    body.extend_from_slice(br#""}"#);
    let body = bytes::Bytes::from(body);
    for attempt in 0..3 {
        let sent = client
            .request("PUT", HOST, "/secrets/s-big?api-version=7.4")
            .bearer(token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                assert_eq!(
                    response.status,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "30 MB over HTTP/1.1, attempt {attempt}: {response}"
                );
                assert_eq!(response.azure_error().0, "RequestEntityTooLarge");
            }
            Err(err) => assert!(
                err.contains("error writing a body to connection")
                    || err.contains("connection reset")
                    || err.contains("broken pipe"),
                "30 MB over HTTP/1.1, attempt {attempt}: {err}"
            ),
        }
    }
}

/// A burst of bad requests at once, on separate connections.
async fn concurrent_malformed_requests(client: &RawClient, token: &str) {
    let mut tasks = JoinSet::new();
    for n in 0..120usize {
        let request = match n % 4 {
            0 => client
                .request("PUT", HOST, &format!("/secrets/c-{n}?api-version=7.4"))
                .bearer(token)
                .header("content-type", "application/json")
                .body(format!("{{\"value\":{n}")),
            1 => client
                .request("GET", HOST, &format!("/secrets/c-{n}?api-version=0.{n}"))
                .bearer(token),
            2 => client
                .request(
                    "PATCH",
                    HOST,
                    &format!("/secrets/c-{n}/zzz?api-version=7.4"),
                )
                .header("authorization", format!("Bearer {n}")),
            _ => client
                .request("DELETE", HOST, "/secrets?api-version=7.4")
                .bearer(token)
                .body(vec![0xffu8; n]),
        };
        tasks.spawn(async move { (n, request.send().await) });
    }
    while let Some(joined) = tasks.join_next().await {
        let (n, sent) = joined.expect("request task");
        let response = sent.unwrap_or_else(|err| panic!("concurrent request {n}: {err}"));
        let label = format!("concurrent request {n}");
        assert_sane(&label, &response);
        assert!(response.status.is_client_error(), "{label}: {response}");
    }
}

/// ALPN `h2`: the server speaks HTTP/2, reads and rejects the same way.
async fn http2_works(client: &RawClient, token: &str) {
    let response = client
        .request("GET", HOST, "/secrets/s?api-version=7.4")
        .bearer(token)
        .http2()
        .send()
        .await
        .expect("HTTP/2 GET");
    assert_eq!(response.version, http::Version::HTTP_2);
    assert_eq!(response.status, StatusCode::OK, "{response}");
    assert_eq!(response.json()["value"], SECRET_VALUE);

    let response = client
        .request("PUT", HOST, "/secrets/s-h2?api-version=7.4")
        .bearer(token)
        .header("content-type", "application/json")
        .body("{\"value\":")
        .http2()
        .send()
        .await
        .expect("HTTP/2 PUT");
    assert_eq!(response.version, http::Version::HTTP_2);
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{response}");
    assert_eq!(response.azure_error().0, "BadParameter");
}

async fn still_serving(server: &TestServer, client: &RawClient, token: &str) {
    let health = client
        .request("GET", "localhost", "/healthz")
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status, StatusCode::OK, "healthz: {health}");
    assert_eq!(health.json(), json!({"status": "ok"}));
    let response = client
        .request("GET", HOST, "/secrets/s?api-version=7.4")
        .bearer(token)
        .send()
        .await
        .expect("normal GET");
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{response}\nstderr:\n{}",
        server.stderr()
    );
    assert_eq!(response.json()["value"], SECRET_VALUE);
}

/// CONTRACTS.md: `GET /healthz` answers 200 `{"status":"ok"}` without auth, on any host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_on_any_host_without_auth() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    let client = server.client();
    for host in [
        "localhost",
        "127.0.0.1",
        HOST,
        "nosuchvault.vault.localhost",
    ] {
        for http2 in [false, true] {
            let mut request = client.request("GET", host, "/healthz");
            if http2 {
                request = request.http2();
            }
            let health = request.send().await.expect("healthz");
            assert_eq!(
                (health.status, health.text()),
                (StatusCode::OK, r#"{"status":"ok"}"#.to_owned()),
                "healthz on {host} (h2: {http2})"
            );
        }
    }
}

/// A request refused before its body is needed (a bad name, an unknown api-version, no
/// token, a missing object, a wrong method) gets its 4xx over HTTP/1.1, not a reset: the
/// server reads what it left unread (up to 1 MiB) before answering, so it does not close on
/// bytes still arriving (strongroom-api `unread_body.rs`; found by the OpenAPI fuzz, where
/// even a 13-byte body was sometimes reset).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_refusals_of_requests_with_a_body_are_answered_not_reset() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    let token = server.vault_token().await;
    let client = server.client();
    let mut body = br#"{"value":""#.to_vec();
    body.resize(512 * 1024, b'a');
    body.extend_from_slice(br#""}"#);
    let body = bytes::Bytes::from(body);
    let cases = [
        ("PUT", "/secrets/%C2%BB?api-version=7.4", true, 400),
        ("PUT", "/secrets/s-early?api-version=1999-01-01", true, 400),
        ("PUT", "/secrets/s-early?api-version=7.4", false, 401),
        ("DELETE", "/secrets/nosuch?api-version=7.4", true, 404),
        ("POST", "/secrets/s-early?api-version=7.4", true, 405),
        ("GET", "/secrets/restore?api-version=7.4", true, 404),
    ];
    for (method, path, authenticated, status) in cases {
        for attempt in 0..3 {
            let mut request = client
                .request(method, HOST, path)
                .header("content-type", "application/json")
                .body(body.clone());
            if authenticated {
                request = request.bearer(&token);
            }
            let response = request.send().await.unwrap_or_else(|err| {
                panic!("{method} {path} with a 512 KiB body, attempt {attempt}: {err}")
            });
            assert_eq!(
                response.status.as_u16(),
                status,
                "{method} {path}, attempt {attempt}: {response}"
            );
            assert_sane(path, &response);
        }
    }
    still_serving_after_early_refusals(&client, &token).await;
}

async fn still_serving_after_early_refusals(client: &RawClient, token: &str) {
    let response = client
        .request("PUT", HOST, "/secrets/s-early?api-version=7.4")
        .bearer(token)
        .json(&json!({"value": "after"}))
        .send()
        .await
        .expect("a normal PUT");
    assert_eq!(response.status, StatusCode::OK, "{response}");
}
