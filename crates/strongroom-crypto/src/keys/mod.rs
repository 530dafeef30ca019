//! Key Vault *keys*: generation, import and export of RSA, EC and oct keys, and every
//! cryptographic operation Key Vault offers on them (sign/verify over a precomputed digest,
//! encrypt/decrypt, wrap/unwrap), all through aws-lc-rs.
//!
//! `PrivateKey` is parsed once (`generate`, `import`, `from_stored`) and keeps the aws-lc key
//! objects, so the vault caches it in an `Arc` and each operation is one primitive call.
//! `crypto` does the operation; the vault decides whether it is allowed (`key_ops`, state).
//!
//! Order of checks, part of the contract the vault maps to Azure's errors: the algorithm
//! fits the key's family (`AlgorithmNotForKey`), then its curve or size (`CurveMismatch`,
//! `KeySizeMismatch`), then the input (`DigestLength`, `InvalidInput`), then the operation
//! (`DecryptionFailed`, `Library`).
//!
//! Certificates bring keys as PKCS#8, PKCS#1 or SEC1 documents (`encodings.rs`).
//!
//! At rest, `to_stored` gives one tag byte then PKCS#8 DER (RSA, EC) or the raw key (oct); the
//! vault seals those bytes. Tags: 1 RSA, 2 EC P-256, 3 EC P-384, 4 EC P-521, 5 EC P-256K,
//! 6 oct. A new format takes a new tag; old tags keep reading.
//!
//! Start with `PrivateKey`; each family lives in its own file (`rsa.rs`, `ec.rs`, `oct.rs`).

mod algorithms;
mod der;
mod ec;
mod encodings;
mod error;
mod kw;
mod material;
mod oct;
mod release;
mod rsa;
#[cfg(test)]
mod tests;

pub use algorithms::{Curve, EncryptionAlgorithm, KeyFamily, SignatureAlgorithm};
pub use error::KeyError;
pub use material::{CipherInput, CipherOutput, KeyMaterial, PublicKey};
pub use release::{ReleaseWrapping, unwrap_released, wrap_for_release};

use algorithms::Mode;
use aws_lc_rs::digest::Digest;
use std::fmt;
use zeroize::Zeroizing;

const STORED_RSA: u8 = 1;
const STORED_EC_P256: u8 = 2;
const STORED_EC_P384: u8 = 3;
const STORED_EC_P521: u8 = 4;
const STORED_EC_P256K: u8 = 5;
const STORED_OCT: u8 = 6;

/// A Key Vault key with its private (or secret) part, ready for every operation.
/// No `Display`, no `Serialize`, redacted `Debug`; key bytes we hold are wiped on drop
/// (and aws-lc's `OPENSSL_free` cleanses its own key objects' memory when they are freed).
pub struct PrivateKey {
    inner: Inner,
}

enum Inner {
    // Boxed, as is `Oct`: cached verifiers and expanded AES keys dwarf an EC key.
    Rsa(Box<rsa::RsaKey>),
    Ec(ec::EcKey),
    Oct(Box<oct::OctKey>),
}

impl PrivateKey {
    /// A new RSA key of 2048, 3072 or 4096 bits; the exponent is 65537 (`None` or `Some(65537)`).
    pub fn generate_rsa(bits: usize, public_exponent: Option<u64>) -> Result<Self, KeyError> {
        rsa::RsaKey::generate(bits, public_exponent)
            .map(|key| Inner::Rsa(Box::new(key)))
            .map(Self::from)
    }

    pub fn generate_ec(curve: Curve) -> Result<Self, KeyError> {
        ec::EcKey::generate(curve).map(Inner::Ec).map(Self::from)
    }

    /// A new AES key of 128, 192 or 256 bits.
    pub fn generate_oct(bits: usize) -> Result<Self, KeyError> {
        oct::OctKey::generate(bits)
            .map(|key| Inner::Oct(Box::new(key)))
            .map(Self::from)
    }

    /// From JWK parts, checked for consistency. RSA needs `n`, `e`, `d`, `p`, `q`, `dp`, `dq`,
    /// `qi` (aws-lc-rs cannot derive the CRT parts); EC needs `crv`, `d`, `x`, `y`; oct `k`.
    pub fn import(material: &KeyMaterial) -> Result<Self, KeyError> {
        let inner = match material.family {
            Some(KeyFamily::Rsa) => Inner::Rsa(Box::new(rsa::RsaKey::import(material)?)),
            Some(KeyFamily::Ec) => Inner::Ec(ec::EcKey::import(material)?),
            Some(KeyFamily::Oct) => {
                let k = material
                    .k
                    .as_deref()
                    .ok_or(KeyError::InvalidKeyMaterial("symmetric key k is missing"))?;
                Inner::Oct(Box::new(oct::OctKey::from_bytes(k)?))
            }
            None => return Err(KeyError::InvalidKeyMaterial("key type is missing")),
        };
        Ok(Self { inner })
    }

    /// Self-describing bytes for the vault to seal at rest (see the module doc).
    pub fn to_stored(&self) -> Zeroizing<Vec<u8>> {
        let (tag, body) = match &self.inner {
            Inner::Rsa(key) => (STORED_RSA, key.pkcs8()),
            Inner::Ec(key) => (stored_tag(key.curve()), key.pkcs8()),
            Inner::Oct(key) => (STORED_OCT, key.raw()),
        };
        let mut stored = Zeroizing::new(Vec::with_capacity(1 + body.len()));
        stored.push(tag);
        stored.extend_from_slice(body);
        stored
    }

    pub fn from_stored(bytes: &[u8]) -> Result<Self, KeyError> {
        let Some((&tag, body)) = bytes.split_first() else {
            return Err(KeyError::InvalidKeyMaterial("stored key is empty"));
        };
        let stored_ec =
            |curve| ec::EcKey::from_pkcs8(curve, body, "stored EC key is malformed").map(Inner::Ec);
        let inner = match tag {
            STORED_RSA => Inner::Rsa(Box::new(rsa::RsaKey::from_pkcs8(
                body,
                "stored RSA key is malformed",
            )?)),
            STORED_EC_P256 => stored_ec(Curve::P256)?,
            STORED_EC_P384 => stored_ec(Curve::P384)?,
            STORED_EC_P521 => stored_ec(Curve::P521)?,
            STORED_EC_P256K => stored_ec(Curve::P256K)?,
            STORED_OCT => {
                Inner::Oct(Box::new(oct::OctKey::from_bytes(body).map_err(|_| {
                    KeyError::InvalidKeyMaterial("stored oct key is malformed")
                })?))
            }
            _ => {
                return Err(KeyError::InvalidKeyMaterial(
                    "stored key has an unknown tag",
                ));
            }
        };
        Ok(Self { inner })
    }

    pub fn family(&self) -> KeyFamily {
        match &self.inner {
            Inner::Rsa(_) => KeyFamily::Rsa,
            Inner::Ec(_) => KeyFamily::Ec,
            Inner::Oct(_) => KeyFamily::Oct,
        }
    }

    pub fn curve(&self) -> Option<Curve> {
        match &self.inner {
            Inner::Ec(key) => Some(key.curve()),
            Inner::Rsa(_) | Inner::Oct(_) => None,
        }
    }

    /// RSA modulus bits, EC curve bits (256, 384, 521), oct key bits.
    pub fn size_bits(&self) -> usize {
        match &self.inner {
            Inner::Rsa(key) => key.size_bits(),
            Inner::Ec(key) => key.curve().bits(),
            Inner::Oct(key) => key.size_bits(),
        }
    }

    pub fn public(&self) -> PublicKey {
        match &self.inner {
            Inner::Rsa(key) => key.public(),
            Inner::Ec(key) => key.public(),
            Inner::Oct(_) => PublicKey::Oct,
        }
    }

    /// Every JWK part, private ones included (for secure key release and backup).
    pub fn export(&self) -> KeyMaterial {
        match &self.inner {
            Inner::Rsa(key) => key.export(),
            Inner::Ec(key) => key.export(),
            Inner::Oct(key) => KeyMaterial {
                family: Some(KeyFamily::Oct),
                k: Some(Zeroizing::new(key.raw().to_vec())),
                ..KeyMaterial::default()
            },
        }
    }

    /// The private material as secure key release transports it: PKCS#8 DER for RSA and EC
    /// keys, the raw key bytes for oct keys.
    pub fn private_bytes(&self) -> Zeroizing<Vec<u8>> {
        let bytes = match &self.inner {
            Inner::Rsa(key) => key.pkcs8(),
            Inner::Ec(key) => key.pkcs8(),
            Inner::Oct(key) => key.raw(),
        };
        Zeroizing::new(bytes.to_vec())
    }

    /// Signs a precomputed digest. EC signatures are JWS's fixed-length `r || s`.
    pub fn sign(&self, alg: SignatureAlgorithm, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::Rsa(key) => key.sign(alg, digest),
            Inner::Ec(key) => key.sign(alg, digest),
            Inner::Oct(_) => Err(KeyError::not_for(alg.as_str(), KeyFamily::Oct)),
        }
    }

    /// `Ok(false)` for a signature that does not verify (wrong key, digest, or malformed).
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<bool, KeyError> {
        match &self.inner {
            Inner::Rsa(key) => key.verify(alg, digest, signature),
            Inner::Ec(key) => key.verify(alg, digest, signature),
            Inner::Oct(_) => Err(KeyError::not_for(alg.as_str(), KeyFamily::Oct)),
        }
    }

    /// RSA: encrypts with the public key (no iv, aad or tag). oct: AES-GCM (iv generated when
    /// absent, tag returned) or AES-CBC(-PAD) (16-byte iv required).
    pub fn encrypt(
        &self,
        alg: EncryptionAlgorithm,
        input: &CipherInput<'_>,
    ) -> Result<CipherOutput, KeyError> {
        match &self.inner {
            Inner::Rsa(key) => {
                rsa_mode(alg)?;
                no_aes_inputs(input)?;
                Ok(CipherOutput {
                    data: key.encrypt(alg, input.data)?,
                    iv: None,
                    tag: None,
                })
            }
            Inner::Ec(_) => Err(KeyError::not_for(alg.as_str(), KeyFamily::Ec)),
            Inner::Oct(key) => key.encrypt(alg, input),
        }
    }

    pub fn decrypt(
        &self,
        alg: EncryptionAlgorithm,
        input: &CipherInput<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match &self.inner {
            Inner::Rsa(key) => {
                rsa_mode(alg)?;
                no_aes_inputs(input)?;
                key.decrypt(alg, input.data)
            }
            Inner::Ec(_) => Err(KeyError::not_for(alg.as_str(), KeyFamily::Ec)),
            Inner::Oct(key) => key.decrypt(alg, input),
        }
    }

    /// RSA1_5, RSA-OAEP, RSA-OAEP-256 with RSA keys; A128KW, A192KW, A256KW (RFC 3394) with
    /// oct keys of the matching size.
    pub fn wrap_key(&self, alg: EncryptionAlgorithm, key: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::Rsa(rsa_key) => rsa_key.encrypt(alg, key),
            Inner::Ec(_) => Err(KeyError::not_for(alg.as_str(), KeyFamily::Ec)),
            Inner::Oct(oct_key) => oct_key.wrap_key(alg, key),
        }
    }

    pub fn unwrap_key(
        &self,
        alg: EncryptionAlgorithm,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match &self.inner {
            Inner::Rsa(key) => key.decrypt(alg, wrapped),
            Inner::Ec(_) => Err(KeyError::not_for(alg.as_str(), KeyFamily::Ec)),
            Inner::Oct(key) => key.unwrap_key(alg, wrapped),
        }
    }
}

impl From<Inner> for PrivateKey {
    fn from(inner: Inner) -> Self {
        Self { inner }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.curve() {
            Some(curve) => write!(f, "PrivateKey(<redacted> EC {curve})"),
            None => write!(
                f,
                "PrivateKey(<redacted> {} {} bits)",
                self.family(),
                self.size_bits()
            ),
        }
    }
}

/// A big-endian unsigned integer without its leading zero bytes (DER and JWK encodings may
/// carry them; comparisons and aws-lc-rs want the magnitude).
pub(crate) fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let n_zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
    &bytes[n_zeros..]
}

/// Verifies a signature over a precomputed digest with a public key alone.
pub fn verify_with_public(
    public: &PublicKey,
    alg: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, KeyError> {
    match public {
        PublicKey::Rsa { n, e } => rsa::verify_with_components(n, e, alg, digest, signature),
        PublicKey::Ec { curve, x, y } => {
            ec::verify_with_point(*curve, x, y, alg, digest, signature)
        }
        PublicKey::Oct => Err(KeyError::not_for(alg.as_str(), KeyFamily::Oct)),
    }
}

/// RSA encryption with a public key alone (RSA1_5, RSA-OAEP, RSA-OAEP-256).
pub fn encrypt_with_public(
    public: &PublicKey,
    alg: EncryptionAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    match public {
        PublicKey::Rsa { n, e } => {
            rsa_mode(alg)?;
            rsa::RsaEncryptor::from_public(n, e)?.encrypt(alg, plaintext)
        }
        // An AES algorithm with an oct "public key" is not wrong for the key, just not
        // something a public key alone can do.
        other if alg.family() == other.family() => Err(KeyError::InvalidInput(
            "only RSA keys encrypt with the public key alone",
        )),
        other => Err(KeyError::not_for(alg.as_str(), other.family())),
    }
}

/// The digest as aws-lc takes it, after checking its length for the algorithm.
fn import_digest(alg: SignatureAlgorithm, digest: &[u8]) -> Result<Digest, KeyError> {
    let expected = alg.digest_len();
    if digest.len() != expected {
        return Err(KeyError::DigestLength {
            algorithm: alg,
            expected,
            actual: digest.len(),
        });
    }
    Ok(Digest::import_less_safe(digest, alg.digest_algorithm())?)
}

fn rsa_mode(alg: EncryptionAlgorithm) -> Result<(), KeyError> {
    match alg.mode() {
        Mode::Rsa15 | Mode::RsaOaep | Mode::RsaOaep256 => Ok(()),
        _ => Err(KeyError::not_for(alg.as_str(), KeyFamily::Rsa)),
    }
}

fn no_aes_inputs(input: &CipherInput<'_>) -> Result<(), KeyError> {
    if input.iv.is_some() || input.aad.is_some() || input.tag.is_some() {
        return Err(KeyError::InvalidInput(
            "RSA encryption takes no iv, aad or tag",
        ));
    }
    Ok(())
}

fn stored_tag(curve: Curve) -> u8 {
    match curve {
        Curve::P256 => STORED_EC_P256,
        Curve::P384 => STORED_EC_P384,
        Curve::P521 => STORED_EC_P521,
        Curve::P256K => STORED_EC_P256K,
    }
}
