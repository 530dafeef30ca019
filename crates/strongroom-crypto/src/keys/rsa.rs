//! RSA keys (2048, 3072, 4096 bits): RS*/PS* signatures over a precomputed digest, RSA1_5 and
//! RSA-OAEP(-256) encryption and key wrap, all through aws-lc-rs (never the `rsa` crate:
//! its private-key operations are not constant time, RUSTSEC-2023-0071).
//!
//! An `RsaKey` is parsed once and keeps every aws-lc object an operation needs (signing pair,
//! OAEP and PKCS#1 decrypting and encrypting keys, verifiers parsed on first use), so a cached
//! key signs with one RSA operation and no parsing.
//!
//! A failed RSA1_5 decryption is `DecryptionFailed` like any other, but PKCS#1 v1.5 padding is
//! a Bleichenbacher oracle wherever failures are observable; Key Vault offers it for
//! compatibility, and RSA-OAEP(-256) is the one to recommend.

use super::algorithms::Mode;
use super::{
    EncryptionAlgorithm, KeyError, KeyFamily, KeyMaterial, PublicKey, SignatureAlgorithm,
    strip_zeros,
};
use super::{der, import_digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::rsa::{
    KeyPair, KeyPairComponents, KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm,
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
    Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, PublicKeyComponents,
    RsaParameters,
};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey, RsaEncoding};
use std::ops::Range;
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// The modulus sizes Key Vault offers.
const SIZES: [usize; 3] = [2048, 3072, 4096];
/// The one public exponent we generate with (aws-lc's only choice, and Azure's default).
const F4: u64 = 65_537;

pub(super) struct RsaKey {
    pair: KeyPair,
    oaep_decrypt: OaepPrivateDecryptingKey,
    pkcs1_decrypt: Pkcs1PrivateDecryptingKey,
    encryptor: RsaEncryptor,
    /// One parsed public key per verification algorithm (index `verification(alg).0`),
    /// parsed on the first `verify` with that algorithm.
    verifiers: [OnceLock<ParsedPublicKey>; 6],
    n: Vec<u8>,
    e: Vec<u8>,
    bits: usize,
    /// The PKCS#8 document aws-lc wrote for this key: `to_stored` returns it and `export`
    /// reads the private integers out of it (aws-lc-rs has no getters for them).
    pkcs8: Zeroizing<Vec<u8>>,
    parts: PrivateParts,
}

/// Where `d`, `p`, `q`, `dp`, `dq`, `qi` sit in `RsaKey::pkcs8` (magnitudes, no leading zeros).
struct PrivateParts {
    d: Range<usize>,
    p: Range<usize>,
    q: Range<usize>,
    dp: Range<usize>,
    dq: Range<usize>,
    qi: Range<usize>,
}

impl RsaKey {
    pub(super) fn generate(bits: usize, public_exponent: Option<u64>) -> Result<Self, KeyError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            _ => return Err(KeyError::UnsupportedKeySize { bits }),
        };
        if public_exponent.is_some_and(|e| e != F4) {
            return Err(KeyError::UnsupportedExponent);
        }
        Self::from_pair(KeyPair::generate(size)?)
    }

    /// From JWK parts: `n`, `e`, `d` and all of `p`, `q`, `dp`, `dq`, `qi`.
    pub(super) fn import(material: &KeyMaterial) -> Result<Self, KeyError> {
        let n = strip_zeros(required(material.n.as_deref(), "modulus n is missing")?);
        let e = strip_zeros(required(
            material.e.as_deref(),
            "public exponent e is missing",
        )?);
        check_public(n, e)?;
        let d = required(secret(&material.d), "private key is missing")?;
        let (Some(p), Some(q)) = (secret(&material.p), secret(&material.q)) else {
            return Err(KeyError::InvalidKeyMaterial(
                "prime factors p and q are required",
            ));
        };
        let (Some(dp), Some(dq), Some(qi)) = (
            secret(&material.dp),
            secret(&material.dq),
            secret(&material.qi),
        ) else {
            // aws-lc-rs has no big-number arithmetic to derive them from p and q.
            return Err(KeyError::InvalidKeyMaterial(
                "CRT parameters dp, dq and qi are required",
            ));
        };
        let components = KeyPairComponents {
            public_key: PublicKeyComponents { n, e },
            d,
            p,
            q,
            dP: dp,
            dQ: dq,
            qInv: qi,
        };
        let pair = KeyPair::from_components(&components)
            .map_err(|_| KeyError::InvalidKeyMaterial("RSA key parts are inconsistent"))?;
        Self::from_pair(pair)
    }

    /// From a PKCS#8 document; `malformed` words the failure for where the bytes came from.
    pub(super) fn from_pkcs8(pkcs8: &[u8], malformed: &'static str) -> Result<Self, KeyError> {
        let pair = KeyPair::from_pkcs8(pkcs8).map_err(|err| rejected(&err, malformed))?;
        Self::from_pair(pair)
    }

    /// From a PKCS#1 `RSAPrivateKey` document (OpenSSL's "traditional" RSA PEM).
    pub(super) fn from_pkcs1(der: &[u8]) -> Result<Self, KeyError> {
        let pair = KeyPair::from_der(der)
            .map_err(|err| rejected(&err, "PKCS#1 RSA private key is malformed"))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: KeyPair) -> Result<Self, KeyError> {
        let public = pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        let bits = check_public(&n, &e)?;
        // Stored and exported from what aws-lc writes, never from caller bytes.
        let pkcs8 = Zeroizing::new(pair.as_der()?.as_ref().to_vec());
        let parts = private_parts(&pkcs8).ok_or(KeyError::Library)?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(&pkcs8).map_err(|_| KeyError::Library)?;
        let encryptor = RsaEncryptor::new(decrypting.public_key())?;
        Ok(Self {
            oaep_decrypt: OaepPrivateDecryptingKey::new(decrypting.clone())?,
            pkcs1_decrypt: Pkcs1PrivateDecryptingKey::new(decrypting)?,
            encryptor,
            verifiers: Default::default(),
            pair,
            n,
            e,
            bits,
            pkcs8,
            parts,
        })
    }

    pub(super) fn size_bits(&self) -> usize {
        self.bits
    }

    pub(super) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub(super) fn public(&self) -> PublicKey {
        PublicKey::Rsa {
            n: self.n.clone(),
            e: self.e.clone(),
        }
    }

    pub(super) fn export(&self) -> KeyMaterial {
        // The ranges were found in this very document at construction.
        let part = |range: &Range<usize>| {
            let bytes = self.pkcs8.get(range.clone()).unwrap_or_default();
            Some(Zeroizing::new(bytes.to_vec()))
        };
        KeyMaterial {
            family: Some(KeyFamily::Rsa),
            n: Some(self.n.clone()),
            e: Some(self.e.clone()),
            d: part(&self.parts.d),
            p: part(&self.parts.p),
            q: part(&self.parts.q),
            dp: part(&self.parts.dp),
            dq: part(&self.parts.dq),
            qi: part(&self.parts.qi),
            ..KeyMaterial::default()
        }
    }

    pub(super) fn sign(&self, alg: SignatureAlgorithm, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        let encoding = signing_encoding(alg)?;
        let digest = import_digest(alg, digest)?;
        let mut signature = vec![0u8; self.bits / 8];
        self.pair.sign_digest(encoding, &digest, &mut signature)?;
        Ok(signature)
    }

    pub(super) fn verify(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<bool, KeyError> {
        let (index, params) = verification(alg)?;
        let digest = import_digest(alg, digest)?;
        let slot = self.verifiers.get(index).ok_or(KeyError::Library)?;
        let verifier = match slot.get() {
            Some(verifier) => verifier,
            None => {
                let parsed = ParsedPublicKey::new(params, self.pair.public_key().as_ref())
                    .map_err(|_| KeyError::Library)?;
                slot.get_or_init(|| parsed)
            }
        };
        Ok(verifier.verify_digest_sig(&digest, signature).is_ok())
    }

    pub(super) fn encrypt(
        &self,
        alg: EncryptionAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.encryptor.encrypt(alg, plaintext)
    }

    /// RSA-OAEP decryption with any of aws-lc's OAEP hash pairs (secure key release's
    /// SHA-384 included).
    pub(super) fn oaep_decrypt(
        &self,
        oaep: &'static OaepAlgorithm,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let modulus_len = self.bits / 8;
        if ciphertext.len() != modulus_len {
            return Err(KeyError::InvalidInput(
                "RSA ciphertext must be as long as the modulus",
            ));
        }
        let mut plaintext = Zeroizing::new(vec![0u8; modulus_len]);
        let len = self
            .oaep_decrypt
            .decrypt(oaep, ciphertext, &mut plaintext, None)
            .map_err(|_| KeyError::DecryptionFailed)?
            .len();
        plaintext.truncate(len);
        Ok(plaintext)
    }

    pub(super) fn decrypt(
        &self,
        alg: EncryptionAlgorithm,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let mode = rsa_mode(alg)?;
        let modulus_len = self.bits / 8;
        if ciphertext.len() != modulus_len {
            return Err(KeyError::InvalidInput(
                "RSA ciphertext must be as long as the modulus",
            ));
        }
        let mut plaintext = Zeroizing::new(vec![0u8; modulus_len]);
        let result = match mode {
            Mode::Rsa15 => self.pkcs1_decrypt.decrypt(ciphertext, &mut plaintext),
            Mode::RsaOaep => {
                self.oaep_decrypt
                    .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut plaintext, None)
            }
            _ => {
                self.oaep_decrypt
                    .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut plaintext, None)
            }
        };
        let len = result.map_err(|_| KeyError::DecryptionFailed)?.len();
        plaintext.truncate(len);
        Ok(plaintext)
    }
}

/// RSA public-key encryption (RSA1_5, RSA-OAEP, RSA-OAEP-256), for a key of ours or for
/// `encrypt_with_public`.
pub(super) struct RsaEncryptor {
    oaep: OaepPublicEncryptingKey,
    pkcs1: Pkcs1PublicEncryptingKey,
}

impl RsaEncryptor {
    fn new(public: PublicEncryptingKey) -> Result<Self, KeyError> {
        Ok(Self {
            oaep: OaepPublicEncryptingKey::new(public.clone())?,
            pkcs1: Pkcs1PublicEncryptingKey::new(public)?,
        })
    }

    /// From a JWK's `n` and `e`.
    pub(super) fn from_public(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let (n, e) = (strip_zeros(n), strip_zeros(e));
        check_public(n, e)?;
        let malformed = |_| KeyError::InvalidKeyMaterial("RSA public key is malformed");
        // aws-lc-rs reads an encrypting key only from SubjectPublicKeyInfo DER; it writes one
        // for us from the components.
        let parsed = PublicKeyComponents { n, e }
            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            .map_err(malformed)?;
        let spki = parsed.as_der()?;
        Self::new(PublicEncryptingKey::from_der(spki.as_ref()).map_err(malformed)?)
    }

    /// RSA-OAEP encryption with any of aws-lc's OAEP hash pairs.
    pub(super) fn oaep_encrypt(
        &self,
        oaep: &'static OaepAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        if plaintext.len() > self.oaep.max_plaintext_size(oaep) {
            return Err(KeyError::InvalidInput(
                "plaintext is too long for the key and algorithm",
            ));
        }
        let mut ciphertext = vec![0u8; self.pkcs1.ciphertext_size()];
        let len = self
            .oaep
            .encrypt(oaep, plaintext, &mut ciphertext, None)?
            .len();
        ciphertext.truncate(len);
        Ok(ciphertext)
    }

    pub(super) fn encrypt(
        &self,
        alg: EncryptionAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let mode = rsa_mode(alg)?;
        let max_len = match mode {
            Mode::Rsa15 => self.pkcs1.max_plaintext_size(),
            Mode::RsaOaep => self.oaep.max_plaintext_size(&OAEP_SHA1_MGF1SHA1),
            _ => self.oaep.max_plaintext_size(&OAEP_SHA256_MGF1SHA256),
        };
        if plaintext.len() > max_len {
            return Err(KeyError::InvalidInput(
                "plaintext is too long for the key and algorithm",
            ));
        }
        let mut ciphertext = vec![0u8; self.pkcs1.ciphertext_size()];
        let len = match mode {
            Mode::Rsa15 => self.pkcs1.encrypt(plaintext, &mut ciphertext)?.len(),
            Mode::RsaOaep => self
                .oaep
                .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut ciphertext, None)?
                .len(),
            _ => self
                .oaep
                .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut ciphertext, None)?
                .len(),
        };
        ciphertext.truncate(len);
        Ok(ciphertext)
    }
}

/// Verifies with a JWK's `n` and `e`.
pub(super) fn verify_with_components(
    n: &[u8],
    e: &[u8],
    alg: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, KeyError> {
    let (_, params) = verification(alg)?;
    let digest = import_digest(alg, digest)?;
    let (n, e) = (strip_zeros(n), strip_zeros(e));
    check_public(n, e)?;
    let parsed = PublicKeyComponents { n, e }
        .to_parsed_public_key(params)
        .map_err(|_| KeyError::InvalidKeyMaterial("RSA public key is malformed"))?;
    Ok(parsed.verify_digest_sig(&digest, signature).is_ok())
}

/// aws-lc refuses keys outside 2048..=8192 bits before we can read their size; that is an
/// unsupported size (an imported RSA-1024 key), not a malformed document.
fn rejected(err: &KeyRejected, malformed: &'static str) -> KeyError {
    match err.description_() {
        "TooSmall" | "TooLarge" => {
            KeyError::InvalidKeyMaterial("the RSA key size is not supported")
        }
        _ => KeyError::InvalidKeyMaterial(malformed),
    }
}

fn rsa_mode(alg: EncryptionAlgorithm) -> Result<Mode, KeyError> {
    match alg.mode() {
        mode @ (Mode::Rsa15 | Mode::RsaOaep | Mode::RsaOaep256) => Ok(mode),
        _ => Err(KeyError::not_for(alg.as_str(), KeyFamily::Rsa)),
    }
}

fn signing_encoding(alg: SignatureAlgorithm) -> Result<&'static dyn RsaEncoding, KeyError> {
    // PSS salt length = digest length, as JWA (RFC 7518 3.5) and Key Vault use.
    Ok(match alg {
        SignatureAlgorithm::Rs256 => &signature::RSA_PKCS1_SHA256,
        SignatureAlgorithm::Rs384 => &signature::RSA_PKCS1_SHA384,
        SignatureAlgorithm::Rs512 => &signature::RSA_PKCS1_SHA512,
        SignatureAlgorithm::Ps256 => &signature::RSA_PSS_SHA256,
        SignatureAlgorithm::Ps384 => &signature::RSA_PSS_SHA384,
        SignatureAlgorithm::Ps512 => &signature::RSA_PSS_SHA512,
        _ => return Err(KeyError::not_for(alg.as_str(), KeyFamily::Rsa)),
    })
}

fn verification(alg: SignatureAlgorithm) -> Result<(usize, &'static RsaParameters), KeyError> {
    Ok(match alg {
        SignatureAlgorithm::Rs256 => (0, &signature::RSA_PKCS1_2048_8192_SHA256),
        SignatureAlgorithm::Rs384 => (1, &signature::RSA_PKCS1_2048_8192_SHA384),
        SignatureAlgorithm::Rs512 => (2, &signature::RSA_PKCS1_2048_8192_SHA512),
        SignatureAlgorithm::Ps256 => (3, &signature::RSA_PSS_2048_8192_SHA256),
        SignatureAlgorithm::Ps384 => (4, &signature::RSA_PSS_2048_8192_SHA384),
        SignatureAlgorithm::Ps512 => (5, &signature::RSA_PSS_2048_8192_SHA512),
        _ => return Err(KeyError::not_for(alg.as_str(), KeyFamily::Rsa)),
    })
}

fn required<'a>(part: Option<&'a [u8]>, missing: &'static str) -> Result<&'a [u8], KeyError> {
    part.ok_or(KeyError::InvalidKeyMaterial(missing))
}

fn secret(part: &Option<Zeroizing<Vec<u8>>>) -> Option<&[u8]> {
    part.as_ref().map(|bytes| bytes.as_slice())
}

/// The modulus size in bits, if it is one we offer, and an exponent aws-lc accepts: odd, at
/// least 3, at most 33 bits. (Any such exponent imports; generation uses 65537 only.)
fn check_public(n: &[u8], e: &[u8]) -> Result<usize, KeyError> {
    let bits = bit_length(n);
    if !SIZES.contains(&bits) {
        return Err(KeyError::UnsupportedKeySize { bits });
    }
    let exponent_ok = bit_length(e) <= 33 && e.last().is_some_and(|last| last & 1 == 1) && {
        let value = e
            .iter()
            .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
        value >= 3
    };
    if exponent_ok {
        Ok(bits)
    } else {
        Err(KeyError::UnsupportedExponent)
    }
}

/// Bits of a big-endian magnitude without leading zero bytes.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(&first) => (bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

/// PKCS#8 -> RSAPrivateKey { version, n, e, d, p, q, dp, dq, qi }.
fn private_parts(pkcs8: &[u8]) -> Option<PrivateParts> {
    let mut key = der::pkcs8_private_key(pkcs8)?;
    key.next(der::INTEGER)?; // version
    key.next(der::INTEGER)?; // n
    key.next(der::INTEGER)?; // e
    Some(PrivateParts {
        d: key.unsigned()?,
        p: key.unsigned()?,
        q: key.unsigned()?,
        dp: key.unsigned()?,
        dq: key.unsigned()?,
        qi: key.unsigned()?,
    })
}
