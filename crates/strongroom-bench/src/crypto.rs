//! Crypto micro-benchmarks: the primitives on Strongroom's request path, in ns/op.
//!
//! Each operation is warmed up, then run in samples of a calibrated number of iterations (about
//! a tenth of `--crypto-time` each); the median sample's ns/op is reported, with the fastest
//! sample beside it. Inputs and outputs go through `std::hint::black_box` so the optimiser
//! cannot drop the work. Iteration counts are bounded whatever the timing.
//!
//! What runs where: AES-256-GCM open on every secret GET and seal on every SET (via the vault's
//! `DataKey`); the salted SHA-256 check at every token request; RS256 sign at every token
//! issue and RS256 verify for every bearer token not yet in the verifier's cache; ECDSA P-256
//! sign in every full TLS handshake (the server's certificate key). Token issue and verify
//! (cold and cached) go through `strongroom-identity` itself.

use crate::CryptoArgs;
use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, KeyPair as _, ParsedPublicKey, RsaPublicKeyComponents, UnparsedPublicKey,
};
use std::hint::black_box;
use std::time::Duration;
use strongroom_crypto::{Aad, DataKey, MasterKey, RsaSigningKey};
use strongroom_identity::{IdentityConfig, TokenIssuer, TokenRequest};
use strongroom_model::{Clock, ObjectId, ObjectKind, SystemClock, TenantId};
use strongroom_store::SqliteStore;

/// A JWT-sized signing input (`base64url(header).base64url(claims)` of our access tokens).
const JWT_INPUT_LEN: usize = 700;

/// One operation's timing.
#[derive(Debug, Clone)]
pub(crate) struct CryptoResult {
    pub(crate) name: String,
    /// Median over samples.
    pub(crate) ns_per_op: f64,
    /// Fastest sample.
    pub(crate) best_ns_per_op: f64,
    pub(crate) iterations: u64,
}

/// Times `op` (`timing::time`) as one row of the table.
fn bench<R>(name: &str, total: Duration, op: impl FnMut() -> R) -> CryptoResult {
    let timing = crate::timing::time(total, op);
    let result = CryptoResult {
        name: name.to_owned(),
        ns_per_op: timing.ns_per_op,
        best_ns_per_op: timing.best_ns_per_op,
        iterations: timing.iterations,
    };
    eprintln!("{name}: {:.0} ns/op", result.ns_per_op);
    result
}

pub(crate) fn run(args: &CryptoArgs) -> anyhow::Result<Vec<CryptoResult>> {
    let total = args.crypto_time;
    anyhow::ensure!(
        total >= Duration::from_millis(10) && total <= Duration::from_secs(60),
        "--crypto-time must be 10ms to 60s"
    );
    let mut results = Vec::new();

    // Envelope encryption, as the vault seals and opens secret payloads.
    let data_key = DataKey::generate()?;
    let aad = Aad::object(
        "bench",
        ObjectKind::Secret,
        "bench-secret",
        "0123456789abcdef0123456789abcdef",
    );
    for (label, len) in [("1 KiB", 1024usize), ("64 B", 64)] {
        let payload = vec![0xa5u8; len];
        let sealed = data_key.seal(&aad, &payload)?;
        results.push(bench(
            &format!("AES-256-GCM seal {label} (DataKey::seal, random nonce)"),
            total,
            || data_key.seal(black_box(&aad), black_box(&payload)),
        ));
        results.push(bench(
            &format!("AES-256-GCM open {label} (DataKey::open)"),
            total,
            || data_key.open(black_box(&aad), black_box(&sealed)),
        ));
    }

    // Client secrets.
    let client_secret = strongroom_crypto::random_token(32)?;
    let stored = strongroom_crypto::hash_secret(&client_secret)?;
    results.push(bench("client secret hash (salt + SHA-256)", total, || {
        strongroom_crypto::hash_secret(black_box(&client_secret))
    }));
    results.push(bench(
        "client secret verify (SHA-256, constant-time compare)",
        total,
        || strongroom_crypto::verify_secret(black_box(&stored), black_box(&client_secret)),
    ));

    // RS256, as tokens are signed and verified.
    let message = vec![b'e'; JWT_INPUT_LEN];
    let pkcs8 = strongroom_crypto::generate_rsa_signing_key()?;
    let signer = RsaSigningKey::from_pkcs8(pkcs8.expose())?;
    let rsa_pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8.expose())
        .map_err(|err| anyhow::anyhow!("RSA key: {err}"))?;
    let rsa_signature = signer.sign_rs256(&message)?;
    let (n, e) = signer.public_components();
    let rsa_public_der = rsa_pair.public_key().as_ref().to_vec();
    let rsa_parsed = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &rsa_public_der)
        .map_err(|err| anyhow::anyhow!("RSA public key: {err}"))?;
    results.push(bench(
        "RSA-2048 PKCS#1 v1.5 SHA-256 sign (700 B)",
        total,
        || signer.sign_rs256(black_box(&message)),
    ));
    results.push(bench(
        "RSA-2048 PKCS#1 v1.5 SHA-256 verify, key from (n, e) each time",
        total,
        || {
            RsaPublicKeyComponents { n: &n, e: &e }.verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                black_box(&message),
                black_box(&rsa_signature),
            )
        },
    ));
    results.push(bench(
        "RSA-2048 PKCS#1 v1.5 SHA-256 verify, key from DER each time",
        total,
        || {
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &rsa_public_der)
                .verify(black_box(&message), black_box(&rsa_signature))
        },
    ));
    results.push(bench(
        "RSA-2048 PKCS#1 v1.5 SHA-256 verify, pre-parsed key",
        total,
        || rsa_parsed.verify_sig(black_box(&message), black_box(&rsa_signature)),
    ));

    // ECDSA P-256, the TLS certificate's key.
    let rng = SystemRandom::new();
    let ecdsa = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
        .map_err(|_| anyhow::anyhow!("generating a P-256 key"))?;
    let handshake_transcript = [0x42u8; 130];
    let ecdsa_signature = ecdsa
        .sign(&rng, &handshake_transcript)
        .map_err(|_| anyhow::anyhow!("ECDSA sign"))?;
    let ecdsa_public = ParsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_ASN1,
        ecdsa.public_key().as_ref(),
    )
    .map_err(|err| anyhow::anyhow!("P-256 public key: {err}"))?;
    results.push(bench("ECDSA P-256 SHA-256 sign", total, || {
        ecdsa.sign(&rng, black_box(&handshake_transcript))
    }));
    results.push(bench(
        "ECDSA P-256 SHA-256 verify, pre-parsed key",
        total,
        || {
            ecdsa_public.verify_sig(
                black_box(&handshake_transcript),
                black_box(ecdsa_signature.as_ref()),
            )
        },
    ));

    results.extend(token_benches(total)?);
    // Built by scripts/bench.sh; a bare `cargo run -p strongroom-bench` may not have it.
    match crate::pipeline::benches(total) {
        Ok(rows) => results.extend(rows),
        Err(why) => eprintln!("in-process rows (secret GET, ES256 sign) not measured: {why}"),
    }
    results.extend(key_benches(total)?);
    results.extend(certificate_benches(total)?);

    // Sanity: the timed operations succeed (a failing op would be timed as fast nonsense).
    data_key
        .open(&aad, &data_key.seal(&aad, b"check")?)
        .context("AES-GCM round trip")?;
    anyhow::ensure!(
        strongroom_crypto::verify_secret(&stored, &client_secret),
        "secret verify"
    );
    rsa_parsed
        .verify_sig(&message, &rsa_signature)
        .map_err(|_| anyhow::anyhow!("RSA verify failed"))?;
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            &message,
            &rsa_signature,
        )
        .map_err(|_| anyhow::anyhow!("RSA (n, e) verify failed"))?;
    ecdsa_public
        .verify_sig(&handshake_transcript, ecdsa_signature.as_ref())
        .map_err(|_| anyhow::anyhow!("ECDSA verify failed"))?;
    Ok(results)
}

/// An error-mapping closure for setup steps whose errors carry nothing worth keeping.
fn failed_with<E>(what: &'static str) -> impl FnOnce(E) -> anyhow::Error {
    move |_| anyhow::anyhow!("{what}")
}

/// Key Vault key operations through `strongroom_crypto::keys::PrivateKey` (what the vault
/// calls for sign, verify, decrypt, unwrapKey and encrypt on a cached key), each beside the
/// same operation on aws-lc-rs directly, so the wrapper's own cost shows.
fn key_benches(total: Duration) -> anyhow::Result<Vec<CryptoResult>> {
    use aws_lc_rs::aead::{AES_256_GCM, Aad as GcmAad, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::digest;
    use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrap as _};
    use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey};
    use strongroom_crypto::keys::{
        CipherInput, Curve, EncryptionAlgorithm as Enc, PrivateKey, SignatureAlgorithm as Sig,
    };
    let digest_bytes = digest::digest(&digest::SHA256, b"strongroom bench digest");
    let digest32 = digest_bytes.as_ref().to_vec();
    let mut out = Vec::new();

    // RSA-2048: one key, both ways. The raw side parses the wrapper's own PKCS#8.
    let rsa = PrivateKey::generate_rsa(2048, None).map_err(failed_with("RSA key"))?;
    let stored = rsa.to_stored();
    let pkcs8 = stored.get(1..).context("stored RSA key")?;
    let raw_rsa = aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).map_err(failed_with("RSA PKCS#8"))?;
    let raw_decrypt = OaepPrivateDecryptingKey::new(
        aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(pkcs8)
            .map_err(failed_with("RSA PKCS#8"))?,
    )
    .map_err(failed_with("RSA-OAEP key"))?;
    out.push(bench("RS256 sign 2048 (PrivateKey::sign)", total, || {
        rsa.sign(Sig::Rs256, black_box(&digest32))
    }));
    out.push(bench(
        "RS256 sign 2048 (raw rsa::KeyPair::sign_digest)",
        total,
        || {
            let mut signature = [0u8; 256];
            raw_rsa.sign_digest(
                &signature::RSA_PKCS1_SHA256,
                black_box(&digest_bytes),
                &mut signature,
            )
        },
    ));
    let ciphertext = rsa
        .encrypt(Enc::RsaOaep256, &CipherInput::data(&[0x5a; 32]))
        .map_err(failed_with("RSA-OAEP-256 encrypt"))?
        .data;
    out.push(bench(
        "RSA-OAEP-256 decrypt 2048 (PrivateKey::decrypt)",
        total,
        || rsa.decrypt(Enc::RsaOaep256, &CipherInput::data(black_box(&ciphertext))),
    ));
    out.push(bench(
        "RSA-OAEP-256 decrypt 2048 (raw OaepPrivateDecryptingKey::decrypt)",
        total,
        || {
            let mut plaintext = [0u8; 256];
            raw_decrypt
                .decrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    black_box(&ciphertext),
                    &mut plaintext,
                    None,
                )
                .map(|plain| plain.len())
        },
    ));

    // P-256.
    let ec = PrivateKey::generate_ec(Curve::P256).map_err(failed_with("P-256 key"))?;
    let ec_stored = ec.to_stored();
    let raw_ec = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        ec_stored.get(1..).context("stored EC key")?,
    )
    .map_err(failed_with("P-256 PKCS#8"))?;
    let es256 = ec
        .sign(Sig::Es256, &digest32)
        .map_err(failed_with("ES256 sign"))?;
    let raw_ec_verifier = ParsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        raw_ec.public_key().as_ref(),
    )
    .map_err(failed_with("P-256 public key"))?;
    out.push(bench("ES256 sign (PrivateKey::sign)", total, || {
        ec.sign(Sig::Es256, black_box(&digest32))
    }));
    out.push(bench(
        "ES256 sign (raw EcdsaKeyPair::sign_digest)",
        total,
        || raw_ec.sign_digest(black_box(&digest_bytes)),
    ));
    out.push(bench("ES256 verify (PrivateKey::verify)", total, || {
        ec.verify(Sig::Es256, black_box(&digest32), black_box(&es256))
    }));
    out.push(bench(
        "ES256 verify (raw ParsedPublicKey::verify_digest_sig)",
        total,
        || raw_ec_verifier.verify_digest_sig(black_box(&digest_bytes), black_box(&es256)),
    ));

    // AES-256: key wrap of a 32-byte key, and GCM over 1 KiB.
    let oct = PrivateKey::generate_oct(256).map_err(failed_with("AES key"))?;
    let oct_stored = oct.to_stored();
    let aes_key = oct_stored.get(1..).context("stored oct key")?;
    // aws-lc-rs's `wrap`/`unwrap` consume the KEK, so the raw side makes one per call too.
    let kek = || AesKek::new(&AES_256, aes_key);
    let cek = [0x33u8; 32];
    let wrapped = oct
        .wrap_key(Enc::A256Kw, &cek)
        .map_err(failed_with("A256KW wrap"))?;
    out.push(bench(
        "A256KW wrap 32 B (PrivateKey::wrap_key)",
        total,
        || oct.wrap_key(Enc::A256Kw, black_box(&cek)),
    ));
    out.push(bench(
        "A256KW wrap 32 B (raw AesKek::new + wrap)",
        total,
        || {
            let mut buffer = [0u8; 40];
            kek()?
                .wrap(black_box(&cek), &mut buffer)
                .map(|out| out.len())
        },
    ));
    out.push(bench(
        "A256KW unwrap 32 B (PrivateKey::unwrap_key)",
        total,
        || oct.unwrap_key(Enc::A256Kw, black_box(&wrapped)),
    ));
    out.push(bench(
        "A256KW unwrap 32 B (raw AesKek::new + unwrap)",
        total,
        || {
            let mut buffer = [0u8; 40];
            kek()?
                .unwrap(black_box(&wrapped), &mut buffer)
                .map(|out| out.len())
        },
    ));
    let gcm =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, aes_key).map_err(failed_with("GCM key"))?);
    let plaintext = vec![0xa5u8; 1024];
    let iv = [7u8; 12];
    let sealed = oct
        .encrypt(
            Enc::A256Gcm,
            &CipherInput {
                data: &plaintext,
                iv: Some(&iv),
                aad: None,
                tag: None,
            },
        )
        .map_err(failed_with("A256GCM encrypt"))?;
    let tag = sealed.tag.clone().context("A256GCM tag")?;
    out.push(bench(
        "A256GCM encrypt 1 KiB (PrivateKey::encrypt)",
        total,
        || {
            oct.encrypt(
                Enc::A256Gcm,
                &CipherInput {
                    data: black_box(&plaintext),
                    iv: Some(&iv),
                    aad: None,
                    tag: None,
                },
            )
        },
    ));
    out.push(bench(
        "A256GCM encrypt 1 KiB (raw LessSafeKey::seal)",
        total,
        || {
            let mut buffer = plaintext.clone();
            gcm.seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(iv),
                GcmAad::empty(),
                black_box(&mut buffer),
            )
            .map(|tag| (buffer, tag))
        },
    ));
    out.push(bench(
        "A256GCM decrypt 1 KiB (PrivateKey::decrypt)",
        total,
        || {
            oct.decrypt(
                Enc::A256Gcm,
                &CipherInput {
                    data: black_box(&sealed.data),
                    iv: Some(&iv),
                    aad: None,
                    tag: Some(&tag),
                },
            )
        },
    ));
    out.push(bench(
        "A256GCM decrypt 1 KiB (raw LessSafeKey::open)",
        total,
        || {
            let mut buffer = sealed.data.clone();
            buffer.extend_from_slice(&tag);
            gcm.open_in_place(
                Nonce::assume_unique_for_key(iv),
                GcmAad::empty(),
                black_box(&mut buffer),
            )
            .map(|plain| plain.len())
        },
    ));

    // Sanity: the wrapper and the raw calls agree.
    anyhow::ensure!(
        ec.verify(Sig::Es256, &digest32, &es256)
            .map_err(failed_with("verify"))?,
        "ES256 verify"
    );
    let mut unwrapped = [0u8; 40];
    anyhow::ensure!(
        kek()
            .and_then(|kek| kek.unwrap(&wrapped, &mut unwrapped).map(|out| out == cek))
            .map_err(failed_with("unwrap"))?,
        "A256KW round trip"
    );
    Ok(out)
}

/// Certificate issuance and the secret formats, as a certificate create and import use them:
/// the issuance rows compare with the bare signature rows above (the rest is rcgen's
/// encoding), the PFX rows are the container work around the key.
fn certificate_benches(total: Duration) -> anyhow::Result<Vec<CryptoResult>> {
    use strongroom_crypto::certs::{
        CertBundle, CertificateInfo, CertificateRequestSpec, KeyUsage, build_pem, build_pfx,
        issue_self_signed, parse_pfx,
    };
    use strongroom_crypto::keys::{Curve, PrivateKey};

    let spec = CertificateRequestSpec {
        subject: "CN=bench.example, O=Strongroom".to_owned(),
        dns_names: vec!["bench.example".to_owned(), "www.bench.example".to_owned()],
        emails: Vec::new(),
        upns: Vec::new(),
        key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
        ekus: vec![
            "1.3.6.1.5.5.7.3.1".to_owned(),
            "1.3.6.1.5.5.7.3.2".to_owned(),
        ],
        validity_months: 12,
        not_before: SystemClock.now(),
    };
    let ec = PrivateKey::generate_ec(Curve::P256)?;
    let rsa = PrivateKey::generate_rsa(2048, None)?;
    let leaf = issue_self_signed(&rsa, &spec)?;
    let bundle = CertBundle {
        key: Some(PrivateKey::from_pkcs8_der(&rsa.private_bytes())?),
        leaf: leaf.clone(),
        chain: Vec::new(),
    };
    let pfx = build_pfx(&bundle)?;
    anyhow::ensure!(
        parse_pfx(&pfx, None)?.leaf == leaf,
        "the PFX does not round-trip"
    );
    Ok(vec![
        bench(
            "certificate issue, self-signed P-256 (rcgen)",
            total,
            || issue_self_signed(black_box(&ec), &spec),
        ),
        bench(
            "certificate issue, self-signed RSA-2048 (rcgen)",
            total,
            || issue_self_signed(black_box(&rsa), &spec),
        ),
        bench("certificate parse (CertificateInfo::parse)", total, || {
            CertificateInfo::parse(black_box(&leaf))
        }),
        bench(
            "certificate secret, PFX build (RSA-2048, no password)",
            total,
            || build_pfx(black_box(&bundle)),
        ),
        bench("certificate secret, PEM build (RSA-2048)", total, || {
            build_pem(black_box(&bundle))
        }),
        bench(
            "certificate import, PFX parse (RSA-2048, no password)",
            total,
            || parse_pfx(black_box(&pfx), None),
        ),
    ])
}

/// Token issue and verify through `strongroom-identity`, as the token endpoint and every
/// authenticated request use them. The issuer's key lives in a throw-away store.
fn token_benches(total: Duration) -> anyhow::Result<Vec<CryptoResult>> {
    let dir = tempfile::tempdir().context("temporary store directory")?;
    let store = SqliteStore::open(&dir.path().join("identity.db"))?;
    let master = MasterKey::generate()?;
    let config = IdentityConfig {
        domain: "localhost".to_owned(),
        public_origin: "https://localhost:8443".to_owned(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime for the store")?;
    let issuer = runtime.block_on(TokenIssuer::load_or_create(&store, &master, config))?;
    let audience = "https://vault.localhost:8443".to_owned();
    let audiences = vec![audience.clone()];
    let request = TokenRequest {
        tenant_id: TenantId("72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned()),
        object_id: ObjectId("0b6f2a1c-8d1e-4f55-a3c1-2f1c9f8e7d6a".to_owned()),
        app_id: "1950a258-227b-4e31-a9cf-717495945fc2".to_owned(),
        audience,
        is_admin: false,
        credential_id: Some("5e1d1b1c-6a7e-4d1f-9a51-0c3b2d9f8e11".to_owned()),
        user: None,
    };
    let now = SystemClock.now();
    let token = issuer.issue(&request, now)?.access_token;
    let warm = issuer.verifier();
    warm.verify(&token, now, &audiences)
        .map_err(|err| anyhow::anyhow!("the issued token does not verify: {err:?}"))?;

    // Interactive sign-in (issue 12): a password check, and a refresh token's seal and open.
    let password_hash = strongroom_crypto::hash_password("Corr3ct-horse-battery")?;
    let grant = strongroom_identity::RefreshGrant {
        jti: "bm90IGEgcmVhbCBqdGk".to_owned(),
        oid: request.object_id.0.clone(),
        tid: request.tenant_id.0.clone(),
        cred: "5e1d1b1c-6a7e-4d1f-9a51-0c3b2d9f8e11".to_owned(),
        client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46".to_owned(),
        auth_time: now.0,
    };
    let sealed_grant = issuer.seal_artifact(&grant, now)?;

    Ok(vec![
        bench(
            "password verify (Argon2id m=19 MiB t=2 p=1: one sign-in)",
            total,
            || {
                strongroom_crypto::verify_password(
                    &password_hash,
                    black_box("Corr3ct-horse-battery"),
                )
            },
        ),
        bench(
            "refresh token seal (claims JSON + RS256 sign)",
            total,
            || issuer.seal_artifact(black_box(&grant), now),
        ),
        bench("refresh token open (RS256 verify + claims)", total, || {
            issuer.open_artifact::<strongroom_identity::RefreshGrant>(black_box(&sealed_grant), now)
        }),
        bench("token issue (claims JSON + RS256 sign)", total, || {
            issuer.issue(black_box(&request), now)
        }),
        bench(
            "token verifier construction (subtract from the next line)",
            total,
            || issuer.verifier(),
        ),
        bench(
            "token verify, cold (fresh verifier: signature + claims)",
            total,
            || issuer.verifier().verify(black_box(&token), now, &audiences),
        ),
        bench(
            "token verify, cached (SHA-256 of the signature, map lookup, signed-part compare)",
            total,
            || warm.verify(black_box(&token), now, &audiences),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_runs_and_reports_a_positive_cost() {
        let results = run(&CryptoArgs {
            crypto_time: Duration::from_millis(10),
        })
        .unwrap();
        assert!(results.len() >= 32);
        for result in &results {
            assert!(result.ns_per_op > 0.0, "{}", result.name);
            assert!(result.best_ns_per_op <= result.ns_per_op, "{}", result.name);
            assert!(
                result.iterations >= u64::from(crate::timing::SAMPLES),
                "{}",
                result.name
            );
        }
    }
}
