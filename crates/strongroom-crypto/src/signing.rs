//! RSA keys that sign Strongroom's access tokens (RS256), generated and used only through
//! aws-lc-rs.
//!
//! The key travels as PKCS#8 DER inside `SecretBytes` (sealed by the master key at rest, which
//! is the identity crate's business). `RsaSigningKey` holds it parsed, so signing a token is one
//! RSA operation with no re-parsing. Never the `rsa` crate: its private-key operations are not
//! constant time (RUSTSEC-2023-0071).

use crate::CryptoError;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use std::fmt;
use strongroom_model::SecretBytes;

/// A fresh RSA-2048 private key as PKCS#8 DER.
pub fn generate_rsa_signing_key() -> Result<SecretBytes, CryptoError> {
    let key = KeyPair::generate(KeySize::Rsa2048)?;
    // `Pkcs8V1Der` wipes its buffer on drop; the copy we keep is a `SecretBytes`.
    let der = key.as_der()?;
    Ok(SecretBytes::new(der.as_ref().to_vec()))
}

/// The public modulus `n` and exponent `e` of a PKCS#8 RSA private key, big-endian without
/// leading zeros (the form JWKS encodes in base64url).
pub fn rsa_public_components(pkcs8: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    Ok(RsaSigningKey::from_pkcs8(pkcs8)?.public_components())
}

/// Whether `signature` is the RSA signature (`RS256` or `PS256`, 2048 to 8192 bits) of
/// `message` under the public key `(n, e)`: a JWT from a configured attestation authority.
pub fn rsa_signature_verifies(
    algorithm: crate::AssertionAlgorithm,
    n: &[u8],
    e: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    let params = match algorithm {
        crate::AssertionAlgorithm::Rs256 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        crate::AssertionAlgorithm::Ps256 => &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
    };
    aws_lc_rs::signature::RsaPublicKeyComponents { n, e }
        .verify(params, message, signature)
        .is_ok()
}

/// A parsed RSA private key that signs with RSASSA-PKCS1-v1_5 and SHA-256 (JWS `RS256`).
pub struct RsaSigningKey {
    key: KeyPair,
}

impl RsaSigningKey {
    /// Parses a PKCS#8 DER RSA private key (2048 to 8192 bits).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let key = KeyPair::from_pkcs8(pkcs8).map_err(|_| CryptoError::BadKey)?;
        Ok(Self { key })
    }

    /// The RS256 signature of `message` (for a JWT, the ASCII `header.payload`).
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        )?;
        Ok(signature)
    }

    /// The PS256 (RSASSA-PSS, SHA-256) signature of `message`.
    pub fn sign_ps256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key.sign(
            &aws_lc_rs::signature::RSA_PSS_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        )?;
        Ok(signature)
    }

    /// `(n, e)`, big-endian without leading zeros.
    pub fn public_components(&self) -> (Vec<u8>, Vec<u8>) {
        let public = self.key.public_key();
        (
            public.modulus().big_endian_without_leading_zero().to_vec(),
            public.exponent().big_endian_without_leading_zero().to_vec(),
        )
    }

    /// The modulus size in bits.
    pub fn modulus_bits(&self) -> usize {
        self.key.public_modulus_len() * 8
    }
}

impl fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaSigningKey(<{} bits redacted>)", self.modulus_bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

    #[test]
    fn generated_key_signs_and_its_components_verify() {
        let pkcs8 = generate_rsa_signing_key().unwrap();
        let key = RsaSigningKey::from_pkcs8(pkcs8.expose()).unwrap();
        assert_eq!(key.modulus_bits(), 2048);

        let (n, e) = rsa_public_components(pkcs8.expose()).unwrap();
        assert_eq!(n.len(), 256);
        assert_ne!(n[0], 0, "no leading zero");
        assert_eq!(e, vec![0x01, 0x00, 0x01], "e = 65537");
        assert_eq!(key.public_components(), (n.clone(), e.clone()));

        let signature = key.sign_rs256(b"header.payload").unwrap();
        assert_eq!(signature.len(), 256);
        let public = RsaPublicKeyComponents { n: &n, e: &e };
        public
            .verify(&RSA_PKCS1_2048_8192_SHA256, b"header.payload", &signature)
            .unwrap();
        assert!(
            public
                .verify(&RSA_PKCS1_2048_8192_SHA256, b"header.payloaD", &signature)
                .is_err()
        );

        let other = generate_rsa_signing_key().unwrap();
        assert_ne!(rsa_public_components(other.expose()).unwrap().0, n);
    }

    #[test]
    fn rsa_signatures_verify_with_components_only_for_their_message_and_scheme() {
        use crate::AssertionAlgorithm::{Ps256, Rs256};
        let key = RsaSigningKey::from_pkcs8(generate_rsa_signing_key().unwrap().expose()).unwrap();
        let (n, e) = key.public_components();
        let rs256 = key.sign_rs256(b"h.p").unwrap();
        let ps256 = key.sign_ps256(b"h.p").unwrap();
        assert!(rsa_signature_verifies(Rs256, &n, &e, b"h.p", &rs256));
        assert!(rsa_signature_verifies(Ps256, &n, &e, b"h.p", &ps256));
        assert!(!rsa_signature_verifies(Ps256, &n, &e, b"h.p", &rs256));
        assert!(!rsa_signature_verifies(Rs256, &n, &e, b"h.q", &rs256));
        assert!(!rsa_signature_verifies(Rs256, &n, &[3], b"h.p", &rs256));
    }

    #[test]
    fn rejects_what_is_not_an_rsa_pkcs8_key() {
        assert!(matches!(
            rsa_public_components(b"not a key"),
            Err(CryptoError::BadKey)
        ));
        assert!(RsaSigningKey::from_pkcs8(&[]).is_err());
        let debug = format!(
            "{:?}",
            RsaSigningKey::from_pkcs8(generate_rsa_signing_key().unwrap().expose()).unwrap()
        );
        assert_eq!(debug, "RsaSigningKey(<2048 bits redacted>)");
    }
}
