//! Round trips for every algorithm and key type and size: sign/verify (also with the public key
//! alone), encrypt/decrypt, wrap/unwrap, stored and exported forms; and cross-checks against
//! raw aws-lc-rs, so that our results are what an independent verifier or decrypter expects.

use super::{digest_for, ec, oct, rsa};
use crate::keys::{
    CipherInput, Curve, EncryptionAlgorithm, KeyFamily, PrivateKey, PublicKey, SignatureAlgorithm,
    encrypt_with_public, verify_with_public,
};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey,
    Pkcs1PrivateDecryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

const MESSAGE: &[u8] = b"header.payload";
const RSA_SIZES: [usize; 3] = [2048, 3072, 4096];
const RSA_SIGNATURES: [SignatureAlgorithm; 6] = [
    SignatureAlgorithm::Rs256,
    SignatureAlgorithm::Rs384,
    SignatureAlgorithm::Rs512,
    SignatureAlgorithm::Ps256,
    SignatureAlgorithm::Ps384,
    SignatureAlgorithm::Ps512,
];
const RSA_ENCRYPTIONS: [EncryptionAlgorithm; 3] = [
    EncryptionAlgorithm::Rsa15,
    EncryptionAlgorithm::RsaOaep,
    EncryptionAlgorithm::RsaOaep256,
];

/// Signs, verifies with the key and with its public half, refuses a changed digest and a
/// changed signature.
fn sign_and_verify(key: &PrivateKey, alg: SignatureAlgorithm) -> Vec<u8> {
    let digest = digest_for(alg, MESSAGE);
    let signature = key.sign(alg, &digest).unwrap();
    let public = key.public();
    assert!(key.verify(alg, &digest, &signature).unwrap(), "{alg}");
    assert!(
        verify_with_public(&public, alg, &digest, &signature).unwrap(),
        "{alg}"
    );

    let other_digest = digest_for(alg, b"header.payloaD");
    assert!(
        !key.verify(alg, &other_digest, &signature).unwrap(),
        "{alg}"
    );
    assert!(
        !verify_with_public(&public, alg, &other_digest, &signature).unwrap(),
        "{alg}"
    );
    let mut tampered = signature.clone();
    tampered[5] ^= 0x80;
    assert!(!key.verify(alg, &digest, &tampered).unwrap(), "{alg}");
    assert!(
        !key.verify(alg, &digest, &signature[1..]).unwrap(),
        "{alg}: short signature"
    );
    signature
}

fn raw_rsa_parameters(alg: SignatureAlgorithm) -> &'static signature::RsaParameters {
    match alg {
        SignatureAlgorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        SignatureAlgorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        SignatureAlgorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        SignatureAlgorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
        SignatureAlgorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
        SignatureAlgorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => unreachable!(),
    }
}

#[test]
fn rsa_signatures_round_trip_and_verify_with_raw_aws_lc() {
    for bits in RSA_SIZES {
        let key = rsa(bits);
        assert_eq!(
            (key.family(), key.size_bits(), key.curve()),
            (KeyFamily::Rsa, bits, None)
        );
        let PublicKey::Rsa { n, e } = key.public() else {
            panic!("RSA")
        };
        assert_eq!(n.len() * 8, bits);
        assert_ne!(n[0], 0);
        assert_eq!(e, [1, 0, 1]);
        for alg in RSA_SIGNATURES {
            let signature = sign_and_verify(key, alg);
            assert_eq!(signature.len() * 8, bits);
            // Raw aws-lc-rs over the message (it hashes itself): PKCS#1 v1.5, and PSS with
            // salt length = digest length.
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(raw_rsa_parameters(alg), MESSAGE, &signature)
                .unwrap_or_else(|_| panic!("raw aws-lc rejects our {alg} signature"));
        }
    }
}

#[test]
fn rsa_pkcs1_signatures_are_deterministic_and_pss_randomised() {
    let key = rsa(2048);
    let digest = digest_for(SignatureAlgorithm::Rs256, MESSAGE);
    assert_eq!(
        key.sign(SignatureAlgorithm::Rs256, &digest).unwrap(),
        key.sign(SignatureAlgorithm::Rs256, &digest).unwrap()
    );
    assert_ne!(
        key.sign(SignatureAlgorithm::Ps256, &digest).unwrap(),
        key.sign(SignatureAlgorithm::Ps256, &digest).unwrap()
    );
}

#[test]
fn ec_signatures_round_trip_and_verify_with_raw_aws_lc() {
    let cases = [
        (
            Curve::P256,
            SignatureAlgorithm::Es256,
            &signature::ECDSA_P256_SHA256_FIXED,
            32,
        ),
        (
            Curve::P384,
            SignatureAlgorithm::Es384,
            &signature::ECDSA_P384_SHA384_FIXED,
            48,
        ),
        (
            Curve::P521,
            SignatureAlgorithm::Es512,
            &signature::ECDSA_P521_SHA512_FIXED,
            66,
        ),
        (
            Curve::P256K,
            SignatureAlgorithm::Es256K,
            &signature::ECDSA_P256K1_SHA256_FIXED,
            32,
        ),
    ];
    for (curve, alg, raw_alg, field_len) in cases {
        let key = ec(curve);
        assert_eq!(
            (key.family(), key.curve(), key.size_bits()),
            (KeyFamily::Ec, Some(curve), curve.bits())
        );
        let signature = sign_and_verify(key, alg);
        assert_eq!(signature.len(), 2 * field_len, "{alg}: fixed r || s");
        let PublicKey::Ec {
            curve: public_curve,
            x,
            y,
        } = key.public()
        else {
            panic!("EC")
        };
        assert_eq!(
            (public_curve, x.len(), y.len()),
            (curve, field_len, field_len)
        );
        let point = [&[0x04][..], &x, &y].concat();
        UnparsedPublicKey::new(raw_alg, &point)
            .verify(MESSAGE, &signature)
            .unwrap_or_else(|_| panic!("raw aws-lc rejects our {alg} signature"));
    }
}

#[test]
fn rsa_encryption_round_trips_and_matches_raw_aws_lc() {
    for bits in RSA_SIZES {
        let key = rsa(bits);
        let public = key.public();
        // Raw aws-lc reads our stored PKCS#8 (after the tag byte).
        let raw = PrivateDecryptingKey::from_pkcs8(&key.to_stored()[1..]).unwrap();
        for alg in RSA_ENCRYPTIONS {
            let secret = b"a 32-byte content encryption key";
            let output = key.encrypt(alg, &CipherInput::data(secret)).unwrap();
            assert_eq!(
                (output.data.len() * 8, &output.iv, &output.tag),
                (bits, &None, &None)
            );
            assert_eq!(
                *key.decrypt(alg, &CipherInput::data(&output.data)).unwrap(),
                secret
            );

            let from_public = encrypt_with_public(&public, alg, secret).unwrap();
            assert_eq!(
                *key.decrypt(alg, &CipherInput::data(&from_public)).unwrap(),
                secret
            );
            assert_ne!(from_public, output.data, "{alg} is randomised");

            let wrapped = key.wrap_key(alg, secret).unwrap();
            assert_eq!(*key.unwrap_key(alg, &wrapped).unwrap(), secret);

            let mut plaintext = vec![0u8; bits / 8];
            let raw_plaintext = match alg {
                EncryptionAlgorithm::Rsa15 => Pkcs1PrivateDecryptingKey::new(raw.clone())
                    .unwrap()
                    .decrypt(&wrapped, &mut plaintext)
                    .unwrap()
                    .to_vec(),
                EncryptionAlgorithm::RsaOaep => OaepPrivateDecryptingKey::new(raw.clone())
                    .unwrap()
                    .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut plaintext, None)
                    .unwrap()
                    .to_vec(),
                _ => OaepPrivateDecryptingKey::new(raw.clone())
                    .unwrap()
                    .decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut plaintext, None)
                    .unwrap()
                    .to_vec(),
            };
            assert_eq!(raw_plaintext, secret, "{alg}");

            // The longest plaintext each padding allows, and an empty one.
            let max_len = match alg {
                EncryptionAlgorithm::Rsa15 => bits / 8 - 11,
                EncryptionAlgorithm::RsaOaep => bits / 8 - 2 * 20 - 2,
                _ => bits / 8 - 2 * 32 - 2,
            };
            for len in [0, max_len] {
                let plaintext = vec![0xabu8; len];
                let ciphertext = encrypt_with_public(&public, alg, &plaintext).unwrap();
                assert_eq!(
                    *key.decrypt(alg, &CipherInput::data(&ciphertext)).unwrap(),
                    plaintext
                );
            }
        }
    }
}

#[test]
fn aes_round_trips_for_every_size_and_mode() {
    for (bits, gcm, cbc, cbc_pad, kw) in [
        (
            128,
            EncryptionAlgorithm::A128Gcm,
            EncryptionAlgorithm::A128Cbc,
            EncryptionAlgorithm::A128CbcPad,
            EncryptionAlgorithm::A128Kw,
        ),
        (
            192,
            EncryptionAlgorithm::A192Gcm,
            EncryptionAlgorithm::A192Cbc,
            EncryptionAlgorithm::A192CbcPad,
            EncryptionAlgorithm::A192Kw,
        ),
        (
            256,
            EncryptionAlgorithm::A256Gcm,
            EncryptionAlgorithm::A256Cbc,
            EncryptionAlgorithm::A256CbcPad,
            EncryptionAlgorithm::A256Kw,
        ),
    ] {
        let key = oct(bits);
        assert_eq!(
            (key.family(), key.size_bits(), key.public()),
            (KeyFamily::Oct, bits, PublicKey::Oct)
        );

        // GCM, iv generated, with and without aad; empty plaintext too.
        for (plaintext, aad) in [(&b"attack at dawn"[..], None), (b"", Some(&b"context"[..]))] {
            let sealed = key
                .encrypt(
                    gcm,
                    &CipherInput {
                        data: plaintext,
                        aad,
                        ..CipherInput::default()
                    },
                )
                .unwrap();
            let (iv, tag) = (sealed.iv.clone().unwrap(), sealed.tag.clone().unwrap());
            assert_eq!(
                (iv.len(), tag.len(), sealed.data.len()),
                (12, 16, plaintext.len())
            );
            let opened = key
                .decrypt(
                    gcm,
                    &CipherInput {
                        data: &sealed.data,
                        iv: Some(&iv),
                        aad,
                        tag: Some(&tag),
                    },
                )
                .unwrap();
            assert_eq!(*opened, plaintext);
        }
        let first = key.encrypt(gcm, &CipherInput::data(b"same")).unwrap();
        let second = key.encrypt(gcm, &CipherInput::data(b"same")).unwrap();
        assert_ne!(first.iv, second.iv, "fresh iv per call");

        // CBC: no padding needs whole blocks; PAD takes any length.
        let iv = [7u8; 16];
        for (alg, plaintext) in [
            (cbc, &[1u8; 32][..]),
            (cbc_pad, &b"not a block multiple"[..]),
            (cbc_pad, b""),
        ] {
            let input = CipherInput {
                data: plaintext,
                iv: Some(&iv),
                ..CipherInput::default()
            };
            let output = key.encrypt(alg, &input).unwrap();
            let input = CipherInput {
                data: &output.data,
                iv: Some(&iv),
                ..CipherInput::default()
            };
            assert_eq!(*key.decrypt(alg, &input).unwrap(), plaintext, "{alg}");
        }

        // Key wrap of 16, 24 and 32-byte keys.
        for len in [16, 24, 32] {
            let secret = vec![0x5au8; len];
            let wrapped = key.wrap_key(kw, &secret).unwrap();
            assert_eq!(wrapped.len(), len + 8);
            assert_eq!(*key.unwrap_key(kw, &wrapped).unwrap(), secret, "{kw}");
        }
    }
}

#[test]
fn stored_and_exported_forms_reload_the_same_key() {
    let mut keys: Vec<&PrivateKey> = RSA_SIZES.iter().map(|&bits| rsa(bits)).collect();
    keys.extend(Curve::ALL.iter().map(|&curve| ec(curve)));
    keys.extend([128, 192, 256].map(oct));
    for key in keys {
        let stored = key.to_stored();
        let reloaded = PrivateKey::from_stored(&stored).unwrap();
        let imported = PrivateKey::import(&key.export()).unwrap();
        for other in [&reloaded, &imported] {
            assert_eq!(other.public(), key.public());
            assert_eq!(
                (other.family(), other.curve(), other.size_bits()),
                (key.family(), key.curve(), key.size_bits())
            );
            assert_eq!(*other.to_stored(), *stored, "{key:?}: same stored bytes");
        }
        // Working operations on the reloaded key, checked by the original.
        match key.family() {
            KeyFamily::Rsa => {
                let digest = digest_for(SignatureAlgorithm::Ps256, MESSAGE);
                let signature = reloaded.sign(SignatureAlgorithm::Ps256, &digest).unwrap();
                assert!(
                    key.verify(SignatureAlgorithm::Ps256, &digest, &signature)
                        .unwrap()
                );
                let wrapped = imported
                    .wrap_key(EncryptionAlgorithm::RsaOaep256, b"k")
                    .unwrap();
                assert_eq!(
                    *key.unwrap_key(EncryptionAlgorithm::RsaOaep256, &wrapped)
                        .unwrap(),
                    b"k"
                );
            }
            KeyFamily::Ec => {
                let alg = match key.curve().unwrap() {
                    Curve::P256 => SignatureAlgorithm::Es256,
                    Curve::P384 => SignatureAlgorithm::Es384,
                    Curve::P521 => SignatureAlgorithm::Es512,
                    Curve::P256K => SignatureAlgorithm::Es256K,
                };
                let digest = digest_for(alg, MESSAGE);
                let signature = imported.sign(alg, &digest).unwrap();
                assert!(key.verify(alg, &digest, &signature).unwrap());
            }
            KeyFamily::Oct => {
                let alg = match key.size_bits() {
                    128 => EncryptionAlgorithm::A128Kw,
                    192 => EncryptionAlgorithm::A192Kw,
                    _ => EncryptionAlgorithm::A256Kw,
                };
                let wrapped = reloaded.wrap_key(alg, &[9u8; 16]).unwrap();
                assert_eq!(*imported.unwrap_key(alg, &wrapped).unwrap(), [9u8; 16]);
            }
        }
    }
}

#[test]
fn debug_never_shows_key_bytes() {
    let key = super::known_answers::rfc7515_rsa_material();
    let imported = PrivateKey::import(&key).unwrap();
    let exported = imported.export();
    let texts = [
        format!("{imported:?}"),
        format!("{:?}", rsa(2048)),
        format!("{:?}", ec(Curve::P256K)),
        format!("{:?}", oct(256)),
        format!("{key:?}"),
        format!("{exported:?}"),
        format!("{:?}", oct(128).export()),
    ];
    expect_test::expect![[r#"
        [
            "PrivateKey(<redacted> RSA 2048 bits)",
            "PrivateKey(<redacted> RSA 2048 bits)",
            "PrivateKey(<redacted> EC P-256K)",
            "PrivateKey(<redacted> oct 256 bits)",
            "KeyMaterial { family: Some(Rsa), curve: None, n: <256 bytes>, e: <3 bytes>, x: -, y: -, d: <redacted>, p: <redacted>, q: <redacted>, dp: <redacted>, dq: <redacted>, qi: <redacted>, k: - }",
            "KeyMaterial { family: Some(Rsa), curve: None, n: <256 bytes>, e: <3 bytes>, x: -, y: -, d: <redacted>, p: <redacted>, q: <redacted>, dp: <redacted>, dq: <redacted>, qi: <redacted>, k: - }",
            "KeyMaterial { family: Some(Oct), curve: None, n: -, e: -, x: -, y: -, d: -, p: -, q: -, dp: -, dq: -, qi: -, k: <redacted> }",
        ]
    "#]].assert_debug_eq(&texts);
    // No run of key bytes, in hex or in Rust's decimal list form, appears anywhere.
    let d = exported.d.as_deref().unwrap();
    let k = oct(128).export().k.unwrap();
    for text in &texts {
        for secret in [&d[..], &k[..]] {
            let as_hex: String = secret[..8].iter().map(|b| format!("{b:02x}")).collect();
            let as_list = format!("{:?}", &secret[..4])
                .trim_matches(['[', ']'])
                .to_owned();
            assert!(!text.to_lowercase().contains(&as_hex), "{text}");
            assert!(!text.contains(&as_list), "{text}");
        }
    }
}
