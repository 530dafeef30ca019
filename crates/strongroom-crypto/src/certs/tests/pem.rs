//! `parse_pem_bundle` and `build_pem`.

use super::*;
use crate::certs::{CertError, build_pem, parse_pem_bundle};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The PEM blocks of `text` as (label, DER), checking Azure's layout on the way: 64-column
/// base64 lines, `\n` line ends, nothing between blocks.
fn blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    assert!(!text.contains('\r'));
    assert!(text.ends_with("-----\n"));
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(begin) = lines.next() {
        let label = begin
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .unwrap_or_else(|| panic!("expected a BEGIN line, got {begin:?}"));
        let mut body = String::new();
        let mut previous_len = 64;
        for line in lines.by_ref() {
            if line == format!("-----END {label}-----") {
                break;
            }
            assert!(line.len() <= 64 && previous_len == 64, "{line:?}");
            previous_len = line.len();
            body.push_str(line);
        }
        blocks.push((label.to_owned(), STANDARD.decode(body).unwrap()));
    }
    blocks
}

#[test]
fn pem_round_trips_rsa_and_p256_in_azure_layout() {
    let ca = ca();
    for key in [rsa_key(), ec_key(Curve::P256)] {
        let bundle = bundle_for(key, &ca);
        let text = build_pem(&bundle);
        let pkcs8 = bundle.key.as_ref().unwrap().private_bytes();
        assert_eq!(
            blocks(&text),
            [
                ("PRIVATE KEY".to_owned(), pkcs8.to_vec()),
                ("CERTIFICATE".to_owned(), bundle.leaf.clone()),
                ("CERTIFICATE".to_owned(), ca.cert_der().to_vec()),
            ]
        );

        let parsed = parse_pem_bundle(&text).unwrap();
        assert_eq!(parsed.leaf, bundle.leaf);
        assert_eq!(parsed.chain, bundle.chain);
        let parsed_key = parsed.key.unwrap();
        assert_eq!(parsed_key.public(), bundle.key.as_ref().unwrap().public());
        assert_eq!(*parsed_key.private_bytes(), *pkcs8);
    }
}

#[test]
fn pem_without_key_is_just_the_certificates() {
    let ca = ca();
    let mut bundle = bundle_for(ec_key(Curve::P256), &ca);
    bundle.key = None;
    let text = build_pem(&bundle);
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(!text.contains("PRIVATE KEY"));
    assert_eq!(blocks(&text).len(), 2);
}

#[test]
fn leaf_is_the_certificate_of_the_key_wherever_it_is() {
    let ca = ca();
    let bundle = bundle_for(rsa_key(), &ca);
    let other = self_signed_bundle(ec_key(Curve::P256), "CN=unrelated");
    let pem_of = |der: &[u8]| {
        build_pem(&CertBundle {
            key: None,
            leaf: der.to_vec(),
            chain: Vec::new(),
        })
        .to_string()
    };
    let key_pem = build_pem(&bundle);
    let key_block_end = key_pem.find("-----END PRIVATE KEY-----\n").unwrap() + 26;
    // Root first, an unrelated certificate, the key, and the leaf last.
    let text = format!(
        "some comment\n{}{}{}trailing text\n{}",
        pem_of(ca.cert_der()),
        pem_of(&other.leaf),
        &key_pem[..key_block_end],
        pem_of(&bundle.leaf),
    );
    let parsed = parse_pem_bundle(&text).unwrap();
    assert_eq!(parsed.leaf, bundle.leaf);
    assert_eq!(parsed.chain, [ca.cert_der().to_vec(), other.leaf.clone()]);
}

#[test]
fn pem_refusals_are_errors_not_panics() {
    let ca = ca();
    let bundle = bundle_for(ec_key(Curve::P256), &ca);
    let full = build_pem(&bundle).to_string();
    let key_end = full.find("-----BEGIN CERTIFICATE-----").unwrap();
    let (key_only, certs_only) = full.split_at(key_end);
    let stranger = build_pem(&self_signed_bundle(ec_key(Curve::P256), "CN=stranger"));
    let stranger_key_end = stranger.find("-----BEGIN CERTIFICATE-----").unwrap();
    let stranger_key = &stranger[..stranger_key_end];

    let cases: &[(&str, String, CertError)] = &[
        ("empty", String::new(), CertError::NoCertificate),
        (
            "no blocks",
            "just text\n".to_owned(),
            CertError::NoCertificate,
        ),
        ("key only", key_only.to_owned(), CertError::NoCertificate),
        (
            "certificates only",
            certs_only.to_owned(),
            CertError::MissingKey,
        ),
        (
            "two keys",
            format!("{key_only}{stranger_key}{certs_only}"),
            CertError::ExtraKey,
        ),
        (
            "key of no certificate",
            format!("{stranger_key}{certs_only}"),
            CertError::KeyMismatch,
        ),
        (
            "truncated block",
            full[..full.len() - 20].to_owned(),
            CertError::Malformed("PEM block"),
        ),
        (
            "bad base64",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_owned(),
            CertError::Malformed("PEM block"),
        ),
        (
            "not a certificate",
            format!("{key_only}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            CertError::Malformed("certificate"),
        ),
        (
            "not a key",
            format!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{certs_only}"),
            CertError::Key(crate::keys::KeyError::InvalidKeyMaterial(
                "PKCS#8 private key is malformed",
            )),
        ),
        (
            "encrypted key",
            format!(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n{certs_only}"
            ),
            CertError::Unsupported("encrypted PEM private keys"),
        ),
        (
            "unknown block",
            format!("{full}-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
            CertError::Malformed("PEM bundle: unexpected block type"),
        ),
    ];
    for (name, text, expected) in cases {
        let err = parse_pem_bundle(text).unwrap_err();
        assert_eq!(&err, expected, "{name}");
    }

    // An encrypted traditional key: its `Proc-Type`/`DEK-Info` headers are not base64.
    let tools = Tools::new();
    tools.openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem");
    tools.openssl("ec -in k.pem -traditional -aes128 -passout pass:pw -out enc.pem");
    let encrypted = tools.read_text("enc.pem");
    assert!(encrypted.contains("Proc-Type: 4,ENCRYPTED"));
    assert_eq!(
        parse_pem_bundle(&format!("{encrypted}{certs_only}")).unwrap_err(),
        CertError::Malformed("PEM block")
    );

    // Arbitrary bytes (as lossy text) never panic.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..200 {
        let noise: Vec<u8> = (0..256)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let text = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n{}",
            STANDARD.encode(&noise),
            String::from_utf8_lossy(&noise)
        );
        assert!(parse_pem_bundle(&text).is_err());
        assert!(parse_pem_bundle(&String::from_utf8_lossy(&noise)).is_err());
    }
}

#[test]
fn debug_output_has_no_key_material() {
    let bundle = bundle_for(rsa_key(), &ca());
    let debug = format!("{bundle:?}");
    assert!(debug.starts_with("CertBundle { key: Some(PrivateKey(<redacted> RSA 2048 bits))"));
    let pem = build_pem(&bundle);
    let key_line = pem.lines().nth(1).unwrap();
    assert!(!debug.contains(key_line));
    assert!(debug.len() < 200, "{debug}");
}
