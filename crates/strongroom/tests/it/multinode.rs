//! Several `strongroom serve` nodes on one PostgreSQL database (issue 11), as an operator runs
//! them: the first node's data directory copied to the others, the same `--store`, and one
//! `--public-port` (the load balancer's) for all. Each test takes a fresh database on the test
//! server (`strongroom_store::test_postgres`), or a private cluster it may stop and restart.
//!
//! - Every kind of object, vault change, access-policy change and revocation made through one
//!   node is seen by the next request another node serves, with no wait.
//! - A token bought from one node works on the others; the dev clock is the deployment's.
//! - The janitor's period runs on one node of three.
//! - A node killed under a write load loses no acknowledged write, and the writers carry on
//!   through the other node.
//! - A sign-in (issue 12) crosses nodes: a code issued by one is redeemed once, on any; a
//!   device code started on one is approved on another and redeemed on a third request.
//! - PostgreSQL stopped under load: 503 `ServiceUnavailable` with `Retry-After`; started again:
//!   the same node serves again, without a restart, and no acknowledged write is lost.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde_json::{Value, json};
use strongroom_store::test_postgres::{Cluster, fresh_database};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{MANAGEMENT_SCOPE, RawResponse, TestServer};

const API: &str = "api-version=7.5";

/// A port no one listens on now: the deployment's public port (a load balancer's), which
/// every node puts in its audience and challenge.
fn public_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener
        .local_addr()
        .expect("an address")
        .port()
        .to_string()
}

/// Two or more nodes of one deployment on `store`.
fn nodes(store: &str, count: usize, extra_args: &[&str]) -> Vec<TestServer> {
    let port = public_port();
    let mut args = vec!["--store", store, "--public-port", &port];
    args.extend_from_slice(extra_args);
    let first = TestServer::start_with(&args);
    let mut all = vec![first];
    for _ in 1..count {
        let node = TestServer::start_node_of(&all[0], &[]);
        all.push(node);
    }
    all
}

/// `method path` on `vault` through `node` with `token`.
async fn call(
    node: &TestServer,
    token: &str,
    method: &str,
    vault: &str,
    path: &str,
    body: Option<&Value>,
) -> RawResponse {
    let mut request = node
        .client()
        .request(method, &format!("{vault}.vault.localhost"), path)
        .bearer(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request
        .send()
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
}

async fn management(
    node: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> RawResponse {
    node.client()
        .request(method, "localhost", path)
        .bearer(token)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
}

fn vault_path(node: &TestServer, vault: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/{vault}",
        node.subscription_id
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_node_is_read_at_once_through_another() {
    let store = fresh_database("multinode_rw").await;
    let nodes = nodes(&store, 2, &[]);
    let (a, b) = (&nodes[0], &nodes[1]);
    assert_eq!(a.tenant_id, b.tenant_id, "one deployment, one tenant");
    assert_eq!(a.subscription_id, b.subscription_id);

    // A token bought from A works on B.
    a.create_vault("shared").await;
    let token = a.vault_token().await;

    // Secrets.
    let set = call(
        a,
        &token,
        "PUT",
        "shared",
        &format!("/secrets/s1?{API}"),
        Some(&json!({"value": "one"})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    let got = call(
        b,
        &token,
        "GET",
        "shared",
        &format!("/secrets/s1?{API}"),
        None,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{got}");
    assert_eq!(got.json()["value"], "one");
    // A new version through B is the current one on A at once.
    let set = call(
        b,
        &token,
        "PUT",
        "shared",
        &format!("/secrets/s1?{API}"),
        Some(&json!({"value": "two"})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    let got = call(
        a,
        &token,
        "GET",
        "shared",
        &format!("/secrets/s1?{API}"),
        None,
    )
    .await;
    assert_eq!(got.json()["value"], "two", "{got}");

    // Keys: made on A, used on B.
    let created = call(
        a,
        &token,
        "POST",
        "shared",
        &format!("/keys/k1/create?{API}"),
        Some(&json!({"kty": "EC", "crv": "P-256"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{created}");
    let digest = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let signed = call(
        b,
        &token,
        "POST",
        "shared",
        &format!("/keys/k1/sign?{API}"),
        Some(&json!({"alg": "ES256", "value": digest})),
    )
    .await;
    assert_eq!(signed.status, StatusCode::OK, "{signed}");

    // Certificates: created on B, complete and readable on A.
    let policy = json!({"policy": {
        "key_props": {"kty": "EC", "crv": "P-256", "exportable": true, "reuse_key": false},
        "secret_props": {"contentType": "application/x-pem-file"},
        "x509_props": {"subject": "CN=shared", "validity_months": 12},
        "issuer": {"name": "Self"},
    }});
    let create = call(
        b,
        &token,
        "POST",
        "shared",
        &format!("/certificates/c1/create?{API}"),
        Some(&policy),
    )
    .await;
    assert_eq!(create.status, StatusCode::ACCEPTED, "{create}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending = call(
            a,
            &token,
            "GET",
            "shared",
            &format!("/certificates/c1/pending?{API}"),
            None,
        )
        .await;
        if pending.json()["status"] == "completed" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "certificate never completed: {pending}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cert = call(
        a,
        &token,
        "GET",
        "shared",
        &format!("/certificates/c1?{API}"),
        None,
    )
    .await;
    assert_eq!(cert.status, StatusCode::OK, "{cert}");
    assert!(
        cert.json()["cer"].as_str().is_some_and(|c| !c.is_empty()),
        "{cert}"
    );

    // Soft delete on A: B answers for the deleted secret at once, and recovers it.
    let deleted = call(
        a,
        &token,
        "DELETE",
        "shared",
        &format!("/secrets/s1?{API}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{deleted}");
    let gone = call(
        b,
        &token,
        "GET",
        "shared",
        &format!("/secrets/s1?{API}"),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{gone}");
    let listed = call(
        b,
        &token,
        "GET",
        "shared",
        &format!("/deletedsecrets/s1?{API}"),
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{listed}");

    // Access policies: a principal given `get` through A reads through B at once, and a
    // credential deleted through A stops working on B at once.
    let admin = a.admin_token(MANAGEMENT_SCOPE).await;
    let sp = management(
        a,
        &admin,
        "POST",
        "/v1.0/servicePrincipals",
        &json!({"displayName": "reader"}),
    )
    .await;
    assert_eq!(sp.status, StatusCode::CREATED, "{sp}");
    let (object_id, app_id) = (
        sp.json()["id"].as_str().unwrap().to_owned(),
        sp.json()["appId"].as_str().unwrap().to_owned(),
    );
    let password = management(
        a,
        &admin,
        "POST",
        &format!("/v1.0/servicePrincipals/{object_id}/addPassword"),
        &json!({}),
    )
    .await
    .json();
    let reader = b
        .client_token(
            &app_id,
            password["secretText"].as_str().unwrap(),
            &format!("{}/.default", b.vault_resource()),
        )
        .await;
    call(
        a,
        &token,
        "PUT",
        "shared",
        &format!("/secrets/s2?{API}"),
        Some(&json!({"value": "for the reader"})),
    )
    .await;
    let refused = call(
        b,
        &reader,
        "GET",
        "shared",
        &format!("/secrets/s2?{API}"),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused}");
    let policy = json!({"properties": {"accessPolicies": [{
        "tenantId": a.tenant_id, "objectId": object_id, "permissions": {"secrets": ["get"]},
    }]}});
    let added = management(
        a,
        &admin,
        "PUT",
        &format!(
            "{}/accessPolicies/add?api-version=2023-07-01",
            vault_path(a, "shared")
        ),
        &policy,
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{added}");
    let allowed = call(
        b,
        &reader,
        "GET",
        "shared",
        &format!("/secrets/s2?{API}"),
        None,
    )
    .await;
    assert_eq!(
        allowed.status,
        StatusCode::OK,
        "the policy added through A holds on B: {allowed}"
    );
    let removed = management(
        a,
        &admin,
        "POST",
        &format!("/v1.0/servicePrincipals/{object_id}/removePassword"),
        &json!({"keyId": password["keyId"]}),
    )
    .await;
    assert!(removed.status.is_success(), "{removed}");
    let revoked = call(
        b,
        &reader,
        "GET",
        "shared",
        &format!("/secrets/s2?{API}"),
        None,
    )
    .await;
    assert_eq!(
        revoked.status,
        StatusCode::UNAUTHORIZED,
        "revoked through A, refused by B: {revoked}"
    );

    // A vault deleted through B is gone on A at once.
    let deleted = management(
        b,
        &admin,
        "DELETE",
        &format!("{}?api-version=2023-07-01", vault_path(b, "shared")),
        &json!({}),
    )
    .await;
    assert!(deleted.status.is_success(), "{deleted}");
    let missing = call(
        a,
        &token,
        "GET",
        "shared",
        &format!("/secrets/s2?{API}"),
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{missing}");

    // The dev clock is the deployment's: moved on A, B's runs ahead by as much.
    let moved = a.advance_clock(3_600).await;
    assert_eq!(moved["offsetSeconds"], 3_600);
    let seen = b.advance_clock(0).await;
    assert_eq!(seen["offsetSeconds"], 3_600, "B caught up with A's clock");
}

/// `GET /metrics` on a node's metrics listener.
async fn scrape(node: &TestServer) -> String {
    let address: SocketAddr = node.ready["metricsListen"]
        .as_str()
        .expect("a metrics listener")
        .parse()
        .expect("an address");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connecting");
    let head = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("writing");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("reading");
    raw
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_janitor_runs_each_period_on_one_node_of_three() {
    let store = fresh_database("multinode_janitor").await;
    let nodes = nodes(
        &store,
        3,
        &["--janitor-interval", "1", "--metrics-listen", "127.0.0.1:0"],
    );
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut ran = 0.0;
    let mut skipped = 0.0;
    for node in &nodes {
        let text = scrape(node).await;
        ran += sample(
            &text,
            r#"strongroom_background_runs_total{job="janitor",outcome="ran"}"#,
        );
        skipped += sample(
            &text,
            r#"strongroom_background_runs_total{job="janitor",outcome="skipped"}"#,
        );
        assert_eq!(
            sample(
                &text,
                r#"strongroom_background_runs_total{job="janitor",outcome="failed"}"#
            ),
            0.0,
            "{text}"
        );
    }
    let periods = started.elapsed().as_secs_f64();
    // Each node ticks about once a second; one tick per period may run it.
    assert!(ran >= periods - 3.0, "{ran} runs in {periods:.1} s");
    assert!(
        ran <= periods + 2.0,
        "a period ran on more than one node: {ran} runs in {periods:.1} s"
    );
    assert!(
        skipped >= ran,
        "the other nodes found each period taken: {skipped} skipped, {ran} ran"
    );
}

/// Writes `count` secrets through whichever node answers, starting with `nodes[i % n]` and
/// retrying on the next on a transport failure or a 5xx, as a client behind a load
/// balancer does; returns the values each acknowledged write stored.
async fn write_load(
    nodes: Arc<Vec<(String, u16)>>,
    token: String,
    writer: usize,
    stop: Arc<AtomicBool>,
) -> BTreeMap<String, String> {
    let mut acknowledged = BTreeMap::new();
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("w{writer}-{i}");
        let value = format!("value of {name}");
        for attempt in 0..20 {
            let (ca, port) = &nodes[(i + attempt) % nodes.len()];
            let client = crate::harness::RawClient::new(std::path::Path::new(ca), *port);
            let answer = client
                .request(
                    "PUT",
                    "load.vault.localhost",
                    &format!("/secrets/{name}?{API}"),
                )
                .bearer(&token)
                .json(&json!({"value": value}))
                .send()
                .await;
            match answer {
                Ok(response) if response.status == StatusCode::OK => {
                    acknowledged.insert(name.clone(), value.clone());
                    break;
                }
                Ok(response) if response.status.is_server_error() => {}
                Ok(response) => panic!("write {name}: {response}"),
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        i += 1;
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_writes_loses_no_acknowledged_write() {
    let store = fresh_database("multinode_kill").await;
    let mut nodes = nodes(&store, 2, &[]);
    nodes[0].create_vault("load").await;
    let token = nodes[0].vault_token().await;
    let addresses: Arc<Vec<(String, u16)>> = Arc::new(
        nodes
            .iter()
            .map(|n| (n.data_dir().join("ca.pem").display().to_string(), n.port))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(write_load(
                addresses.clone(),
                token.clone(),
                w,
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nodes[0].kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = BTreeMap::new();
    for writer in writers {
        acknowledged.extend(writer.await.expect("a writer"));
    }
    assert!(
        acknowledged.len() > 20,
        "the load wrote too little: {}",
        acknowledged.len()
    );
    // Every acknowledged write, through the surviving node and through the killed one restarted.
    nodes[0].restart();
    for node in &nodes {
        let token = node.vault_token().await;
        for (name, value) in &acknowledged {
            let got = call(
                node,
                &token,
                "GET",
                "load",
                &format!("/secrets/{name}?{API}"),
                None,
            )
            .await;
            assert_eq!(got.status, StatusCode::OK, "{name}: {got}");
            assert_eq!(got.json()["value"], value.as_str(), "{name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_is_503_with_retry_after_and_the_node_recovers_by_itself() {
    let cluster = Cluster::start().unwrap_or_else(|err| panic!("{err}"));
    let nodes = nodes(&cluster.url(), 1, &[]);
    let node = &nodes[0];
    node.create_vault("outage").await;
    let token = node.vault_token().await;
    let set = call(
        node,
        &token,
        "PUT",
        "outage",
        &format!("/secrets/before?{API}"),
        Some(&json!({"value": "kept"})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    // A write load that goes on through the outage (retrying 5xx as clients do).
    node.create_vault("load").await;
    let addresses = Arc::new(vec![(
        node.data_dir().join("ca.pem").display().to_string(),
        node.port,
    )]);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            tokio::spawn(write_load(
                addresses.clone(),
                token.clone(),
                w,
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.stop().unwrap_or_else(|err| panic!("{err}"));
    for path in ["/secrets/before", "/secrets/during"] {
        let method = if path.ends_with("during") {
            "PUT"
        } else {
            "GET"
        };
        let body = json!({"value": "not acknowledged"});
        let answer = call(
            node,
            &token,
            method,
            "outage",
            &format!("{path}?{API}"),
            (method == "PUT").then_some(&body),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {answer}"
        );
        assert_eq!(answer.header("retry-after"), Some("2"), "{answer}");
        assert_eq!(
            answer.json()["error"]["code"],
            "ServiceUnavailable",
            "{answer}"
        );
    }

    cluster.restart().unwrap_or_else(|err| panic!("{err}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let got = call(
            node,
            &token,
            "GET",
            "outage",
            &format!("/secrets/before?{API}"),
            None,
        )
        .await;
        if got.status == StatusCode::OK || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        got.status,
        StatusCode::OK,
        "the node serves again without a restart: {got}"
    );
    assert_eq!(got.json()["value"], "kept");
    let set = call(
        node,
        &token,
        "PUT",
        "outage",
        &format!("/secrets/after?{API}"),
        Some(&json!({"value": "new"})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = BTreeMap::new();
    for writer in writers {
        acknowledged.extend(writer.await.expect("a writer"));
    }
    assert!(
        acknowledged.len() > 5,
        "the load wrote too little: {}",
        acknowledged.len()
    );
    for (name, value) in &acknowledged {
        let got = call(
            node,
            &token,
            "GET",
            "load",
            &format!("/secrets/{name}?{API}"),
            None,
        )
        .await;
        assert_eq!(got.status, StatusCode::OK, "acknowledged {name}: {got}");
        assert_eq!(got.json()["value"], value.as_str(), "{name}");
    }
    let never = call(
        node,
        &token,
        "GET",
        "outage",
        &format!("/secrets/during?{API}"),
        None,
    )
    .await;
    assert_eq!(
        never.status,
        StatusCode::NOT_FOUND,
        "the refused write left nothing: {never}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_master_key_rotation_through_one_node_the_others_seal_nothing_with_the_old_key() {
    let store = fresh_database("multinode_rotate").await;
    let nodes = nodes(&store, 2, &[]);
    let (a, b) = (&nodes[0], &nodes[1]);
    a.create_vault("before").await;
    let token = a.vault_token().await;
    let set = call(
        a,
        &token,
        "PUT",
        "before",
        &format!("/secrets/s?{API}"),
        Some(&json!({"value": "sealed early"})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{set}");
    let read = call(
        b,
        &token,
        "GET",
        "before",
        &format!("/secrets/s?{API}"),
        None,
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{read}");

    let data_dir = a.data_dir().to_owned();
    let rotated = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["master-key", "rotate"])
            .env_remove("STRONGROOM_DATA_DIR")
            .output()
            .expect("running master-key rotate")
    })
    .await
    .expect("the rotation task");
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );

    // B still holds the old key: it reads what it can, but creates no vault the new key
    // could not open.
    let admin = b.admin_token(MANAGEMENT_SCOPE).await;
    let body = json!({"location": "local", "properties": {"tenantId": b.tenant_id, "sku": {"family": "A", "name": "standard"}}});
    let refused = management(
        b,
        &admin,
        "PUT",
        &format!("{}?api-version=2023-07-01", vault_path(b, "after")),
        &body,
    )
    .await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    let read = call(
        b,
        &token,
        "GET",
        "before",
        &format!("/secrets/s?{API}"),
        None,
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{read}");
    // A, which rotated, carries on.
    let created = management(
        a,
        &admin,
        "PUT",
        &format!("{}?api-version=2023-07-01", vault_path(a, "after")),
        &body,
    )
    .await;
    assert!(created.status.is_success(), "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_started_on_one_node_completes_on_another() {
    use crate::signin::{
        AZURE_CLI, CONSOLE, approve_device_code, create_user, poll_device_code, redeem, refresh,
        sign_in, start_device_code,
    };
    let store = fresh_database("multinode_signin").await;
    let nodes = nodes(&store, 2, &[]);
    let (a, b) = (&nodes[0], &nodes[1]);
    create_user(a, "hedy@contoso.com", false);

    // Authorization code: the page on A, the redemption on B, once only, on either.
    let (code, verifier, _) = sign_in(a, "hedy@contoso.com", crate::signin::PASSWORD)
        .await
        .expect("signed in on A");
    let tokens = redeem(b, CONSOLE, &code, &verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens}");
    let again = redeem(a, CONSOLE, &code, &verifier).await;
    assert_eq!(again.json()["error_codes"][0], 54_005, "{again}");
    let refresh_token = tokens.json()["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    let renewed = refresh(a, CONSOLE, &refresh_token, crate::harness::MANAGEMENT_SCOPE).await;
    assert_eq!(renewed.status, StatusCode::OK, "{renewed}");

    // Device code: started on A, pending on B, approved on B's pages, redeemed on A, once.
    let (user_code, device_code) = start_device_code(a).await;
    let pending = poll_device_code(b, &device_code).await;
    assert_eq!(
        pending.json()["error"],
        "authorization_pending",
        "{pending}"
    );
    let done = approve_device_code(b, &user_code, "hedy@contoso.com").await;
    assert!(done.contains("id=\"done\""), "{done}");
    let redeemed = poll_device_code(a, &device_code).await;
    assert_eq!(redeemed.status, StatusCode::OK, "{redeemed}");
    assert_eq!(
        redeemed.json()["scope"],
        "https://vault.azure.net/user_impersonation https://vault.azure.net/.default"
    );
    let twice = poll_device_code(b, &device_code).await;
    assert_eq!(twice.json()["error"], "invalid_grant", "{twice}");
    let _ = AZURE_CLI;
}
