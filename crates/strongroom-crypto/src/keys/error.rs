//! What can go wrong with a Key Vault key operation, in crypto's words. The vault maps these
//! to Azure's codes; none carries key material, plaintext or a hint of why a decryption failed.

use super::{Curve, EncryptionAlgorithm, KeyFamily, SignatureAlgorithm};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// RSA 2048/3072/4096, EC curve sizes, oct 128/192/256 only.
    #[error("key size {bits} is not supported")]
    UnsupportedKeySize { bits: usize },
    /// Generation takes only 65537; import takes an odd exponent from 3 to 2^33.
    #[error("the RSA public exponent is not supported")]
    UnsupportedExponent,
    /// Import or stored bytes: missing, inconsistent or unsupported parts, said in words.
    #[error("invalid key material: {0}")]
    InvalidKeyMaterial(&'static str),
    #[error("algorithm {algorithm} is not for {family} keys")]
    AlgorithmNotForKey {
        algorithm: &'static str,
        family: KeyFamily,
    },
    #[error("algorithm {algorithm} is not for curve {curve}")]
    CurveMismatch {
        algorithm: SignatureAlgorithm,
        curve: Curve,
    },
    #[error("algorithm {algorithm} needs another key size than {bits} bits")]
    KeySizeMismatch {
        algorithm: EncryptionAlgorithm,
        bits: usize,
    },
    #[error("a digest for {algorithm} is {expected} bytes, not {actual}")]
    DigestLength {
        algorithm: SignatureAlgorithm,
        expected: usize,
        actual: usize,
    },
    /// The request is malformed whatever the key: iv or tag length, block multiples, sizes.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// Any failed decryption, unwrap or tag check. Deliberately without detail (no oracle).
    #[error("decryption failed")]
    DecryptionFailed,
    /// aws-lc refused an operation whose inputs we had checked.
    #[error("the crypto library refused the operation")]
    Library,
}

impl KeyError {
    pub(super) fn not_for(algorithm: &'static str, family: KeyFamily) -> Self {
        Self::AlgorithmNotForKey { algorithm, family }
    }
}

impl From<aws_lc_rs::error::Unspecified> for KeyError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        Self::Library
    }
}
