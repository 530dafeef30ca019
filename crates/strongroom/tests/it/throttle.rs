//! Throttling against the real binary (issue 9).
//!
//! With `serve --throttle azure`, Azure Key Vault's published per-vault limits per 10 seconds
//! (4,000 secret and vault transactions; key transactions weighed by key type and size, 500
//! for RSA 4096 software keys; 20 key creations) are answered with Azure's 429 body and a
//! `Retry-After`, for one vault only; without the flag the same bursts all succeed. The token
//! endpoint always limits failures: ten wrong secrets lock that client id for a minute while
//! other clients (and a burst of valid requests) get their tokens; a thousand failures across
//! client ids shut out only client ids that have not authenticated lately.
//!
//! Bursts go over a few HTTP/2 connections with many streams each: 4,001 GETs take about
//! 3 s on the 2-CPU CI machine (debug build), well inside Azure's 10-second window.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

use crate::harness::{RawResponse, TestServer};

const API: &str = "api-version=7.4";
const AZURE_THROTTLED: &str = "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached";
/// Azure's window; a burst that takes longer could straddle two.
const WINDOW: Duration = Duration::from_secs(10);

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// `count` requests `make(authority, i)` to `host` over four HTTP/2 connections, sixteen
/// streams in flight on each; the answers (in no particular order) and the time taken.
async fn burst(
    server: &TestServer,
    host: &str,
    count: usize,
    make: impl Fn(&str, usize) -> Request<Full<Bytes>> + Send + Sync + 'static,
) -> (Vec<Answer>, Duration) {
    const CONNECTIONS: usize = 4;
    const STREAMS: usize = 16;
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let authority: Arc<str> = format!("{host}:{}", server.port).into();
    let mut senders = Vec::new();
    for _ in 0..CONNECTIONS {
        let tls = server.client().connect_tls(host, true).await;
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .expect("h2 handshake");
        tokio::spawn(connection);
        senders.push(sender);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for sender in &senders {
        for _ in 0..STREAMS {
            let mut sender = sender.clone();
            let (make, next, authority) = (make.clone(), next.clone(), authority.clone());
            tasks.spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= count {
                        return answers;
                    }
                    let response = sender
                        .send_request(make(&authority, i))
                        .await
                        .expect("a response");
                    let (parts, body) = response.into_parts();
                    let body = body.collect().await.expect("a body").to_bytes();
                    answers.push(Answer {
                        status: parts.status,
                        headers: parts.headers,
                        body,
                    });
                }
            });
        }
    }
    let mut answers = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        answers.extend(done.expect("a burst task"));
    }
    (answers, started.elapsed())
}

/// A vault GET with a bearer token.
fn get(token: &str, path: String) -> impl Fn(&str, usize) -> Request<Full<Bytes>> + use<> {
    let bearer = format!("Bearer {token}");
    move |authority, _| {
        Request::get(format!("https://{authority}{path}"))
            .header("authorization", &bearer)
            .body(Full::new(Bytes::new()))
            .expect("a request")
    }
}

/// How many answers have each status, as `[(status, count)]` sorted by status.
fn tally(answers: &[Answer]) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for answer in answers {
        *counts.entry(answer.status.as_u16()).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

#[track_caller]
fn assert_in_window(elapsed: Duration, what: &str) {
    assert!(
        elapsed < WINDOW,
        "{what} took {elapsed:?}: too slow for one 10-second window on this machine"
    );
}

/// Azure's 429 (AZURE-ERRORS.md 8.1) with a `Retry-After` of 1..=`max` seconds.
#[track_caller]
fn assert_throttled(response: &RawResponse, max: u64) -> u64 {
    assert_eq!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "expected a 429: {response}"
    );
    assert_eq!(
        response.json(),
        json!({"error": {"code": "Throttled", "message": AZURE_THROTTLED}}),
        "Azure's throttling body"
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let retry_after: u64 = response
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {response:?}"))
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(
        (1..=max).contains(&retry_after),
        "Retry-After {retry_after} is not within 1..={max}"
    );
    assert!(response.header("x-ms-request-id").is_some());
    retry_after
}

async fn vault_get(server: &TestServer, vault: &str, token: &str, path: &str) -> RawResponse {
    server
        .client()
        .request("GET", &format!("{vault}.vault.localhost"), path)
        .bearer(token)
        .send()
        .await
        .expect("a vault GET")
}

async fn vault_send(
    server: &TestServer,
    method: &str,
    vault: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> RawResponse {
    server
        .client()
        .request(method, &format!("{vault}.vault.localhost"), path)
        .bearer(token)
        .json(body)
        .send()
        .await
        .expect("a vault request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_limits_refuse_the_4001st_secret_get_on_that_vault_only() {
    let server = TestServer::start_with(&["--throttle", "azure"]);
    server.create_vault("busy").await;
    server.create_vault("calm").await;
    let token = server.vault_token().await;

    let (answers, elapsed) = burst(
        &server,
        "busy.vault.localhost",
        4000,
        get(&token, format!("/secrets/missing?{API}")),
    )
    .await;
    assert_in_window(elapsed, "4,000 GETs");
    assert_eq!(tally(&answers), [(404, 4000)], "the first 4,000 are served");

    let refused = vault_get(&server, "busy", &token, &format!("/secrets/missing?{API}")).await;
    assert_throttled(&refused, 10);
    // Not another vault, and not another row of the table: creating a secret has its own 300.
    let other = vault_get(&server, "calm", &token, &format!("/secrets/missing?{API}")).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{other}");
    let set = vault_send(
        &server,
        "PUT",
        "busy",
        &token,
        &format!("/secrets/created?{API}"),
        &json!({"value": "v"}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");

    // The window ends (the dev clock moves the throttle's time too): served again.
    server.advance_clock(10).await;
    let again = vault_get(&server, "busy", &token, &format!("/secrets/created?{API}")).await;
    assert_eq!(again.status, StatusCode::OK, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_the_same_burst_is_never_throttled() {
    let server = TestServer::start();
    server.create_vault("busy").await;
    let token = server.vault_token().await;
    let (answers, _) = burst(
        &server,
        "busy.vault.localhost",
        4001,
        get(&token, format!("/secrets/missing?{API}")),
    )
    .await;
    assert_eq!(tally(&answers), [(404, 4001)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_transactions_are_weighed_by_key_type_and_size() {
    let server = TestServer::start_with(&["--throttle", "azure"]);
    server.create_vault("keys").await;
    let token = server.vault_token().await;

    // Key creation: 20 software keys per window, whatever their type.
    let big = vault_send(
        &server,
        "POST",
        "keys",
        &token,
        &format!("/keys/big/create?{API}"),
        &json!({"kty": "RSA", "key_size": 4096}),
    )
    .await;
    assert_eq!(big.status, StatusCode::OK, "{big}");
    for i in 0..19 {
        let created = vault_send(
            &server,
            "POST",
            "keys",
            &token,
            &format!("/keys/ec-{i}/create?{API}"),
            &json!({"kty": "EC", "crv": "P-256"}),
        )
        .await;
        assert_eq!(created.status, StatusCode::OK, "EC key {i}: {created}");
    }
    let refused = vault_send(
        &server,
        "POST",
        "keys",
        &token,
        &format!("/keys/ec-19/create?{API}"),
        &json!({"kty": "EC", "crv": "P-256"}),
    )
    .await;
    assert_throttled(&refused, 10);

    // RSA 4096 software key: 500 per window (4,000 for RSA 2048), and the key budget is
    // one weighted sum: once it is spent, an EC key's GET is refused too.
    let (answers, elapsed) = burst(
        &server,
        "keys.vault.localhost",
        500,
        get(&token, format!("/keys/big?{API}")),
    )
    .await;
    assert_in_window(elapsed, "500 key GETs");
    assert_eq!(tally(&answers), [(200, 500)]);
    let refused = vault_get(&server, "keys", &token, &format!("/keys/big?{API}")).await;
    assert_throttled(&refused, 10);
    let refused = vault_get(&server, "keys", &token, &format!("/keys/ec-0?{API}")).await;
    assert_throttled(&refused, 10);
    // Secrets are another row.
    let secret = vault_get(&server, "keys", &token, &format!("/secrets/none?{API}")).await;
    assert_eq!(secret.status, StatusCode::NOT_FOUND, "{secret}");
}

async fn token_request(server: &TestServer, client_id: &str, secret: &str) -> RawResponse {
    let scope = format!("{}/.default", server.vault_resource());
    server
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", &scope),
        ])
        .await
}

/// Entra's throttled token answer: 429, `Retry-After` of 1..=60 s, AADSTS `code`.
#[track_caller]
fn assert_token_refused(response: &RawResponse, code: u64) {
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS, "{response}");
    let body = response.json();
    assert_eq!(body["error_codes"], json!([code]), "{response}");
    let description = body["error_description"].as_str().expect("a description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    let retry_after: u64 = response
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
}

fn service_principal(server: &TestServer, name: &str) -> (String, String) {
    let created: Value =
        serde_json::from_str(&server.cli(&["ad", "sp", "create-for-rbac", "--name", name]))
            .expect("JSON from the CLI");
    (
        created["appId"].as_str().expect("appId").to_owned(),
        created["password"].as_str().expect("password").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secrets_lock_that_client_id_and_no_other() {
    let server = TestServer::start();
    let (app_id, password) = service_principal(&server, "guessed");
    let admin = server.admin_credential();
    let admin_id = admin["clientId"].as_str().expect("clientId");
    let admin_secret = admin["clientSecret"].as_str().expect("clientSecret");

    for attempt in 0..10 {
        let wrong = token_request(&server, &app_id, &format!("guess-{attempt}")).await;
        assert_eq!(
            wrong.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {wrong}"
        );
        assert_eq!(wrong.json()["error_codes"], json!([7_000_215]), "{wrong}");
    }
    // Locked: refused without a look at the credential, the right one included, in any case.
    let guess = token_request(&server, &app_id, "guess-10").await;
    assert_token_refused(&guess, 50_053);
    let right = token_request(&server, &app_id.to_uppercase(), &password).await;
    assert_token_refused(&right, 50_053);

    // Everyone else is served, a burst of valid requests included.
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", admin_id),
            ("client_secret", admin_secret),
            ("scope", &format!("{}/.default", server.vault_resource())),
        ])
        .finish();
    let path = format!("/{}/oauth2/v2.0/token", server.tenant_id);
    let (answers, _) = burst(&server, "localhost", 300, move |authority, _| {
        Request::post(format!("https://{authority}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form.clone())))
            .expect("a request")
    })
    .await;
    assert_eq!(tally(&answers), [(200, 300)]);
    assert!(
        answers
            .iter()
            .all(|a| a.headers.get("retry-after").is_none() && !a.body.is_empty())
    );

    // A minute later the lock is gone.
    server.advance_clock(60).await;
    let right = token_request(&server, &app_id, &password).await;
    assert_eq!(right.status, StatusCode::OK, "{right}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_failures_shut_out_only_unproven_client_ids() {
    let server = TestServer::start();
    let (fresh_id, fresh_password) = service_principal(&server, "fresh");
    let admin = server.admin_credential();
    let admin_id = admin["clientId"].as_str().expect("clientId").to_owned();
    let admin_secret = admin["clientSecret"]
        .as_str()
        .expect("clientSecret")
        .to_owned();
    // The administrator has authenticated (the CLI did, too); `fresh` never has.
    server.vault_token().await;

    // One guess each for a thousand client ids: no client id reaches its own limit.
    let path = format!("/{}/oauth2/v2.0/token", server.tenant_id);
    let (answers, elapsed) = burst(&server, "localhost", 1000, move |authority, i| {
        let form = format!(
            "grant_type=client_credentials&client_id=00000000-0000-0000-0000-{i:012}\
             &client_secret=guess&scope=https%3A%2F%2Fvault.azure.net%2F.default"
        );
        Request::post(format!("https://{authority}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .expect("a request")
    })
    .await;
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    assert_eq!(tally(&answers), [(400, 1000)], "unknown client ids");

    let refused = token_request(&server, &fresh_id, &fresh_password).await;
    assert_token_refused(&refused, 90_055);
    let admin = token_request(&server, &admin_id, &admin_secret).await;
    assert_eq!(admin.status, StatusCode::OK, "{admin}");
}
