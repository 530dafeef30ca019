//! Tokens that look right and are not: each is refused end to end, on a vault request, with
//! the 401 challenge; and a non-admin's token edited to claim admin rights is refused by the
//! management API.
//!
//! The test reads the deployment's own token-signing key (the server stopped, `master.key`
//! and the database opened with the store and identity crates, as an attacker holding both
//! files could) so that the wrong issuer, audiences and lifetimes are signed by the right key:
//! each is refused for that claim alone, not for its signature. A token minted the same way
//! with the right claims is accepted (the control). The rest are forged without the key: a
//! complete token from a foreign key, a foreign or altered signature on the real header and
//! payload, an edited payload under the real signature (after the real token was cached),
//! `alg` `none` and `HS256`, a truncated signature.

use std::time::{SystemTime, UNIX_EPOCH};

use http::StatusCode;
use serde_json::{Value, json};
use strongroom_crypto::MasterKey;
use strongroom_identity::{IdentityConfig, TokenIssuer, TokenRequest};
use strongroom_model::{ObjectId, TenantId, UnixTime};
use strongroom_store::SqliteStore;

use crate::admin_only::{create_principal, management};
use crate::harness::{MANAGEMENT_SCOPE, TestServer};

const VAULT: &str = "forged";
/// An audience the vault accepts whatever the port (which changes at the restart).
const VAULT_AUDIENCE: &str = "https://vault.localhost";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_misdirected_tokens_get_401_on_the_vault() {
    let mut server = TestServer::start();
    server.create_vault(VAULT).await;
    let vault_token = server.vault_token().await;
    let put = server
        .client()
        .request("PUT", &vault_host(), "/secrets/s?api-version=7.4")
        .bearer(&vault_token)
        .json(&json!({"value": "v"}))
        .send()
        .await
        .expect("PUT secret");
    assert_eq!(put.status, StatusCode::OK, "{put}");

    // Minted tokens name the credential real ones name (revocation checks it is still held).
    let (_, real_payload, _) = split(&vault_token);
    let real_claims: Value = serde_json::from_slice(&decode(real_payload)).expect("claims JSON");
    let credential_id = real_claims["strongroom_cred"].as_str().map(str::to_owned);

    assert!(
        server.terminate(std::time::Duration::from_secs(30)),
        "serve did not stop on SIGTERM"
    );
    let tokens = mint(&server, credential_id).await;
    server.restart();

    // The control: the deployment's key, the right claims.
    let good = get_secret(&server, &tokens.good).await;
    assert_eq!(
        good.status,
        StatusCode::OK,
        "a correctly minted token: {good}"
    );

    let (header, payload, signature) = split(&tokens.good);
    let (_, _, foreign_signature) = split(&tokens.foreign_key);
    let mut flipped = decode(signature);
    flipped[100] ^= 0x01;
    let mut longer_life: Value = serde_json::from_slice(&decode(payload)).expect("claims JSON");
    longer_life["exp"] = json!(longer_life["exp"].as_i64().expect("exp") + 86_400);
    let longer_life = encode(longer_life.to_string().as_bytes());
    let header_with = |alg: &str| {
        let mut header: Value = serde_json::from_slice(&decode(header)).expect("header JSON");
        header["alg"] = json!(alg);
        encode(header.to_string().as_bytes())
    };

    let forged = [
        ("signed by a foreign key", tokens.foreign_key.clone()),
        (
            "foreign signature on the real header and payload",
            format!("{header}.{payload}.{foreign_signature}"),
        ),
        (
            "one bit of the signature flipped",
            format!("{header}.{payload}.{}", encode(&flipped)),
        ),
        (
            "signature truncated",
            format!("{header}.{payload}.{}", &signature[..signature.len() - 4]),
        ),
        (
            "payload edited (exp + 1 day) under the real signature",
            format!("{header}.{longer_life}.{signature}"),
        ),
        ("alg none", format!("{}.{payload}.", header_with("none"))),
        (
            "alg HS256 with the RS256 signature",
            format!("{}.{payload}.{signature}", header_with("HS256")),
        ),
        ("wrong issuer, right key", tokens.wrong_issuer.clone()),
        (
            "audience: the management API",
            tokens.management_audience.clone(),
        ),
        ("audience: another host", tokens.other_host_audience.clone()),
        ("audience: another port", tokens.other_port_audience.clone()),
        ("expired an hour ago", tokens.expired.clone()),
        ("valid only in two hours", tokens.not_yet_valid.clone()),
        ("not a JWT", "a.b.c".to_owned()),
    ];
    for (what, token) in &forged {
        let response = get_secret(&server, token).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {response}"
        );
        assert!(
            response
                .header("www-authenticate")
                .is_some_and(|challenge| challenge.starts_with("Bearer authorization=")),
            "{what}: no challenge: {:?}",
            response.headers
        );
        assert_eq!(
            response.azure_error().0,
            "Unauthorized",
            "{what}: {response}"
        );
    }

    // The good token still works: nothing above evicted or poisoned its cache entry.
    let again = get_secret(&server, &tokens.good).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the good token afterwards: {again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_token_edited_to_claim_admin_is_refused() {
    let server = TestServer::start();
    let principal = create_principal(&server, "climber").await;
    let token = server
        .client_token(&principal.app_id, &principal.secret, MANAGEMENT_SCOPE)
        .await;
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/vaults",
        server.subscription_id
    );
    let honest = management(&server, &token, "GET", &path, None).await;
    assert_eq!(
        honest.status,
        StatusCode::FORBIDDEN,
        "the real token: {honest}"
    );

    let (header, payload, signature) = split(&token);
    let mut claims: Value = serde_json::from_slice(&decode(payload)).expect("claims JSON");
    assert!(claims.get("strongroom_admin").is_none(), "{claims}");
    claims["strongroom_admin"] = json!(true);
    let edited = format!(
        "{header}.{}.{signature}",
        encode(claims.to_string().as_bytes())
    );
    let response = management(&server, &edited, "GET", &path, None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{response}");
    assert_eq!(
        response.azure_error().0,
        "InvalidAuthenticationToken",
        "{response}"
    );
}

/// The tokens `forged_and_misdirected_tokens_get_401_on_the_vault` presents.
struct Minted {
    good: String,
    foreign_key: String,
    wrong_issuer: String,
    management_audience: String,
    other_host_audience: String,
    other_port_audience: String,
    expired: String,
    not_yet_valid: String,
}

/// Mints tokens for the administrator (bought with `credential_id`) with the deployment's key
/// (the server must be stopped: this opens its database) and with a key of its own.
async fn mint(server: &TestServer, credential_id: Option<String>) -> Minted {
    let admin = server.admin_credential();
    let master = std::fs::read(server.data_dir().join("master.key")).expect("reading master.key");
    let master = MasterKey::from_bytes(&master).expect("a master key");
    let store =
        SqliteStore::open(&server.data_dir().join("strongroom.db")).expect("opening the store");
    let config = |domain: &str| IdentityConfig {
        domain: domain.to_owned(),
        public_origin: format!("https://{domain}"),
    };
    let issuer = TokenIssuer::load_or_create(&store, &master, config("localhost"))
        .await
        .expect("the deployment's signing key");
    let wrong_issuer = TokenIssuer::load_or_create(&store, &master, config("localhost.example"))
        .await
        .expect("the same key, another issuer name");
    assert_eq!(issuer.kid(), wrong_issuer.kid(), "one signing key");

    let foreign_dir = tempfile::tempdir().expect("a directory for a foreign key");
    let foreign_store =
        SqliteStore::open(&foreign_dir.path().join("strongroom.db")).expect("a foreign store");
    let foreign = TokenIssuer::load_or_create(
        &foreign_store,
        &MasterKey::generate().expect("a foreign master key"),
        config("localhost"),
    )
    .await
    .expect("a foreign signing key");
    assert_ne!(issuer.kid(), foreign.kid(), "a different key");

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let now = i64::try_from(now).expect("seconds fit");
    let request = |audience: &str| TokenRequest {
        tenant_id: TenantId(admin["tenantId"].as_str().expect("tenantId").to_owned()),
        object_id: ObjectId(admin["objectId"].as_str().expect("objectId").to_owned()),
        app_id: admin["clientId"].as_str().expect("clientId").to_owned(),
        audience: audience.to_owned(),
        is_admin: true,
        credential_id: credential_id.clone(),
        user: None,
    };
    let sign = |issuer: &TokenIssuer, audience: &str, at: i64| {
        issuer
            .issue(&request(audience), UnixTime(at))
            .expect("signing a token")
            .access_token
    };
    Minted {
        good: sign(&issuer, VAULT_AUDIENCE, now),
        foreign_key: sign(&foreign, VAULT_AUDIENCE, now),
        wrong_issuer: sign(&wrong_issuer, VAULT_AUDIENCE, now),
        management_audience: sign(&issuer, "https://management.azure.com", now),
        other_host_audience: sign(&issuer, "https://vault.example.com", now),
        other_port_audience: sign(&issuer, "https://vault.localhost:1", now),
        expired: sign(&issuer, VAULT_AUDIENCE, now - 7_200),
        not_yet_valid: sign(&issuer, VAULT_AUDIENCE, now + 7_200),
    }
}

fn vault_host() -> String {
    format!("{VAULT}.vault.localhost")
}

async fn get_secret(server: &TestServer, token: &str) -> crate::harness::RawResponse {
    server
        .client()
        .request("GET", &vault_host(), "/secrets/s?api-version=7.4")
        .bearer(token)
        .send()
        .await
        .expect("GET secret")
}

/// A compact JWS's three segments.
fn split(token: &str) -> (&str, &str, &str) {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => (header, payload, signature),
        _ => panic!("not a compact JWS: {token}"),
    }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// base64url without padding, decoded; panics on anything else.
fn decode(text: &str) -> Vec<u8> {
    let values: Vec<u32> = text
        .bytes()
        .map(|c| {
            let at = BASE64URL
                .iter()
                .position(|&a| a == c)
                .unwrap_or_else(|| panic!("not base64url: {text}"));
            u32::try_from(at).expect("< 64")
        })
        .collect();
    let mut out = Vec::new();
    for chunk in values.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push(((n >> (16 - 8 * i)) & 0xff) as u8);
        }
    }
    out
}

#[test]
fn base64url_round_trips() {
    for length in 0..10 {
        let bytes: Vec<u8> = (0..length).map(|i| (i * 37 + 200) as u8).collect();
        assert_eq!(decode(&encode(&bytes)), bytes);
    }
    assert_eq!(encode(b"{\"a\":1}"), "eyJhIjoxfQ");
}
