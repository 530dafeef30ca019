//! `keyvault key import --pem-file|--pem-string`: the PEM private key becomes the JSON Web
//! Key that `ImportKey` sends, here on the client, as `az` does it.
//!
//! Accepted: RSA as PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), EC as SEC1
//! (`EC PRIVATE KEY`) or PKCS#8, on P-256, P-384, P-521 and secp256k1 (`P-256K`). Encrypted
//! PEM is refused with a hint; az would ask for `--pem-password`.
//!
//! The DER is read with asn1-rs (through x509-parser) as plain TLVs. EC keys are loaded by
//! aws-lc-rs, which checks the private scalar against the curve and gives the public point
//! even when the file leaves it out. RSA components are copied as they are; the server
//! checks them when it loads the key.
//!
//! Invariant: private material only lives in zeroizing buffers (`Zeroizing`, `SecretValue`,
//! aws-lc-rs' own buffers); it leaves as base64url inside the request body and nowhere else.

use std::fmt;

use aws_lc_rs::encoding::AsBigEndian as _;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject as _;
use serde::ser::{Serialize, SerializeMap, Serializer};
use strongroom_model::SecretValue;
use x509_parser::asn1_rs::{Any, Class, FromDer as _, Tag};
use zeroize::Zeroizing;

use crate::error::CliError;

/// DER contents of `rsaEncryption` (1.2.840.113549.1.1.1).
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER contents of `id-ecPublicKey` (1.2.840.10045.2.1).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// A curve Key Vault knows: its JWK `crv`, its OID (DER contents) and the aws-lc-rs
/// algorithm that loads its keys.
struct Curve {
    crv: &'static str,
    oid: &'static [u8],
    algorithm: &'static EcdsaSigningAlgorithm,
}

const CURVES: [Curve; 4] = [
    // prime256v1, 1.2.840.10045.3.1.7
    Curve {
        crv: "P-256",
        oid: &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
        algorithm: &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
    },
    // secp384r1, 1.3.132.0.34
    Curve {
        crv: "P-384",
        oid: &[0x2b, 0x81, 0x04, 0x00, 0x22],
        algorithm: &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
    },
    // secp521r1, 1.3.132.0.35
    Curve {
        crv: "P-521",
        oid: &[0x2b, 0x81, 0x04, 0x00, 0x23],
        algorithm: &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
    },
    // secp256k1, 1.3.132.0.10
    Curve {
        crv: "P-256K",
        oid: &[0x2b, 0x81, 0x04, 0x00, 0x0a],
        algorithm: &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
    },
];

/// A private JWK: `kty`, `crv` for EC, and the base64url components in JWK order.
pub(crate) struct PrivateJwk {
    pub(crate) kty: &'static str,
    pub(crate) crv: Option<&'static str>,
    components: Vec<(&'static str, SecretValue)>,
}

impl PrivateJwk {
    /// The base64url value of one component (`n`, `e`, `d`, `x`, ...).
    #[cfg(test)]
    pub(crate) fn component(&self, name: &str) -> Option<&SecretValue> {
        self.components
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value)
    }
}

impl fmt::Debug for PrivateJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.components.iter().map(|(name, _)| *name).collect();
        f.debug_struct("PrivateJwk")
            .field("kty", &self.kty)
            .field("crv", &self.crv)
            .field("components", &fields)
            .finish()
    }
}

/// `kty`, `crv` and the components; `key_ops` is added by the caller's body.
impl Serialize for PrivateJwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kty", self.kty)?;
        if let Some(crv) = self.crv {
            map.serialize_entry("crv", crv)?;
        }
        for (name, value) in &self.components {
            map.serialize_entry(name, value.expose())?;
        }
        map.end()
    }
}

fn failed(detail: impl Into<String>) -> CliError {
    CliError::KeyImport(detail.into())
}

/// Converts the first private key in `pem` to a JWK.
pub(crate) fn jwk_from_pem(pem: &SecretValue) -> Result<PrivateJwk, CliError> {
    let pem = pem.expose();
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || pem.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(failed(
            "the PEM private key is encrypted, and --pem-password is not supported; decrypt it \
             first (e.g. `openssl pkey -in key.pem -out plain.pem`)",
        ));
    }
    let key: Zeroizing<PrivateKeyDer<'static>> = Zeroizing::new(
        PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|error| {
            failed(format!(
                "no RSA or EC private key found in the PEM ({error}); expected a \
                 `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block"
            ))
        })?,
    );
    match &*key {
        PrivateKeyDer::Pkcs1(der) => rsa_from_pkcs1(der.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(der) => ec_from_sec1(der.secret_sec1_der()),
        PrivateKeyDer::Pkcs8(der) => from_pkcs8(der.secret_pkcs8_der()),
        _ => Err(failed("unsupported private key format")),
    }
}

/// `PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING, … }`
fn from_pkcs8(der: &[u8]) -> Result<PrivateJwk, CliError> {
    let items = sequence(der, "PKCS#8 PrivateKeyInfo")?;
    let (Some(algorithm), Some(private_key)) = (items.get(1), items.get(2)) else {
        return Err(failed("the PKCS#8 PrivateKeyInfo is too short"));
    };
    expect_tag(private_key, Tag::OctetString, "PKCS#8 privateKey")?;
    let algorithm = sequence_contents(algorithm, "PKCS#8 AlgorithmIdentifier")?;
    let oid = match algorithm.first() {
        Some(oid) if oid.header.tag() == Tag::Oid => oid.data,
        _ => return Err(failed("the PKCS#8 AlgorithmIdentifier has no OID")),
    };
    if oid == OID_RSA_ENCRYPTION {
        return rsa_from_pkcs1(private_key.data);
    }
    if oid == OID_EC_PUBLIC_KEY {
        let curve = match algorithm.get(1) {
            Some(parameters) if parameters.header.tag() == Tag::Oid => curve(parameters.data)?,
            _ => return Err(failed("the EC key does not name its curve")),
        };
        return ec_key(curve, der);
    }
    Err(failed(
        "unsupported key type (only RSA and EC private keys can be imported)",
    ))
}

/// `RSAPrivateKey ::= SEQUENCE { version, n, e, d, p, q, dp, dq, qi }` (two primes only).
fn rsa_from_pkcs1(der: &[u8]) -> Result<PrivateJwk, CliError> {
    let items = sequence(der, "PKCS#1 RSAPrivateKey")?;
    let [version, rest @ ..] = items.as_slice() else {
        return Err(failed("the PKCS#1 RSAPrivateKey is empty"));
    };
    expect_tag(version, Tag::Integer, "PKCS#1 version")?;
    if version.data != [0] || rest.len() != 8 {
        return Err(failed(
            "multi-prime RSA keys are not supported (PKCS#1 version must be 0 with 8 integers)",
        ));
    }
    // Key Vault's JWK names, in RSAPrivateKey's order.
    const NAMES: [&str; 8] = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
    let mut components = Vec::with_capacity(NAMES.len());
    for (name, item) in NAMES.into_iter().zip(rest) {
        expect_tag(item, Tag::Integer, "PKCS#1 component")?;
        components.push((name, base64url(unsigned(item.data)?)));
    }
    Ok(PrivateJwk {
        kty: "RSA",
        crv: None,
        components,
    })
}

/// `ECPrivateKey ::= SEQUENCE { version 1, privateKey, [0] parameters, [1] publicKey }`
fn ec_from_sec1(der: &[u8]) -> Result<PrivateJwk, CliError> {
    let items = sequence(der, "SEC1 ECPrivateKey")?;
    let parameters = items
        .iter()
        .find(|item| item.header.class() == Class::ContextSpecific && item.header.tag() == Tag(0));
    let Some(parameters) = parameters else {
        return Err(failed(
            "the EC key does not name its curve (no parameters in the EC PRIVATE KEY)",
        ));
    };
    let (_, oid) = Any::from_der(parameters.data)
        .map_err(|_| failed("the EC key's curve parameters are not valid DER"))?;
    if oid.header.tag() != Tag::Oid {
        return Err(failed(
            "the EC key uses explicit curve parameters; only named curves are supported",
        ));
    }
    ec_key(curve(oid.data)?, der)
}

fn curve(oid: &[u8]) -> Result<&'static Curve, CliError> {
    CURVES.iter().find(|curve| curve.oid == oid).ok_or_else(|| {
        failed("unsupported curve (Key Vault supports P-256, P-384, P-521 and P-256K)")
    })
}

/// Loads the SEC1 or PKCS#8 key with aws-lc-rs: `x`, `y` from its public point, `d` as the
/// fixed-length big-endian scalar.
fn ec_key(curve: &'static Curve, der: &[u8]) -> Result<PrivateJwk, CliError> {
    let pair = EcdsaKeyPair::from_private_key_der(curve.algorithm, der)
        .map_err(|error| failed(format!("the {} key is not valid: {error}", curve.crv)))?;
    // Uncompressed point: 0x04 || x || y, both field-sized.
    let point = pair.public_key().as_ref();
    let coordinates = match point.split_first() {
        Some((0x04, coordinates)) if coordinates.len() % 2 == 0 => coordinates,
        _ => return Err(failed("unexpected public point encoding")),
    };
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    let d = pair
        .private_key()
        .as_be_bytes()
        .map_err(|_| failed("cannot read the EC private scalar"))?;
    Ok(PrivateJwk {
        kty: "EC",
        crv: Some(curve.crv),
        components: vec![
            ("x", base64url(x)),
            ("y", base64url(y)),
            ("d", base64url(d.as_ref())),
        ],
    })
}

/// The items of a DER SEQUENCE that must fill `der` exactly.
fn sequence<'a>(der: &'a [u8], what: &str) -> Result<Vec<Any<'a>>, CliError> {
    let (rest, outer) =
        Any::from_der(der).map_err(|_| failed(format!("the {what} is not valid DER")))?;
    if !rest.is_empty() {
        return Err(failed(format!("trailing bytes after the {what}")));
    }
    sequence_contents(&outer, what)
}

fn sequence_contents<'a>(outer: &Any<'a>, what: &str) -> Result<Vec<Any<'a>>, CliError> {
    expect_tag(outer, Tag::Sequence, what)?;
    let mut input = outer.data;
    let mut items = Vec::new();
    while !input.is_empty() {
        let (rest, item) =
            Any::from_der(input).map_err(|_| failed(format!("the {what} is not valid DER")))?;
        items.push(item);
        input = rest;
    }
    Ok(items)
}

fn expect_tag(item: &Any<'_>, tag: Tag, what: &str) -> Result<(), CliError> {
    if item.header.class() == Class::Universal && item.header.tag() == tag {
        Ok(())
    } else {
        Err(failed(format!("the {what} has an unexpected type")))
    }
}

/// A DER INTEGER's magnitude: a positive value without its leading zero bytes.
fn unsigned(content: &[u8]) -> Result<&[u8], CliError> {
    match content.first() {
        None => Err(failed("empty INTEGER in the key")),
        Some(byte) if byte & 0x80 != 0 => Err(failed("negative INTEGER in the key")),
        Some(_) => {
            let start = content
                .iter()
                .position(|&byte| byte != 0)
                .unwrap_or(content.len().saturating_sub(1));
            Ok(&content[start..])
        }
    }
}

fn base64url(bytes: &[u8]) -> SecretValue {
    let mut text = String::new();
    URL_SAFE_NO_PAD.encode_string(bytes, &mut text);
    SecretValue::new(text)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use expect_test::expect;
    use rcgen::{
        KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_RSA_SHA256, RsaKeySize,
    };
    use x509_parser::public_key::PublicKey;
    use x509_parser::x509::SubjectPublicKeyInfo;

    use super::*;

    fn b64url(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn pem(label: &str, der: &[u8]) -> String {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    /// The public key as x509-parser reads it from the SubjectPublicKeyInfo.
    fn public_key(key: &KeyPair) -> (Vec<u8>, Vec<u8>) {
        let spki_der = rcgen::PublicKeyData::subject_public_key_info(key);
        let (_, spki) = SubjectPublicKeyInfo::from_der(&spki_der).unwrap();
        match spki.parsed().unwrap() {
            PublicKey::RSA(rsa) => (
                unsigned(rsa.modulus).unwrap().to_vec(),
                unsigned(rsa.exponent).unwrap().to_vec(),
            ),
            PublicKey::EC(point) => {
                let coordinates = &point.data()[1..];
                let (x, y) = coordinates.split_at(coordinates.len() / 2);
                (x.to_vec(), y.to_vec())
            }
            other => panic!("unexpected key {other:?}"),
        }
    }

    fn component(jwk: &PrivateJwk, name: &str) -> String {
        jwk.component(name).unwrap().expose().to_owned()
    }

    #[test]
    fn rsa_pkcs8_and_pkcs1_give_the_public_key() {
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
        let (n, e) = public_key(&key);
        let pkcs8_pem = key.serialize_pem();
        let from_pkcs8 = jwk_from_pem(&SecretValue::new(pkcs8_pem)).unwrap();
        assert_eq!(component(&from_pkcs8, "n"), b64url(&n));
        assert_eq!(component(&from_pkcs8, "e"), b64url(&e));
        assert_eq!(component(&from_pkcs8, "e"), "AQAB");
        expect![[r#"PrivateJwk { kty: "RSA", crv: None, components: ["n", "e", "d", "p", "q", "dp", "dq", "qi"] }"#]]
            .assert_eq(&format!("{from_pkcs8:?}"));

        // The same key as PKCS#1: PKCS#8's privateKey OCTET STRING is the RSAPrivateKey.
        let pkcs8_der = key.serialize_der();
        let items = sequence(&pkcs8_der, "test").unwrap();
        let pkcs1_pem = pem("RSA PRIVATE KEY", items[2].data);
        let from_pkcs1 = jwk_from_pem(&SecretValue::new(pkcs1_pem)).unwrap();
        for name in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
            assert_eq!(component(&from_pkcs1, name), component(&from_pkcs8, name));
        }
        // 2048-bit modulus, no sign byte.
        assert_eq!(n.len(), 256);
        let json = serde_json::to_value(&from_pkcs1).unwrap();
        assert_eq!(json["kty"], "RSA");
        assert_eq!(json["n"], b64url(&n));
        assert!(json.get("crv").is_none());
    }

    #[test]
    fn ec_pkcs8_and_sec1_give_the_public_point() {
        for (algorithm, crv, size) in [
            (&PKCS_ECDSA_P256_SHA256, "P-256", 32),
            (&PKCS_ECDSA_P384_SHA384, "P-384", 48),
        ] {
            let key = KeyPair::generate_for(algorithm).unwrap();
            let (x, y) = public_key(&key);
            let from_pkcs8 = jwk_from_pem(&SecretValue::new(key.serialize_pem())).unwrap();
            assert_eq!(from_pkcs8.crv, Some(crv));
            assert_eq!(component(&from_pkcs8, "x"), b64url(&x));
            assert_eq!(component(&from_pkcs8, "y"), b64url(&y));
            assert_eq!(x.len(), size);

            // SEC1 from aws-lc-rs (RFC 5915 ECPrivateKey with the curve named).
            let curve = CURVES.iter().find(|curve| curve.crv == crv).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(curve.algorithm, &key.serialize_der()).unwrap();
            let sec1 = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::EcPrivateKeyRfc5915Der<'_>>::as_der(&pair.private_key()).unwrap();
            let sec1_pem = pem("EC PRIVATE KEY", sec1.as_ref());
            let from_sec1 = jwk_from_pem(&SecretValue::new(format!(
                "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{sec1_pem}"
            )))
            .unwrap();
            for name in ["x", "y", "d"] {
                assert_eq!(component(&from_sec1, name), component(&from_pkcs8, name));
            }
            let d = URL_SAFE_NO_PAD.decode(component(&from_sec1, "d")).unwrap();
            assert_eq!(d.len(), size);
        }
    }

    #[test]
    fn refusals() {
        let refusals = [
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "not a pem",
            &pem("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]),
            &pem("RSA PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x01]),
            &pem("EC PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x01]),
            // Ed25519 PKCS#8 (OID 1.3.101.112).
            &pem(
                "PRIVATE KEY",
                &[
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                    18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
                ],
            ),
        ]
        .map(|pem| match jwk_from_pem(&SecretValue::new(pem.to_owned())) {
            Ok(jwk) => format!("unexpected {jwk:?}"),
            Err(error) => error.line(),
        })
        .join("\n");
        expect![[r#"
            ERROR: Import failed: the PEM private key is encrypted, and --pem-password is not supported; decrypt it first (e.g. `openssl pkey -in key.pem -out plain.pem`)
            ERROR: Import failed: the PEM private key is encrypted, and --pem-password is not supported; decrypt it first (e.g. `openssl pkey -in key.pem -out plain.pem`)
            ERROR: Import failed: no RSA or EC private key found in the PEM (no items found); expected a `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block
            ERROR: Import failed: no RSA or EC private key found in the PEM (no items found); expected a `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block
            ERROR: Import failed: the PKCS#8 PrivateKeyInfo is too short
            ERROR: Import failed: multi-prime RSA keys are not supported (PKCS#1 version must be 0 with 8 integers)
            ERROR: Import failed: the EC key does not name its curve (no parameters in the EC PRIVATE KEY)
            ERROR: Import failed: unsupported key type (only RSA and EC private keys can be imported)"#]]
        .assert_eq(&refusals);
    }

    #[test]
    fn integers_lose_their_sign_byte() {
        assert_eq!(unsigned(&[0x00, 0x80, 0x01]).unwrap(), &[0x80, 0x01]);
        assert_eq!(unsigned(&[0x01, 0x00]).unwrap(), &[0x01, 0x00]);
        assert_eq!(unsigned(&[0x00]).unwrap(), &[0x00]);
        assert!(unsigned(&[0x80]).is_err());
        assert!(unsigned(&[]).is_err());
    }
}
