//! `KeyClient` in direct mode: create RSA and EC keys, sign in the vault and check the signature
//! both with the vault's `verify` and locally against the public key the SDK returned,
//! encrypt/decrypt (RSA-OAEP-256) and wrap/unwrap, list, delete.

use std::collections::BTreeSet;

use aws_lc_rs::{digest, signature};
use azure_core::http::StatusCode;
use azure_security_keyvault_keys::KeyClient;
use azure_security_keyvault_keys::ResourceExt;
use azure_security_keyvault_keys::models::{
    CreateKeyParameters, CurveName, EncryptionAlgorithm, Key, KeyClientSignOptions,
    KeyOperationParameters, KeyType, SignParameters, SignatureAlgorithm, VerifyParameters,
};
use futures::TryStreamExt;

use crate::{direct_vault, http_error};

const MESSAGE: &[u8] = b"Strongroom signs what the Rust SDK asks it to sign";

async fn create_key(client: &KeyClient, name: &str, parameters: CreateKeyParameters) -> Key {
    client
        .create_key(name, parameters.try_into().unwrap(), None)
        .await
        .unwrap_or_else(|err| panic!("create_key {name}: {err:?}"))
        .into_model()
        .unwrap()
}

/// `sign` in the vault over `digest`, with the key's current version.
async fn sign(
    client: &KeyClient,
    name: &str,
    algorithm: SignatureAlgorithm,
    digest: &[u8],
) -> Vec<u8> {
    let parameters = SignParameters {
        algorithm: Some(algorithm),
        value: Some(digest.to_vec()),
    };
    client
        .sign(
            name,
            parameters.try_into().unwrap(),
            None::<KeyClientSignOptions<'_>>,
        )
        .await
        .unwrap_or_else(|err| panic!("sign with {name}: {err:?}"))
        .into_model()
        .unwrap()
        .result
        .expect("a signature")
}

/// `verify` in the vault.
async fn vault_verifies(
    client: &KeyClient,
    name: &str,
    algorithm: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> bool {
    let parameters = VerifyParameters {
        algorithm: Some(algorithm),
        digest: Some(digest.to_vec()),
        signature: Some(signature.to_vec()),
    };
    client
        .verify(name, "", parameters.try_into().unwrap(), None)
        .await
        .unwrap_or_else(|err| panic!("verify with {name}: {err:?}"))
        .into_model()
        .unwrap()
        .value
        .expect("a verify result")
}

#[tokio::test]
async fn rsa_sign_verify_encrypt_decrypt() {
    let (_server, _vault, env) = direct_vault("keys");
    let client = env.key_client();

    let key = create_key(
        &client,
        "signer",
        CreateKeyParameters {
            kty: Some(KeyType::Rsa),
            key_size: Some(2048),
            ..Default::default()
        },
    )
    .await;
    let id = key.resource_id().unwrap();
    assert_eq!(id.vault_url, env.vault_url());
    assert_eq!(id.name, "signer");
    let jwk = key.key.expect("the public JWK");
    assert_eq!(jwk.kty, Some(KeyType::Rsa));
    assert_eq!(jwk.d, None, "a private part was returned");
    let (n, e) = (jwk.n.expect("n"), jwk.e.expect("e"));
    assert_eq!(n.len(), 256, "a 2048-bit modulus");
    assert_eq!(e, [1, 0, 1]);

    // RS256: the vault signs the SHA-256 digest; the signature verifies in the vault and, with
    // the returned public key, locally.
    let message_digest = digest::digest(&digest::SHA256, MESSAGE);
    let signature = sign(
        &client,
        "signer",
        SignatureAlgorithm::Rs256,
        message_digest.as_ref(),
    )
    .await;
    assert_eq!(signature.len(), 256);
    assert!(
        vault_verifies(
            &client,
            "signer",
            SignatureAlgorithm::Rs256,
            message_digest.as_ref(),
            &signature
        )
        .await
    );
    signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, MESSAGE, &signature)
        .expect("the vault's RS256 signature verifies locally");
    let other_digest = digest::digest(&digest::SHA256, b"another message");
    assert!(
        !vault_verifies(
            &client,
            "signer",
            SignatureAlgorithm::Rs256,
            other_digest.as_ref(),
            &signature
        )
        .await,
        "a signature verified over another digest"
    );

    // RSA-OAEP-256 round trip.
    let plaintext = b"a data key, 32 bytes long.......".to_vec();
    let encrypted = client
        .encrypt(
            "signer",
            KeyOperationParameters {
                algorithm: Some(EncryptionAlgorithm::RsaOaep256),
                value: Some(plaintext.clone()),
                ..Default::default()
            }
            .try_into()
            .unwrap(),
            None,
        )
        .await
        .expect("encrypt")
        .into_model()
        .unwrap();
    let version = encrypted
        .kid
        .as_deref()
        .expect("kid")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(Some(version.as_str()), id.version.as_deref());
    let ciphertext = encrypted.result.expect("ciphertext");
    assert_eq!(ciphertext.len(), 256);
    assert_ne!(ciphertext[..plaintext.len()], plaintext[..]);
    let decrypted = client
        .decrypt(
            "signer",
            &version,
            KeyOperationParameters {
                algorithm: Some(EncryptionAlgorithm::RsaOaep256),
                value: Some(ciphertext),
                ..Default::default()
            }
            .try_into()
            .unwrap(),
            None,
        )
        .await
        .expect("decrypt")
        .into_model()
        .unwrap();
    assert_eq!(decrypted.result.as_deref(), Some(plaintext.as_slice()));

    // Wrap and unwrap a key with the same RSA key.
    let wrapped = client
        .wrap_key(
            "signer",
            KeyOperationParameters {
                algorithm: Some(EncryptionAlgorithm::RsaOaep256),
                value: Some(vec![7; 32]),
                ..Default::default()
            }
            .try_into()
            .unwrap(),
            None,
        )
        .await
        .expect("wrap_key")
        .into_model()
        .unwrap()
        .result
        .expect("wrapped key");
    let unwrapped = client
        .unwrap_key(
            "signer",
            &version,
            KeyOperationParameters {
                algorithm: Some(EncryptionAlgorithm::RsaOaep256),
                value: Some(wrapped),
                ..Default::default()
            }
            .try_into()
            .unwrap(),
            None,
        )
        .await
        .expect("unwrap_key")
        .into_model()
        .unwrap();
    assert_eq!(unwrapped.result, Some(vec![7; 32]));
}

#[tokio::test]
async fn ec_sign_list_and_delete() {
    let (_server, _vault, env) = direct_vault("eckeys");
    let client = env.key_client();

    let key = create_key(
        &client,
        "ec-signer",
        CreateKeyParameters {
            kty: Some(KeyType::Ec),
            curve: Some(CurveName::P256),
            ..Default::default()
        },
    )
    .await;
    let jwk = key.key.expect("the public JWK");
    assert_eq!(jwk.crv, Some(CurveName::P256));
    let (x, y) = (jwk.x.expect("x"), jwk.y.expect("y"));
    assert_eq!((x.len(), y.len()), (32, 32));

    // ES256: a raw r||s signature over the digest, checked locally with the returned point.
    let message_digest = digest::digest(&digest::SHA256, MESSAGE);
    let es256 = sign(
        &client,
        "ec-signer",
        SignatureAlgorithm::Es256,
        message_digest.as_ref(),
    )
    .await;
    assert_eq!(es256.len(), 64);
    let point = [&[4u8][..], &x, &y].concat();
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
        .verify(MESSAGE, &es256)
        .expect("the vault's ES256 signature verifies locally");
    assert!(
        vault_verifies(
            &client,
            "ec-signer",
            SignatureAlgorithm::Es256,
            message_digest.as_ref(),
            &es256
        )
        .await
    );

    for name in ["rsa-a", "rsa-b"] {
        create_key(
            &client,
            name,
            CreateKeyParameters {
                kty: Some(KeyType::Rsa),
                ..Default::default()
            },
        )
        .await;
    }
    let listed: BTreeSet<String> = client
        .list_key_properties(None)
        .unwrap()
        .map_ok(|properties| properties.resource_id().unwrap().name)
        .try_collect()
        .await
        .expect("list_key_properties");
    assert_eq!(
        listed,
        BTreeSet::from(["ec-signer".into(), "rsa-a".into(), "rsa-b".into()])
    );

    let deleted = client
        .delete_key("rsa-a", None)
        .await
        .expect("delete_key")
        .into_model()
        .unwrap();
    assert_eq!(
        deleted.recovery_id.as_deref(),
        Some(format!("{}/deletedkeys/rsa-a", env.vault_url()).as_str())
    );
    let err = client
        .get_key("rsa-a", None)
        .await
        .expect_err("get of a deleted key");
    let (status, code, _) = http_error(&err);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NotFound, "KeyNotFound")
    );
}
