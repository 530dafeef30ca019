//! The web console (issue 12) as the browser meets it: `/` and `/console/…` on the service
//! host with the right media types and a strict Content-Security-Policy (computed from the
//! deployment's names) plus the hardening headers, 404 for an asset that does not exist, and
//! the vault hosts' CORS for the console's origin only: a preflight answered without a token,
//! the allowed origin echoed on answers (errors too), a foreign origin given no CORS header, a
//! request without `Origin` answered as before.

use crate::harness::{RawResponse, TestServer};
use http::StatusCode;
use serde_json::json;

fn console_origin(server: &TestServer) -> String {
    format!("https://localhost:{}", server.port)
}

#[track_caller]
fn assert_hardened(server: &TestServer, what: &str, response: &RawResponse) {
    let csp = response
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP: {response}"));
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://*.vault.localhost:{}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            server.port
        ),
        "{what}"
    );
    assert_eq!(
        response.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        response.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(response.header("x-frame-options"), Some("DENY"), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_its_policy_and_media_types() {
    let server = TestServer::start();
    let client = server.client();
    let pages = [
        (
            "/",
            "text/html; charset=utf-8",
            "<script type=\"module\" src=\"/console/app.js\">",
        ),
        (
            "/?code=abc&state=xyz",
            "text/html; charset=utf-8",
            "<main id=\"main\"",
        ),
        (
            "/console/app.js",
            "text/javascript; charset=utf-8",
            "import",
        ),
        (
            "/console/audit.js",
            "text/javascript; charset=utf-8",
            "/strongroom/audit/events",
        ),
        ("/console/console.css", "text/css; charset=utf-8", ":root"),
        ("/console/favicon.svg", "image/svg+xml", "<svg"),
        (
            "/console/config.json",
            "application/json; charset=utf-8",
            "clientId",
        ),
    ];
    for (path, content_type, contains) in pages {
        for http2 in [false, true] {
            let mut request = client.request("GET", "localhost", path);
            if http2 {
                request = request.http2();
            }
            let response = request.send().await.expect(path);
            assert_eq!(response.status, StatusCode::OK, "{path}: {response}");
            assert_eq!(
                response.header("content-type"),
                Some(content_type),
                "{path}"
            );
            assert!(response.text().contains(contains), "{path}: {response}");
            assert_hardened(&server, path, &response);
            // Nothing for another origin to read, and nothing to remember about the user.
            assert_eq!(
                response.header("access-control-allow-origin"),
                None,
                "{path}"
            );
            assert_eq!(response.header("set-cookie"), None, "{path}");
        }
    }
    let config = client
        .request("GET", "localhost", "/console/config.json")
        .send()
        .await
        .expect("config");
    let config = config.json();
    assert_eq!(config["clientId"], "3331b43c-9750-4aad-bfea-85b7bf2f071f");
    assert_eq!(config["tenantId"], json!(server.tenant_id));
    assert_eq!(
        config["vaultHostSuffix"],
        json!(format!("vault.localhost:{}", server.port))
    );

    for missing in [
        "/console/nope.js",
        "/console/",
        "/console/app.js/x",
        "/console/../admin.json",
    ] {
        let response = client
            .request("GET", "localhost", missing)
            .send()
            .await
            .expect(missing);
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{missing}: {response}"
        );
        assert_hardened(&server, missing, &response);
    }
    let head = client
        .request("HEAD", "localhost", "/console/app.js")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    let post = client
        .request("POST", "localhost", "/")
        .send()
        .await
        .expect("POST /");
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED, "{post}");

    // The identity and management routes beside it are untouched.
    let discovery = client
        .request(
            "GET",
            "localhost",
            "/organizations/v2.0/.well-known/openid-configuration",
        )
        .send()
        .await
        .expect("discovery");
    assert_eq!(discovery.status, StatusCode::OK, "{discovery}");
    assert_eq!(discovery.header("content-security-policy"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_hosts_answer_the_consoles_origin_only() {
    let server = TestServer::start();
    server.create_vault("corsvault").await;
    let allowed = console_origin(&server);
    let client = server.client();
    let host = "corsvault.vault.localhost";
    let token = server.vault_token().await;
    let set = server
        .vault_call(
            "PUT",
            "corsvault",
            "/secrets/s?api-version=7.5",
            Some(&json!({"value": "v"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");

    // The preflight: no token, answered 204 for the console's origin.
    let preflight = client
        .request("OPTIONS", host, "/secrets/s?api-version=7.5")
        .header("origin", &allowed)
        .header("access-control-request-method", "PUT")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status, StatusCode::NO_CONTENT, "{preflight}");
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(allowed.as_str())
    );
    let methods = preflight
        .header("access-control-allow-methods")
        .unwrap_or_default();
    for method in ["GET", "PUT", "POST", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = preflight
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert!(preflight.header("access-control-max-age").is_some());
    assert_eq!(preflight.header("vary"), Some("Origin"));

    // The real request: the origin echoed, the headers the app reads exposed.
    let get = client
        .request("GET", host, "/secrets/s?api-version=7.5")
        .header("origin", &allowed)
        .bearer(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(get.status, StatusCode::OK, "{get}");
    assert_eq!(get.json()["value"], "v");
    assert_eq!(
        get.header("access-control-allow-origin"),
        Some(allowed.as_str())
    );
    let exposed = get
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(
        exposed.contains("WWW-Authenticate") && exposed.contains("x-ms-request-id"),
        "{exposed}"
    );
    // An error answer carries them too, so the app can read Azure's message.
    let unauthorized = client
        .request("GET", host, "/secrets/s?api-version=7.5")
        .header("origin", &allowed)
        .send()
        .await
        .expect("GET without token");
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unauthorized.header("access-control-allow-origin"),
        Some(allowed.as_str())
    );
    assert!(unauthorized.header("www-authenticate").is_some());

    // A foreign origin: no CORS header at all, and its preflight is not answered (401 as any
    // request without a token).
    for foreign in [
        "https://evil.example",
        "https://corsvault.vault.localhost:1",
        &format!("https://evil.localhost:{}", server.port),
        &format!("http://localhost:{}", server.port),
        "null",
    ] {
        let preflight = client
            .request("OPTIONS", host, "/secrets/s?api-version=7.5")
            .header("origin", foreign)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .expect("foreign preflight");
        assert_eq!(
            preflight.status,
            StatusCode::UNAUTHORIZED,
            "{foreign}: {preflight}"
        );
        let get = client
            .request("GET", host, "/secrets/s?api-version=7.5")
            .header("origin", foreign)
            .bearer(&token)
            .send()
            .await
            .expect("foreign GET");
        assert_eq!(get.status, StatusCode::OK, "{foreign}: {get}");
        for response in [&preflight, &get] {
            for name in [
                "access-control-allow-origin",
                "access-control-allow-methods",
                "access-control-expose-headers",
                "vary",
            ] {
                assert_eq!(response.header(name), None, "{foreign}: {name}");
            }
        }
    }

    // No `Origin` (every SDK): exactly as before, no CORS header.
    let plain = client
        .request("GET", host, "/secrets/s?api-version=7.5")
        .bearer(&token)
        .send()
        .await
        .expect("plain GET");
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header("access-control-allow-origin"), None);
    assert_eq!(plain.header("vary"), None);

    // The service host is the console's own origin: no CORS there.
    let management = client
        .request("OPTIONS", "localhost", "/subscriptions")
        .header("origin", &allowed)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("service host preflight");
    assert_eq!(management.header("access-control-allow-origin"), None);
}
