//! Private keys in the encodings certificates travel with: PKCS#8 `PrivateKeyInfo` (what PFX
//! files and `-----BEGIN PRIVATE KEY-----` hold), PKCS#1 `RSAPrivateKey` and SEC1
//! `ECPrivateKey` (OpenSSL's "traditional" PEM). The reverse direction is `private_bytes`.
//!
//! aws-lc parses every one of them; the `pkcs8` crate only reads the algorithm identifier, so
//! we know which aws-lc parser (and which curve) to hand the document to.

use super::{Curve, Inner, KeyError, PrivateKey, ec, rsa};
use pkcs8::{ObjectIdentifier, PrivateKeyInfoRef};

const MALFORMED: &str = "PKCS#8 private key is malformed";
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");

impl PrivateKey {
    /// From a PKCS#8 `PrivateKeyInfo` in DER: RSA (2048, 3072 or 4096 bits), or EC on P-256,
    /// P-384, P-521 or secp256k1, as its algorithm identifier says.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::try_from(der)
            .map_err(|_| KeyError::InvalidKeyMaterial(MALFORMED))?;
        let inner = match info.algorithm.oid {
            RSA_ENCRYPTION => Inner::Rsa(Box::new(rsa::RsaKey::from_pkcs8(der, MALFORMED)?)),
            EC_PUBLIC_KEY => {
                let curve_oid = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| KeyError::InvalidKeyMaterial("PKCS#8 EC key names no curve"))?;
                let curve = curve_for(curve_oid).ok_or(KeyError::InvalidKeyMaterial(
                    "the EC curve is not supported",
                ))?;
                Inner::Ec(ec::EcKey::from_pkcs8(curve, der, MALFORMED)?)
            }
            _ => {
                return Err(KeyError::InvalidKeyMaterial(
                    "the private key algorithm is not supported",
                ));
            }
        };
        Ok(Self { inner })
    }

    /// From a PKCS#1 `RSAPrivateKey` in DER (`-----BEGIN RSA PRIVATE KEY-----`).
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = rsa::RsaKey::from_pkcs1(der)?;
        Ok(Self {
            inner: Inner::Rsa(Box::new(key)),
        })
    }

    /// From a SEC1 `ECPrivateKey` in DER (`-----BEGIN EC PRIVATE KEY-----`). The document names
    /// its curve and aws-lc refuses a curve other than the one asked for, so trying each
    /// curve finds it without reading the DER ourselves.
    pub(crate) fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        Curve::ALL
            .iter()
            .find_map(|&curve| ec::EcKey::from_sec1(curve, der).ok())
            .map(|key| Self {
                inner: Inner::Ec(key),
            })
            .ok_or(KeyError::InvalidKeyMaterial(
                "SEC1 EC private key is malformed or on an unsupported curve",
            ))
    }
}

fn curve_for(oid: ObjectIdentifier) -> Option<Curve> {
    match oid {
        SECP256R1 => Some(Curve::P256),
        SECP384R1 => Some(Curve::P384),
        SECP521R1 => Some(Curve::P521),
        SECP256K1 => Some(Curve::P256K),
        _ => None,
    }
}
