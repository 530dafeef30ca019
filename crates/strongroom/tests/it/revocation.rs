//! Revocation and assertion replay against the real binary (issue 9): a token stops working
//! as soon as the credential it was bought with is deleted, or its principal is; a client
//! assertion is accepted once, and only with a short lifetime and a `jti`.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

use crate::harness::{MANAGEMENT_SCOPE, RawResponse, TestServer};

const VAULT: &str = "revoked";

async fn management(
    server: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> RawResponse {
    server
        .client()
        .request(method, "localhost", path)
        .bearer(token)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
}

/// What a token gets from the vault: 403 (authentic, no access policy) or 401 (refused).
async fn vault_answer(server: &TestServer, token: &str) -> RawResponse {
    server
        .client()
        .request(
            "GET",
            &format!("{VAULT}.vault.localhost"),
            "/secrets/s?api-version=7.4",
        )
        .bearer(token)
        .send()
        .await
        .expect("vault request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_credential_or_principal_loses_access_at_once() {
    let server = TestServer::start();
    server.create_vault(VAULT).await;
    let admin = server.admin_token(MANAGEMENT_SCOPE).await;
    let created = management(
        &server,
        &admin,
        "POST",
        "/v1.0/servicePrincipals",
        &json!({"displayName": "revocable"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created}");
    let object_id = created.json()["id"].as_str().expect("id").to_owned();
    let app_id = created.json()["appId"].as_str().expect("appId").to_owned();
    let add = format!("/v1.0/servicePrincipals/{object_id}/addPassword");
    let first = management(&server, &admin, "POST", &add, &json!({}))
        .await
        .json();
    let second = management(&server, &admin, "POST", &add, &json!({}))
        .await
        .json();
    let scope = format!("{}/.default", server.vault_resource());
    let first_token = server
        .client_token(
            &app_id,
            first["secretText"].as_str().expect("secret"),
            &scope,
        )
        .await;
    let second_token = server
        .client_token(
            &app_id,
            second["secretText"].as_str().expect("secret"),
            &scope,
        )
        .await;
    for token in [&first_token, &second_token] {
        let answer = vault_answer(&server, token).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "before: {answer}");
    }

    // The first secret goes: its token stops at once, the other one's does not.
    let removed = management(
        &server,
        &admin,
        "POST",
        &format!("/v1.0/servicePrincipals/{object_id}/removePassword"),
        &json!({"keyId": first["keyId"]}),
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{removed}");
    let answer = vault_answer(&server, &first_token).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer}");
    assert!(
        answer.text().contains("revoked"),
        "the 401 says why: {answer}"
    );
    assert!(
        answer.header("www-authenticate").is_some(),
        "a revoked token still gets the challenge"
    );
    let answer = vault_answer(&server, &second_token).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer}");
    let refused = server
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app_id),
            (
                "client_secret",
                first["secretText"].as_str().expect("secret"),
            ),
            ("scope", &scope),
        ])
        .await;
    assert!(
        refused.text().contains("AADSTS7000215"),
        "the deleted secret buys no token: {refused}"
    );
    let again = management(
        &server,
        &admin,
        "POST",
        &format!("/v1.0/servicePrincipals/{object_id}/removePassword"),
        &json!({"keyId": first["keyId"]}),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{again}");

    // The principal goes: every token it holds stops at once.
    let deleted = management(
        &server,
        &admin,
        "DELETE",
        &format!("/v1.0/servicePrincipals/{object_id}"),
        &json!({}),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted}");
    let answer = vault_answer(&server, &second_token).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer}");

    // A management token of a principal that is gone is refused there too.
    let admin_answer = vault_answer(&server, &server.vault_token().await).await;
    assert_eq!(
        admin_answer.status,
        StatusCode::NOT_FOUND,
        "the administrator is unaffected: {admin_answer}"
    );
}

/// A client with a certificate credential, made by the CLI as `az ad sp create-for-rbac
/// --create-cert` would.
struct CertificateClient {
    app_id: String,
    key: RsaKeyPair,
    x5t_s256: String,
}

impl CertificateClient {
    fn create(server: &TestServer, dir: &std::path::Path) -> Self {
        let output = server.cli(&[
            "ad",
            "sp",
            "create-for-rbac",
            "--name",
            "asserting",
            "--create-cert",
            "--cert-dir",
            dir.to_str().expect("a UTF-8 path"),
        ]);
        let created: Value = serde_json::from_str(&output).expect("JSON from the CLI");
        let pem = std::fs::read(created["fileWithCertAndPrivateKey"].as_str().expect("file"))
            .expect("reading the PEM");
        let certificate = CertificateDer::pem_slice_iter(&pem)
            .next()
            .expect("a certificate")
            .expect("a PEM certificate");
        let key = match PrivateKeyDer::from_pem_slice(&pem).expect("a private key") {
            PrivateKeyDer::Pkcs8(der) => {
                RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).expect("an RSA key")
            }
            PrivateKeyDer::Pkcs1(der) => {
                RsaKeyPair::from_der(der.secret_pkcs1_der()).expect("an RSA key")
            }
            other => panic!("unexpected key format {other:?}"),
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &certificate);
        Self {
            app_id: created["appId"].as_str().expect("appId").to_owned(),
            key,
            x5t_s256: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        }
    }

    /// An RS256 assertion with these claims added to `iss`, `sub` and `aud`.
    fn assertion(&self, server: &TestServer, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t#S256": self.x5t_s256});
        let mut payload = json!({
            "iss": self.app_id,
            "sub": self.app_id,
            "aud": format!("https://localhost:{}/{}/oauth2/v2.0/token", server.port, server.tenant_id),
        });
        for (name, value) in claims.as_object().expect("claims") {
            payload[name] = value.clone();
        }
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .expect("signing");
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    async fn present(&self, server: &TestServer, assertion: &str) -> RawResponse {
        server
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.app_id),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
                ("scope", &format!("{}/.default", server.vault_resource())),
            ])
            .await
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_assertion_is_accepted_once_and_only_with_a_short_life() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let client = CertificateClient::create(&server, dir.path());
    let now = now();

    let assertion = client.assertion(
        &server,
        &json!({"exp": now + 600, "nbf": now, "jti": "a6d3c9e0-0001"}),
    );
    let first = client.present(&server, &assertion).await;
    assert_eq!(first.status, StatusCode::OK, "{first}");
    let replayed = client.present(&server, &assertion).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST, "{replayed}");
    assert!(
        replayed.text().contains("AADSTS50027") && replayed.text().contains("already used"),
        "{replayed}"
    );

    let long_lived = client.assertion(
        &server,
        &json!({"exp": now + 3600, "nbf": now, "jti": "a6d3c9e0-0002"}),
    );
    let refused = client.present(&server, &long_lived).await;
    assert!(
        refused.text().contains("AADSTS700024"),
        "an hour-long assertion: {refused}"
    );

    let without_jti = client.assertion(&server, &json!({"exp": now + 600, "nbf": now}));
    let refused = client.present(&server, &without_jti).await;
    assert!(
        refused.text().contains("AADSTS50027") && refused.text().contains("jti"),
        "an assertion without jti: {refused}"
    );

    // A fresh jti is fine.
    let fresh = client.assertion(
        &server,
        &json!({"exp": now + 600, "nbf": now, "jti": "a6d3c9e0-0003"}),
    );
    let accepted = client.present(&server, &fresh).await;
    assert_eq!(accepted.status, StatusCode::OK, "{accepted}");
}
