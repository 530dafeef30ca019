//! Every refusal, as a `check()` table: the order of checks (family, then curve or size, then
//! input, then the operation) and the exact error the vault will map to Azure's codes.

use super::known_answers::rfc7515_rsa_material;
use super::{digest_for, ec, oct, rsa};
use crate::keys::{
    CipherInput, Curve, EncryptionAlgorithm as Enc, KeyError, KeyFamily, KeyMaterial, PrivateKey,
    PublicKey, SignatureAlgorithm as Sig, encrypt_with_public, verify_with_public,
};
use expect_test::{Expect, expect};
use std::fmt::Debug;
use zeroize::Zeroizing;

#[track_caller]
fn check<T: Debug>(result: Result<T, KeyError>, expect: Expect) {
    // Successes show only that they succeeded: their values are keys or random.
    let shown = match result {
        Ok(_) => "Ok".to_owned(),
        Err(error) => format!("Err({error:?})"),
    };
    expect.assert_eq(&shown);
}

#[test]
fn unsupported_sizes_and_exponents() {
    check(
        PrivateKey::generate_rsa(1024, None),
        expect!["Err(UnsupportedKeySize { bits: 1024 })"],
    );
    check(
        PrivateKey::generate_rsa(8192, None),
        expect!["Err(UnsupportedKeySize { bits: 8192 })"],
    );
    check(
        PrivateKey::generate_rsa(2048, Some(3)),
        expect!["Err(UnsupportedExponent)"],
    );
    check(
        PrivateKey::generate_oct(512),
        expect!["Err(UnsupportedKeySize { bits: 512 })"],
    );
    check(
        PrivateKey::generate_oct(64),
        expect!["Err(UnsupportedKeySize { bits: 64 })"],
    );
}

#[test]
fn wrong_digest_lengths() {
    let rsa_key = rsa(2048);
    for alg in [
        Sig::Rs256,
        Sig::Rs384,
        Sig::Rs512,
        Sig::Ps256,
        Sig::Ps384,
        Sig::Ps512,
    ] {
        let error = rsa_key.sign(alg, &[0u8; 20]).unwrap_err();
        let expected = KeyError::DigestLength {
            algorithm: alg,
            expected: alg.digest_len(),
            actual: 20,
        };
        assert_eq!(error, expected);
        assert_eq!(
            rsa_key.verify(alg, &[0u8; 20], &[0u8; 256]).unwrap_err(),
            expected
        );
    }
    check(
        rsa_key.sign(Sig::Rs256, &[0u8; 48]),
        expect!["Err(DigestLength { algorithm: Rs256, expected: 32, actual: 48 })"],
    );
    check(
        rsa_key.sign(Sig::Ps512, &[0u8; 32]),
        expect!["Err(DigestLength { algorithm: Ps512, expected: 64, actual: 32 })"],
    );
    check(
        ec(Curve::P256).sign(Sig::Es256, &[0u8; 31]),
        expect!["Err(DigestLength { algorithm: Es256, expected: 32, actual: 31 })"],
    );
    check(
        ec(Curve::P384).sign(Sig::Es384, &[0u8; 32]),
        expect!["Err(DigestLength { algorithm: Es384, expected: 48, actual: 32 })"],
    );
    check(
        ec(Curve::P521).sign(Sig::Es512, &[0u8; 66]),
        expect!["Err(DigestLength { algorithm: Es512, expected: 64, actual: 66 })"],
    );
    check(
        ec(Curve::P256K).verify(Sig::Es256K, &[], &[0u8; 64]),
        expect!["Err(DigestLength { algorithm: Es256K, expected: 32, actual: 0 })"],
    );
    check(
        verify_with_public(
            &ec(Curve::P256).public(),
            Sig::Es256,
            &[0u8; 64],
            &[0u8; 64],
        ),
        expect!["Err(DigestLength { algorithm: Es256, expected: 32, actual: 64 })"],
    );
    // The algorithm is checked before the digest: ES384 on P-256 with a 32-byte digest.
    check(
        ec(Curve::P256).sign(Sig::Es384, &[0u8; 32]),
        expect!["Err(CurveMismatch { algorithm: Es384, curve: P256 })"],
    );
}

#[test]
fn algorithms_for_another_family_or_curve() {
    let digest = digest_for(Sig::Es256, b"m");
    check(
        rsa(2048).sign(Sig::Es256, &digest),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "ES256", family: Rsa })"#]],
    );
    check(
        ec(Curve::P256).sign(Sig::Rs256, &digest),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "RS256", family: Ec })"#]],
    );
    check(
        ec(Curve::P256).sign(Sig::Es256K, &digest),
        expect!["Err(CurveMismatch { algorithm: Es256K, curve: P256 })"],
    );
    check(
        ec(Curve::P256K).sign(Sig::Es256, &digest),
        expect!["Err(CurveMismatch { algorithm: Es256, curve: P256K })"],
    );
    check(
        ec(Curve::P256).verify(Sig::Es384, &[0u8; 48], &[0u8; 96]),
        expect!["Err(CurveMismatch { algorithm: Es384, curve: P256 })"],
    );
    check(
        oct(256).sign(Sig::Rs256, &digest),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "RS256", family: Oct })"#]],
    );
    check(
        oct(256).verify(Sig::Es256, &digest, &[]),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "ES256", family: Oct })"#]],
    );
    check(
        verify_with_public(&PublicKey::Oct, Sig::Rs256, &digest, &[]),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "RS256", family: Oct })"#]],
    );
    check(
        verify_with_public(&rsa(2048).public(), Sig::Es256, &digest, &[]),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "ES256", family: Rsa })"#]],
    );

    check(
        oct(256).encrypt(Enc::RsaOaep, &CipherInput::data(b"x")),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "RSA-OAEP", family: Oct })"#]],
    );
    check(
        oct(256).wrap_key(Enc::RsaOaep256, &[0u8; 16]),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "RSA-OAEP-256", family: Oct })"#]],
    );
    check(
        rsa(2048).encrypt(Enc::A256Gcm, &CipherInput::data(b"x")),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "A256GCM", family: Rsa })"#]],
    );
    check(
        rsa(2048).wrap_key(Enc::A256Kw, &[0u8; 16]),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "A256KW", family: Rsa })"#]],
    );
    check(
        rsa(2048).unwrap_key(Enc::A128Kw, &[0u8; 24]),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "A128KW", family: Rsa })"#]],
    );
    check(
        ec(Curve::P256).encrypt(Enc::RsaOaep, &CipherInput::data(b"x")),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "RSA-OAEP", family: Ec })"#]],
    );
    check(
        ec(Curve::P256).unwrap_key(Enc::A256Kw, &[0u8; 24]),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "A256KW", family: Ec })"#]],
    );
    check(
        encrypt_with_public(&ec(Curve::P256).public(), Enc::RsaOaep, b"x"),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "RSA-OAEP", family: Ec })"#]],
    );
    check(
        encrypt_with_public(&PublicKey::Oct, Enc::A128Gcm, b"x"),
        expect![[r#"Err(InvalidInput("only RSA keys encrypt with the public key alone"))"#]],
    );
    check(
        encrypt_with_public(&rsa(2048).public(), Enc::A128Gcm, b"x"),
        expect![[r#"Err(AlgorithmNotForKey { algorithm: "A128GCM", family: Rsa })"#]],
    );

    check(
        oct(128).encrypt(Enc::A256Gcm, &CipherInput::data(b"x")),
        expect!["Err(KeySizeMismatch { algorithm: A256Gcm, bits: 128 })"],
    );
    check(
        oct(256).decrypt(Enc::A192Cbc, &CipherInput::data(&[0u8; 16])),
        expect!["Err(KeySizeMismatch { algorithm: A192Cbc, bits: 256 })"],
    );
    check(
        oct(192).wrap_key(Enc::A128Kw, &[0u8; 16]),
        expect!["Err(KeySizeMismatch { algorithm: A128Kw, bits: 192 })"],
    );
    // AES algorithms that are not key wrap, in the wrap operations, and the reverse.
    check(
        oct(128).wrap_key(Enc::A128Gcm, &[0u8; 16]),
        expect![[
            r#"Err(InvalidInput("wrap_key and unwrap_key take A128KW, A192KW or A256KW for oct keys"))"#
        ]],
    );
    check(
        oct(128).encrypt(Enc::A128Kw, &CipherInput::data(&[0u8; 16])),
        expect![[r#"Err(InvalidInput("key-wrap algorithms are for wrap_key and unwrap_key"))"#]],
    );
}

#[test]
fn malformed_inputs() {
    let key = oct(128);
    let gcm = Enc::A128Gcm;
    let sealed = key.encrypt(gcm, &CipherInput::data(b"secret")).unwrap();
    let iv = sealed.iv.as_deref();
    let tag = sealed.tag.as_deref();
    let input = |iv, aad, tag| CipherInput {
        data: &sealed.data,
        iv,
        aad,
        tag,
    };
    check(
        key.decrypt(gcm, &input(iv, None, None)),
        expect![[r#"Err(InvalidInput("GCM decryption needs the tag"))"#]],
    );
    check(
        key.decrypt(gcm, &input(None, None, tag)),
        expect![[r#"Err(InvalidInput("GCM decryption needs the iv"))"#]],
    );
    check(
        key.decrypt(gcm, &input(Some(&[0u8; 16]), None, tag)),
        expect![[r#"Err(InvalidInput("a GCM iv is 12 bytes"))"#]],
    );
    check(
        key.decrypt(gcm, &input(iv, None, Some(&[0u8; 12]))),
        expect![[r#"Err(InvalidInput("a GCM tag is 16 bytes"))"#]],
    );
    check(
        key.encrypt(
            gcm,
            &CipherInput {
                data: b"x",
                iv: Some(&[0u8; 16]),
                ..CipherInput::default()
            },
        ),
        expect![[r#"Err(InvalidInput("a GCM iv is 12 bytes"))"#]],
    );
    check(
        key.encrypt(
            gcm,
            &CipherInput {
                data: b"x",
                tag: Some(&[0u8; 16]),
                ..CipherInput::default()
            },
        ),
        expect![[r#"Err(InvalidInput("a tag is not an input of encrypt"))"#]],
    );

    let cbc = |data, iv, aad| CipherInput {
        data,
        iv,
        aad,
        tag: None,
    };
    check(
        key.encrypt(Enc::A128Cbc, &cbc(&[0u8; 16], None, None)),
        expect![[r#"Err(InvalidInput("CBC needs an iv"))"#]],
    );
    check(
        key.encrypt(Enc::A128Cbc, &cbc(&[0u8; 16], Some(&[0u8; 12]), None)),
        expect![[r#"Err(InvalidInput("a CBC iv is 16 bytes"))"#]],
    );
    check(
        key.decrypt(Enc::A128CbcPad, &cbc(&[0u8; 16], Some(&[0u8; 17]), None)),
        expect![[r#"Err(InvalidInput("a CBC iv is 16 bytes"))"#]],
    );
    check(
        key.encrypt(Enc::A128Cbc, &cbc(&[0u8; 15], Some(&[0u8; 16]), None)),
        expect![[r#"Err(InvalidInput("CBC without padding takes a multiple of 16 bytes"))"#]],
    );
    check(
        key.decrypt(Enc::A128Cbc, &cbc(&[0u8; 17], Some(&[0u8; 16]), None)),
        expect![[r#"Err(InvalidInput("CBC ciphertext is a multiple of 16 bytes"))"#]],
    );
    check(
        key.decrypt(Enc::A128CbcPad, &cbc(&[], Some(&[0u8; 16]), None)),
        expect![[r#"Err(InvalidInput("CBC-PAD ciphertext is at least one block"))"#]],
    );
    check(
        key.encrypt(Enc::A128CbcPad, &cbc(b"x", Some(&[0u8; 16]), Some(b"aad"))),
        expect![[r#"Err(InvalidInput("CBC takes neither aad nor tag"))"#]],
    );

    check(
        key.wrap_key(Enc::A128Kw, &[0u8; 7]),
        expect![[r#"Err(InvalidInput("a key to wrap is a multiple of 8 bytes and at least 16"))"#]],
    );
    check(
        key.wrap_key(Enc::A128Kw, &[0u8; 8]),
        expect![[r#"Err(InvalidInput("a key to wrap is a multiple of 8 bytes and at least 16"))"#]],
    );
    check(
        key.wrap_key(Enc::A128Kw, &[0u8; 20]),
        expect![[r#"Err(InvalidInput("a key to wrap is a multiple of 8 bytes and at least 16"))"#]],
    );
    check(
        key.unwrap_key(Enc::A128Kw, &[0u8; 16]),
        expect![[r#"Err(InvalidInput("a wrapped key is a multiple of 8 bytes and at least 24"))"#]],
    );
    check(
        key.unwrap_key(Enc::A128Kw, &[0u8; 25]),
        expect![[r#"Err(InvalidInput("a wrapped key is a multiple of 8 bytes and at least 24"))"#]],
    );

    let rsa_key = rsa(2048);
    check(
        rsa_key.encrypt(Enc::Rsa15, &CipherInput::data(&[0u8; 246])),
        expect![[r#"Err(InvalidInput("plaintext is too long for the key and algorithm"))"#]],
    );
    check(
        rsa_key.encrypt(Enc::RsaOaep, &CipherInput::data(&[0u8; 215])),
        expect![[r#"Err(InvalidInput("plaintext is too long for the key and algorithm"))"#]],
    );
    check(
        rsa_key.wrap_key(Enc::RsaOaep256, &[0u8; 191]),
        expect![[r#"Err(InvalidInput("plaintext is too long for the key and algorithm"))"#]],
    );
    check(
        encrypt_with_public(&rsa_key.public(), Enc::RsaOaep256, &[0u8; 191]),
        expect![[r#"Err(InvalidInput("plaintext is too long for the key and algorithm"))"#]],
    );
    check(
        rsa_key.decrypt(Enc::RsaOaep, &CipherInput::data(&[0u8; 255])),
        expect![[r#"Err(InvalidInput("RSA ciphertext must be as long as the modulus"))"#]],
    );
    check(
        rsa_key.encrypt(
            Enc::RsaOaep,
            &CipherInput {
                data: b"x",
                iv: Some(&[0u8; 16]),
                ..CipherInput::default()
            },
        ),
        expect![[r#"Err(InvalidInput("RSA encryption takes no iv, aad or tag"))"#]],
    );
}

#[test]
fn tampering_fails_decryption_without_detail() {
    let flip = |bytes: &[u8], at: usize| {
        let mut bytes = bytes.to_vec();
        bytes[at] ^= 1;
        bytes
    };

    let key = oct(256);
    let sealed = key
        .encrypt(
            Enc::A256Gcm,
            &CipherInput {
                data: b"secret",
                aad: Some(b"ctx"),
                ..CipherInput::default()
            },
        )
        .unwrap();
    let open = |data: &[u8], aad: &[u8], tag: &[u8]| {
        key.decrypt(
            Enc::A256Gcm,
            &CipherInput {
                data,
                iv: sealed.iv.as_deref(),
                aad: Some(aad),
                tag: Some(tag),
            },
        )
    };
    let tag = sealed.tag.clone().unwrap();
    check(open(&sealed.data, b"ctx", &tag), expect!["Ok"]);
    check(
        open(&flip(&sealed.data, 0), b"ctx", &tag),
        expect!["Err(DecryptionFailed)"],
    );
    check(
        open(&sealed.data, b"ctX", &tag),
        expect!["Err(DecryptionFailed)"],
    );
    check(
        open(&sealed.data, b"ctx", &flip(&tag, 15)),
        expect!["Err(DecryptionFailed)"],
    );

    // A 64-byte plaintext gets a full block of 0x10 padding; flipping bit 0 of the last byte
    // of the previous ciphertext block makes it 0x11, never a valid pad.
    let iv = [0u8; 16];
    let padded = key
        .encrypt(
            Enc::A256CbcPad,
            &CipherInput {
                data: &[3u8; 64],
                iv: Some(&iv),
                ..CipherInput::default()
            },
        )
        .unwrap();
    let tampered = flip(&padded.data, padded.data.len() - 17);
    check(
        key.decrypt(
            Enc::A256CbcPad,
            &CipherInput {
                data: &tampered,
                iv: Some(&iv),
                ..CipherInput::default()
            },
        ),
        expect!["Err(DecryptionFailed)"],
    );

    for (bits, alg) in [(128, Enc::A128Kw), (192, Enc::A192Kw), (256, Enc::A256Kw)] {
        let wrapped = oct(bits).wrap_key(alg, &[1u8; 32]).unwrap();
        assert_eq!(
            oct(bits).unwrap_key(alg, &flip(&wrapped, 3)).unwrap_err(),
            KeyError::DecryptionFailed,
            "{alg}"
        );
    }
    let wrapped = oct(192).wrap_key(Enc::A192Kw, &[1u8; 16]).unwrap();
    check(
        oct(192).unwrap_key(Enc::A192Kw, &flip(&wrapped, 20)),
        expect!["Err(DecryptionFailed)"],
    );

    let rsa_key = rsa(2048);
    for alg in [Enc::Rsa15, Enc::RsaOaep, Enc::RsaOaep256] {
        let wrapped = rsa_key.wrap_key(alg, &[1u8; 32]).unwrap();
        assert_eq!(
            rsa_key.unwrap_key(alg, &flip(&wrapped, 100)).unwrap_err(),
            KeyError::DecryptionFailed,
            "{alg}"
        );
        // Decrypting with the wrong OAEP hash fails the same way.
        if alg == Enc::RsaOaep {
            assert_eq!(
                rsa_key.unwrap_key(Enc::RsaOaep256, &wrapped).unwrap_err(),
                KeyError::DecryptionFailed
            );
        }
    }
}

fn ec_material(d: Option<Vec<u8>>, x: &[u8], y: &[u8]) -> KeyMaterial {
    KeyMaterial {
        family: Some(KeyFamily::Ec),
        curve: Some(Curve::P256),
        d: d.map(Zeroizing::new),
        x: Some(x.to_vec()),
        y: Some(y.to_vec()),
        ..KeyMaterial::default()
    }
}

#[test]
fn imports_that_do_not_fit() {
    check(
        PrivateKey::import(&KeyMaterial::default()),
        expect![[r#"Err(InvalidKeyMaterial("key type is missing"))"#]],
    );

    // RSA
    let full = rfc7515_rsa_material;
    check(PrivateKey::import(&full()), expect!["Ok"]);
    check(
        PrivateKey::import(&KeyMaterial { d: None, ..full() }),
        expect![[r#"Err(InvalidKeyMaterial("private key is missing"))"#]],
    );
    check(
        PrivateKey::import(&KeyMaterial { n: None, ..full() }),
        expect![[r#"Err(InvalidKeyMaterial("modulus n is missing"))"#]],
    );
    check(
        PrivateKey::import(&KeyMaterial { q: None, ..full() }),
        expect![[r#"Err(InvalidKeyMaterial("prime factors p and q are required"))"#]],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            dp: None,
            dq: None,
            qi: None,
            ..full()
        }),
        expect![[r#"Err(InvalidKeyMaterial("CRT parameters dp, dq and qi are required"))"#]],
    );
    let mut wrong_d = full().d.unwrap();
    wrong_d[10] ^= 1;
    check(
        PrivateKey::import(&KeyMaterial {
            d: Some(wrong_d),
            ..full()
        }),
        expect![[r#"Err(InvalidKeyMaterial("RSA key parts are inconsistent"))"#]],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            e: Some(vec![3]),
            ..full()
        }),
        expect![[r#"Err(InvalidKeyMaterial("RSA key parts are inconsistent"))"#]],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            e: Some(vec![1, 0, 0]),
            ..full()
        }),
        expect!["Err(UnsupportedExponent)"],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            e: Some(vec![1]),
            ..full()
        }),
        expect!["Err(UnsupportedExponent)"],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            n: Some(vec![0xff; 128]),
            ..full()
        }),
        expect!["Err(UnsupportedKeySize { bits: 1024 })"],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            n: Some(vec![0xff; 1024]),
            ..full()
        }),
        expect!["Err(UnsupportedKeySize { bits: 8192 })"],
    );
    // Leading zeros on n and e (not canonical JWK, but harmless) are accepted.
    let mut padded_n = vec![0u8];
    padded_n.extend(full().n.unwrap());
    check(
        PrivateKey::import(&KeyMaterial {
            n: Some(padded_n),
            e: Some(vec![0, 1, 0, 1]),
            ..full()
        }),
        expect!["Ok"],
    );

    // EC: public-only, mismatched point, point off the curve, scalar too long.
    let p256 = ec(Curve::P256).export();
    let other = ec(Curve::P384).export();
    let (x, y) = (p256.x.clone().unwrap(), p256.y.clone().unwrap());
    let d = p256.d.as_deref().unwrap().clone();
    check(
        PrivateKey::import(&ec_material(Some(d.clone()), &x, &y)),
        expect!["Ok"],
    );
    check(
        PrivateKey::import(&ec_material(None, &x, &y)),
        expect![[r#"Err(InvalidKeyMaterial("private key is missing"))"#]],
    );
    check(
        PrivateKey::import(&ec_material(Some(d.clone()), &y, &x)),
        expect![[r#"Err(InvalidKeyMaterial("d is not a valid key or x, y are not its point"))"#]],
    );
    check(
        PrivateKey::import(&ec_material(Some(d.clone()), &x, &[0u8; 33])),
        expect![[r#"Err(InvalidKeyMaterial("d is not a valid key or x, y are not its point"))"#]],
    );
    check(
        PrivateKey::import(&ec_material(Some(vec![1u8; 33]), &x, &y)),
        expect![[r#"Err(InvalidKeyMaterial("d is longer than the curve"))"#]],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            curve: None,
            ..ec_material(Some(d.clone()), &x, &y)
        }),
        expect![[r#"Err(InvalidKeyMaterial("curve is missing"))"#]],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            x: None,
            ..ec_material(Some(d), &x, &y)
        }),
        expect![[r#"Err(InvalidKeyMaterial("public point x and y are required"))"#]],
    );
    // A P-384 key presented as P-256.
    check(
        PrivateKey::import(&KeyMaterial {
            curve: Some(Curve::P256),
            ..other
        }),
        expect![[r#"Err(InvalidKeyMaterial("x or y is longer than the curve"))"#]],
    );

    // oct
    let oct_material = |len: usize| KeyMaterial {
        family: Some(KeyFamily::Oct),
        k: Some(Zeroizing::new(vec![1u8; len])),
        ..KeyMaterial::default()
    };
    check(PrivateKey::import(&oct_material(24)), expect!["Ok"]);
    check(
        PrivateKey::import(&oct_material(20)),
        expect!["Err(UnsupportedKeySize { bits: 160 })"],
    );
    check(
        PrivateKey::import(&oct_material(64)),
        expect!["Err(UnsupportedKeySize { bits: 512 })"],
    );
    check(
        PrivateKey::import(&KeyMaterial {
            k: None,
            ..oct_material(16)
        }),
        expect![[r#"Err(InvalidKeyMaterial("symmetric key k is missing"))"#]],
    );

    // Public keys for verify/encrypt alone.
    let digest = [0u8; 32];
    check(
        verify_with_public(
            &PublicKey::Rsa {
                n: vec![0xff; 128],
                e: vec![1, 0, 1],
            },
            Sig::Rs256,
            &digest,
            &[0u8; 128],
        ),
        expect!["Err(UnsupportedKeySize { bits: 1024 })"],
    );
    check(
        verify_with_public(
            &PublicKey::Ec {
                curve: Curve::P256,
                x: vec![1u8; 32],
                y: vec![2u8; 32],
            },
            Sig::Es256,
            &digest,
            &[0u8; 64],
        ),
        expect![[r#"Err(InvalidKeyMaterial("x, y are not a point on the curve"))"#]],
    );
}

#[test]
fn stored_bytes_that_do_not_load() {
    let stored = rsa(2048).to_stored();
    check(
        PrivateKey::from_stored(&[]),
        expect![[r#"Err(InvalidKeyMaterial("stored key is empty"))"#]],
    );
    check(
        PrivateKey::from_stored(&[9, 1, 2, 3]),
        expect![[r#"Err(InvalidKeyMaterial("stored key has an unknown tag"))"#]],
    );
    check(
        PrivateKey::from_stored(&stored[..stored.len() - 1]),
        expect![[r#"Err(InvalidKeyMaterial("stored RSA key is malformed"))"#]],
    );
    // An RSA document under an EC tag, and a P-256 document under the P-384 tag.
    let mut retagged = stored.to_vec();
    retagged[0] = 2;
    check(
        PrivateKey::from_stored(&retagged),
        expect![[r#"Err(InvalidKeyMaterial("stored EC key is malformed"))"#]],
    );
    let mut p256 = ec(Curve::P256).to_stored().to_vec();
    p256[0] = 3;
    check(
        PrivateKey::from_stored(&p256),
        expect![[r#"Err(InvalidKeyMaterial("stored EC key is malformed"))"#]],
    );
    check(
        PrivateKey::from_stored(&[6, 1, 2, 3]),
        expect![[r#"Err(InvalidKeyMaterial("stored oct key is malformed"))"#]],
    );
}

#[test]
fn names_round_trip_in_azure_spelling() {
    let names: Vec<String> = Sig::ALL
        .iter()
        .map(|alg| alg.as_str().to_owned())
        .chain(Enc::ALL.iter().map(|alg| alg.as_str().to_owned()))
        .chain(Curve::ALL.iter().map(|curve| curve.as_str().to_owned()))
        .collect();
    expect!["RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 ES256K RSA1_5 RSA-OAEP RSA-OAEP-256 A128GCM A192GCM A256GCM A128KW A192KW A256KW A128CBC A192CBC A256CBC A128CBCPAD A192CBCPAD A256CBCPAD P-256 P-384 P-521 P-256K"].assert_eq(&names.join(" "));
    for &alg in Sig::ALL {
        assert_eq!(Sig::parse(alg.as_str()), Some(alg));
    }
    for &alg in Enc::ALL {
        assert_eq!(Enc::parse(alg.as_str()), Some(alg));
    }
    for &curve in Curve::ALL {
        assert_eq!(Curve::parse(curve.as_str()), Some(curve));
    }
    assert_eq!(Curve::parse("SECP256K1"), Some(Curve::P256K));
    assert_eq!(Curve::parse("p-256"), None);
    assert_eq!(Sig::parse("rs256"), None);
    assert_eq!(Enc::parse("RSA-OAEP-512"), None);
    let digest_lens: Vec<String> = Sig::ALL
        .iter()
        .map(|alg| format!("{alg}={}", alg.digest_len()))
        .collect();
    expect![
        "RS256=32 RS384=48 RS512=64 PS256=32 PS384=48 PS512=64 ES256=32 ES384=48 ES512=64 ES256K=32"
    ]
    .assert_eq(&digest_lens.join(" "));
}

#[test]
fn error_messages_read_as_sentences() {
    let errors = [
        KeyError::UnsupportedKeySize { bits: 1024 },
        KeyError::UnsupportedExponent,
        KeyError::InvalidKeyMaterial("private key is missing"),
        KeyError::AlgorithmNotForKey {
            algorithm: "ES256",
            family: KeyFamily::Rsa,
        },
        KeyError::CurveMismatch {
            algorithm: Sig::Es384,
            curve: Curve::P256,
        },
        KeyError::KeySizeMismatch {
            algorithm: Enc::A256Gcm,
            bits: 128,
        },
        KeyError::DigestLength {
            algorithm: Sig::Rs256,
            expected: 32,
            actual: 31,
        },
        KeyError::InvalidInput("a GCM iv is 12 bytes"),
        KeyError::DecryptionFailed,
        KeyError::Library,
    ];
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    expect![[r#"
        [
            "key size 1024 is not supported",
            "the RSA public exponent is not supported",
            "invalid key material: private key is missing",
            "algorithm ES256 is not for RSA keys",
            "algorithm ES384 is not for curve P-256",
            "algorithm A256GCM needs another key size than 128 bits",
            "a digest for RS256 is 32 bytes, not 31",
            "invalid input: a GCM iv is 12 bytes",
            "decryption failed",
            "the crypto library refused the operation",
        ]
    "#]]
    .assert_debug_eq(&messages);
}
