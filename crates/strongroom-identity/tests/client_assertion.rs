//! Certificate credentials: client assertions (RFC 7523 JWTs signed with a registered
//! certificate's key) against a real SQLite store, as MSAL builds them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use strongroom_crypto::{
    ClientCertificate, RsaSigningKey, generate_client_certificate, parse_client_certificate,
};
use strongroom_identity::{
    AssertionReplayGuard, IdentityError, aad_error_body, add_client_certificate, add_client_secret,
    authenticate_client, authenticate_client_assertion, certificate_thumbprint,
    create_service_principal, ensure_default_tenant,
};
use strongroom_model::UnixTime;
use strongroom_store::{PrincipalRow, SqliteStore, Store};
use tempfile::TempDir;

const NOW: UnixTime = UnixTime(1_767_225_600); // 2026-01-01T00:00:00Z
const ENDPOINT: &str = "https://localhost:8443/adfs/oauth2/v2.0/token";

struct Fixture {
    _dir: TempDir,
    store: SqliteStore,
    principal: PrincipalRow,
    cert: ClientCertificate,
    key: RsaSigningKey,
}

fn signing_key(cert: &ClientCertificate) -> RsaSigningKey {
    let body: String = cert
        .key_pem
        .expose()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    RsaSigningKey::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap()
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("strongroom.db")).unwrap();
    let tenant = ensure_default_tenant(&store).await.unwrap();
    let principal = create_service_principal(&store, &tenant.tenant_id, "app", false, NOW)
        .await
        .unwrap();
    let cert = generate_client_certificate("app", NOW).unwrap();
    let key = signing_key(&cert);
    let (credential, info) =
        add_client_certificate(&store, &principal.object_id, &cert.cert_pem, NOW)
            .await
            .unwrap();
    assert_eq!(credential.expires, Some(info.not_after));
    assert_eq!(
        credential.certificate.as_deref(),
        Some(cert.cert_der.as_slice())
    );
    assert!(credential.hash.is_empty() && credential.salt.is_empty());
    Fixture {
        _dir: dir,
        store,
        principal,
        cert,
        key,
    }
}

/// An assertion as MSAL makes it: `x5t` + RS256, or `x5t#S256` + PS256.
fn assertion(key: &RsaSigningKey, cert_der: &[u8], pss: bool, claims: &Value) -> String {
    let info = parse_client_certificate(cert_der).unwrap();
    let header = if pss {
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": URL_SAFE_NO_PAD.encode(info.sha256)})
    } else {
        json!({"alg": "RS256", "typ": "JWT", "x5t": URL_SAFE_NO_PAD.encode(info.sha1)})
    };
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = if pss {
        key.sign_ps256(signed.as_bytes()).unwrap()
    } else {
        key.sign_rs256(signed.as_bytes()).unwrap()
    };
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn claims(app_id: &str) -> Value {
    // Floats, as PyJWT writes `time.time() + 600`.
    json!({
        "aud": ENDPOINT,
        "iss": app_id,
        "sub": app_id,
        "exp": NOW.seconds() as f64 + 600.25,
        "iat": NOW.seconds() as f64 + 0.25,
        "jti": "0f6e2c1a-9d43-4c77-8f0e-2d5d6a1b9a10",
    })
}

impl Fixture {
    async fn check(&self, assertion: &str, now: UnixTime) -> Result<String, IdentityError> {
        let audiences = vec![
            ENDPOINT.to_owned(),
            "https://login.microsoftonline.com/adfs/oauth2/v2.0/token".to_owned(),
        ];
        // A fresh replay guard per check: these tests present one assertion many ways.
        authenticate_client_assertion(
            &self.store,
            &AssertionReplayGuard::default(),
            "adfs",
            &self.principal.app_id,
            assertion,
            &audiences,
            now,
        )
        .await
        .map(|client| client.principal.object_id)
    }

    fn good(&self, pss: bool) -> String {
        assertion(
            &self.key,
            &self.cert.cert_der,
            pss,
            &claims(&self.principal.app_id),
        )
    }
}

/// The AADSTS code and status of a refusal.
fn code(result: Result<String, IdentityError>) -> (u16, u64, String) {
    let err = result.unwrap_err();
    let (status, body) = aad_error_body(&err, NOW);
    let description = body["error_description"].as_str().unwrap().to_owned();
    (
        status,
        body["error_codes"][0].as_u64().unwrap(),
        description,
    )
}

#[tokio::test]
async fn good_assertions_authenticate_with_rs256_and_ps256() {
    let f = fixture().await;
    let ok = Some(f.principal.object_id.clone());
    assert_eq!(f.check(&f.good(false), NOW).await.ok(), ok.clone());
    assert_eq!(f.check(&f.good(true), NOW).await.ok(), ok.clone());
    // Entra's own host for the same tenant path, and a list-valued aud.
    let mut entra = claims(&f.principal.app_id);
    entra["aud"] = json!(["https://LOGIN.microsoftonline.com/adfs/oauth2/v2.0/token"]);
    let entra = assertion(&f.key, &f.cert.cert_der, false, &entra);
    assert_eq!(f.check(&entra, NOW).await.ok(), ok.clone());
    // Within the clock skew after `exp`.
    assert_eq!(
        f.check(&f.good(false), NOW.plus_seconds(650)).await.ok(),
        ok
    );
    assert_eq!(
        certificate_thumbprint(&parse_client_certificate(&f.cert.cert_der).unwrap()).len(),
        40
    );
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused() {
    let f = fixture().await;
    let other = generate_client_certificate("other", NOW).unwrap();
    // Names the registered certificate but is signed by another key.
    let forged = assertion(
        &signing_key(&other),
        &f.cert.cert_der,
        false,
        &claims(&f.principal.app_id),
    );
    let (status, code_, message) = code(f.check(&forged, NOW).await);
    assert_eq!((status, code_), (401, 700_027), "{message}");
    assert!(
        message.contains("did not match the expected signature"),
        "{message}"
    );
    // A tampered payload under a good signature.
    let good = f.good(true);
    let parts: Vec<&str> = good.split('.').collect();
    let mut altered = claims(&f.principal.app_id);
    altered["exp"] = json!(NOW.seconds() + 86_400);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(altered.to_string()),
        parts[2]
    );
    assert_eq!(code(f.check(&tampered, NOW).await).1, 700_027);
}

#[tokio::test]
async fn an_unknown_thumbprint_is_refused() {
    let f = fixture().await;
    let other = generate_client_certificate("other", NOW).unwrap();
    let unknown = assertion(
        &signing_key(&other),
        &other.cert_der,
        false,
        &claims(&f.principal.app_id),
    );
    let (status, code_, message) = code(f.check(&unknown, NOW).await);
    assert_eq!((status, code_), (401, 700_027), "{message}");
    assert!(message.contains("The key was not found"), "{message}");
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let f = fixture().await;
    let mut wrong = claims(&f.principal.app_id);
    wrong["aud"] = json!("https://elsewhere.example/adfs/oauth2/v2.0/token");
    let wrong = assertion(&f.key, &f.cert.cert_der, false, &wrong);
    let (status, code_, message) = code(f.check(&wrong, NOW).await);
    assert_eq!((status, code_), (400, 50_027), "{message}");
}

#[tokio::test]
async fn expired_or_early_assertions_are_refused() {
    let f = fixture().await;
    let (status, code_, message) = code(f.check(&f.good(false), NOW.plus_seconds(661)).await);
    assert_eq!((status, code_), (401, 700_024), "{message}");
    let mut early = claims(&f.principal.app_id);
    early["nbf"] = json!(NOW.seconds() + 3600);
    let early = assertion(&f.key, &f.cert.cert_der, false, &early);
    assert_eq!(code(f.check(&early, NOW).await).1, 700_024);
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let f = fixture().await;
    let later = NOW.plus_days(366);
    let mut claims = claims(&f.principal.app_id);
    claims["exp"] = json!(later.seconds() + 600);
    let late = assertion(&f.key, &f.cert.cert_der, false, &claims);
    let (_, code_, message) = code(f.check(&late, later).await);
    assert_eq!(code_, 700_027);
    assert!(message.contains("The key used is expired"), "{message}");
}

#[tokio::test]
async fn issuer_or_subject_other_than_the_client_is_refused() {
    let f = fixture().await;
    for field in ["iss", "sub"] {
        let mut other = claims(&f.principal.app_id);
        other[field] = json!("00000000-0000-0000-0000-000000000001");
        let other = assertion(&f.key, &f.cert.cert_der, false, &other);
        let (status, code_, message) = code(f.check(&other, NOW).await);
        assert_eq!((status, code_), (401, 700_021), "{field}: {message}");
    }
}

#[tokio::test]
async fn malformed_assertions_and_certificates_are_refused() {
    let f = fixture().await;
    for bad in ["x", "a.b.c", "a.b.c.d"] {
        assert_eq!(code(f.check(bad, NOW).await).1, 50_027, "{bad}");
    }
    let mut hs = claims(&f.principal.app_id);
    hs["x"] = json!(1);
    let good = assertion(&f.key, &f.cert.cert_der, false, &hs);
    let parts: Vec<&str> = good.split('.').collect();
    let none = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        parts[1],
        parts[2]
    );
    assert_eq!(code(f.check(&none, NOW).await).1, 50_027);
    let store: &dyn Store = &f.store;
    let refused = add_client_certificate(store, &f.principal.object_id, "not a cert", NOW).await;
    assert!(
        matches!(refused, Err(IdentityError::InvalidCertificate)),
        "{refused:?}"
    );
    let expired = add_client_certificate(
        store,
        &f.principal.object_id,
        &f.cert.cert_pem,
        NOW.plus_days(400),
    )
    .await;
    assert!(
        matches!(expired, Err(IdentityError::InvalidCertificate)),
        "{expired:?}"
    );
}

#[tokio::test]
async fn secrets_and_certificates_coexist() {
    let f = fixture().await;
    let store: &dyn Store = &f.store;
    let (_, secret) = add_client_secret(store, &f.principal.object_id, NOW)
        .await
        .unwrap();
    let by_secret = authenticate_client(store, "adfs", &f.principal.app_id, secret.expose(), NOW)
        .await
        .unwrap();
    assert_eq!(by_secret.principal.credentials.len(), 2);
    assert_eq!(
        f.check(&f.good(false), NOW).await.unwrap(),
        f.principal.object_id
    );
    // A certificate credential has no hash: an empty-looking secret never matches it.
    assert!(matches!(
        authenticate_client(store, "adfs", &f.principal.app_id, "x", NOW).await,
        Err(IdentityError::InvalidSecret { .. })
    ));
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&authenticate_client_assertion(
        store,
        &AssertionReplayGuard::default(),
        "adfs",
        "c",
        "a",
        &[],
        NOW,
    ));
    assert_send(&add_client_certificate(store, "o", "c", NOW));
}

#[tokio::test]
async fn an_assertion_is_accepted_once_and_only_with_a_short_life_and_a_jti() {
    let f = fixture().await;
    let audiences = vec![ENDPOINT.to_owned()];
    let guard = AssertionReplayGuard::default();
    let present = |assertion: String| {
        let guard = &guard;
        let audiences = &audiences;
        let store = &f.store;
        let app_id = f.principal.app_id.clone();
        async move {
            authenticate_client_assertion(store, guard, "adfs", &app_id, &assertion, audiences, NOW)
                .await
                .map(|client| client.credential_id)
        }
    };
    let good = f.good(false);
    let credential = present(good.clone()).await.unwrap();
    assert!(
        !credential.is_empty(),
        "the certificate credential's key id"
    );
    let replayed = present(good).await.unwrap_err();
    assert!(
        matches!(&replayed, IdentityError::ClientAssertion { code: 50_027, message } if message.contains("already used")),
        "{replayed:?}"
    );

    let mut long = claims(&f.principal.app_id);
    long["exp"] = json!(NOW.seconds() + 3600);
    long["jti"] = json!("second");
    let refused = present(assertion(&f.key, &f.cert.cert_der, false, &long))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            IdentityError::ClientAssertion { code: 700_024, .. }
        ),
        "{refused:?}"
    );

    let mut no_jti = claims(&f.principal.app_id);
    no_jti.as_object_mut().unwrap().remove("jti");
    let refused = present(assertion(&f.key, &f.cert.cert_der, false, &no_jti))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, IdentityError::ClientAssertion { code: 50_027, message } if message.contains("jti")),
        "{refused:?}"
    );
}
