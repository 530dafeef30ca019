//! Client secrets are stored as salted SHA-256 hashes and checked in constant time.
//!
//! Client secrets are 256-bit random strings we generate, so a fast hash is enough: there is
//! no low-entropy password to stretch.

use crate::{CryptoError, random_bytes};
use aws_lc_rs::digest;
use subtle::ConstantTimeEq;

/// A salted hash of a client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash {
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

fn salted_digest(salt: &[u8], secret: &str) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"strongroom client secret v1\0");
    ctx.update(salt);
    ctx.update(secret.as_bytes());
    ctx.finish().as_ref().to_vec()
}

pub fn hash_secret(secret: &str) -> Result<SecretHash, CryptoError> {
    let salt = random_bytes::<16>()?.to_vec();
    let hash = salted_digest(&salt, secret);
    Ok(SecretHash { salt, hash })
}

/// Constant-time check of a presented secret against a stored hash.
pub fn verify_secret(stored: &SecretHash, presented: &str) -> bool {
    let candidate = salted_digest(&stored.salt, presented);
    candidate.ct_eq(&stored.hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_secret() {
        let stored = hash_secret("correct horse").unwrap();
        assert!(verify_secret(&stored, "correct horse"));
        assert!(!verify_secret(&stored, "correct horsf"));
        assert!(!verify_secret(&stored, ""));
        let again = hash_secret("correct horse").unwrap();
        assert_ne!(stored.salt, again.salt, "salts are random");
    }
}
