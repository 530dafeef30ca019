//! Known answers: RFC 7515 Appendix A.2 (RS256, exact signature bytes) and A.3/A.4 (ES256,
//! ES512, verification), RFC 3394 section 4 (AES key wrap, all six), the GCM spec's test
//! cases 4, 10 and 16 (AES-128/192/256-GCM with aad), NIST SP 800-38A F.2 (AES-CBC).

use super::super::kw;
use super::{b64, digest_for, hex};
use crate::keys::{
    CipherInput, Curve, EncryptionAlgorithm, KeyFamily, KeyMaterial, PrivateKey, PublicKey,
    SignatureAlgorithm, verify_with_public,
};
use aws_lc_rs::cipher;
use zeroize::Zeroizing;

/// RFC 7515 A.2.1 (the RSA key of RFC 7517 A.2).
pub(super) fn rfc7515_rsa_material() -> KeyMaterial {
    let secret = |text: &str| Some(Zeroizing::new(b64(text)));
    KeyMaterial {
        family: Some(KeyFamily::Rsa),
        n: Some(b64(
            "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
        )),
        e: Some(b64("AQAB")),
        d: secret(
            "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
        ),
        p: secret(
            "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
        ),
        q: secret(
            "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
        ),
        dp: secret(
            "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
        ),
        dq: secret(
            "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
        ),
        qi: secret(
            "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
        ),
        ..KeyMaterial::default()
    }
}

const RFC7515_A2_SIGNING_INPUT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const RFC7515_A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

#[test]
fn rfc7515_a2_rs256_signature_is_exact() {
    let key = PrivateKey::import(&rfc7515_rsa_material()).unwrap();
    assert_eq!(key.family(), KeyFamily::Rsa);
    assert_eq!(key.size_bits(), 2048);
    let digest = digest_for(
        SignatureAlgorithm::Rs256,
        RFC7515_A2_SIGNING_INPUT.as_bytes(),
    );
    let signature = key.sign(SignatureAlgorithm::Rs256, &digest).unwrap();
    assert_eq!(signature, b64(RFC7515_A2_SIGNATURE));
    assert!(
        key.verify(SignatureAlgorithm::Rs256, &digest, &signature)
            .unwrap()
    );
    assert!(
        verify_with_public(
            &key.public(),
            SignatureAlgorithm::Rs256,
            &digest,
            &signature
        )
        .unwrap()
    );

    // Stored and reloaded, and exported and re-imported, it is the same key.
    let reloaded = PrivateKey::from_stored(&key.to_stored()).unwrap();
    assert_eq!(
        reloaded.sign(SignatureAlgorithm::Rs256, &digest).unwrap(),
        signature
    );
    let exported = key.export();
    let original = rfc7515_rsa_material();
    assert_eq!(exported.n, original.n);
    assert_eq!(exported.e, original.e);
    for (part, expected) in [
        (&exported.d, &original.d),
        (&exported.p, &original.p),
        (&exported.q, &original.q),
        (&exported.dp, &original.dp),
        (&exported.dq, &original.dq),
        (&exported.qi, &original.qi),
    ] {
        assert_eq!(part.as_deref(), expected.as_deref());
    }
}

const RFC7515_JWS_PAYLOAD_INPUT: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

#[test]
fn rfc7515_a3_es256_and_a4_es512_verify_and_import() {
    // A.3: P-256. ECDSA is randomised, so the RFC's signature can only be verified.
    let material = KeyMaterial {
        family: Some(KeyFamily::Ec),
        curve: Some(Curve::P256),
        x: Some(b64("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU")),
        y: Some(b64("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")),
        d: Some(Zeroizing::new(b64(
            "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
        ))),
        ..KeyMaterial::default()
    };
    let key = PrivateKey::import(&material).unwrap();
    let input = format!("eyJhbGciOiJFUzI1NiJ9.{RFC7515_JWS_PAYLOAD_INPUT}");
    let digest = digest_for(SignatureAlgorithm::Es256, input.as_bytes());
    let signature = b64(
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    );
    assert!(
        key.verify(SignatureAlgorithm::Es256, &digest, &signature)
            .unwrap()
    );
    assert!(
        verify_with_public(
            &key.public(),
            SignatureAlgorithm::Es256,
            &digest,
            &signature
        )
        .unwrap()
    );
    let exported = key.export();
    assert_eq!(exported.d.as_deref(), material.d.as_deref());
    assert_eq!((exported.x, exported.y), (material.x, material.y));

    // A.4: P-521 with ES512 (SHA-512); coordinates are 66 bytes.
    let material = KeyMaterial {
        family: Some(KeyFamily::Ec),
        curve: Some(Curve::P521),
        x: Some(b64(
            "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
        )),
        y: Some(b64(
            "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2",
        )),
        d: Some(Zeroizing::new(b64(
            "AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdRhajnu0ferB0d53vM9mE15j2C",
        ))),
        ..KeyMaterial::default()
    };
    let key = PrivateKey::import(&material).unwrap();
    assert_eq!(key.size_bits(), 521);
    let digest = digest_for(
        SignatureAlgorithm::Es512,
        b"eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA",
    );
    let signature = b64(
        "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn",
    );
    assert!(
        key.verify(SignatureAlgorithm::Es512, &digest, &signature)
            .unwrap()
    );
    let PublicKey::Ec { x, y, .. } = key.public() else {
        panic!("EC key")
    };
    assert_eq!((x.len(), y.len()), (66, 66));
    assert_eq!(key.export().d.unwrap().len(), 66);
    let mut tampered = signature.clone();
    tampered[10] ^= 1;
    assert!(
        !key.verify(SignatureAlgorithm::Es512, &digest, &tampered)
            .unwrap()
    );
}

/// RFC 3394 section 4: (KEK, key data, wrapped).
const RFC3394: [(&str, &str, &str); 6] = [
    (
        "000102030405060708090A0B0C0D0E0F",
        "00112233445566778899AABBCCDDEEFF",
        "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
    ),
    (
        "000102030405060708090A0B0C0D0E0F1011121314151617",
        "00112233445566778899AABBCCDDEEFF",
        "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
    ),
    (
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "00112233445566778899AABBCCDDEEFF",
        "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
    ),
    (
        "000102030405060708090A0B0C0D0E0F1011121314151617",
        "00112233445566778899AABBCCDDEEFF0001020304050607",
        "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2",
    ),
    (
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "00112233445566778899AABBCCDDEEFF0001020304050607",
        "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1",
    ),
    (
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
    ),
];

fn oct_key(k: &[u8]) -> PrivateKey {
    PrivateKey::import(&KeyMaterial {
        family: Some(KeyFamily::Oct),
        k: Some(Zeroizing::new(k.to_vec())),
        ..KeyMaterial::default()
    })
    .unwrap()
}

#[test]
fn rfc3394_key_wrap_vectors() {
    for (kek, data, wrapped) in RFC3394 {
        let (kek, data, wrapped) = (hex(kek), hex(data), hex(wrapped));
        let alg = match kek.len() {
            16 => EncryptionAlgorithm::A128Kw,
            24 => EncryptionAlgorithm::A192Kw,
            _ => EncryptionAlgorithm::A256Kw,
        };
        let key = oct_key(&kek);
        assert_eq!(key.wrap_key(alg, &data).unwrap(), wrapped, "{alg} wrap");
        assert_eq!(
            *key.unwrap_key(alg, &wrapped).unwrap(),
            data,
            "{alg} unwrap"
        );

        // Our block-by-block implementation (used for 192-bit KEKs) agrees on every size.
        let aes = match kek.len() {
            16 => &cipher::AES_128,
            24 => &cipher::AES_192,
            _ => &cipher::AES_256,
        };
        assert_eq!(kw::wrap(aes, &kek, &data).unwrap(), wrapped);
        assert_eq!(*kw::unwrap(aes, &kek, &wrapped).unwrap(), data);
    }
}

#[test]
fn gcm_spec_test_cases_4_10_16() {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 4 (128), 10 (192),
    // 16 (256): same iv, aad and 60-byte plaintext.
    let iv = hex("cafebabefacedbaddecaf888");
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let plaintext = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    let cases = [
        (
            EncryptionAlgorithm::A128Gcm,
            "feffe9928665731c6d6a8f9467308308",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
             21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47",
        ),
        (
            EncryptionAlgorithm::A192Gcm,
            "feffe9928665731c6d6a8f9467308308feffe9928665731c",
            "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c
             7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
            "2519498e80f1478f37ba55bd6d27618c",
        ),
        (
            EncryptionAlgorithm::A256Gcm,
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b",
        ),
    ];
    for (alg, key, ciphertext, tag) in cases {
        let key = oct_key(&hex(key));
        let input = CipherInput {
            data: &plaintext,
            iv: Some(&iv),
            aad: Some(&aad),
            tag: None,
        };
        let output = key.encrypt(alg, &input).unwrap();
        assert_eq!(output.data, hex(ciphertext), "{alg}");
        assert_eq!(output.tag, Some(hex(tag)), "{alg}");
        assert_eq!(output.iv, Some(iv.clone()), "{alg}");
        let input = CipherInput {
            data: &output.data,
            iv: Some(&iv),
            aad: Some(&aad),
            tag: output.tag.as_deref(),
        };
        assert_eq!(*key.decrypt(alg, &input).unwrap(), plaintext, "{alg}");
    }
}

#[test]
fn nist_sp800_38a_cbc_vectors_and_pkcs7() {
    let iv = hex("000102030405060708090a0b0c0d0e0f");
    let plaintext = hex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51
         30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    );
    let cases = [
        (
            EncryptionAlgorithm::A128Cbc,
            EncryptionAlgorithm::A128CbcPad,
            "2b7e151628aed2a6abf7158809cf4f3c",
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2
             73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
        ),
        (
            EncryptionAlgorithm::A192Cbc,
            EncryptionAlgorithm::A192CbcPad,
            "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
            "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a
             571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd",
        ),
        (
            EncryptionAlgorithm::A256Cbc,
            EncryptionAlgorithm::A256CbcPad,
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d
             39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
        ),
    ];
    for (alg, padded_alg, key, ciphertext) in cases {
        let key = oct_key(&hex(key));
        let ciphertext = hex(ciphertext);
        let input = CipherInput {
            data: &plaintext,
            iv: Some(&iv),
            ..CipherInput::default()
        };
        let output = key.encrypt(alg, &input).unwrap();
        assert_eq!(output.data, ciphertext, "{alg}");
        assert_eq!((output.iv, output.tag), (Some(iv.clone()), None), "{alg}");
        let input = CipherInput {
            data: &ciphertext,
            iv: Some(&iv),
            ..CipherInput::default()
        };
        assert_eq!(*key.decrypt(alg, &input).unwrap(), plaintext, "{alg}");

        // PKCS#7 of a whole number of blocks adds one full block of 0x10: the first four
        // blocks are the unpadded vector's.
        let padded = key
            .encrypt(
                padded_alg,
                &CipherInput {
                    data: &plaintext,
                    iv: Some(&iv),
                    ..CipherInput::default()
                },
            )
            .unwrap();
        assert_eq!(padded.data.len(), 80, "{padded_alg}");
        assert_eq!(padded.data[..64], ciphertext[..], "{padded_alg}");
        let opened = key
            .decrypt(
                padded_alg,
                &CipherInput {
                    data: &padded.data,
                    iv: Some(&iv),
                    ..CipherInput::default()
                },
            )
            .unwrap();
        assert_eq!(*opened, plaintext, "{padded_alg}");
    }
}
