//! `parse_pfx` and `build_pfx`, against files OpenSSL and python `cryptography` write and
//! read.

use super::*;
use crate::certs::{CertError, build_pem, build_pfx, parse_pem_bundle, parse_pfx};

/// The key, leaf and chain of `bundle` as `parse` gave them back.
#[track_caller]
fn assert_same(parsed: &CertBundle, expected: &CertBundle) {
    assert_eq!(parsed.leaf, expected.leaf);
    assert_eq!(parsed.chain, expected.chain);
    let (parsed_key, expected_key) = (parsed.key.as_ref().unwrap(), expected.key.as_ref().unwrap());
    assert_eq!(parsed_key.public(), expected_key.public());
    assert_eq!(*parsed_key.private_bytes(), *expected_key.private_bytes());
}

#[test]
fn pfx_round_trips_rsa_and_p256_without_a_password() {
    let ca = ca();
    for key in [rsa_key(), ec_key(Curve::P256)] {
        let bundle = bundle_for(key, &ca);
        let pfx = build_pfx(&bundle).unwrap();
        assert_same(&parse_pfx(&pfx, None).unwrap(), &bundle);
        assert_same(&parse_pfx(&pfx, Some("")).unwrap(), &bundle);
        assert_eq!(
            parse_pfx(&pfx, Some("x")).unwrap_err(),
            CertError::BadPassword
        );
    }
}

#[test]
fn a_keyless_bundle_makes_a_certificates_only_pfx_that_openssl_reads() {
    let ca = ca();
    let mut keyless = bundle_for(ec_key(Curve::P256), &ca);
    keyless.key = None;
    let pfx = build_pfx(&keyless).unwrap();
    let parsed = parse_pfx(&pfx, None).unwrap();
    assert!(parsed.key.is_none());
    assert_eq!(parsed.leaf, keyless.leaf);
    assert_eq!(parsed.chain, keyless.chain);

    let tools = Tools::new();
    tools.write("keyless.pfx", pfx);
    let text =
        String::from_utf8(tools.openssl("pkcs12 -in keyless.pfx -nodes -passin pass:")).unwrap();
    assert!(!text.contains("PRIVATE KEY"), "no key in {text}");
    assert_eq!(
        text.matches("BEGIN CERTIFICATE").count(),
        1 + keyless.chain.len()
    );
}

#[test]
fn openssl_and_python_read_our_pfx_without_a_password() {
    let ca = ca();
    let tools = Tools::new();
    for key in [rsa_key(), ec_key(Curve::P256)] {
        let bundle = bundle_for(key, &ca);
        tools.write("ours.pfx", build_pfx(&bundle).unwrap());

        // `-nodes -passin pass:` is how Key Vault's docs have users unpack the secret.
        let text = tools.openssl("pkcs12 -in ours.pfx -nodes -passin pass:");
        let from_openssl = parse_pem_bundle(&String::from_utf8(text).unwrap()).unwrap();
        assert_same(&from_openssl, &bundle);

        let python = tools.python(
            "from cryptography.hazmat.primitives.serialization import pkcs12, Encoding, \
             PrivateFormat, NoEncryption\n\
             key, cert, cas = pkcs12.load_key_and_certificates(open('ours.pfx', 'rb').read(), None)\n\
             print(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()).hex())\n\
             print(cert.public_bytes(Encoding.DER).hex())\n\
             for ca in cas: print(ca.public_bytes(Encoding.DER).hex())\n",
        );
        let lines: Vec<Vec<u8>> = python.lines().map(hex).collect();
        let python_key = PrivateKey::from_pkcs8_der(&lines[0]).unwrap();
        assert_eq!(python_key.public(), bundle.key.as_ref().unwrap().public());
        assert_eq!(lines[1], bundle.leaf);
        assert_eq!(lines[2..], bundle.chain);
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// OpenSSL's leaf (`leaf.pem`, key `key.pem`) under OpenSSL's CA (`ca.pem`).
fn openssl_material(tools: &Tools, key_algorithm: &str) -> CertBundle {
    tools.openssl(&format!("genpkey {key_algorithm} -out key.pem"));
    openssl_chain(tools, "key.pem");
    let text =
        tools.read_text("key.pem") + &tools.read_text("leaf.pem") + &tools.read_text("ca.pem");
    parse_pem_bundle(&text).unwrap()
}

#[test]
fn reads_modern_legacy_empty_password_and_unencrypted_pfx() {
    let tools = Tools::new();
    let expected = openssl_material(&tools, "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
    let export = "pkcs12 -export -inkey key.pem -in leaf.pem -certfile ca.pem";
    // (file, how it was written, password to read it with, what `openssl pkcs12 -info` says)
    let cases: &[(&str, &str, Option<&str>, &str)] = &[
        (
            "modern.pfx",
            "-passout pass:secret",
            Some("secret"),
            "PBES2, PBKDF2, AES-256-CBC",
        ),
        (
            "legacy.pfx",
            "-legacy -passout pass:secret",
            Some("secret"),
            "pbeWithSHA1And3-KeyTripleDES-CBC",
        ),
        (
            "empty.pfx",
            "-passout pass:",
            None,
            "PBES2, PBKDF2, AES-256-CBC",
        ),
        (
            "legacy-empty.pfx",
            "-legacy -passout pass:",
            Some(""),
            "pbeWithSHA1And40BitRC2-CBC",
        ),
        (
            "clear.pfx",
            "-keypbe NONE -certpbe NONE -nomac -passout pass:",
            None,
            "PKCS7 Data",
        ),
        (
            "nomac.pfx",
            "-nomac -passout pass:secret",
            Some("secret"),
            "PBES2",
        ),
    ];
    for (file, options, password, info) in cases {
        tools.openssl(&format!("{export} {options} -out {file}"));
        let description = tools.describe_pfx(file, password.unwrap_or_default());
        assert!(description.contains(info), "{file}: {description}");
        let parsed =
            parse_pfx(&tools.read(file), *password).unwrap_or_else(|err| panic!("{file}: {err}"));
        assert_same(&parsed, &expected);
    }

    // python `cryptography`: BestAvailableEncryption (PBES2 + HMAC-SHA256) and
    // NoEncryption (no encryption, a MAC) for an EC key.
    let tools = Tools::new();
    let expected = openssl_material(&tools, "-algorithm EC -pkeyopt ec_paramgen_curve:P-384");
    tools.python(
        "from cryptography.hazmat.primitives.serialization import pkcs12, \
         load_pem_private_key, BestAvailableEncryption, NoEncryption\n\
         from cryptography import x509\n\
         key = load_pem_private_key(open('key.pem', 'rb').read(), None)\n\
         leaf = x509.load_pem_x509_certificate(open('leaf.pem', 'rb').read())\n\
         ca = x509.load_pem_x509_certificate(open('ca.pem', 'rb').read())\n\
         for name, encryption in [('best', BestAvailableEncryption(b'secret')), ('none', NoEncryption())]:\n\
         \x20   data = pkcs12.serialize_key_and_certificates(b'x', key, leaf, [ca], encryption)\n\
         \x20   open(name + '.pfx', 'wb').write(data)\n",
    );
    let best = parse_pfx(&tools.read("best.pfx"), Some("secret")).unwrap();
    assert_same(&best, &expected);
    let none = parse_pfx(&tools.read("none.pfx"), None).unwrap();
    assert_same(&none, &expected);
    assert_eq!(
        parse_pfx(&tools.read("best.pfx"), None).unwrap_err(),
        CertError::BadPassword
    );
}

/// Files Debian 12's `/usr/bin/python3` wrote once (python3-cryptography 38, pyOpenSSL), which
/// current `cryptography` no longer writes: see `certs/testdata/README.md`.
mod null_password {
    pub(super) const KEY: &str = include_str!("../testdata/null-password-key.pem");
    pub(super) const LEAF: &str = include_str!("../testdata/null-password-leaf.pem");
    pub(super) const CA: &str = include_str!("../testdata/null-password-ca.pem");
    /// cryptography 38's `NoEncryption()` of key, leaf and CA.
    pub(super) const MAC: &[u8] = include_bytes!("../testdata/null-password-mac.pfx");
    /// pyOpenSSL's `export(passphrase=None)` of key and leaf.
    pub(super) const PYOPENSSL: &[u8] = include_bytes!("../testdata/null-password-pyopenssl.pfx");
}

#[test]
fn reads_pfx_whose_mac_is_under_the_null_password() {
    let expected =
        parse_pem_bundle(&[null_password::KEY, null_password::LEAF, null_password::CA].concat())
            .unwrap();
    let pfx = null_password::MAC.to_vec();
    // The MAC does not verify under the empty password, only under the NULL one.
    assert!(p12_keystore::Pkcs12Archive::from_pkcs12(&pfx, "").is_err());
    assert_same(&parse_pfx(&pfx, None).unwrap(), &expected);
    assert_same(&parse_pfx(&pfx, Some("")).unwrap(), &expected);
    assert_eq!(
        parse_pfx(&pfx, Some("secret")).unwrap_err(),
        CertError::BadPassword
    );
    // A damaged MAC is still refused.
    let mut damaged = pfx.clone();
    let near_the_end = damaged.len() - 20;
    damaged[near_the_end] ^= 1;
    assert!(parse_pfx(&damaged, None).is_err());

    // FIXME: pyOpenSSL's `export(passphrase=None)` also *encrypts* the bags under the NULL
    // password, which `p12-keystore` cannot derive a key from; OpenSSL reads such a file, we
    // refuse it as `BadPassword` today.
    let tools = Tools::new();
    tools.write("pyopenssl.pfx", null_password::PYOPENSSL);
    assert!(
        tools
            .describe_pfx("pyopenssl.pfx", "")
            .contains("pbeWithSHA1And3-KeyTripleDES-CBC")
    );
    assert_eq!(
        parse_pfx(null_password::PYOPENSSL, None).unwrap_err(),
        CertError::BadPassword
    );
}

#[test]
fn wrong_password_is_bad_password_not_malformed() {
    let tools = Tools::new();
    openssl_material(&tools, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
    let export = "pkcs12 -export -inkey key.pem -in leaf.pem -certfile ca.pem -passout pass:secret";
    for (file, options) in [
        ("modern.pfx", ""),
        ("legacy.pfx", "-legacy"),
        // Without a MAC only the padding of the decrypted bags can tell.
        ("nomac.pfx", "-nomac"),
        ("legacy-nomac.pfx", "-legacy -nomac"),
    ] {
        tools.openssl(&format!("{export} {options} -out {file}"));
        let pfx = tools.read(file);
        for wrong in [Some("Secret"), Some(""), None] {
            assert_eq!(
                parse_pfx(&pfx, wrong).unwrap_err(),
                CertError::BadPassword,
                "{file} with {wrong:?}"
            );
        }
        assert!(parse_pfx(&pfx, Some("secret")).is_ok(), "{file}");
    }
}

#[test]
fn malformed_pfx_is_an_error_not_a_panic() {
    let bundle = bundle_for(ec_key(Curve::P256), &ca());
    let pfx = build_pfx(&bundle).unwrap();
    for len in 0..pfx.len() {
        assert!(parse_pfx(&pfx[..len], None).is_err(), "truncated to {len}");
    }
    assert_eq!(
        parse_pfx(b"", None).unwrap_err(),
        CertError::Malformed("PFX")
    );
    assert_eq!(
        parse_pfx(b"not a pfx at all", None).unwrap_err(),
        CertError::Malformed("PFX")
    );
    // A PEM file is not a PFX.
    assert!(parse_pfx(build_pem(&bundle).as_bytes(), None).is_err());
    // Flipped bytes anywhere: a MAC, DER or padding failure, never a panic or a wrong success.
    for position in (0..pfx.len()).step_by(7) {
        let mut damaged = pfx.clone();
        damaged[position] ^= 0x5a;
        // The MAC covers the content, so a damaged file that still parses (a flip in an
        // unused tag bit, say) must hold the same material.
        if let Ok(parsed) = parse_pfx(&damaged, None) {
            assert_same(&parsed, &bundle);
        }
    }
}

#[test]
fn without_a_mac_every_wrong_password_is_bad_password() {
    // A file without a MAC authenticates nothing: about one wrong password in 256 decrypts
    // to valid CBC padding and garbage content. Try enough passwords to meet that case.
    let tools = Tools::new();
    openssl_material(&tools, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
    tools.openssl(
        "pkcs12 -export -inkey key.pem -in leaf.pem -certfile ca.pem -passout pass:secret -nomac -out nomac.pfx",
    );
    let pfx = tools.read("nomac.pfx");
    for n in 0..2000 {
        let wrong = format!("wrong-{n}");
        assert_eq!(
            parse_pfx(&pfx, Some(&wrong)).unwrap_err(),
            CertError::BadPassword,
            "{wrong}"
        );
    }
    assert!(parse_pfx(&pfx, Some("secret")).is_ok());
}
