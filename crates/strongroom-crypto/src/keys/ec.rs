//! EC keys on P-256, P-384, P-521 and secp256k1 (P-256K): ECDSA over a precomputed digest
//! with JWS's fixed-length `r || s` signatures, through aws-lc-rs's `EcdsaKeyPair`.
//!
//! An `EcKey` keeps the parsed key pair and a parsed verifier, so a cached key signs and
//! verifies without parsing.

use super::{Curve, KeyError, KeyFamily, KeyMaterial, PublicKey, SignatureAlgorithm};
use super::{der, import_digest};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair as _,
    ParsedPublicKey,
};
use std::ops::Range;
use zeroize::Zeroizing;

/// SEC1 tag of an uncompressed point, `0x04 || x || y`.
const UNCOMPRESSED: u8 = 0x04;

pub(super) struct EcKey {
    curve: Curve,
    pair: EcdsaKeyPair,
    verifier: ParsedPublicKey,
    x: Vec<u8>,
    y: Vec<u8>,
    /// The PKCS#8 document aws-lc wrote for this key: `to_stored` returns it, `export` reads
    /// `d` from it (at `d`, the curve's full field length).
    pkcs8: Zeroizing<Vec<u8>>,
    d: Range<usize>,
}

impl EcKey {
    pub(super) fn generate(curve: Curve) -> Result<Self, KeyError> {
        Self::from_pair(curve, EcdsaKeyPair::generate(signing_algorithm(curve))?)
    }

    /// From JWK parts: `crv`, `d`, `x`, `y`; the point must be `d`'s.
    pub(super) fn import(material: &KeyMaterial) -> Result<Self, KeyError> {
        let curve = material
            .curve
            .ok_or(KeyError::InvalidKeyMaterial("curve is missing"))?;
        let d = material
            .d
            .as_deref()
            .ok_or(KeyError::InvalidKeyMaterial("private key is missing"))?;
        let (Some(x), Some(y)) = (material.x.as_deref(), material.y.as_deref()) else {
            return Err(KeyError::InvalidKeyMaterial(
                "public point x and y are required",
            ));
        };
        let point = uncompressed_point(curve, x, y)?;
        let d = Zeroizing::new(
            fixed_len(d, curve.field_len())
                .ok_or(KeyError::InvalidKeyMaterial("d is longer than the curve"))?,
        );
        let pair =
            EcdsaKeyPair::from_private_key_and_public_key(signing_algorithm(curve), &d, &point)
                .map_err(|_| {
                    KeyError::InvalidKeyMaterial("d is not a valid key or x, y are not its point")
                })?;
        Self::from_pair(curve, pair)
    }

    /// From a PKCS#8 document; `malformed` words the failure for where the bytes came from.
    pub(super) fn from_pkcs8(
        curve: Curve,
        pkcs8: &[u8],
        malformed: &'static str,
    ) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::from_pkcs8(signing_algorithm(curve), pkcs8)
            .map_err(|_| KeyError::InvalidKeyMaterial(malformed))?;
        Self::from_pair(curve, pair)
    }

    /// From a SEC1 `ECPrivateKey` document on `curve`; another curve is refused.
    pub(super) fn from_sec1(curve: Curve, der: &[u8]) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::from_private_key_der(signing_algorithm(curve), der)
            .map_err(|_| KeyError::InvalidKeyMaterial("SEC1 EC private key is malformed"))?;
        Self::from_pair(curve, pair)
    }

    fn from_pair(curve: Curve, pair: EcdsaKeyPair) -> Result<Self, KeyError> {
        let field_len = curve.field_len();
        let point = pair.public_key().as_ref();
        let coordinates = match point.split_first() {
            Some((&UNCOMPRESSED, coordinates)) if coordinates.len() == 2 * field_len => coordinates,
            _ => return Err(KeyError::Library),
        };
        let (x, y) = coordinates.split_at(field_len);
        let verifier = ParsedPublicKey::new(verification_algorithm(curve), point)
            .map_err(|_| KeyError::Library)?;
        let pkcs8 = Zeroizing::new(pair.to_pkcs8v1()?.as_ref().to_vec());
        let d = private_scalar(&pkcs8)
            .filter(|d| d.len() == field_len)
            .ok_or(KeyError::Library)?;
        Ok(Self {
            curve,
            x: x.to_vec(),
            y: y.to_vec(),
            verifier,
            pair,
            pkcs8,
            d,
        })
    }

    pub(super) fn curve(&self) -> Curve {
        self.curve
    }

    pub(super) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub(super) fn public(&self) -> PublicKey {
        PublicKey::Ec {
            curve: self.curve,
            x: self.x.clone(),
            y: self.y.clone(),
        }
    }

    pub(super) fn export(&self) -> KeyMaterial {
        // The range was found in this very document at construction.
        let d = self.pkcs8.get(self.d.clone()).unwrap_or_default();
        KeyMaterial {
            family: Some(KeyFamily::Ec),
            curve: Some(self.curve),
            x: Some(self.x.clone()),
            y: Some(self.y.clone()),
            d: Some(Zeroizing::new(d.to_vec())),
            ..KeyMaterial::default()
        }
    }

    pub(super) fn sign(&self, alg: SignatureAlgorithm, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        check_algorithm(alg, self.curve)?;
        let digest = import_digest(alg, digest)?;
        Ok(self.pair.sign_digest(&digest)?.as_ref().to_vec())
    }

    pub(super) fn verify(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<bool, KeyError> {
        check_algorithm(alg, self.curve)?;
        let digest = import_digest(alg, digest)?;
        Ok(self.verifier.verify_digest_sig(&digest, signature).is_ok())
    }
}

/// Verifies with a JWK's curve and point.
pub(super) fn verify_with_point(
    curve: Curve,
    x: &[u8],
    y: &[u8],
    alg: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, KeyError> {
    check_algorithm(alg, curve)?;
    let digest = import_digest(alg, digest)?;
    let point = uncompressed_point(curve, x, y)?;
    let verifier = ParsedPublicKey::new(verification_algorithm(curve), &point)
        .map_err(|_| KeyError::InvalidKeyMaterial("x, y are not a point on the curve"))?;
    Ok(verifier.verify_digest_sig(&digest, signature).is_ok())
}

/// ES* only, and the one curve the algorithm is defined for.
fn check_algorithm(alg: SignatureAlgorithm, curve: Curve) -> Result<(), KeyError> {
    match alg.curve() {
        None => Err(KeyError::not_for(alg.as_str(), KeyFamily::Ec)),
        Some(wanted) if wanted != curve => Err(KeyError::CurveMismatch {
            algorithm: alg,
            curve,
        }),
        Some(_) => Ok(()),
    }
}

fn signing_algorithm(curve: Curve) -> &'static EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
        Curve::P256K => &signature::ECDSA_P256K1_SHA256_FIXED_SIGNING,
    }
}

fn verification_algorithm(curve: Curve) -> &'static EcdsaVerificationAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
        Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
        Curve::P256K => &signature::ECDSA_P256K1_SHA256_FIXED,
    }
}

/// `0x04 || x || y`, each coordinate at the field length (shorter JWK values are padded).
fn uncompressed_point(curve: Curve, x: &[u8], y: &[u8]) -> Result<Vec<u8>, KeyError> {
    let too_long = KeyError::InvalidKeyMaterial("x or y is longer than the curve");
    let x = fixed_len(x, curve.field_len()).ok_or(too_long.clone())?;
    let y = fixed_len(y, curve.field_len()).ok_or(too_long)?;
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(UNCOMPRESSED);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok(point)
}

/// A big-endian integer left-padded (or stripped of leading zeros) to exactly `len` bytes;
/// `None` when its magnitude needs more.
fn fixed_len(bytes: &[u8], len: usize) -> Option<Vec<u8>> {
    let n_zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
    let magnitude = &bytes[n_zeros..];
    let padding = len.checked_sub(magnitude.len())?;
    // Sized once, so no reallocation leaves a copy of a private scalar behind.
    let mut out = Vec::with_capacity(len);
    out.resize(padding, 0);
    out.extend_from_slice(magnitude);
    Some(out)
}

/// PKCS#8 -> ECPrivateKey { version, privateKey OCTET STRING, ... }: the scalar's range.
fn private_scalar(pkcs8: &[u8]) -> Option<Range<usize>> {
    let mut key = der::pkcs8_private_key(pkcs8)?;
    key.next(der::INTEGER)?; // version
    key.next(der::OCTET_STRING)
}
