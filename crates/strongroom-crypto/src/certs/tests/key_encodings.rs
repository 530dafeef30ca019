//! `PrivateKey::from_pkcs8_der` and the traditional encodings (PKCS#1, SEC1).

use super::*;
use crate::keys::{KeyError, KeyFamily};

#[test]
fn pkcs8_import_detects_rsa_and_every_curve_and_round_trips() {
    let keys = [
        rsa_key(),
        ec_key(Curve::P256),
        ec_key(Curve::P384),
        ec_key(Curve::P521),
        ec_key(Curve::P256K),
    ];
    for key in keys {
        let pkcs8 = key.private_bytes();
        let imported = PrivateKey::from_pkcs8_der(&pkcs8).unwrap();
        assert_eq!(imported.family(), key.family());
        assert_eq!(imported.curve(), key.curve(), "{key:?}");
        assert_eq!(imported.public(), key.public());
        assert_eq!(*imported.private_bytes(), *pkcs8);
    }
}

#[test]
fn pkcs8_import_refuses_other_algorithms_and_garbage() {
    let check = |der: &[u8]| PrivateKey::from_pkcs8_der(der).unwrap_err();
    // Ed25519, a PKCS#8 document Key Vault keys cannot be.
    let ed25519 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    assert_eq!(
        check(&ed25519.serialize_der()),
        KeyError::InvalidKeyMaterial("the private key algorithm is not supported")
    );
    let malformed = KeyError::InvalidKeyMaterial("PKCS#8 private key is malformed");
    assert_eq!(check(b""), malformed);
    assert_eq!(check(b"\x30\x03\x02\x01\x00"), malformed);
    let pkcs8 = ec_key(Curve::P256).private_bytes();
    assert_eq!(check(&pkcs8[..pkcs8.len() - 1]), malformed);
    // RSA-1024: a well-formed key of a size Key Vault does not offer.
    let tools = Tools::new();
    tools.openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out small.pem");
    tools.openssl("pkcs8 -topk8 -nocrypt -in small.pem -outform DER -out small.der");
    assert_eq!(
        check(&tools.read("small.der")),
        KeyError::InvalidKeyMaterial("the RSA key size is not supported")
    );
}

#[test]
fn pkcs1_and_sec1_keys_from_openssl_import() {
    let tools = Tools::new();
    tools.openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem");
    tools.openssl("pkey -in rsa.pem -traditional -out rsa1.pem");
    // `ecparam -genkey` writes an `EC PARAMETERS` block, then the SEC1 key.
    tools.openssl("ecparam -name secp384r1 -genkey -out ec.pem");
    tools.openssl("pkcs8 -topk8 -nocrypt -in ec.pem -outform DER -out ec8.der");
    tools.openssl("pkcs8 -topk8 -nocrypt -in rsa.pem -outform DER -out rsa8.der");
    assert!(
        tools
            .read_text("rsa1.pem")
            .contains("BEGIN RSA PRIVATE KEY")
    );
    assert!(tools.read_text("ec.pem").contains("BEGIN EC PARAMETERS"));

    for (traditional, pkcs8, family) in [
        ("rsa1.pem", "rsa8.der", KeyFamily::Rsa),
        ("ec.pem", "ec8.der", KeyFamily::Ec),
    ] {
        tools.openssl(&format!(
            "req -x509 -key {traditional} -out cert.pem -subj /CN=traditional -days 1"
        ));
        let text = tools.read_text(traditional) + &tools.read_text("cert.pem");
        let bundle = super::super::parse_pem_bundle(&text).unwrap();
        let key = bundle.key.unwrap();
        assert_eq!(key.family(), family);
        let from_pkcs8 = PrivateKey::from_pkcs8_der(&tools.read(pkcs8)).unwrap();
        assert_eq!(key.public(), from_pkcs8.public(), "{traditional}");
        assert_eq!(bundle.leaf, pem_cert_der(&tools.read_text("cert.pem")));
        assert!(bundle.chain.is_empty());
    }
    assert_eq!(
        PrivateKey::from_pkcs8_der(&tools.read("ec8.der"))
            .unwrap()
            .curve(),
        Some(Curve::P384)
    );
}
