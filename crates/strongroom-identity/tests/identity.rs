//! Identity against a real SQLite store in a temporary directory: issuing and verifying
//! tokens, the verification cache, the persisted signing key, JWKS, and client secrets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use strongroom_crypto::MasterKey;
use strongroom_identity::{
    IdentityConfig, IdentityError, TokenError, TokenIssuer, TokenRequest, add_client_secret,
    authenticate_client, create_service_principal, ensure_default_tenant, resolve_tenant,
};
use strongroom_model::{Caller, ObjectId, TenantId, UnixTime};
use strongroom_store::{PrincipalRow, SqliteStore, Store, TenantRow};
use tempfile::TempDir;

const NOW: UnixTime = UnixTime(1_767_225_600); // 2026-01-01T00:00:00Z
const VAULT: &str = "https://vault.localhost:8443";

struct Deployment {
    _dir: TempDir,
    store: SqliteStore,
    master: MasterKey,
    tenant: TenantRow,
}

fn config(domain: &str) -> IdentityConfig {
    IdentityConfig {
        domain: domain.to_owned(),
        public_origin: format!("https://{domain}:8443"),
    }
}

async fn deployment() -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("strongroom.db")).unwrap();
    let tenant = ensure_default_tenant(&store).await.unwrap();
    Deployment {
        _dir: dir,
        store,
        master: MasterKey::generate().unwrap(),
        tenant,
    }
}

impl Deployment {
    async fn issuer(&self) -> TokenIssuer {
        TokenIssuer::load_or_create(&self.store, &self.master, config("localhost"))
            .await
            .unwrap()
    }

    async fn principal(&self, is_admin: bool) -> PrincipalRow {
        create_service_principal(&self.store, &self.tenant.tenant_id, "app", is_admin, NOW)
            .await
            .unwrap()
    }
}

/// The key id the tokens in these tests were bought with.
const CREDENTIAL: &str = "6c1e9b8a-0d2f-4c1b-9e3a-5f7d2a4b8c10";

fn client(principal: &strongroom_store::PrincipalRow) -> strongroom_identity::AuthenticatedClient {
    strongroom_identity::AuthenticatedClient {
        principal: principal.clone(),
        credential_id: CREDENTIAL.to_owned(),
    }
}

fn audiences(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn part(token: &str, index: usize) -> Value {
    let raw = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(raw).unwrap()).unwrap()
}

#[tokio::test]
async fn issue_then_verify_round_trip() {
    let deployment = deployment().await;
    let issuer = deployment.issuer().await;
    let verifier = issuer.verifier();
    let principal = deployment.principal(false).await;

    let token = issuer
        .issue(&TokenRequest::for_client(&client(&principal), VAULT), NOW)
        .unwrap();
    assert_eq!(token.expires_in, 3599);
    assert_eq!(token.expires_on, NOW.plus_seconds(3600));
    assert_eq!(token.not_before, NOW);

    let header = part(&token.access_token, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], issuer.kid());
    let claims = part(&token.access_token, 1);
    let tid = &deployment.tenant.tenant_id;
    assert_eq!(
        claims,
        serde_json::json!({
            "aud": VAULT,
            "iss": format!("https://sts.strongroom.localhost/{tid}/"),
            "iat": NOW.0,
            "nbf": NOW.0,
            "exp": NOW.0 + 3600,
            "appid": principal.app_id,
            "idtyp": "app",
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": tid,
            "ver": "1.0",
            "strongroom_cred": CREDENTIAL,
        })
    );

    let caller = verifier
        .verify(
            &token.access_token,
            NOW.plus_seconds(10),
            &audiences(&["https://vault.azure.net", VAULT]),
        )
        .unwrap();
    assert_eq!(
        *caller,
        Caller {
            tenant_id: TenantId(tid.clone()),
            object_id: ObjectId(principal.object_id.clone()),
            kind: strongroom_model::PrincipalKind::ServicePrincipal,
            app_id: principal.app_id.clone(),
            issuer: format!("https://sts.strongroom.localhost/{tid}/"),
            is_admin: false,
            credential_id: Some(CREDENTIAL.to_owned()),
        }
    );

    let admin = deployment.principal(true).await;
    let admin_token = issuer
        .issue(&TokenRequest::for_client(&client(&admin), VAULT), NOW)
        .unwrap();
    assert_eq!(part(&admin_token.access_token, 1)["strongroom_admin"], true);
    let admin_caller = verifier
        .verify(&admin_token.access_token, NOW, &audiences(&[VAULT]))
        .unwrap();
    assert!(admin_caller.is_admin);
    assert_eq!(admin_caller.app_id, admin.app_id);
}

#[tokio::test]
async fn refused_tokens_give_the_right_error() {
    let deployment = deployment().await;
    let issuer = deployment.issuer().await;
    let principal = deployment.principal(false).await;
    let request = TokenRequest::for_client(&client(&principal), VAULT);
    let good = issuer.issue(&request, NOW).unwrap().access_token;

    // Another deployment signs with another key.
    let other = self::deployment().await;
    let foreign = other
        .issuer()
        .await
        .issue(&request, NOW)
        .unwrap()
        .access_token;

    // Our key, but issued for another domain: the issuer does not match.
    let other_domain =
        TokenIssuer::load_or_create(&deployment.store, &deployment.master, config("example"))
            .await
            .unwrap();
    assert_eq!(other_domain.kid(), issuer.kid(), "same stored key");
    let wrong_issuer = other_domain.issue(&request, NOW).unwrap().access_token;

    let (head, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut claims = part(&good, 1);
    claims["strongroom_admin"] = Value::Bool(true);
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = format!("{head}.{forged_payload}.{signature}");
    let mut bad_signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bad_signature[10] ^= 0x01;
    let tampered = format!(
        "{head}.{payload}.{}",
        URL_SAFE_NO_PAD.encode(&bad_signature)
    );
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();

    // A fresh verifier each time, so every case takes the full (uncached) path.
    let check =
        |token: &str, now: UnixTime, accepted: &[&str], expected: Result<(), TokenError>| {
            let result = issuer
                .verifier()
                .verify(token, now, &audiences(accepted))
                .map(|_| ());
            assert_eq!(
                result, expected,
                "token {token:?} at {now:?} for {accepted:?}"
            );
        };
    let vault = &[VAULT];
    let management = &[
        "https://management.azure.com",
        "https://graph.microsoft.com",
    ];
    let tid = &deployment.tenant.tenant_id;

    check(&good, NOW, vault, Ok(()));
    check("", NOW, vault, Err(TokenError::Missing));
    check("  ", NOW, vault, Err(TokenError::Missing));
    check("not-a-jwt", NOW, vault, Err(TokenError::Malformed));
    check("a.b.c", NOW, vault, Err(TokenError::Malformed));
    check(&tampered, NOW, vault, Err(TokenError::BadSignature));
    check(&forged, NOW, vault, Err(TokenError::BadSignature));
    check(&foreign, NOW, vault, Err(TokenError::BadSignature));
    check(&hs256, NOW, vault, Err(TokenError::BadSignature));
    check(
        &good,
        NOW,
        management,
        Err(TokenError::WrongAudience {
            expected: audiences(management),
            found: VAULT.to_owned(),
        }),
    );
    check(&good, NOW.plus_seconds(3660), vault, Ok(())); // expired, within the skew
    check(
        &good,
        NOW.plus_seconds(3661),
        vault,
        Err(TokenError::Expired),
    );
    check(&good, NOW.plus_seconds(-60), vault, Ok(())); // not yet valid, within the skew
    check(
        &good,
        NOW.plus_seconds(-61),
        vault,
        Err(TokenError::NotYetValid),
    );
    check(
        &wrong_issuer,
        NOW,
        vault,
        Err(TokenError::WrongIssuer {
            expected: format!("https://sts.strongroom.localhost/{tid}/"),
            found: format!("https://sts.strongroom.example/{tid}/"),
        }),
    );
}

#[tokio::test]
async fn cache_hits_return_the_same_caller_and_still_check_audience_and_lifetime() {
    let deployment = deployment().await;
    let issuer = deployment.issuer().await;
    let verifier = issuer.verifier();
    let principal = deployment.principal(true).await;
    let token = issuer
        .issue(&TokenRequest::for_client(&client(&principal), VAULT), NOW)
        .unwrap()
        .access_token;
    let vault = audiences(&[VAULT]);

    assert_eq!(verifier.cached_tokens(), 0);
    let first = verifier.verify(&token, NOW, &vault).unwrap();
    assert_eq!(verifier.cached_tokens(), 1);
    let second = verifier
        .verify(&token, NOW.plus_seconds(5), &vault)
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(verifier.cached_tokens(), 1, "the second call was a hit");

    assert_eq!(
        verifier.verify(&token, NOW, &audiences(&["https://management.azure.com"])),
        Err(TokenError::WrongAudience {
            expected: audiences(&["https://management.azure.com"]),
            found: VAULT.to_owned(),
        })
    );
    assert_eq!(
        verifier.verify(&token, NOW.plus_seconds(-120), &vault),
        Err(TokenError::NotYetValid)
    );
    // A near-copy of a cached token is a different token: verified in full, refused.
    let mut tampered = token.clone();
    tampered.push('A');
    assert_eq!(
        verifier.verify(&tampered, NOW, &vault),
        Err(TokenError::BadSignature)
    );
    assert_eq!(verifier.cached_tokens(), 1, "refused tokens are not cached");
    // The cache is keyed by the signature: the cached token's signature under another
    // payload (an admin claim spliced in) is a miss, verified in full and refused.
    let (signed_part, signature) = token.rsplit_once('.').unwrap();
    let (header, payload) = signed_part.split_once('.').unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["strongroom_admin"] = serde_json::Value::Bool(true);
    let spliced = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    assert_eq!(
        verifier.verify(&spliced, NOW, &vault),
        Err(TokenError::BadSignature)
    );
    // And the signature alone is not a token.
    assert_eq!(
        verifier.verify(signature, NOW, &vault),
        Err(TokenError::Malformed)
    );
    assert_eq!(verifier.cached_tokens(), 1);

    assert_eq!(
        verifier.verify(&token, NOW.plus_seconds(4000), &vault),
        Err(TokenError::Expired)
    );
    assert_eq!(verifier.cached_tokens(), 0, "an expired entry is dropped");
    assert_eq!(
        verifier.verify(&token, NOW.plus_seconds(4000), &vault),
        Err(TokenError::Expired),
        "and stays refused on the full path"
    );
    assert_eq!(verifier.cached_tokens(), 0, "expired tokens are not cached");
}

#[tokio::test]
async fn cache_is_bounded() {
    let deployment = deployment().await;
    let issuer = deployment.issuer().await;
    let verifier = issuer.verifier().with_cache_capacity(32);
    let principal = deployment.principal(false).await;
    let vault = audiences(&[VAULT]);
    for second in 0..200 {
        let token = issuer
            .issue(
                &TokenRequest::for_client(&client(&principal), VAULT),
                NOW.plus_seconds(second),
            )
            .unwrap()
            .access_token;
        verifier
            .verify(&token, NOW.plus_seconds(second), &vault)
            .unwrap();
    }
    assert!(
        verifier.cached_tokens() <= 32,
        "{} cached",
        verifier.cached_tokens()
    );
}

#[tokio::test]
async fn jwks_verifies_our_tokens() {
    let deployment = deployment().await;
    let issuer = deployment.issuer().await;
    let principal = deployment.principal(false).await;
    let token = issuer
        .issue(&TokenRequest::for_client(&client(&principal), VAULT), NOW)
        .unwrap()
        .access_token;

    let jwks = issuer.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let jwk = &keys[0];
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(jwk["kid"], issuer.kid());
    assert_eq!(part(&token, 0)["kid"], jwk["kid"]);

    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.set_audience(&[VAULT]);
    validation.set_issuer(&[format!(
        "https://sts.strongroom.localhost/{}/",
        deployment.tenant.tenant_id
    )]);
    let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims["oid"], principal.object_id.as_str());

    // The same check refuses another deployment's token.
    let other = self::deployment().await;
    let foreign = other
        .issuer()
        .await
        .issue(&TokenRequest::for_client(&client(&principal), VAULT), NOW)
        .unwrap()
        .access_token;
    assert!(jsonwebtoken::decode::<Value>(&foreign, &key, &validation).is_err());
}

#[tokio::test]
async fn signing_key_persists_sealed_across_starts() {
    let deployment = deployment().await;
    assert!(
        deployment
            .store
            .get_meta("token-signing-key")
            .await
            .unwrap()
            .is_none()
    );
    let first = deployment.issuer().await;
    let sealed = deployment
        .store
        .get_meta("token-signing-key")
        .await
        .unwrap()
        .unwrap();
    let second = deployment.issuer().await;
    assert_eq!(first.kid(), second.kid());
    assert_eq!(first.jwks(), second.jwks());
    assert_eq!(
        deployment
            .store
            .get_meta("token-signing-key")
            .await
            .unwrap()
            .unwrap(),
        sealed,
        "loading does not rewrite the key"
    );

    let principal = deployment.principal(false).await;
    let token = first
        .issue(&TokenRequest::for_client(&client(&principal), VAULT), NOW)
        .unwrap()
        .access_token;
    assert!(
        second
            .verifier()
            .verify(&token, NOW, &audiences(&[VAULT]))
            .is_ok()
    );

    // Sealed, not stored in the clear: the wrong master key cannot load it.
    let wrong_master = MasterKey::generate().unwrap();
    let result =
        TokenIssuer::load_or_create(&deployment.store, &wrong_master, config("localhost")).await;
    assert!(
        matches!(result, Err(IdentityError::SigningKey(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn client_secrets() {
    let deployment = deployment().await;
    let store: &dyn Store = &deployment.store;
    let tenant_id = deployment.tenant.tenant_id.clone();
    let principal = deployment.principal(false).await;
    let app_id = principal.app_id.clone();

    let (credential, secret) = add_client_secret(store, &principal.object_id, NOW)
        .await
        .unwrap();
    assert_eq!(secret.len(), 43, "32 random bytes, base64url");
    assert_eq!(credential.hint, secret.expose()[..3]);
    assert_eq!(credential.created, NOW);
    assert_eq!(credential.expires, Some(NOW.plus_days(365)));
    assert_ne!(credential.hash, secret.expose().as_bytes());
    let stored = store
        .get_principal_by_object_id(&principal.object_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.credentials, vec![credential.clone()]);

    let authenticate = |tenant: &str, client: &str, secret: &str, now: UnixTime| {
        let (tenant, client, secret) = (tenant.to_owned(), client.to_owned(), secret.to_owned());
        async move {
            authenticate_client(store, &tenant, &client, &secret, now)
                .await
                .map(|client| client.principal.object_id)
                .map_err(|err| err.to_string())
        }
    };

    let ok = Ok(principal.object_id.clone());
    assert_eq!(
        authenticate(&tenant_id, &app_id, secret.expose(), NOW).await,
        ok
    );
    assert_eq!(
        authenticate("adfs", &app_id, secret.expose(), NOW).await,
        ok,
        "adfs means the default tenant"
    );
    assert_eq!(
        authenticate(
            &tenant_id.to_uppercase(),
            &app_id.to_uppercase(),
            secret.expose(),
            NOW
        )
        .await,
        ok,
        "GUIDs compare case-insensitively"
    );
    assert_eq!(
        authenticate(&tenant_id, &app_id, "wrong", NOW).await,
        Err(format!("invalid client secret for application {app_id}"))
    );
    assert_eq!(
        authenticate(&tenant_id, &app_id, "", NOW).await,
        Err("the request has no client_secret parameter".to_owned())
    );
    assert_eq!(
        authenticate(&tenant_id, "no-such-app", secret.expose(), NOW).await,
        Err(format!(
            "application no-such-app was not found in directory {tenant_id}"
        ))
    );
    assert_eq!(
        authenticate("no-such-tenant", &app_id, secret.expose(), NOW).await,
        Err("tenant no-such-tenant was not found".to_owned())
    );

    // Expiry: the secret stops working after a year, and says so.
    assert_eq!(
        authenticate(&tenant_id, &app_id, secret.expose(), NOW.plus_days(364)).await,
        ok
    );
    assert_eq!(
        authenticate(&tenant_id, &app_id, secret.expose(), NOW.plus_days(365)).await,
        Err(format!(
            "the client secret of application {app_id} has expired"
        ))
    );
    assert_eq!(
        authenticate(&tenant_id, &app_id, "wrong", NOW.plus_days(400)).await,
        Err(format!("invalid client secret for application {app_id}"))
    );

    // A second secret works alongside the first, and outlives it.
    let (_, renewed) = add_client_secret(store, &principal.object_id, NOW.plus_days(200))
        .await
        .unwrap();
    assert_eq!(
        authenticate(&tenant_id, &app_id, renewed.expose(), NOW.plus_days(200)).await,
        ok
    );
    assert_eq!(
        authenticate(&tenant_id, &app_id, secret.expose(), NOW.plus_days(200)).await,
        ok
    );
    assert_eq!(
        authenticate(&tenant_id, &app_id, renewed.expose(), NOW.plus_days(400)).await,
        ok
    );

    // A principal of another tenant is not found in this one.
    let other_tenant = TenantRow {
        tenant_id: "00000000-0000-0000-0000-000000000001".to_owned(),
        display_name: "Other".to_owned(),
        is_default: false,
    };
    store.put_tenant(other_tenant.clone()).await.unwrap();
    let outsider = create_service_principal(store, &other_tenant.tenant_id, "o", false, NOW)
        .await
        .unwrap();
    let (_, outsider_secret) = add_client_secret(store, &outsider.object_id, NOW)
        .await
        .unwrap();
    assert_eq!(
        authenticate(&tenant_id, &outsider.app_id, outsider_secret.expose(), NOW).await,
        Err(format!(
            "application {} is not registered in directory {tenant_id}",
            outsider.app_id
        ))
    );
    assert_eq!(
        authenticate(
            &other_tenant.tenant_id,
            &outsider.app_id,
            outsider_secret.expose(),
            NOW
        )
        .await,
        Ok(outsider.object_id.clone())
    );

    assert!(matches!(
        add_client_secret(store, "no-such-object", NOW).await,
        Err(IdentityError::PrincipalNotFound { .. })
    ));
    assert!(matches!(
        create_service_principal(store, "no-such-tenant", "x", false, NOW).await,
        Err(IdentityError::UnknownTenant { .. })
    ));
}

#[tokio::test]
async fn default_tenant_is_created_once() {
    let deployment = deployment().await;
    let again = ensure_default_tenant(&deployment.store).await.unwrap();
    assert_eq!(again, deployment.tenant);
    assert!(again.is_default);
    assert_eq!(again.display_name, "Default Directory");
    assert_eq!(again.tenant_id.len(), 36);
    assert_eq!(
        deployment.store.list_tenants().await.unwrap(),
        vec![deployment.tenant.clone()]
    );
    for alias in ["adfs", "organizations", "ADFS", "common"] {
        assert_eq!(
            resolve_tenant(&deployment.store, alias).await.unwrap(),
            deployment.tenant,
            "{alias}"
        );
    }
}

#[tokio::test]
async fn shareable_across_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<TokenIssuer>();
    assert_send_sync::<strongroom_identity::TokenVerifier>();

    // Handlers await these on a multi-threaded runtime, so their futures must be `Send`.
    let deployment = deployment().await;
    let store: &dyn Store = &deployment.store;
    let config = config("localhost");
    assert_send(&TokenIssuer::load_or_create(
        store,
        &deployment.master,
        config.clone(),
    ));
    assert_send(&authenticate_client(store, "adfs", "c", "s", NOW));
    assert_send(&add_client_secret(store, "o", NOW));
    assert_send(&create_service_principal(store, "t", "n", false, NOW));
    assert_send(&ensure_default_tenant(store));
}

#[tokio::test]
async fn managed_identities() {
    use strongroom_identity::{
        MANAGED_IDENTITY_KIND, create_managed_identity, find_managed_identity,
        list_managed_identities,
    };
    let deployment = deployment().await;
    let store: &dyn Store = &deployment.store;
    let service = deployment.principal(false).await;
    let web = create_managed_identity(store, &deployment.tenant.tenant_id, "web-id", NOW)
        .await
        .unwrap();
    assert_eq!(web.kind, MANAGED_IDENTITY_KIND);
    assert!(!web.is_admin);
    assert_eq!(web.tenant_id, deployment.tenant.tenant_id);

    for key in [
        "web-id".to_owned(),
        "WEB-ID".to_owned(),
        web.app_id.clone(),
        web.object_id.to_ascii_uppercase(),
    ] {
        assert_eq!(
            find_managed_identity(store, &key).await.unwrap().as_ref(),
            Some(&web),
            "{key}"
        );
    }
    // Service principals are not managed identities, by name or by id.
    for key in [&service.display_name, &service.app_id, &service.object_id] {
        assert_eq!(find_managed_identity(store, key).await.unwrap(), None);
    }
    assert_eq!(
        list_managed_identities(store).await.unwrap(),
        vec![web.clone()]
    );

    // A managed identity authenticates with a client secret like any principal.
    let (_, secret) = add_client_secret(store, &web.object_id, NOW).await.unwrap();
    let authenticated = authenticate_client(store, "adfs", &web.app_id, secret.expose(), NOW)
        .await
        .unwrap();
    assert_eq!(authenticated.principal.object_id, web.object_id);

    assert!(matches!(
        create_managed_identity(store, "no-such-tenant", "x", NOW).await,
        Err(IdentityError::UnknownTenant { .. })
    ));
}

#[tokio::test]
async fn revocation_admits_only_a_caller_whose_credential_the_principal_still_holds() {
    let deployment = deployment().await;
    let principal = deployment.principal(false).await;
    let (credential, _secret) = add_client_secret(&deployment.store, &principal.object_id, NOW)
        .await
        .unwrap();
    let caller = |credential_id: Option<String>| {
        std::sync::Arc::new(Caller {
            tenant_id: TenantId(deployment.tenant.tenant_id.clone()),
            object_id: ObjectId(principal.object_id.clone()),
            kind: strongroom_model::PrincipalKind::ServicePrincipal,
            app_id: principal.app_id.clone(),
            issuer: "https://sts.strongroom.localhost/t/".to_owned(),
            is_admin: false,
            credential_id,
        })
    };
    let states = strongroom_identity::PrincipalStates::default();

    let held = states
        .admit(&deployment.store, caller(Some(credential.key_id.clone())))
        .await;
    assert!(held.is_ok(), "the credential it holds: {held:?}");
    for refused in [None, Some(CREDENTIAL.to_owned())] {
        let answer = states
            .admit(&deployment.store, caller(refused.clone()))
            .await;
        assert!(
            matches!(answer, Err(TokenError::Revoked)),
            "credential {refused:?}: {answer:?}"
        );
    }
}
