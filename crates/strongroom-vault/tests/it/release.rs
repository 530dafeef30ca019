//! Secure key release end to end in the vault layer: a premium vault, an exportable RSA-HSM
//! key with a release policy, a deployment that trusts one attestation authority, and a
//! target whose attestation token carries its RSA public key. The released material,
//! unwrapped with the target's private key, signs like the vault's key.

use super::{TENANT, grant, name, open_store, policy_all};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::sync::Arc;
use strongroom_crypto::keys::{PrivateKey, PublicKey, ReleaseWrapping, unwrap_released};
use strongroom_crypto::{
    AssertionAlgorithm, LocalCa, MasterKey, RsaSigningKey, generate_rsa_signing_key,
    rsa_signature_verifies,
};
use strongroom_model::{ManualClock, TenantId, VaultName};
use strongroom_vault::keys::{
    self, AttestationAuthority, CreateKey, KeyType, ReleaseConfig, ReleasePolicy, ReleaseSigner,
    SignatureAlgorithm,
};
use strongroom_vault::{Vault, VaultCtx, VaultError, VaultSku};

const MAA: &str = "https://maa.example.test";

struct Deployment {
    _dir: tempfile::TempDir,
    ctx: VaultCtx,
    vault: Vault,
    authority_key: RsaSigningKey,
    target: PrivateKey,
}

async fn deployment() -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::default();
    let authority_key =
        RsaSigningKey::from_pkcs8(generate_rsa_signing_key().unwrap().expose()).unwrap();
    let (n, e) = authority_key.public_components();
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "maa-1",
        "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)}]});
    let ca = LocalCa::generate("Release test CA").unwrap();
    let signing_key = generate_rsa_signing_key().unwrap();
    let leaf = ca
        .issue_signing_cert(signing_key.expose(), &["*.vault.localhost".to_owned()])
        .unwrap();
    let release = ReleaseConfig {
        authorities: vec![
            AttestationAuthority::from_jwks(&format!("{MAA}/"), jwks.to_string().as_bytes())
                .unwrap(),
        ],
        signer: Some(Arc::new(
            ReleaseSigner::new(signing_key.expose(), &[leaf, ca.cert_der().to_vec()]).unwrap(),
        )),
    };
    let ctx = VaultCtx::new(
        Arc::new(open_store(dir.path())),
        Arc::new(clock),
        Arc::new(MasterKey::generate().unwrap()),
    )
    .with_release(release);
    let vault = strongroom_vault::vaults::create(
        &ctx,
        VaultName::parse("premium").unwrap(),
        TenantId(TENANT.to_owned()),
        7,
        VaultSku::Premium,
        vec![policy_all()],
    )
    .await
    .unwrap();
    Deployment {
        _dir: dir,
        ctx,
        vault,
        authority_key,
        target: PrivateKey::generate_rsa(2048, None).unwrap(),
    }
}

fn policy(authority: &str, attestation_type: &str) -> ReleasePolicy {
    let document = json!({"version": "1.0.0", "anyOf": [{"authority": authority, "allOf": [
        {"claim": "x-ms-attestation-type", "equals": attestation_type},
        {"claim": "x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable", "equals": false}
    ]}]});
    ReleasePolicy {
        content_type: "application/json; charset=utf-8".to_owned(),
        data: document.to_string().into_bytes(),
        immutable: false,
    }
}

fn create_params(exportable: bool, release_policy: Option<ReleasePolicy>) -> CreateKey {
    CreateKey {
        key_type: KeyType::RsaHsm,
        size: Some(2048),
        public_exponent: None,
        curve: None,
        key_ops: None,
        enabled: None,
        not_before: None,
        expires: None,
        exportable: Some(exportable),
        tags: None,
        release_policy,
    }
}

impl Deployment {
    fn token(&self, claims: Value) -> String {
        let header = json!({"alg": "RS256", "kid": "maa-1", "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.authority_key.sign_rs256(input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn claims(&self) -> Value {
        let PublicKey::Rsa { n, e } = self.target.public() else {
            unreachable!()
        };
        let now = self.ctx.now().seconds();
        json!({
            "iss": MAA, "nbf": now - 60, "exp": now + 600,
            "x-ms-attestation-type": "sevsnpvm",
            "x-ms-isolation-tee": {"x-ms-sevsnpvm-is-debuggable": false},
            "x-ms-runtime": {"keys": [{"kid": "TpmEphemeralEncryptionKey", "kty": "RSA",
                "key_ops": ["encrypt"], "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)}]}
        })
    }

    async fn release(&self, key: &str, token: &str) -> Result<keys::ReleasedKey, VaultError> {
        keys::release(
            &self.ctx,
            &self.vault,
            &grant(),
            &name(key),
            None,
            token,
            ReleaseWrapping::CkmRsaAesKeyWrap,
        )
        .await
    }
}

#[tokio::test]
async fn released_key_unwraps_for_the_target_and_signs_like_the_vault_key() {
    let d = deployment().await;
    keys::create(
        &d.ctx,
        &d.vault,
        &grant(),
        &name("skr"),
        create_params(true, Some(policy(MAA, "sevsnpvm"))),
    )
    .await
    .unwrap();
    let released = d.release("skr", &d.token(d.claims())).await.unwrap();
    assert_eq!(
        released.target_kid.as_deref(),
        Some("TpmEphemeralEncryptionKey")
    );
    assert_eq!(released.properties.name, name("skr"));

    // The material: PKCS#8, wrapped for the target.
    let pkcs8 = unwrap_released(
        ReleaseWrapping::CkmRsaAesKeyWrap,
        &d.target,
        &released.ciphertext,
    )
    .unwrap();
    let mut stored = vec![1u8]; // `PrivateKey::to_stored`'s RSA tag
    stored.extend_from_slice(&pkcs8);
    let recovered = PrivateKey::from_stored(&stored).unwrap();
    assert_eq!(recovered.public(), released.properties.public);
    let digest = [7u8; 32];
    let (_, vault_signature) = keys::sign(
        &d.ctx,
        &d.vault,
        &grant(),
        &name("skr"),
        None,
        SignatureAlgorithm::Rs256,
        &digest,
    )
    .await
    .unwrap();
    assert_eq!(
        recovered.sign(SignatureAlgorithm::Rs256, &digest).unwrap(),
        vault_signature
    );

    // The JWS: RS256 by the leaf in x5c, which the CA issued.
    let jws = released.sign(br#"{"payload":true}"#).unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], header["x5t#S256"]);
    assert_eq!(header["x5c"].as_array().unwrap().len(), 2);
    let leaf = STANDARD.decode(header["x5c"][0].as_str().unwrap()).unwrap();
    let info = strongroom_crypto::parse_client_certificate(&leaf).unwrap();
    let (n, e) = info.rsa_public();
    let input = format!("{}.{}", parts[0], parts[1]);
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    assert!(rsa_signature_verifies(
        AssertionAlgorithm::Rs256,
        n,
        e,
        input.as_bytes(),
        &signature
    ));
    assert_eq!(
        URL_SAFE_NO_PAD.decode(parts[1]).unwrap(),
        br#"{"payload":true}"#
    );
}

#[tokio::test]
async fn release_refusals() {
    let d = deployment().await;
    let create = |key: &'static str, params: CreateKey| {
        let d = &d;
        async move { keys::create(&d.ctx, &d.vault, &grant(), &name(key), params).await }
    };
    create("sgx", create_params(true, Some(policy(MAA, "sgx"))))
        .await
        .unwrap();
    create(
        "elsewhere",
        create_params(true, Some(policy("https://other.example.test", "sevsnpvm"))),
    )
    .await
    .unwrap();
    create("plain", create_params(false, None)).await.unwrap();
    create("good", create_params(true, Some(policy(MAA, "sevsnpvm"))))
        .await
        .unwrap();

    let message = |result: Result<keys::ReleasedKey, VaultError>| match result {
        Ok(_) => "released".to_owned(),
        Err(VaultError::InvalidParameter(message)) => format!("400 {message}"),
        Err(other) => format!("other {other:?}"),
    };
    let token = d.token(d.claims());
    assert_eq!(
        message(d.release("sgx", &token).await),
        "400 AKV.SKR.1033: The target attestation token does not satisfy the key release policy."
    );
    assert_eq!(
        message(d.release("elsewhere", &token).await),
        "400 AKV.SKR.1032: None of the key release policy's authorities is trusted by this deployment."
    );
    assert_eq!(
        message(d.release("plain", &token).await),
        "400 The key is not exportable; only exportable keys with a release policy can be released."
    );
    let mut no_keys = d.claims();
    no_keys["x-ms-runtime"]["keys"] = json!([]);
    assert_eq!(
        message(d.release("good", &d.token(no_keys)).await),
        "400 AKV.SKR.1034: The target attestation token carries no RSA key to wrap the released key (x-ms-runtime.keys)."
    );
    let mut expired = d.claims();
    expired["exp"] = json!(d.ctx.now().seconds() - 1);
    assert_eq!(
        message(d.release("good", &d.token(expired)).await),
        "400 AKV.SKR.1031: The target attestation token has expired."
    );
    // The signature's last base64url character carries its last two bits: A, Q, g or w.
    let flipped = if token.ends_with('A') { 'Q' } else { 'A' };
    let tampered = format!("{}{flipped}", &token[..token.len() - 1]);
    assert_eq!(
        message(d.release("good", &tampered).await),
        "400 AKV.SKR.1030: The target attestation token is invalid: the signature does not verify."
    );

    // A malformed policy never gets stored.
    let mut bad = policy(MAA, "sevsnpvm");
    bad.data = br#"{"version":"1.0.0","anyOf":[{"authority":"https://maa.example.test","allOf":[{"claim":"x","contains":"y"}]}]}"#.to_vec();
    let refused = create("bad", create_params(true, Some(bad))).await;
    assert!(
        matches!(&refused, Err(VaultError::InvalidParameter(m)) if m == "AKV.SKR.1010: The key release policy is invalid: 'contains' is not allowed in a claim condition."),
        "{refused:?}"
    );
}
