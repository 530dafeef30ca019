//! Secure key release's key transport: the released key's private material is wrapped for the
//! attested environment's RSA public key (the "target" key from its attestation token).
//!
//! Format (what Microsoft's SKR sidecar unwraps, `confidential-sidecar-containers`
//! `pkg/skr/akv.go` `rsaAESKeyUnwrap`): a fresh AES-256 key encrypted with RSA-OAEP under the
//! target key (SHA-1, SHA-256 or SHA-384 by `enc`), immediately followed by the material
//! wrapped with that AES key by AES key wrap with padding (RFC 5649). The first modulus-length
//! bytes are the RSA part. This is PKCS#11's `CKM_RSA_AES_KEY_WRAP`.

use super::rsa::{RsaEncryptor, RsaKey};
use super::{Inner, KeyError, PrivateKey, PublicKey, kw};
use aws_lc_rs::cipher::AES_256;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OaepAlgorithm,
};
use zeroize::Zeroizing;

/// The `enc` of a release request: how the released key is wrapped for the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseWrapping {
    /// `CKM_RSA_AES_KEY_WRAP`: RSA-OAEP with SHA-1, then AES-KWP (Azure's default).
    CkmRsaAesKeyWrap,
    /// `RSA_AES_KEY_WRAP_256`: RSA-OAEP with SHA-256, then AES-KWP.
    RsaAesKeyWrap256,
    /// `RSA_AES_KEY_WRAP_384`: RSA-OAEP with SHA-384, then AES-KWP.
    RsaAesKeyWrap384,
}

impl ReleaseWrapping {
    pub const ALL: [ReleaseWrapping; 3] = [
        Self::CkmRsaAesKeyWrap,
        Self::RsaAesKeyWrap256,
        Self::RsaAesKeyWrap384,
    ];

    /// The spec's spelling (`KeyEncryptionAlgorithm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CkmRsaAesKeyWrap => "CKM_RSA_AES_KEY_WRAP",
            Self::RsaAesKeyWrap256 => "RSA_AES_KEY_WRAP_256",
            Self::RsaAesKeyWrap384 => "RSA_AES_KEY_WRAP_384",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|enc| enc.as_str() == raw)
    }

    fn oaep(self) -> &'static OaepAlgorithm {
        match self {
            Self::CkmRsaAesKeyWrap => &OAEP_SHA1_MGF1SHA1,
            Self::RsaAesKeyWrap256 => &OAEP_SHA256_MGF1SHA256,
            Self::RsaAesKeyWrap384 => &OAEP_SHA384_MGF1SHA384,
        }
    }
}

/// Wraps `material` for the RSA public key `target` (see the module doc for the format).
pub fn wrap_for_release(
    wrapping: ReleaseWrapping,
    target: &PublicKey,
    material: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let PublicKey::Rsa { n, e } = target else {
        return Err(KeyError::InvalidKeyMaterial(
            "the release target's wrapping key must be an RSA key",
        ));
    };
    let encryptor = RsaEncryptor::from_public(n, e)?;
    let kek = Zeroizing::new(crate::random_bytes::<32>().map_err(|_| KeyError::Library)?);
    let mut out = encryptor.oaep_encrypt(wrapping.oaep(), kek.as_slice())?;
    out.extend_from_slice(&kw::wrap_padded(&AES_256, kek.as_slice(), material)?);
    Ok(out)
}

/// The target's side of `wrap_for_release`: recovers the material with the target's private
/// RSA key. Strongroom never needs it at run time; it documents the format and tests it.
pub fn unwrap_released(
    wrapping: ReleaseWrapping,
    target: &PrivateKey,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let Inner::Rsa(key) = &target.inner else {
        return Err(KeyError::not_for(wrapping.as_str(), target.family()));
    };
    unwrap_with(key, wrapping, wrapped)
}

fn unwrap_with(
    key: &RsaKey,
    wrapping: ReleaseWrapping,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let modulus_len = key.size_bits() / 8;
    if wrapped.len() <= modulus_len {
        return Err(KeyError::InvalidInput(
            "released key ciphertext is too short",
        ));
    }
    let (rsa_part, kwp_part) = wrapped.split_at(modulus_len);
    let kek = key.oaep_decrypt(wrapping.oaep(), rsa_part)?;
    if kek.len() != 32 {
        return Err(KeyError::DecryptionFailed);
    }
    kw::unwrap_padded(&AES_256, &kek, kwp_part)
}
