//! The 401 challenge the SDKs' challenge policy parses (CONTRACTS.md "Hosts",
//! AZURE-ERRORS.md 1.1): exact header and the 97-byte body recorded from Azure, on every
//! vault host and route, over HTTP/1.1 and HTTP/2; and the same challenge once a token has
//! expired (the dev clock moved two hours).

use crate::harness::{RawResponse, TestServer};
use http::StatusCode;
use serde_json::json;

/// Azure's body for a request without a token, byte for byte (May 2022 to Mar 2025).
const MISSING_TOKEN_BODY: &str = r#"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}"#;

fn expected_challenge(server: &TestServer) -> String {
    format!(
        r#"Bearer authorization="https://localhost:{port}/{tenant}", resource="https://vault.localhost:{port}""#,
        port = server.port,
        tenant = server.tenant_id,
    )
}

#[track_caller]
fn assert_challenge(server: &TestServer, what: &str, response: &RawResponse) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {response}"
    );
    assert_eq!(
        response.header("www-authenticate"),
        Some(expected_challenge(server).as_str()),
        "{what}: WWW-Authenticate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_token_gets_the_exact_challenge() {
    let server = TestServer::start();
    assert_eq!(MISSING_TOKEN_BODY.len(), 97);
    server.cli(&["keyvault", "create", "--name", "chal"]);
    let client = server.client();
    let hosts = ["chal.vault.localhost", "absent.vault.localhost"];
    let requests = [
        ("GET", "/secrets/x?api-version=7.4"),
        ("PUT", "/secrets/x?api-version=2025-07-01"),
        ("GET", "/secrets?api-version=2026-04-01"),
        ("DELETE", "/secrets?api-version=7.4"),
        ("GET", "/no/such/route"),
        ("GET", "/secrets/x"),
    ];
    for host in hosts {
        for (method, path) in requests {
            for http2 in [false, true] {
                let what = format!("{method} {host}{path} (h2: {http2})");
                let mut request = client.request(method, host, path);
                if http2 {
                    request = request.http2();
                }
                let response = request.send().await.unwrap_or_else(|err| panic!("{err}"));
                assert_challenge(&server, &what, &response);
                assert_eq!(response.text(), MISSING_TOKEN_BODY, "{what}: body");
                assert!(
                    response
                        .header("content-type")
                        .is_some_and(|t| t.starts_with("application/json")),
                    "{what}: content-type {:?}",
                    response.header("content-type")
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_gets_the_challenge() {
    let server = TestServer::start();
    server.create_vault("chal").await;
    let client = server.client();
    let token = server.vault_token().await;
    let list = |token: String| {
        client
            .request("GET", "chal.vault.localhost", "/secrets?api-version=7.4")
            .bearer(&token)
            .send()
    };

    let before = list(token.clone()).await.expect("list secrets");
    assert_eq!(before.status, StatusCode::OK, "fresh token: {before}");

    // Tokens live 3600 s; two hours later this one has expired.
    let clock = server.advance_clock(7200).await;
    assert_eq!(
        clock["offsetSeconds"],
        json!(7200),
        "dev clock answer: {clock}"
    );

    let after = list(token).await.expect("list secrets");
    assert_challenge(&server, "expired token", &after);
    let (code, _message) = after.azure_error();
    assert_eq!(code, "Unauthorized", "expired token: {after}");

    // A token issued on the moved clock works again.
    let fresh = server.vault_token().await;
    let again = list(fresh).await.expect("list secrets");
    assert_eq!(
        again.status,
        StatusCode::OK,
        "token issued after the clock moved: {again}"
    );
}
