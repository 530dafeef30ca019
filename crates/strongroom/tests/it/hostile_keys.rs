//! Hostile input on every key endpoint (STYLE.md 4.5): for each cryptographic operation, on
//! an RSA and an EC key, and for create, import, update, rotation policy, restore and
//! GetRandomBytes: malformed JSON, wrong JSON types, a missing or unknown `alg`, bad
//! base64url, a 32 KiB value, an empty body, wrong digest lengths, key sizes Azure does not
//! create, a negative `count`, JSON nested a hundred thousand deep. Every answer is a 4xx in
//! Azure's error shape (`BadParameter` for a bad request body, as Azure answers), never a
//! 5xx; afterwards the keys still work and `/healthz` answers.

use http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{RawClient, RawResponse, TestServer};

mod cases;

use cases::{
    Case, TestKey, create_cases, crypto_cases, import_cases, ones_b64, restore_cases, rng_cases,
    rotation_policy_cases, update_cases,
};

const VAULT: &str = "hostilekeys";
const HOST: &str = "hostilekeys.vault.localhost";
const API: &str = "api-version=7.5";

/// `status code "message..."`, the port masked and the message cut short.
fn outcome(port: u16, response: &RawResponse) -> String {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("-");
    let message: String = body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .replace(&port.to_string(), "PORT")
        .chars()
        .take(80)
        .collect();
    format!("{} {code} {message:?}", response.status.as_u16())
}

/// Outcomes by label; the RSA and EC rows of a case share a line when they agree.
#[derive(Default)]
struct Table {
    rows: Vec<(String, Vec<(String, String)>)>,
}

impl Table {
    fn add(&mut self, label: &str, outcome: String) {
        let (merged, key) = match (label.find(" ["), label.find("]")) {
            (Some(open), Some(close)) if open < close => (
                format!("{}{}", &label[..open], &label[close + 1..]),
                label[open + 2..close].to_owned(),
            ),
            _ => (label.to_owned(), String::new()),
        };
        match self.rows.iter_mut().find(|(row, _)| *row == merged) {
            Some((_, outcomes)) => outcomes.push((key, outcome)),
            None => self.rows.push((merged, vec![(key, outcome)])),
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (label, outcomes) in &self.rows {
            if outcomes
                .iter()
                .all(|(_, outcome)| *outcome == outcomes[0].1)
            {
                out.push_str(&format!("{label}: {}\n", outcomes[0].1));
            } else {
                for (key, outcome) in outcomes {
                    out.push_str(&format!("{label} [{key}]: {outcome}\n"));
                }
            }
        }
        out
    }
}

/// A 4xx in Azure's shape, with the code Azure uses for that status.
#[track_caller]
fn assert_refused(label: &str, response: &RawResponse) {
    assert!(
        response.status.is_client_error(),
        "{label}: expected a 4xx, got {response}"
    );
    let (code, message) = response.azure_error();
    assert!(!message.is_empty(), "{label}: empty message");
    let expected_codes: &[&str] = match response.status {
        // "Malformed backup blob" is Azure's code for a restore it cannot read (6.13).
        StatusCode::BAD_REQUEST => &["BadParameter", "Malformed backup blob"],
        StatusCode::FORBIDDEN => &["Forbidden"],
        StatusCode::NOT_FOUND => &["KeyNotFound"],
        StatusCode::PAYLOAD_TOO_LARGE => &["RequestEntityTooLarge"],
        other => panic!("{label}: unexpected status {other}: {response}"),
    };
    assert!(
        expected_codes.contains(&code.as_str()),
        "{label}: code {code} for {}",
        response.status
    );
}

async fn send(
    client: &RawClient,
    token: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> RawResponse {
    let separator = if path.contains('?') { '&' } else { '?' };
    client
        .request(method, HOST, &format!("{path}{separator}{API}"))
        .bearer(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
}

async fn create_key(client: &RawClient, token: &str, name: &str, body: Value) -> String {
    let response = send(
        client,
        token,
        "POST",
        &format!("/keys/{name}/create"),
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "create {name}: {response}");
    let kid = response.json()["key"]["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    kid.rsplit('/').next().expect("a version").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_on_every_key_endpoint_gets_4xx() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    let token = server.vault_token().await;
    let client = server.client();
    let rsa = TestKey {
        name: "rsa",
        version: create_key(
            &client,
            &token,
            "rsa",
            json!({"kty": "RSA", "key_size": 2048}),
        )
        .await,
        sign_alg: "RS256",
        other_family_sign_alg: "ES256",
        digest_len: 32,
    };
    let ec = TestKey {
        name: "ec",
        // Every operation allowed, so that encrypt and wrap meet the algorithm checks
        // rather than the key_ops refusal.
        version: create_key(
            &client,
            &token,
            "ec",
            json!({"kty": "EC", "crv": "P-256", "key_ops": ["sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey"]}),
        )
        .await,
        sign_alg: "ES256",
        other_family_sign_alg: "RS256",
        digest_len: 32,
    };
    let secret = send(
        &client,
        &token,
        "PUT",
        "/secrets/s",
        br#"{"value":"v"}"#.to_vec(),
    )
    .await;
    assert_eq!(secret.status, StatusCode::OK, "{secret}");
    let secret_backup = send(&client, &token, "POST", "/secrets/s/backup", Vec::new()).await;
    let secret_backup = secret_backup.json()["value"]
        .as_str()
        .expect("backup value")
        .to_owned();

    let mut cases = Vec::new();
    for endpoint in [
        "sign",
        "verify",
        "encrypt",
        "decrypt",
        "wrapkey",
        "unwrapkey",
        "release",
        "securewrapkey",
        "secureunwrapkey",
    ] {
        cases.extend(crypto_cases(&rsa, endpoint));
        cases.extend(crypto_cases(&ec, endpoint));
    }
    cases.extend(create_cases());
    cases.extend(import_cases());
    cases.extend(update_cases(&rsa));
    cases.extend(rotation_policy_cases(&rsa));
    cases.extend(restore_cases(&secret_backup));
    cases.extend(rng_cases());

    let mut table = Table::default();
    for Case {
        label,
        method,
        path,
        body,
    } in cases
    {
        let response = send(&client, &token, method, &path, body).await;
        assert!(
            !response.status.is_server_error(),
            "{label}: {response}\nstderr:\n{}",
            server.stderr()
        );
        if label.starts_with("verify ") && response.status == StatusCode::OK {
            // A well-formed verify of a signature that cannot be right is answered, not
            // refused: `false` (the table shows which ones).
            assert_eq!(response.json(), json!({"value": false}), "{label}");
        } else {
            assert_refused(&label, &response);
        }
        table.add(&label, outcome(server.port, &response));
    }
    // One line per case (RSA and EC merged when they agree); refresh with UPDATE_EXPECT=1.
    expect_test::expect_file!["hostile_keys/table.txt"].assert_eq(&table.render());

    // Nothing above created, changed or rotated a key, and both keys still work.
    still_serving(&server, &client, &token, &rsa, &ec).await;
}

/// A version segment that is not 32 hex digits names no version: KeyNotFound naming
/// `name/segment` (AZURE-ERRORS.md 4.x); an empty key name is "Operation not specified"
/// (6.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_key_paths() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    let token = server.vault_token().await;
    let client = server.client();
    create_key(&client, &token, "k", json!({"kty": "EC"})).await;
    let sign_body = json!({"alg": "ES256", "value": ones_b64(32)})
        .to_string()
        .into_bytes();

    let response = send(
        &client,
        &token,
        "POST",
        "/keys/k/zzz/sign",
        sign_body.clone(),
    )
    .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{response}");
    let (code, message) = response.azure_error();
    assert_eq!(code, "KeyNotFound");
    assert!(
        message.starts_with("A key with (name/id) k/zzz was not found"),
        "{message}"
    );

    let response = send(&client, &token, "GET", "/keys/k/zzz", Vec::new()).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{response}");
    assert_eq!(response.azure_error().0, "KeyNotFound");

    let response = send(
        &client,
        &token,
        "POST",
        "/keys//create",
        br#"{"kty":"RSA"}"#.to_vec(),
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{response}");
    assert_eq!(
        response.azure_error(),
        (
            "BadParameter".to_owned(),
            "Operation not specified".to_owned()
        )
    );
}

async fn still_serving(
    server: &TestServer,
    client: &RawClient,
    token: &str,
    rsa: &TestKey,
    ec: &TestKey,
) {
    for key in [rsa, ec] {
        let versions = send(
            client,
            token,
            "GET",
            &format!("/keys/{}/versions", key.name),
            Vec::new(),
        )
        .await;
        assert_eq!(versions.status, StatusCode::OK, "{versions}");
        let versions = versions.json()["value"].as_array().expect("a list").len();
        assert_eq!(versions, 1, "{}: no version was added", key.name);
        let digest = ones_b64(key.digest_len);
        let signed = send(
            client,
            token,
            "POST",
            &format!("/keys/{}/{}/sign", key.name, key.version),
            json!({"alg": key.sign_alg, "value": digest})
                .to_string()
                .into_bytes(),
        )
        .await;
        assert_eq!(
            signed.status,
            StatusCode::OK,
            "sign with {}: {signed}",
            key.name
        );
        let signature = signed.json()["value"]
            .as_str()
            .expect("signature")
            .to_owned();
        let verified = send(
            client,
            token,
            "POST",
            &format!("/keys/{}/{}/verify", key.name, key.version),
            json!({"alg": key.sign_alg, "digest": digest, "value": signature})
                .to_string()
                .into_bytes(),
        )
        .await;
        assert_eq!(verified.status, StatusCode::OK, "{verified}");
        assert_eq!(verified.json(), json!({"value": true}));
    }
    let policy = send(
        client,
        token,
        "GET",
        &format!("/keys/{}/rotationpolicy", rsa.name),
        Vec::new(),
    )
    .await;
    assert_eq!(policy.status, StatusCode::OK, "{policy}");
    assert!(
        policy.json()["attributes"].get("created").is_none(),
        "no rotation policy was stored: {policy}"
    );
    let missing = send(client, token, "GET", "/keys/created", Vec::new()).await;
    assert_eq!(
        missing.status,
        StatusCode::NOT_FOUND,
        "create made nothing: {missing}"
    );
    let missing = send(client, token, "GET", "/keys/imported", Vec::new()).await;
    assert_eq!(
        missing.status,
        StatusCode::NOT_FOUND,
        "import made nothing: {missing}"
    );

    let random = send(client, token, "POST", "/rng", br#"{"count":4}"#.to_vec()).await;
    assert_eq!(random.status, StatusCode::OK, "{random}");
    assert_eq!(
        random.json()["value"].as_str().map(str::len),
        Some(6),
        "4 bytes, base64url"
    );

    let health = client
        .request("GET", "localhost", "/healthz")
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        (health.status, health.text()),
        (StatusCode::OK, r#"{"status":"ok"}"#.to_owned()),
        "healthz\nstderr:\n{}",
        server.stderr()
    );
}
