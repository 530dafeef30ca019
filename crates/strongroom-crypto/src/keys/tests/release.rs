//! Secure key release's transport: RFC 5649 known answers, a cross-check against aws-lc-rs's
//! own KWP, and the RSA-OAEP + AES-KWP round trip for every `enc`.

use super::super::kw;
use super::{ec, hex, oct, rsa};
use crate::keys::{
    Curve, KeyError, PrivateKey, PublicKey, ReleaseWrapping, unwrap_released, wrap_for_release,
};
use aws_lc_rs::cipher;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};

/// RFC 5649 section 6: (KEK, key, wrapped), both with a 192-bit KEK.
const RFC5649: [(&str, &str, &str); 2] = [
    (
        "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
        "c37b7e6492584340bed12207808941155068f738",
        "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
    ),
    (
        "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
        "466f7250617369",
        "afbeb0f07dfbf5419200f2ccb50bb24f",
    ),
];

#[test]
fn rfc5649_key_wrap_with_padding_vectors() {
    for (kek, key, wrapped) in RFC5649 {
        let (kek, key, wrapped) = (hex(kek), hex(key), hex(wrapped));
        assert_eq!(
            kw::wrap_padded(&cipher::AES_192, &kek, &key).unwrap(),
            wrapped
        );
        assert_eq!(
            *kw::unwrap_padded(&cipher::AES_192, &kek, &wrapped).unwrap(),
            key
        );
        let mut tampered = wrapped.clone();
        tampered[3] ^= 1;
        assert!(kw::unwrap_padded(&cipher::AES_192, &kek, &tampered).is_err());
    }
}

#[test]
fn kwp_agrees_with_aws_lc_for_every_length_class() {
    let kek = [7u8; 32];
    for len in [1, 7, 8, 9, 16, 20, 121, 1218] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let ours = kw::wrap_padded(&cipher::AES_256, &kek, &plaintext).unwrap();
        let mut theirs = vec![0u8; len + 16];
        let theirs = AesKek::new(&AES_256, &kek)
            .unwrap()
            .wrap_with_padding(&plaintext, &mut theirs)
            .unwrap()
            .to_vec();
        assert_eq!(ours, theirs, "length {len}");
        assert_eq!(
            *kw::unwrap_padded(&cipher::AES_256, &kek, &ours).unwrap(),
            plaintext
        );
    }
    assert!(kw::wrap_padded(&cipher::AES_256, &kek, &[]).is_err());
    assert!(kw::unwrap_padded(&cipher::AES_256, &kek, &[0u8; 12]).is_err());
}

#[test]
fn released_material_round_trips_for_every_enc_and_key_family() {
    let target = rsa(2048);
    let keys: [&PrivateKey; 3] = [rsa(3072), ec(Curve::P384), oct(256)];
    for wrapping in ReleaseWrapping::ALL {
        assert_eq!(ReleaseWrapping::parse(wrapping.as_str()), Some(wrapping));
        for key in keys {
            let material = key.private_bytes();
            let wrapped = wrap_for_release(wrapping, &target.public(), &material).unwrap();
            // RSA part first (one modulus), then KWP: 8 bytes more than the padded material.
            assert_eq!(
                wrapped.len(),
                256 + material.len().div_ceil(8) * 8 + 8,
                "{wrapping:?}"
            );
            let unwrapped = unwrap_released(wrapping, target, &wrapped).unwrap();
            assert_eq!(*unwrapped, *material);
            let recovered = match key.family() {
                crate::keys::KeyFamily::Oct => unwrapped.to_vec(),
                _ => key.to_stored()[1..].to_vec(),
            };
            assert_eq!(recovered, *unwrapped, "PKCS#8 for RSA/EC, raw for oct");
        }
        let other = ReleaseWrapping::ALL
            .into_iter()
            .find(|w| *w != wrapping)
            .unwrap();
        let wrapped = wrap_for_release(wrapping, &target.public(), b"material").unwrap();
        assert!(matches!(
            unwrap_released(other, target, &wrapped),
            Err(KeyError::DecryptionFailed)
        ));
    }
    assert_eq!(ReleaseWrapping::parse("RSA-OAEP"), None);
}

#[test]
fn release_needs_an_rsa_target() {
    let refused = wrap_for_release(
        ReleaseWrapping::CkmRsaAesKeyWrap,
        &ec(Curve::P256).public(),
        b"material",
    );
    assert!(matches!(refused, Err(KeyError::InvalidKeyMaterial(_))));
    assert!(wrap_for_release(ReleaseWrapping::CkmRsaAesKeyWrap, &PublicKey::Oct, b"m").is_err());
    assert!(unwrap_released(ReleaseWrapping::CkmRsaAesKeyWrap, oct(256), &[0u8; 300]).is_err());
}
